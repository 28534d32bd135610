"""Measurements of bench/python.sh (run in its venv with the release wheel installed)."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

import polars as pl

import anemia_engine


def best(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--export", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--spark-rows", type=int, default=0)
    a = ap.parse_args()

    # The same rows for both: every column as text (as the CLI reads the CSV), in memory for
    # Python, as a Parquet file for the CLI.
    frame = pl.read_csv(a.export, infer_schema=False)
    rows = frame.height
    parquet = os.path.join(a.dir, "export.parquet")
    frame.write_parquet(parquet)
    out = os.path.join(a.dir, "cli-results.parquet")

    def cli() -> None:
        subprocess.run(
            [a.engine, "classify", parquet, "-o", out, "--evidence", "full", "--quiet"],
            check=True,
        )

    def python() -> None:
        results, rejects, summary = anemia_engine.classify(frame, evidence="full")
        assert results.height + rejects.height == rows

    t_cli = best(a.repeat, cli)
    t_py = best(a.repeat, python)
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}, "
        f"polars {pl.__version__}. Export: {os.path.basename(a.export)} (gen-export --seed 1 "
        f"--messy) read by polars with every column as text ({rows} rows); best of {a.repeat} "
        "runs; release build.",
        "",
        "| measurement | rows | wall s | rows/s | vs CLI |",
        "|---|---:|---:|---:|---:|",
        f"| CLI: classify export.parquet -o results.parquet (read + classify + write) | {rows} | {t_cli:.2f} | {rows / t_cli:,.0f} | 1.00 |",
        f"| Python: anemia_engine.classify(polars frame in memory) → polars results | {rows} | {t_py:.2f} | {rows / t_py:,.0f} | {t_py / t_cli:.2f} |",
    ]

    if a.spark_rows:
        os.environ["PYSPARK_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession

        from anemia_engine import spark as ae_spark

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "4g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        sdf = spark.read.option("header", True).csv(a.export).limit(a.spark_rows).repartition(8).cache()
        n = sdf.count()

        def on_spark() -> None:
            results, rejects, summary = ae_spark.classify(sdf, persist=False)
            assert summary["ledger_balanced"] and summary["rows_read"] == n
            results.write.format("noop").mode("overwrite").save()

        t_spark = best(a.repeat, on_spark)
        lines.append(
            f"| Spark local[2], 8 partitions: spark.classify + results written to the noop sink (two passes: summary, results) | {n} | {t_spark:.2f} | {n / t_spark:,.0f} | {t_spark / t_cli * rows / n:.2f} |"
        )
        spark.stop()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
