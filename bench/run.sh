#!/usr/bin/env bash
# The scale benchmark: generates wide exports, runs the floor (a polars streaming
# read + Parquet write of the same file without classification) and the engine to Parquet,
# CSV and NDJSON, and writes the results table into BENCHMARKS.md.
#
#   bench/run.sh                      # 1M rows (best of 2 runs) and 10M rows (1 run)
#   BENCH_SIZES="1000000 3000000" BENCH_REPEAT=1 bench/run.sh
#   BENCH_LONG=1 bench/run.sh         # also a long-layout export of about 10M results
#   BENCH_LONG=1 BENCH_SIZES= bench/run.sh   # the long-layout case alone (no floor build)
#
# Environment:
#   BENCH_DIR      scratch directory for exports and outputs (default /tmp/anemia-bench)
#   BENCH_SIZES    row counts, smallest first (default "1000000 10000000"; empty: none)
#   BENCH_REPEAT   runs of each measurement up to 1M rows; the table shows the fastest (default 2)
#   BENCH_REPEAT_LARGE  runs of each measurement above 1M rows (default 1)
#   BENCH_SEED     generator seed (default 1)
#   BENCH_FORMATS  engine outputs (default "parquet csv ndjson")
#   BENCH_CLEAN    1: generate exports without messy cells (default 0: --messy)
#   BENCH_WRITE    0: do not touch BENCHMARKS.md (default 1)
#   BENCH_FLOOR_TEXT  0: skip "floor-text-parquet", the floor plus two text columns as long as
#                  the engine's evidence and guidance (default 1; reported beside the floor)
#   BENCH_EVIDENCE_NONE  0: skip "engine-parquet-evidence-none" (--evidence none; default 1)
#   BENCH_NDJSON_STDOUT  1 (default): NDJSON goes to stdout into /dev/null (the file, with every
#                  guidance text, is about 5 KB a row: 50 GB at 10M rows); 0: to a file
#   BENCH_PARQUET_INPUT  0: skip "engine-parquet-from-parquet", the same export given as a
#                  Parquet file of text columns (written once by bench-floor --as-is; default 1)
#   BENCH_PARTS    0: skip "what polars itself needs" (default 1): polars reading the export
#                  as text (bench-floor --read-text), and polars writing the engine's own
#                  Parquet results again (bench-floor --rewrite; at the smallest size also
#                  without the evidence, and without every list column), in the first run
#   BENCH_LONG     1: also classify a long-layout export (one line per result), the case of
#                  the interface's "Input: long layout" (default 0: it takes minutes, and
#                  generating the export about 1 minute more)
#   BENCH_LONG_PANELS  specimens of the long export: gen-export --layout long --rows N --messy
#                  writes about 8.75 result lines per specimen (default 1150000: about 10M
#                  results, 1.15M panels, 0.8 GB)
#   BENCH_LONG_FORMATS  engine outputs of the long case (default "parquet")
#   BENCH_PROFILE  release (default) or debug: debug uses target/debug without building, to
#                  check the script or measure memory without a release build (debug timings
#                  are not benchmark figures; nothing is written into BENCHMARKS.md); needs
#                  BENCH_SIZES= (the wide case needs the floor, a release build)
#
# The floor is bench/floor (bench-floor INPUT OUTPUT): a polars streaming read with every column
# as text, the analytes parsed, a few when/then columns, and a Parquet sink.
#
# Wall time, CPU time and max RSS come from /usr/bin/time -v. Peak anonymous memory is the
# largest RssAnon of the measured process, sampled from /proc/PID/status every 100 ms: polars
# memory-maps its input, so RSS also counts file-backed pages that are not the program's own.
# Timings are never asserted by tests; this script only records them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/anemia-bench}
# An empty BENCH_SIZES (set, but empty) runs no wide export.
BENCH_SIZES=${BENCH_SIZES-"1000000 10000000"}
BENCH_REPEAT=${BENCH_REPEAT:-2}
BENCH_REPEAT_LARGE=${BENCH_REPEAT_LARGE:-1}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_FORMATS=${BENCH_FORMATS:-"parquet csv ndjson"}
BENCH_CLEAN=${BENCH_CLEAN:-0}
BENCH_WRITE=${BENCH_WRITE:-1}
BENCH_FLOOR_TEXT=${BENCH_FLOOR_TEXT:-1}
BENCH_EVIDENCE_NONE=${BENCH_EVIDENCE_NONE:-1}
BENCH_NDJSON_STDOUT=${BENCH_NDJSON_STDOUT:-1}
BENCH_PARQUET_INPUT=${BENCH_PARQUET_INPUT:-1}
BENCH_PARTS=${BENCH_PARTS:-1}
BENCH_LONG=${BENCH_LONG:-0}
BENCH_LONG_PANELS=${BENCH_LONG_PANELS:-1150000}
BENCH_LONG_FORMATS=${BENCH_LONG_FORMATS:-parquet}
BENCH_PROFILE=${BENCH_PROFILE:-release}
[[ $BENCH_PROFILE == release || $BENCH_PROFILE == debug ]] || { echo "BENCH_PROFILE: release or debug" >&2; exit 2; }
if [[ $BENCH_PROFILE == debug ]]; then
    # Debug measures the long case only: the wide case needs the floor, a release build.
    [[ -z $BENCH_SIZES ]] || { echo "BENCH_PROFILE=debug needs BENCH_SIZES= (empty)" >&2; exit 2; }
    BENCH_WRITE=0
