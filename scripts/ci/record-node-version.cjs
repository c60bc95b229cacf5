// Preloaded through NODE_OPTIONS by scripts/ci/node-versions.sh: every Node process (vitest's main
// process, its worker processes, the smoke tests) appends "<process.version> <process.execPath>" to
// the file named by LOADWISE_NODE_VERSION_LOG, so the script can show which binaries ran the suites.
// Deno honours NODE_OPTIONS' --require too, inside its permission sandbox: the examples' Deno
// processes must not be asked for env or file access by this, so only Node records.
'use strict';
if (typeof globalThis.Deno === 'undefined' && typeof globalThis.Bun === 'undefined') {
  let file;
  try {
    file = process.env.LOADWISE_NODE_VERSION_LOG;
  } catch {
    file = undefined;
  }
  if (file) {
    try {
      require('node:fs').appendFileSync(file, `${process.version} ${process.execPath}\n`);
    } catch {
      // Recording is best effort; the script fails on an empty record.
    }
  }
}
