"""anemia_engine.classify and friends give the CLI's answers."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

import anemia_engine
from conftest import CORPUS, ROOT, cli_classify, plain, run_cli

LONG = ROOT / "tests" / "fixtures" / "long_lis_export.csv"
LONG_MAPPING = ROOT / "tests" / "fixtures" / "long_lis_mapping.toml"
MESSY = ROOT / "tests" / "fixtures" / "cli_messy.csv"


def corpus_frame() -> pl.DataFrame:
    # Every cell as text, as the CLI reads the file (no type inference turning "007" into 7).
    return pl.read_csv(CORPUS, infer_schema=False)


def test_corpus_frame_equals_cli_row_for_row(tmp_path):
    cli, _, cli_summary = cli_classify(CORPUS, tmp_path)
    results, rejects, summary = anemia_engine.classify(corpus_frame(), source=str(CORPUS))
    assert results.height == cli.height == 79
    assert rejects.height == 0
    # A frame's rows are numbered from 1; the file's line 1 is its header.
    assert (results["source_line"] + 1).to_list() == cli["source_line"].to_list()
    assert_frame_equal(plain(results).drop("source_line"), plain(cli).drop("source_line"))
    for key in ("rows_read", "classified", "rejected", "classification_counts", "flag_counts"):
        assert summary[key] == cli_summary[key], key
    assert summary["ledger_balanced"] is True


def test_corpus_frame_equals_cli_on_the_same_frame_as_parquet(tmp_path):
    frame = corpus_frame()
    parquet = tmp_path / "corpus.parquet"
    frame.write_parquet(parquet)
    (tmp_path / "out").mkdir()
    cli, _, _ = cli_classify(parquet, tmp_path / "out")
    results, _, _ = anemia_engine.classify(frame, source=str(parquet))
    assert_frame_equal(plain(results), plain(cli))


def test_classify_file_equals_cli_with_rejects(tmp_path):
    cli, cli_rejects, cli_summary = cli_classify(MESSY, tmp_path)
    results, rejects, summary = anemia_engine.classify_file(MESSY)
    assert_frame_equal(plain(results), plain(cli))
    assert rejects.height == cli_rejects.height > 0
    assert_frame_equal(plain(rejects).cast(pl.String), cli_rejects)
    assert summary["rows_read"] == cli_summary["rows_read"] == results.height + rejects.height


def test_pandas_and_pyarrow_inputs_give_the_polars_answer():
    frame = corpus_frame()
    expected, _, _ = anemia_engine.classify(frame)
    from_arrow, _, _ = anemia_engine.classify(frame.to_arrow())
    from_pandas, _, _ = anemia_engine.classify(frame.to_pandas())
    assert_frame_equal(from_arrow, expected)
    assert_frame_equal(from_pandas, expected)


def test_typed_columns_read_as_numbers():
    # polars' inferred types (integers, floats) give the same classification as text cells.
    typed, _, _ = anemia_engine.classify(pl.read_csv(CORPUS))
    text, _, _ = anemia_engine.classify(corpus_frame())
    cols = ["specimen_id", "hb_g_dl", "anemia", "classification", "flags"]
    assert_frame_equal(typed.select(cols), text.select(cols))


def test_long_frame_equals_cli_long_file(tmp_path):
    cli, cli_rejects, _ = cli_classify(LONG, tmp_path, "--mapping", str(LONG_MAPPING))
    frame = pl.read_csv(LONG, separator="|", infer_schema=False)
    results, rejects, summary = anemia_engine.classify(
        frame, layout="long", mapping=LONG_MAPPING, source=str(LONG)
    )
    # Row N of a long frame is line N + 1, as in the file.
    assert_frame_equal(plain(results), plain(cli))
    assert rejects["line"].cast(pl.Int64).to_list() == cli_rejects["line"].cast(pl.Int64).to_list()
    assert rejects["reason_code"].to_list() == cli_rejects["reason_code"].to_list()
    assert summary["ledger_balanced"] and summary["inputs"][0]["layout"] == "long"
    assert summary["rows_read"] == frame.height


def test_bad_input_raises_the_engines_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    cli = run_cli("classify", str(bad), "-o", str(tmp_path / "out.csv"))
    assert cli.returncode == 2
    with pytest.raises(anemia_engine.InputError) as raised:
        anemia_engine.classify_file(bad)
    assert cli.stderr.strip() == f"error: {raised.value.message}"
    assert raised.value.exit_code == 2 and raised.value.category == "input"
    with pytest.raises(anemia_engine.InputError, match="no patient_id column"):
        anemia_engine.classify(pl.read_csv(bad))


def test_missing_file_and_bad_arguments_are_usage_errors(tmp_path):
    missing = tmp_path / "nope.csv"
    cli = run_cli("classify", str(missing), "-o", str(tmp_path / "out.csv"))
    with pytest.raises(anemia_engine.UsageError) as raised:
        anemia_engine.classify_file(missing)
    assert cli.stderr.strip() == f"error: {raised.value.message}"
    with pytest.raises(anemia_engine.UsageError, match="layout"):
        anemia_engine.classify(corpus_frame(), layout="diagonal")
    with pytest.raises(anemia_engine.UsageError, match="evidence"):
        anemia_engine.classify(corpus_frame(), evidence="some")
    with pytest.raises(TypeError):
        anemia_engine.classify([1, 2, 3])


def test_invalid_ruleset_directory(tmp_path):
    with pytest.raises(anemia_engine.RulesetError) as raised:
        anemia_engine.classify(corpus_frame(), ruleset=tmp_path / "no-ruleset")
    assert raised.value.exit_code == 2
    assert isinstance(raised.value, anemia_engine.AnemiaEngineError)


def test_evidence_none_drops_the_column_only():
    full, _, _ = anemia_engine.classify(corpus_frame())
    none, _, _ = anemia_engine.classify(corpus_frame(), evidence="none")
    assert "evidence" in full.columns and "evidence" not in none.columns
    assert_frame_equal(none, full.drop("evidence"))


def test_explain_matches_cli_explain(tmp_path):
    frame = corpus_frame()
    trace = anemia_engine.explain(frame, 3)
    cli = run_cli("explain", str(CORPUS), "--row", "3", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    import json

    expected = json.loads(cli.stdout)
    for key in ("patient_id", "specimen_id", "classification", "flags", "steps"):
        assert trace[key] == expected[key], key
    text = anemia_engine.explain(frame, 3, format="text")
    cli_text = run_cli("explain", str(CORPUS), "--row", "3")
    # The same trace; only the source's name differs.
    assert text.replace("<frame>", str(CORPUS)) == cli_text.stdout


def test_ruleset_info_matches_results():
    info = anemia_engine.ruleset_info()
    results, _, _ = anemia_engine.classify(corpus_frame())
    assert results["ruleset_checksum"].unique().to_list() == [info["checksum"]]
    assert results["ruleset_version"].unique().to_list() == [info["version"]]
    assert info["origin"] == "(embedded)"
