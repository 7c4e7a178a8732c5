// A CA and a server certificate for `localhost` and 127.0.0.1, made by openssl for one
// run: HTTPS on loopback for the Client ID Metadata Document servers of the tests and the
// conformance runner. `wrangler dev` trusts the CA through NODE_EXTRA_CA_CERTS (workerd's
// outbound TLS reads it); nothing else is told to trust it.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes the CA and the server's key and certificate into `dir`; returns the CA's path and the server's PEMs. */
export function makeLoopbackCertificates(dir) {
  const file = (name) => path.join(dir, name);
  const run = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=smcp loopback test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  run("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  writeFileSync(file("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext");
  return { ca: file("ca.pem"), key: readFileSync(file("server.key"), "utf8"), cert: readFileSync(file("server.pem"), "utf8") };
}
