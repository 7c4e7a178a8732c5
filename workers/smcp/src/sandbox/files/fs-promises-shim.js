// `fs/promises` and `node:fs/promises` of a deployed SDK server: the promise API of
// `./fs.js` (see fs-shim.js), which holds the one state both modules share.
import fs from "./fs.js";

export const {
  readFile,
  writeFile,
  appendFile,
  stat,
  lstat,
  access,
  mkdir,
  mkdtemp,
  readdir,
  unlink,
  rmdir,
  rm,
  rename,
  copyFile,
  realpath,
  open,
  constants,
} = fs.promises;

export default fs.promises;
