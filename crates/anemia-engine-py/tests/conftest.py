"""Shared fixtures: the CLI binaries built by `cargo test`, and how to compare frames."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("ANEMIA_ENGINE_BIN", ROOT / "target" / "debug" / "anemia-engine"))
GEN = Path(os.environ.get("ANEMIA_ENGINE_GEN_EXPORT", ROOT / "target" / "debug" / "gen-export"))
CORPUS = ROOT / "tests" / "fixtures" / "cases_2026_2.csv"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: build it with `cargo build` (or set ANEMIA_ENGINE_BIN)")
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=ROOT)


def cli_classify(inp: Path, out_dir: Path, *extra: str) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """The CLI's results (Parquet read back with polars), rejects and summary."""
    out = out_dir / f"{inp.stem}.parquet"
    rejects = out_dir / f"{inp.stem}.rejects.csv"
    summary = out_dir / f"{inp.stem}.summary.json"
    done = run_cli(
        "classify", str(inp), "-o", str(out), "--rejects", str(rejects),
        "--summary", str(summary), "--evidence", "full", "--quiet", *extra,
    )
    assert done.returncode == 0, done.stderr
    rej = pl.read_csv(rejects, infer_schema=False) if rejects.stat().st_size else pl.DataFrame()
    return pl.read_parquet(out), rej, json.loads(summary.read_text())


def gen_export(path: Path, rows: int, layout: str = "wide") -> Path:
    if not GEN.exists():
        pytest.fail(f"{GEN} is missing: build it with `cargo build` (or set ANEMIA_ENGINE_GEN_EXPORT)")
    subprocess.run(
        [str(GEN), "--rows", str(rows), "--seed", "7", "--layout", layout, "-o", str(path)],
        check=True,
    )
    return path


def plain(df: pl.DataFrame) -> pl.DataFrame:
    """Enum/categorical columns as strings, unsigned as signed: the values, not the encoding."""
    return df.with_columns(
        [
            pl.col(n).cast(pl.String)
            for n, t in df.schema.items()
            if isinstance(t, (pl.Enum, pl.Categorical))
        ]
        + [pl.col(n).cast(pl.Int64) for n, t in df.schema.items() if t == pl.UInt64]
    )


def sorted_rows(df: pl.DataFrame) -> pl.DataFrame:
    """Rows in (patient_id, specimen_id) order, ties broken by every other scalar column."""
    keys = ["patient_id", "specimen_id"] + [
        n for n, t in df.schema.items()
        if n not in ("patient_id", "specimen_id") and not isinstance(t, pl.List)
    ]
    return df.sort(keys, nulls_last=True)
