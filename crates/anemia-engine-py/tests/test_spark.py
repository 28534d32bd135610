"""anemia_engine.spark.classify in local[2] mode gives the CLI's answers."""

from __future__ import annotations

import os
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import CORPUS, cli_classify, gen_export, plain, sorted_rows

# CI installs pyspark, so there a missing pyspark fails; elsewhere these tests are skipped.
if os.environ.get("CI"):
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark")

from anemia_engine import spark as ae_spark  # noqa: E402

# Where the row was read differs by construction (a partition and its row, not a file line).
WHERE = ["source_file", "source_line"]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("anemia-engine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def read_csv(spark, path, partitions):
    # Every column as text, as the CLI reads the file.
    return spark.read.option("header", True).csv(str(path)).repartition(partitions)


def collected(df) -> pl.DataFrame:
    return pl.from_arrow(df.toArrow())


def same_rows(spark_results, cli) -> None:
    expected = sorted_rows(plain(cli).drop(WHERE))
    got = sorted_rows(plain(collected(spark_results)).drop(WHERE))
    assert_frame_equal(got, expected)


def test_corpus_equals_cli(spark, tmp_path):
    cli, _, cli_summary = cli_classify(CORPUS, tmp_path)
    results, rejects, summary = ae_spark.classify(read_csv(spark, CORPUS, 2))
    same_rows(results, cli)
    assert rejects.count() == 0
    assert summary["ledger_balanced"] is True
    assert summary["rows_read"] == cli_summary["rows_read"] == summary["input_rows"]
    assert summary["classification_counts"] == cli_summary["classification_counts"]
    assert summary["flag_counts"] == cli_summary["flag_counts"]


def test_generated_wide_export_in_8_partitions(spark, tmp_path):
    export = gen_export(tmp_path / "wide.csv", 100_000)
    cli, _, cli_summary = cli_classify(export, tmp_path)
    results, rejects, summary = ae_spark.classify(read_csv(spark, export, 8))
    assert summary["partitions"] == 8
    assert summary["ledger_balanced"] is True
    assert summary["rows_read"] == cli_summary["rows_read"] == 100_000
    assert summary["classified"] + summary["rejected"] == 100_000
    assert summary["classification_counts"] == cli_summary["classification_counts"]
    assert rejects.count() == cli_summary["rejected"]
    same_rows(results, cli)


def test_generated_long_export_by_patient(spark, tmp_path):
    # About 100 000 result lines (8.7 results per specimen).
    export = gen_export(tmp_path / "long.csv", 11_500, layout="long")
    cli, cli_rejects, cli_summary = cli_classify(export, tmp_path)
    # Partitions that split patients: the long layout repartitions by patient_id itself.
    results, rejects, summary = ae_spark.classify(
        read_csv(spark, export, 8), layout="long", num_partitions=8
    )
    assert summary["ledger_balanced"] is True
    assert summary["rows_read"] == cli_summary["rows_read"] > 95_000
    assert summary["not_attached"] == cli_summary["not_attached"]
    assert summary["rejected_by_reason"] == cli_summary["rejected_by_reason"]
    same_rows(results, cli)
    got = collected(rejects).select("reason_code", "raw").sort("reason_code", "raw")
    assert_frame_equal(got, cli_rejects.select("reason_code", "raw").sort("reason_code", "raw"))


def test_input_errors_surface_on_the_driver(spark):
    from anemia_engine import InputError

    df = spark.createDataFrame([("1", "2")], ["foo", "bar"])
    with pytest.raises(InputError, match="no patient_id column"):
        ae_spark.classify(df)


def test_merge_refuses_ledgers_of_another_ruleset():
    from anemia_engine import LedgerError

    base = {"ruleset": {"checksum": "sha256:a"}, "inputs": [], "rows_read": 0}
    part = {"ruleset": {"checksum": "sha256:b"}, "rows_read": 1, "ledger_balanced": True}
    with pytest.raises(LedgerError, match="sha256:b"):
        ae_spark.merge_summaries(base, [part])


def test_merge_finds_a_ledger_that_does_not_add_up():
    base = {"ruleset": {"checksum": "sha256:a"}, "inputs": []}
    part = {
        "ruleset": {"checksum": "sha256:a"},
        "rows_read": 3, "rows_used": 2, "rejected": 0, "not_attached": 0, "classified": 2,
        "ledger_balanced": True, "input_rows": 3,
    }
    assert ae_spark.merge_summaries(base, [part])["ledger_balanced"] is False
    part.update(rows_used=3, classified=3)
    merged = ae_spark.merge_summaries(base, [part, dict(part)])
    assert merged["ledger_balanced"] is True
    assert (merged["rows_read"], merged["partitions"]) == (6, 2)
