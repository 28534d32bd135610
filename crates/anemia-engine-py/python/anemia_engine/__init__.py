"""anemia_engine: classify anemia in laboratory exports from Python.

The same Rust library as the ``anemia-engine`` CLI, called in-process: the same ruleset, the
same results, the same rejects and ledger. Frames cross over through the Arrow C stream
interface, so a polars DataFrame or a pyarrow Table is handed over without a copy.

Example::

    >>> import polars as pl
    >>> import anemia_engine
    >>> df = pl.DataFrame({"patient_id": ["P1"], "specimen_id": ["S1"], "sex": ["F"],
    ...                    "age_years": [34], "hb_g_dl": [10.1], "mcv_fl": [72.0],
    ...                    "ferritin_ug_l": [8.0]})
    >>> results, rejects, summary = anemia_engine.classify(df)
    >>> results.select("patient_id", "classification").row(0)
    ('P1', 'iron_deficiency_anemia')
    >>> summary["ledger_balanced"]
    True
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, Optional, Tuple, Union

import polars as pl

from . import _native
from .errors import (
    AnemiaEngineError,
    EngineIOError,
    InputError,
    LedgerError,
    ReadError,
    RulesetError,
    UsageError,
)

__version__: str = _native.__version__

__all__ = [
    "classify",
    "classify_file",
    "explain",
    "ruleset_info",
    "AnemiaEngineError",
    "UsageError",
    "InputError",
    "RulesetError",
    "ReadError",
    "EngineIOError",
    "LedgerError",
    "__version__",
]

Layout = Literal["wide", "long", "auto"]
Evidence = Literal["full", "none"]
PathLike = Union[str, "os.PathLike[str]"]


def _stream_source(data: Any) -> Any:
    """An object with ``__arrow_c_stream__`` for ``data`` (polars, pyarrow or pandas)."""
    module = type(data).__module__ or ""
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if module.startswith("pandas"):
        return pl.from_pandas(data)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if module.startswith("pyarrow") and hasattr(data, "to_batches"):
        import pyarrow as pa

        return pa.table(data)
    raise TypeError(
        "expected a polars DataFrame, a pyarrow Table or a pandas DataFrame, "
        f"not {type(data).__name__}"
    )


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def _frames(out: Tuple[Any, Any, str]) -> Tuple[pl.DataFrame, pl.DataFrame, dict]:
    results, rejects, summary = out
    return pl.DataFrame(results), pl.DataFrame(rejects), json.loads(summary)


def classify(
    df: Any,
    *,
    ruleset: Optional[PathLike] = None,
    layout: Layout = "wide",
    evidence: Evidence = "full",
    guidance_text: bool = False,
    source: str = "<frame>",
    decimal: str = "auto",
    mapping: Optional[PathLike] = None,
    panel_window_days: float = 7.0,
) -> Tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Classify a frame of laboratory results.

    ``df`` is a polars DataFrame, a pyarrow Table or a pandas DataFrame (converted with
    ``polars.from_pandas``), with the columns of a wide export (one row per panel:
    ``patient_id``, ``specimen_id``, ``sex``, ``age_years``, ``hb_g_dl``, ...) or, with
    ``layout="long"``, of a long export (one row per result: ``patient_id``,
    ``specimen_id``, ``collected_at``, ``test_code``, ``value``, ``unit``).
    Text cells are read as the CLI reads them (``"<5"``, ``"12,5"`` with
    ``decimal="comma"``); numeric columns are taken as numbers.

    Returns ``(results, rejects, summary)``: ``results`` has the output schema of the CLI
    (one row per classified panel, in input order), ``rejects`` the rows that could not be
    used (``source``, ``line``, ``reason_code``, ``message``, ``raw``), ``summary`` the run's
    ledger (``rows_read``, ``classified``, ``rejected``, ``ledger_balanced``, ...).
    ``source_line`` and ``line`` are 1-based row numbers of ``df`` (long layout: row N is
    line N + 1, as in the export the frame stands for, whose line 1 is the header).

    ``ruleset`` is a ruleset directory (default: the bundled ruleset); ``evidence="none"``
    leaves out the evidence column; ``source`` fills ``source_file``.

    Raises ``InputError`` (no recognisable columns, ...), ``RulesetError``, ``UsageError``
    (a bad argument), each with the engine's message and the CLI's ``exit_code``.

    Example::

        >>> import pandas as pd
        >>> pdf = pd.DataFrame({"patient_id": ["P1"], "sex": ["M"], "age_years": [60],
        ...                     "hb_g_dl": [15.0]})
        >>> results, rejects, summary = classify(pdf, evidence="none")
        >>> results["anemia"].to_list(), rejects.height, summary["classified"]
        ([False], 0, 1)
    """
    out = _native.classify(
        _stream_source(df),
        ruleset_dir=_path(ruleset),
        layout_name=layout,
        evidence_name=evidence,
        guidance_text=guidance_text,
        source=source,
        decimal_name=decimal,
        mapping_path=_path(mapping),
        panel_window_days=panel_window_days,
    )
    return _frames(out)