fi

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (Debian package: time)"
mkdir -p "$BENCH_DIR/out"
RESULTS="$BENCH_DIR/results.tsv"
EXPORTS="$BENCH_DIR/exports.tsv"
LONG_RESULTS="$BENCH_DIR/long_results.tsv"
PARTS="$BENCH_DIR/parts.tsv"
: >"$RESULTS"
: >"$PARTS"
: >"$EXPORTS"
: >"$LONG_RESULTS"

# ---- build -------------------------------------------------------------------------------
if [[ $BENCH_PROFILE == release ]]; then
    log "building the engine and gen-export (release)"
    (cd "$ROOT" && cargo build --release --workspace --bins --quiet)
else
    log "using the debug binaries of target/debug as they are (BENCH_PROFILE=debug)"
fi
if [[ -n $BENCH_SIZES ]]; then
    log "building the floor (bench/floor, own target directory)"
    CARGO_TARGET_DIR="$ROOT/bench/floor/target" \
        cargo build --release --quiet --manifest-path "$ROOT/bench/floor/Cargo.toml"
fi
# Copies, so that a rebuild in the checkout during the run does not change what is measured.
src_digest=$(cd "$ROOT" && find src -type f -name '*.rs' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)
mkdir -p "$BENCH_DIR/bin"
cp "$ROOT/target/$BENCH_PROFILE/anemia-engine" "$ROOT/target/$BENCH_PROFILE/gen-export" "$BENCH_DIR/bin/"
[[ -n $BENCH_SIZES ]] && cp "$ROOT/bench/floor/target/release/bench-floor" "$BENCH_DIR/bin/"
ENGINE="$BENCH_DIR/bin/anemia-engine"
GEN="$BENCH_DIR/bin/gen-export"
FLOOR="$BENCH_DIR/bin/bench-floor"

