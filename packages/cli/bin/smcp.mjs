#!/usr/bin/env node
// `smcp`: the entry point only. It hands argv and the process's streams to main()
// and turns its answer into the exit code; everything else lives in ../src.
import { main } from "../src/main.mjs";

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin });
