#!/usr/bin/env bash
# Fuzzes each target in turn for SECONDS (default 300), growing its corpus under
# fuzz/corpus/<target>, and prints what libFuzzer measured. Needs a nightly toolchain
# and cargo-fuzz (docs/fuzzing.md). A crash stops that target and leaves its input
# under fuzz/artifacts/<target>/; the others still run.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else targets=($(ls fuzz_targets | sed 's/\.rs$//')); fi
mkdir -p logs
# 64 KiB inputs; one allocation over 64 MiB, or 2 GiB in all, counts as a crash:
# nothing these decoders read may cost a thousand times its size.
flags=(-max_total_time="$secs" -max_len=65536 -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1)
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    started=$(date +%s)
    if cargo +nightly fuzz run "$t" "corpus/$t" -- "${flags[@]}" >"logs/$t.log" 2>&1; then
        verdict=ok
    else
        verdict="CRASH (logs/$t.log, artifacts/$t/)"
        status=1
    fi
    took=$(( $(date +%s) - started ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
    rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*$')
    echo "$t: ${took}s (build included), ${execs:-?} execs, coverage ${cov:-?}, peak RSS ${rss:-?} MiB, $(ls "corpus/$t" | wc -l) corpus files: $verdict"
done
exit $status
