// Preloaded through NODE_OPTIONS by scripts/ci/node-versions.sh: every Node process (vitest's main
// process, its worker processes, the smoke tests) appends "<process.version> <process.execPath>" to
// the file named by LOADWISE_NODE_VERSION_LOG, so the script can show which binaries ran the suites.
'use strict';
const file = process.env.LOADWISE_NODE_VERSION_LOG;
if (file) {
  try {
    require('node:fs').appendFileSync(file, `${process.version} ${process.execPath}\n`);
  } catch {
    // Recording is best effort; the script fails on an empty record.
  }
}
