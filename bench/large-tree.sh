#!/usr/bin/env bash
# Large-tree benchmark: N znodes with VALUE-byte values, loaded into Corral and into
# Apache ZooKeeper 3.8 (Debian) from the same zoo.cfg, one after the other in one run.
# Measures: load rate, RSS after load (and peak), bytes on disk, the time from kill -9
# to the first successful read after a restart, and write latency while snapshots run.
#
#   bench/large-tree.sh            # N=1000000 VALUE=100
#   N=100000 bench/large-tree.sh   # a quicker run
#
# Prints one JSON line per system and a ratio table (Corral / ZooKeeper).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
VALUE=${VALUE:-100}
STEADY_SECONDS=${STEADY_SECONDS:-30}
OUT=${OUT:-/tmp/corral-large-tree}
rm -rf "$OUT"; mkdir -p "$OUT"

[ -x /usr/share/zookeeper/bin/zkServer.sh ] || scripts/install-test-deps
cargo build --release -q -p corral -p corral-bench
CORRAL=target/release/corral
BENCH=target/release/corral-bench

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() { # system dir port; sets PID. Runs the server as this shell's own child so
  # that `wait` sees it exit.
  local system=$1 dir=$2 port=$3
  if [ "$system" = corral ]; then
    "$CORRAL" server --config "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
  else
    # As Debian's zkServer.sh runs it: no heap flags, so the JVM's default heap.
    java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
      -Dzookeeper.admin.enableServer=false -Dzookeeper.4lw.commands.whitelist=* \
      org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
  fi
  PID=$!
}

wait_ready() { # port: a real read, since ZooKeeper answers ruok before it serves
  "$BENCH" --server "127.0.0.1:$1" probe / --timeout 600 >/dev/null
}

kill9() { # pid: SIGKILL, then wait for the process to exit
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

run() { # system
  local system=$1 dir="$OUT/$1" port pid load steady probe t0 t1 rss peak disk recovered_rss
  port=$(free_port); mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
clientPort=$port
clientPortAddress=127.0.0.1
dataDir=$dir/data
snapCount=100000
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
maxClientCnxns=0
admin.enableServer=false
metricsProvider.httpPort=0
CFG
  start "$system" "$dir" "$port"; pid=$PID; wait_ready "$port"
  load=$("$BENCH" --server "127.0.0.1:$port" --pid "$pid" --json --sessions 4 --depth 64 \
          --value-size "$VALUE" --ops "$N" --seconds 100000 --prefix /big create)
  rss=$(json "$load" server_rss_kib); peak=$(json "$load" server_peak_rss_kib)
  sync; disk=$(du -sb "$dir/data" | cut -f1)
  steady=$("$BENCH" --server "127.0.0.1:$port" --pid "$pid" --json --sessions 4 --depth 16 \
          --value-size "$VALUE" --seconds "$STEADY_SECONDS" --prefix /steady set --keys 1000)
  t0=$(date +%s%N)
  kill9 "$pid"
  start "$system" "$dir" "$port"; pid=$PID
  probe=$("$BENCH" --server "127.0.0.1:$port" --json probe /big --timeout 900)
  t1=$(date +%s%N)
  recovered_rss=$(grep VmRSS "/proc/$pid/status" | awk '{print $2}')
  kill9 "$pid"
  python3 - "$system" "$load" "$steady" "$disk" "$(( (t1 - t0) / 1000000 ))" "$recovered_rss" "$rss" "$peak" <<'PY' | tee -a "$OUT/results.jsonl"
import json, sys
system, load, steady, disk, rec_ms, rec_rss, rss, peak = sys.argv[1:]
load, steady = json.loads(load), json.loads(steady)
print(json.dumps({
    "system": system, "znodes": load["ops"], "load_ops_per_sec": load["ops_per_sec"],
    "load_errors": load["errors"], "rss_after_load_kib": int(rss), "peak_rss_kib": int(peak),
    "disk_bytes": int(disk), "kill9_to_first_read_ms": int(rec_ms), "rss_after_recovery_kib": int(rec_rss),
    "steady_set_ops_per_sec": steady["ops_per_sec"], "steady_set_p99_us": steady["p99_us"],
    "steady_set_p999_us": steady["p999_us"], "steady_set_max_us": steady["max_us"],
}))
PY
}

run corral
run zookeeper
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
rows = {r["system"]: r for r in map(json.loads, open(sys.argv[1]))}
c, z = rows["corral"], rows["zookeeper"]
# Targets, Corral / ZooKeeper (benchmarks and storage issues).
targets = {"rss_after_load_kib": 0.2, "disk_bytes": 0.5, "kill9_to_first_read_ms": 0.1}
print(f"\n{'metric':<28}{'corral':>14}{'zookeeper':>14}{'ratio':>9}  target")
for k in ["load_ops_per_sec", "rss_after_load_kib", "peak_rss_kib", "disk_bytes", "kill9_to_first_read_ms",
          "rss_after_recovery_kib", "steady_set_ops_per_sec", "steady_set_p999_us", "steady_set_max_us"]:
    ratio = c[k] / z[k] if z[k] else float("nan")
    t = targets.get(k)
    verdict = "" if t is None else f"<= {t}: {'met' if ratio <= t else 'MISSED'}"
    print(f"{k:<28}{c[k]:>14}{z[k]:>14}{ratio:>9.3f}  {verdict}")
PY