# ---- measurement -------------------------------------------------------------------------
# measure SIZE WHAT RUN OUTPUT CMD...: runs CMD under /usr/bin/time, samples RssAnon, appends
# a line to $RESULTS (or to $MEASURE_TO when set): size what run wall_s user_s sys_s cpu_pct peak_anon_kib max_rss_kib
# out_bytes other_cpu_pct (CPU used by other processes during the run, % of one core: other
# work on the machine skews a run, and this says by how much)
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
measure() {
    local size=$1 what=$2 run=$3 output=$4
    shift 4
    local tfile="$BENCH_DIR/time.$$" busy_before busy_after
    busy_before=$(cpu_busy)
    /usr/bin/time -v -o "$tfile" "$@" &
    local tpid=$! child="" peak=0 key value rest
    while kill -0 "$tpid" 2>/dev/null; do
        if [[ -z $child ]]; then
            # The file has no trailing newline: read assigns, then reports end of file.
            read -r child rest <"/proc/$tpid/task/$tpid/children" 2>/dev/null || true
        fi
        if [[ -n $child && -r /proc/$child/status ]]; then
            while read -r key value rest; do
                if [[ $key == RssAnon: ]]; then
                    ((value > peak)) && peak=$value
                    break
                fi
            done <"/proc/$child/status" 2>/dev/null || true
        fi
        sleep 0.1
    done
    local status=0
    wait "$tpid" || status=$?
    busy_after=$(cpu_busy)
    ((status == 0)) || { cat "$tfile" >&2; die "$what on $size rows failed (exit $status)"; }
    local wall user sys cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tfile")
    user=$(awk -F': ' '/User time/ {print $2}' "$tfile")
    sys=$(awk -F': ' '/System time/ {print $2}' "$tfile")
    cpu=$(awk -F': ' '/Percent of CPU/ {sub("%", "", $2); print $2}' "$tfile")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tfile")
    # CPU used by everything else on the machine during the run, in % of one core.
    local other
    other=$(awk -v b="$busy_before" -v a="$busy_after" -v u="$user" -v s="$sys" -v w="$wall" \
        'BEGIN { o = ((a - b) / 100 - u - s) / w * 100; printf "%.0f", (o < 0 ? 0 : o) }')
    local bytes=0
    [[ -e $output ]] && bytes=$(stat -c %s "$output")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$size" "$what" "$run" "$wall" "$user" "$sys" "$cpu" "$peak" "$rss" "$bytes" "$other" >>"${MEASURE_TO:-$RESULTS}"
    log "$what, $size rows, run $run: ${wall}s wall, ${cpu}% CPU, peak anon $((peak / 1024)) MiB, max RSS $((rss / 1024)) MiB, other work ${other}% of a core"
    rm -f "$tfile"
}

# part SIZE OF ARGS...: runs BENCH_FLOOR_PHASES=FILE bench-floor ARGS... and appends its phase
# lines to $PARTS as size of phase wall_s cpu_s: what polars itself needs for one part of the
# engine's work, on OF (the export, or the results of an engine run).
part() {
    local size=$1 of=$2 phases="$BENCH_DIR/phases.$$"
    shift 2
    rm -f "$phases"
    BENCH_FLOOR_PHASES="$phases" "$FLOOR" "$@"
    awk -F'\t' -v OFS='\t' -v n="$size" -v of="$of" '{ print n, of, $1, $2, $3 }' "$phases" >>"$PARTS"
    rm -f "$phases"
}

# ---- exports -----------------------------------------------------------------------------
messy_flag="--messy"
[[ $BENCH_CLEAN == 1 ]] && messy_flag=""
gen_id=$(sha256sum "$GEN" | cut -c1-16)
declare -A EXPORT
for n in $BENCH_SIZES; do
    f="$BENCH_DIR/wide_${n}_seed${BENCH_SEED}${messy_flag:+_messy}.csv"
    stamp="gen-export $gen_id --rows $n --seed $BENCH_SEED $messy_flag"
    if [[ -s $f && -e $f.stamp && $(cat "$f.stamp") == "$stamp" ]]; then
        log "reusing $f"
    else
        # The export is about 110 bytes a row, the NDJSON output about 1.6 KB a row.
        need=$((n * 1800 / 1000000 + 500))
        avail=$(df -Pm "$BENCH_DIR" | awk 'NR == 2 {print $4}')
        ((avail > need)) || die "$BENCH_DIR has $avail MB free; $n rows need about $need MB (export + largest output)"
        log "generating $n rows into $f"
        measure "$n" gen-export 1 "$f" "$GEN" --rows "$n" --seed "$BENCH_SEED" $messy_flag -o "$f"
        tail -n 1 "$RESULTS" | cut -f4 >"$f.seconds"
        echo "$stamp" >"$f.stamp"
    fi
    EXPORT[$n]=$f
    printf '%s\t%s\t%s\n' "$n" "$(stat -c %s "$f")" "$(cat "$f.seconds" 2>/dev/null || echo '?')" >>"$EXPORTS"
done

