#!/usr/bin/env bash
# The Python package against the CLI: the cost of a call to anemia_engine.classify on a polars
# DataFrame already in memory (results as a polars DataFrame) against `anemia-engine classify`
# of the same rows (a Parquet file of text columns in, Parquet out), and the throughput of
# anemia_engine.spark.classify in Spark local[2] mode. Writes the table into BENCHMARKS.md
# between its markers.
#
#   bench/python.sh                    # 1M rows, best of 2 runs
#   PYBENCH_ROWS=200000 PYBENCH_WRITE=0 bench/python.sh
#
# Environment:
#   BENCH_DIR        scratch directory (default /tmp/anemia-bench); a venv is made in it
#   PYBENCH_ROWS     rows of the wide export (default 1000000)
#   PYBENCH_REPEAT   runs of each measurement; the table shows the fastest (default 2)
#   PYBENCH_SPARK_ROWS  rows of the Spark measurement (default PYBENCH_ROWS; 0: skip Spark)
#   PYBENCH_WRITE    0: print the table only, do not touch BENCHMARKS.md (default 1)
#
# Needs python3 (3.9+), and Java 17+ for Spark. The release build of the workspace (engine and
# module in one feature resolution, so polars is built once) takes about 12 minutes on 2 cores
# the first time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/anemia-bench}/python
ROWS=${PYBENCH_ROWS:-1000000}
REPEAT=${PYBENCH_REPEAT:-2}
SPARK_ROWS=${PYBENCH_SPARK_ROWS:-$ROWS}
WRITE=${PYBENCH_WRITE:-1}
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
mkdir -p "$DIR"

(cd "$ROOT" && cargo build --release --workspace --locked --quiet) >&2
venv="$DIR/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check maturin polars pyarrow pandas pyspark
rm -rf "$DIR/wheels"
(cd "$ROOT" && "$venv/bin/maturin" build --quiet --release --locked \
    -m crates/anemia-engine-py/Cargo.toml -o "$DIR/wheels") >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$DIR"/wheels/*.whl

export_csv="$DIR/export_$ROWS.csv"
[ -f "$export_csv" ] || "$ROOT/target/release/gen-export" --rows "$ROWS" --seed 1 --messy -o "$export_csv"

table=$("$venv/bin/python" "$ROOT/bench/python_bench.py" \
    --engine "$ROOT/target/release/anemia-engine" --export "$export_csv" --dir "$DIR" \
    --repeat "$REPEAT" --spark-rows "$SPARK_ROWS")
echo "$table"
if [ "$WRITE" = 1 ]; then
    "$venv/bin/python" - "$ROOT/BENCHMARKS.md" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
begin, end = "<!-- bench/python.sh results: begin -->", "<!-- bench/python.sh results: end -->"
text = open(path, encoding="utf-8").read()
if begin not in text:
    text = text.rstrip("\n") + "\n\n## Python and Spark (bench/python.sh)\n\n" + begin + "\n" + end + "\n"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w", encoding="utf-8").write(head + begin + "\n" + table.strip() + "\n" + end + tail)
PY
fi
