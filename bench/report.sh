#!/usr/bin/env bash
# The nightly report benchmark: `anemia-engine report` on a result file of N rows (a
# gen-export export classified once), wall time and peak memory from /usr/bin/time -v.
# Target (issue 12): 10M result rows in at most 10 s, with bounded memory.
#
#   bench/report.sh                         # 1M rows, Parquet results, release build
#   REPORT_ROWS=10000000 bench/report.sh    # the target size (about 1 GB of Parquet)
#   REPORT_FORMAT=csv bench/report.sh       # results as CSV (--evidence none keeps it small)
#
# Environment:
#   REPORT_DIR      scratch directory (default /tmp/anemia-report-bench; removed at the end
#                   unless REPORT_KEEP=1)
#   REPORT_ROWS     rows of the export (default 1000000)
#   REPORT_FORMAT   result format: parquet (default), csv, tsv, ndjson, arrow
#   REPORT_PROFILE  release (default) or debug (debug timings are not benchmark figures)
#   REPORT_REPEAT   runs of the report; each is printed (default 2)
#
# The export and its classification are made once per size and format and kept between runs
# in REPORT_DIR when REPORT_KEEP=1. Nothing here is asserted by a test; the figures go into
# BENCHMARKS.md by hand, labelled with the machine and the build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${REPORT_DIR:-/tmp/anemia-report-bench}
ROWS=${REPORT_ROWS:-1000000}
FORMAT=${REPORT_FORMAT:-parquet}
PROFILE=${REPORT_PROFILE:-release}
REPEAT=${REPORT_REPEAT:-2}

[ -x /usr/bin/time ] || { echo "/usr/bin/time is required (Debian: apt-get install time)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "cargo is required" >&2; exit 1; }

if [ "$PROFILE" = release ]; then
    (cd "$ROOT" && cargo build --release --workspace --bins --quiet)
else
    (cd "$ROOT" && cargo build --workspace --bins --quiet)
fi
BIN="$ROOT/target/$PROFILE"
mkdir -p "$DIR"
cleanup() { [ "${REPORT_KEEP:-0}" = 1 ] || rm -rf "$DIR"; }
trap cleanup EXIT

export_csv="$DIR/export-$ROWS.csv"
results="$DIR/results-$ROWS.$FORMAT"
if [ ! -s "$results" ]; then
    echo "generating $ROWS rows" >&2
    "$BIN/gen-export" --rows "$ROWS" --seed 1 --messy -o "$export_csv"
    echo "classifying into $results" >&2
    "$BIN/anemia-engine" classify "$export_csv" -o "$results" --evidence none \
        --summary "$DIR/results-$ROWS.summary.json" --quiet
    rm -f "$export_csv"
fi
size=$(du -h "$results" | cut -f1)

for i in $(seq 1 "$REPEAT"); do
    out="$DIR/report-$ROWS.html"
    /usr/bin/time -v "$BIN/anemia-engine" report "$results" -o "$out" 2> "$DIR/time.txt"
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/time.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time.txt")
    cpu_user=$(sed -n 's/.*User time (seconds): //p' "$DIR/time.txt")
    cpu_sys=$(sed -n 's/.*System time (seconds): //p' "$DIR/time.txt")
    echo "report ($PROFILE) of $ROWS rows, $FORMAT ($size): run $i wall $wall, user ${cpu_user} s, sys ${cpu_sys} s, max RSS $((rss / 1024)) MiB, page $(du -h "$out" | cut -f1)"
done