# ---- runs --------------------------------------------------------------------------------
for n in $BENCH_SIZES; do
    f=${EXPORT[$n]}
    cat "$f" >/dev/null # warm the page cache: every run reads the file from memory
    repeat=$BENCH_REPEAT
    ((n > 1000000)) && repeat=$BENCH_REPEAT_LARGE
    for run in $(seq 1 "$repeat"); do
        out="$BENCH_DIR/out/floor.parquet"
        measure "$n" floor-parquet "$run" "$out" "$FLOOR" "$f" "$out"
        rm -f "$out"
        if [[ $BENCH_FLOOR_TEXT == 1 ]]; then
            measure "$n" floor-text-parquet "$run" "$out" "$FLOOR" "$f" "$out" --text
            rm -f "$out"
        fi
        [[ $BENCH_PARTS == 1 && $run == 1 ]] && part "$n" export --read-text "$f"
        engine_run() { # engine_run NAME INPUT FORMAT [ARGS...]
            local name=$1 input=$2 fmt=$3
            shift 3
            local out="$BENCH_DIR/out/result.$fmt" summary="$BENCH_DIR/out/summary.json"
            measure "$n" "$name" "$run" "$out" \
                "$ENGINE" classify "$input" -o "$out" --summary "$summary" --quiet "$@"
            grep -q '"ledger_balanced": true' "$summary" || die "ledger not balanced: $summary"
            cp "$summary" "$BENCH_DIR/summary_${n}_${name}.json"
            if [[ $BENCH_PARTS == 1 && $run == 1 && $input == "$f" && $fmt == parquet ]]; then
                # What polars needs to write these very results (read first, not timed).
                local again="$BENCH_DIR/out/rewrite.parquet"
                part "$n" "$name" --rewrite "$out" "$again"
                if [[ $name == engine-parquet && $n == "${BENCH_SIZES%% *}" ]]; then
                    part "$n" "$name" --rewrite "$out" "$again" evidence
                    part "$n" "$name" --rewrite "$out" "$again" evidence,flags,recommended_tests,guidance
                fi
                rm -f "$again"
            fi
            rm -f "$out" "$BENCH_DIR/out/result.rejects.csv" "$summary"
        }
        for fmt in $BENCH_FORMATS; do
            if [[ $fmt == ndjson && $BENCH_NDJSON_STDOUT == 1 ]]; then
                # NDJSON carries every guidance text (about 5 KB a row): at 10M rows the file
                # would take about 50 GB, so it is written to stdout into /dev/null.
                summary="$BENCH_DIR/out/summary.json"
                measure "$n" engine-ndjson "$run" /dev/null sh -c 'exec "$@" >/dev/null' sh \
                    "$ENGINE" classify "$f" --format ndjson --summary "$summary" --quiet \
                    --rejects "$BENCH_DIR/out/result.rejects.csv"
                grep -q '"ledger_balanced": true' "$summary" || die "ledger not balanced: $summary"
                rm -f "$summary" "$BENCH_DIR/out/result.rejects.csv"
                continue
            fi
            engine_run "engine-$fmt" "$f" "$fmt"
        done
        if [[ $BENCH_EVIDENCE_NONE == 1 ]]; then
            engine_run engine-parquet-evidence-none "$f" parquet --evidence none
        fi
        if [[ $BENCH_PARQUET_INPUT == 1 ]]; then
            pq_in="$BENCH_DIR/wide_${n}_input.parquet"
            [[ -s $pq_in ]] || "$FLOOR" "$f" "$pq_in" --as-is
            engine_run engine-parquet-from-parquet "$pq_in" parquet
        fi
    done
done

