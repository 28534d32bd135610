#!/usr/bin/env bash
# Where the engine's time goes, by pipeline phase: perf samples (cpu-clock, DWARF call graphs)
# of a release run on a generated export, once per output format.
#
#   bench/profile.sh                          # 200k rows, parquet csv ndjson
#   PROFILE_ROWS=50000 PROFILE_FORMATS=csv PROFILE_WRITE=0 bench/profile.sh
#
# Prints (Markdown), per format, the share of the CPU samples in each phase of the classify
# loop (read + parse, rules, guidance, row rendering, encoding, writing) by kind of work
# (engine code, formatting, allocation, page faults, memcpy, ...; see bench/perf_phases.py)
# and the top self-time symbols, into BENCHMARKS.md between its markers (PROFILE_WRITE=0: only
# on stdout). Raw data stay in $BENCH_DIR/profile/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/anemia-bench}/profile
ROWS=${PROFILE_ROWS:-200000}
FORMATS=${PROFILE_FORMATS:-"parquet csv ndjson"}
PROFILE_WRITE=${PROFILE_WRITE:-1}
command -v perf >/dev/null || { echo "perf is required (Debian package: linux-perf)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
mkdir -p "$DIR"

(cd "$ROOT" && cargo build --release --workspace --bins --quiet) >&2
ENGINE="$ROOT/target/release/anemia-engine"
export_csv="$DIR/export_$ROWS.csv"
"$ROOT/target/release/gen-export" --rows "$ROWS" --seed 1 --messy -o "$export_csv"

report="$DIR/profile.md"
{
    src_digest=$(cd "$ROOT" && find src -type f -name '*.rs' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)
    echo "Profile of $ROWS generated rows (gen-export --seed 1 --messy), engine sources (src/) digest $src_digest:"
    echo "share of all CPU samples (every thread; perf cpu-clock at 499 Hz with DWARF call graphs)."
    echo
    for fmt in $FORMATS; do
        data="$DIR/$fmt.perf.data"
        out="$DIR/result.$fmt"
        /usr/bin/time -f "%e s wall, %P CPU" -o "$DIR/$fmt.time" \
            perf record -q -F 499 --call-graph dwarf,16384 -o "$data" -- \
            "$ENGINE" classify "$export_csv" -o "$out" --quiet 2>/dev/null
        rm -f "$out" "$DIR/result.rejects.csv"
        # Inline frames (slower to resolve) so that inlined stages are still seen.
        perf script -i "$data" -F tid,ip,sym 2>/dev/null >"$DIR/$fmt.script.txt"
        perf report -i "$data" --no-children --no-inline --stdio --no-header -g none \
            --percent-limit 1 --sort dso,symbol 2>/dev/null >"$DIR/$fmt.self.txt"
        echo "### $fmt ($(cat "$DIR/$fmt.time") under perf)"
        echo
        python3 "$ROOT/bench/perf_phases.py" <"$DIR/$fmt.script.txt"
        echo
        echo "Top self time:"
        echo
        echo '```'
        # awk rather than head: an early-closing pipe would end the script (pipefail).
        awk '/%/ && n++ < 12' "$DIR/$fmt.self.txt" | sed -E 's/( +-)+ *$//; s/ {2,}/  /g' | cut -c1-120
        echo '```'
        echo
    done
} >"$report"
cat "$report"

if [[ $PROFILE_WRITE == 1 ]]; then
    md="$ROOT/BENCHMARKS.md"
    begin='<!-- bench/profile.sh results: begin -->'
    end='<!-- bench/profile.sh results: end -->'
    if [[ -f $md ]] && grep -qF "$begin" "$md" && grep -qF "$end" "$md"; then
        awk -v begin="$begin" -v end="$end" -v report="$report" '
            $0 == begin { print; while ((getline line < report) > 0) print line; skip = 1; next }
            $0 == end { skip = 0 }
            !skip { print }' "$md" >"$md.tmp"
        mv "$md.tmp" "$md"
    else
        { echo; echo "$begin"; cat "$report"; echo "$end"; } >>"$md"
    fi
    echo "profile written into $md" >&2
fi