def classify_file(
    path: PathLike,
    *,
    ruleset: Optional[PathLike] = None,
    layout: Layout = "auto",
    evidence: Evidence = "full",
    guidance_text: bool = False,
    decimal: str = "auto",
    mapping: Optional[PathLike] = None,
    panel_window_days: float = 7.0,
) -> Tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Classify an export file (CSV/TSV/semicolon text, gzip, Parquet or Arrow IPC) exactly
    as ``anemia-engine classify PATH`` reads it: ``source_file`` is the path,
    ``source_line`` the physical line. Returns ``(results, rejects, summary)`` as
    :func:`classify`.

    Example::

        >>> results, rejects, summary = classify_file("examples/lab_export.csv")
        >>> summary["rows_read"] == summary["classified"] + summary["rejected"]
        True
    """
    out = _native.classify_file(
        os.fspath(path),
        ruleset_dir=_path(ruleset),
        layout_name=layout,
        evidence_name=evidence,
        guidance_text=guidance_text,
        decimal_name=decimal,
        mapping_path=_path(mapping),
        panel_window_days=panel_window_days,
    )
    return _frames(out)


def explain(
    df: Any,
    row: Optional[int] = None,
    *,
    specimen: Optional[str] = None,
    ruleset: Optional[PathLike] = None,
    layout: Layout = "wide",
    decimal: str = "auto",
    mapping: Optional[PathLike] = None,
    panel_window_days: float = 7.0,
    format: Literal["dict", "text"] = "dict",
) -> Union[dict, str]:
    """Explain one panel as ``anemia-engine explain`` does: the cells as read, the
    conversions, the haemoglobin cutoff, every rule's evidence with its citation, and the
    result (or why the row was rejected).

    ``row`` is the 1-based row of ``df`` (wide layout); ``specimen`` selects by
    ``specimen_id`` instead (either layout). ``format="text"`` gives the CLI's text.

    Example::

        >>> trace = explain(df, 1)
        >>> trace["classification"]
        'iron_deficiency_anemia'
    """
    text = _native.explain(
        _stream_source(df),
        row=row,
        specimen=specimen,
        ruleset_dir=_path(ruleset),
        layout_name=layout,
        decimal_name=decimal,
        mapping_path=_path(mapping),
        panel_window_days=panel_window_days,
        json=format == "dict",
    )
    return json.loads(text) if format == "dict" else text


def ruleset_info(ruleset: Optional[PathLike] = None) -> dict:
    """The ruleset's identity: ``version``, ``effective_date``, ``checksum`` (the one in
    every result row), ``origin``, and the ``engine_version`` and ``schema_version``.

    Example::

        >>> info = ruleset_info()
        >>> sorted(info)
        ['checksum', 'effective_date', 'engine_version', 'origin', 'schema_version', 'version']
    """
    return json.loads(_native.ruleset_info(ruleset_dir=_path(ruleset)))