# ---- long layout (BENCH_LONG=1) ------------------------------------------------------------
# One export of about 10M result lines (the interface's "an export of 10 million results"),
# classified to each of $BENCH_LONG_FORMATS; the line in $LONG_RESULTS has the results read and
# the panels classified (from the summary) in its first column: "results/panels".
LONG_EXPORT=""
if [[ $BENCH_LONG == 1 ]]; then
    n=$BENCH_LONG_PANELS
    f="$BENCH_DIR/long_${n}_seed${BENCH_SEED}_messy.csv"
    stamp="gen-export $gen_id --layout long --rows $n --seed $BENCH_SEED --messy"
    if [[ -s $f && -e $f.stamp && $(cat "$f.stamp") == "$stamp" ]]; then
        log "reusing $f"
    else
        # About 700 bytes of export per specimen, 250 bytes of CSV output per result line.
        need=$((n * 3000 / 1000000 + 500))
        avail=$(df -Pm "$BENCH_DIR" | awk 'NR == 2 {print $4}')
        ((avail > need)) || die "$BENCH_DIR has $avail MB free; $n long specimens need about $need MB"
        log "generating a long export of $n specimens into $f"
        "$GEN" --layout long --rows "$n" --seed "$BENCH_SEED" --messy -o "$f"
        echo "$stamp" >"$f.stamp"
    fi
    LONG_EXPORT=$f
    cat "$f" >/dev/null
    for fmt in $BENCH_LONG_FORMATS; do
        out="$BENCH_DIR/out/long.$fmt"
        summary="$BENCH_DIR/out/long_summary.json"
        MEASURE_TO="$LONG_RESULTS.tmp" measure "$n" "long-engine-$fmt" 1 "$out" \
            "$ENGINE" classify "$f" -o "$out" --summary "$summary" --quiet
        grep -q '"ledger_balanced": true' "$summary" || die "ledger not balanced: $summary"
        read_n=$(awk -F': ' '/^  "rows_read"/ {gsub(/,/, "", $2); print $2; exit}' "$summary")
        panels=$(awk -F': ' '/^  "classified"/ {gsub(/,/, "", $2); print $2; exit}' "$summary")
        awk -F'\t' -v OFS='\t' -v k="$read_n/$panels" '{ $1 = k; print }' "$LONG_RESULTS.tmp" >>"$LONG_RESULTS"
        rm -f "$LONG_RESULTS.tmp"
        cp "$summary" "$BENCH_DIR/summary_long_${n}_${fmt}.json"
        rm -f "$out" "$BENCH_DIR/out/long.rejects.csv" "$summary"
    done
fi

