#!/usr/bin/env bash
# One fuzz target for a short fixed time on its committed seeds (fuzz/seeds/TARGET, read and
# never written: new inputs go to a temporary corpus), in the dev build (`--dev -s none`).
# Prints the runs, coverage and features at the end; on a crash or a failed property, the
# last lines of libFuzzer's output (the input is saved under fuzz/artifacts/TARGET/) and exit 1.
#
#   fuzz/smoke.sh TARGET [SECONDS]      # default 20 s
set -euo pipefail
cd "$(dirname "$0")"
target="$1"
seconds="${2:-20}"
work="$(mktemp -d)"
mkdir "$work/corpus"
trap 'rm -rf "$work"' EXIT
if ! cargo fuzz run --dev -s none "$target" "$work/corpus" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$work/log" 2>&1; then
    tail -n 40 "$work/log" >&2
    echo "fuzz: $target FAILED (input saved under fuzz/artifacts/$target/)" >&2
    exit 1
fi
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")"
last="$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)"
echo "fuzz: $target: ${seconds} s, ${runs:-?} runs, ${last:-no coverage line}, no crash"
