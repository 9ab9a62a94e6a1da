#!/usr/bin/env bash
# Run the Corral ZooKeeper-compatibility suite.
#   CORRAL_BIN     corral binary (default: <repo>/target/debug/corral); missing -> Corral side skipped
#   COMPAT_TARGET  corral (default) | zookeeper (self-check: ZooKeeper vs ZooKeeper)
# Extra arguments go to pytest, e.g.  compat/run.sh -k watch -x
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

pkgs=()
[ -f /usr/share/java/zookeeper.jar ] || pkgs+=(zookeeper)
[ -x /usr/lib/zookeeper/bin/cli_mt ] || pkgs+=(zookeeper-bin)
command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
if [ "${#pkgs[@]}" -gt 0 ]; then
    echo "run.sh: installing ${pkgs[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${pkgs[@]}"
fi

if ! python3 -c 'import pytest, kazoo' >/dev/null 2>&1; then
    python3 -m pip install -q -r "$here/requirements.txt"
fi

export CORRAL_BIN="${CORRAL_BIN:-$repo/target/debug/corral}"
if [ ! -x "$CORRAL_BIN" ] && [ "${COMPAT_TARGET:-corral}" = corral ]; then
    echo "run.sh: note: $CORRAL_BIN not found; Corral-side tests will be skipped" >&2
fi
cd "$repo"
exec python3 -m pytest "$here" -q -p no:cacheprovider "$@"