# ---- report ------------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
mem_total=$(free -g | awk '/^Mem:/ {print $2}')
report="$BENCH_DIR/report.md"
{
    if [[ -n $BENCH_SIZES ]]; then
        echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) by \`bench/run.sh\`: the fastest of $BENCH_REPEAT runs up to 1M rows"
        echo "and of $BENCH_REPEAT_LARGE above (peak memory: the largest), on exports from"
        echo "\`gen-export --seed $BENCH_SEED $messy_flag\` with the page cache warm. \"other work\" is the CPU that"
        echo "other processes used during the run, in % of one core."
    else
        echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) by \`bench/run.sh\` (long layout only). \"other work\" is the CPU that"
        echo "other processes used during the run, in % of one core."
    fi
    [[ $BENCH_PROFILE == debug ]] && echo "**Debug build** (BENCH_PROFILE=debug): memory figures only; its times are not benchmark figures."
    echo
    echo "Machine: $(nproc) cores ($cpu_model), ${mem_total} GiB RAM, $(uname -sr),"
    echo "engine sources (src/) digest $src_digest,"
    echo "$(rustc -V), polars $(awk '/^name = "polars"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$ROOT/Cargo.lock")."
    echo
    if [[ -n $BENCH_SIZES ]]; then
        echo '| rows | export | run | wall s | rows/s | × floor | CPU % | peak anon MiB | max RSS MiB | output MB | other work % |'
        echo '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|'
        awk -F'\t' -v sizes="$BENCH_SIZES" '
            BEGIN { ns = split(sizes, S, " ") }
            FNR == NR { exportbytes[$1] = $2; next }
            $2 == "gen-export" { next }
            {
                k = $1 SUBSEP $2
                if (!(k in wall) || $4 < wall[k]) { wall[k] = $4; cpu[k] = $7; other[k] = $11 }
                if ($8 > anon[k]) anon[k] = $8
                if ($9 > rss[k]) rss[k] = $9
                bytes[k] = $10
                if (!(($2) in seen)) { seen[$2] = 1; order[++no] = $2 }
            }
            END {
                for (i = 1; i <= ns; i++) {
                    n = S[i]; fk = n SUBSEP "floor-parquet"
                    for (j = 1; j <= no; j++) {
                        w = order[j]; k = n SUBSEP w
                        if (!(k in wall)) continue
                        ratio = (fk in wall && wall[fk] > 0) ? sprintf("%.2f", wall[k] / wall[fk]) : "–"
                        size = (n in exportbytes) ? sprintf("%.0f MB", exportbytes[n] / 1e6) : ""
                        printf "| %s | %s | %s | %.2f | %.0f | %s | %s | %.0f | %.0f | %.0f | %s |\n",
                            n, (j == 1 ? size : ""), w, wall[k], n / wall[k], ratio, cpu[k],
                            anon[k] / 1024, rss[k] / 1024, bytes[k] / 1e6, other[k]
                    }
                }
            }' "$EXPORTS" "$RESULTS"
        echo
        awk -F'\t' -v sizes="$BENCH_SIZES" '
            BEGIN { ns = split(sizes, S, " "); small = S[1]; big = S[ns] }
            $2 == "gen-export" { next }
            {
                k = $1 SUBSEP $2
                if (!(k in wall) || $4 < wall[k]) wall[k] = $4
                if ($8 > anon[k]) anon[k] = $8
            }
            function verdict(ok) { return ok ? "**met**" : "**not met**" }
            function ratio(label, a, b, limit) {
                if (a > 0 && b > 0)
                    printf "- %s ≤ %.1f×: %.2f× (%.1f s vs %.1f s) — %s\n", label, limit, a / b, a, b, verdict(a / b <= limit)
            }
            END {
                printf "Targets at %s rows (issue 10):\n\n", big
                f = wall[big, "floor-parquet"]; ft = wall[big, "floor-text-parquet"]
                p = wall[big, "engine-parquet"]; pn = wall[big, "engine-parquet-evidence-none"]
                ratio("Parquet, full evidence, vs floor-text", p, ft, 1.2)
                ratio("Parquet, --evidence none, vs floor", pn, f, 1.3)
                ratio("CSV vs Parquet (full evidence)", wall[big, "engine-csv"], p, 1.2)
                ratio("NDJSON vs Parquet (full evidence)", wall[big, "engine-ndjson"], p, 1.5)
                ratio("Parquet input vs CSV input (Parquet output)", wall[big, "engine-parquet-from-parquet"], p, 1.0)
                worst = 0
                for (k in anon) { split(k, kk, SUBSEP); if (kk[1] == big && kk[2] ~ /^engine-/ && anon[k] > worst) worst = anon[k] }
                printf "- peak anonymous memory ≤ 512 MiB: %.0f MiB (largest of the engine runs) — %s\n", worst / 1024, verdict(worst <= 524288)
                if (small != big) {
                    line = ""; ok = 1
                    for (k in anon) {
                        split(k, kk, SUBSEP)
                        if (kk[1] != big || kk[2] !~ /^engine-/ || !((small, kk[2]) in anon)) continue
                        r = anon[k] / anon[small, kk[2]]
                        if (r > 1.2) ok = 0
                        line = line sprintf("%s %.2f×, ", substr(kk[2], 8), r)
                    }
                    sub(/, $/, "", line)
                    printf "- peak anonymous memory %s → %s rows within 1.2×: %s — %s\n", small, big, line, verdict(ok)
                }
            }' "$RESULTS"
        if [[ -s $PARTS ]]; then
            echo
            echo "What polars itself needs for each part of the engine's work, in the same run: \`bench-floor"
            echo "--read-text\` reads the export with every column as text (each cell materialised), \`bench-floor"
            echo "--rewrite\` writes the engine's own Parquet results again with polars' \`ParquetWriter\` (same"
            echo "compression and statistics, row groups of 16 384; the file is read into memory first, not timed)."
            echo
            echo '| rows | of | part | wall s | CPU s | CPU µs a row |'
            echo '|---:|---|---|---:|---:|---:|'
            awk -F'\t' '{ printf "| %s | %s | %s | %.2f | %.2f | %.2f |\n", $1, $2, $3, $4, $5, $5 / $1 * 1e6 }' "$PARTS"
            echo
            awk -F'\t' -v sizes="$BENCH_SIZES" -v cores="$(nproc)" '
                BEGIN { ns = split(sizes, S, " "); big = S[ns] }
                FNR == NR { k = $1 SUBSEP $2 SUBSEP $3; cpu[k] = $5; next }
                $2 == "gen-export" { next }
                { k = $1 SUBSEP $2; if (!(k in wall) || $4 < wall[k]) wall[k] = $4 }
                function bound(label, read, write, ref, refname, limit) {
                    if (read == "" || write == "" || ref <= 0) return
                    b = (read + write) / cores
                    printf "- %s: polars alone needs %.1f CPU s to read the export as text and write these results, so at least %.1f s on %d cores, %.2f× %s (target %.1f×, %.1f s), before any evaluation\n",
                        label, read + write, b, cores, b / ref, refname, limit, ref * limit
                }
                END {
                    printf "Lower bounds at %s rows (what polars itself needs, spread perfectly over every core):\n\n", big
                    read = cpu[big, "export", "polars-read-text"]
                    bound("Parquet, full evidence", read, cpu[big, "engine-parquet", "polars-write-engine-output"],
                        wall[big, "floor-text-parquet"], "floor-text", 1.2)
                    bound("Parquet, --evidence none", read, cpu[big, "engine-parquet-evidence-none", "polars-write-engine-output"],
                        wall[big, "floor-parquet"], "the floor", 1.3)
                }' "$PARTS" "$RESULTS"
        fi
        echo
        awk -F'\t' 'BEGIN { printf "Generating the exports (`gen-export`, one thread, constant memory): " }
            { printf "%s%s rows in %s s (%.0f MB)", (NR > 1 ? ", " : ""), $1, $3, $2 / 1e6 }
            END { print "." }' "$EXPORTS"
    fi
    if [[ -s $LONG_RESULTS ]]; then
        [[ -n $BENCH_SIZES ]] && echo
        echo "Long layout (\`BENCH_LONG=1\`, one line per result): \`gen-export --layout long --rows $BENCH_LONG_PANELS"
        echo "--seed $BENCH_SEED --messy\` ($(( $(stat -c %s "$LONG_EXPORT") / 1000000 )) MB), one run per output format, page cache warm."
        echo
        echo '| results | panels | run | wall s | results/s | CPU % | peak anon MiB | max RSS MiB | output MB | other work % |'
        echo '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|'
        awk -F'\t' '{
            split($1, rp, "/")
            printf "| %s | %s | %s | %.2f | %.0f | %s | %.0f | %.0f | %.0f | %s |\n",
                rp[1], rp[2], $2, $4, rp[1] / $4, $7, $8 / 1024, $9 / 1024, $10 / 1e6, $11
        }' "$LONG_RESULTS"
        echo
        awk -F'\t' '
            { if ($8 > worst) worst = $8; split($1, rp, "/"); n = rp[1] }
            END {
                printf "Target (interface, long layout: 10 million results with bounded memory; issue: ≤ 2 GiB):\n\n"
                printf "- peak anonymous memory ≤ 2 GiB at %s results: %.0f MiB — %s\n", n, worst / 1024,
                    (worst <= 2097152 ? "**met**" : "**not met**")
            }' "$LONG_RESULTS"
    fi
} >"$report"
cat "$report"

if [[ $BENCH_WRITE == 1 ]]; then
    md="$ROOT/BENCHMARKS.md"
    begin='<!-- bench/run.sh results: begin -->'
    end='<!-- bench/run.sh results: end -->'
    if [[ -f $md ]] && grep -qF "$begin" "$md" && grep -qF "$end" "$md"; then
        awk -v begin="$begin" -v end="$end" -v report="$report" '
            $0 == begin { print; while ((getline line < report) > 0) print line; skip = 1; next }
            $0 == end { skip = 0 }
            !skip { print }' "$md" >"$md.tmp"
        mv "$md.tmp" "$md"
    else
        { echo "# Benchmarks"; echo; echo "$begin"; cat "$report"; echo "$end"; } >"$md"
    fi
    log "results written into $md"
fi
