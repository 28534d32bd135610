import os
from typing import Any, Literal, Optional, Tuple, Union

import polars as pl

from .errors import (
    AnemiaEngineError as AnemiaEngineError,
    EngineIOError as EngineIOError,
    InputError as InputError,
    LedgerError as LedgerError,
    ReadError as ReadError,
    RulesetError as RulesetError,
    UsageError as UsageError,
)

__version__: str

Layout = Literal["wide", "long", "auto"]
Evidence = Literal["full", "none"]
Decimal = Literal["auto", "point", "comma"]
PathLike = Union[str, "os.PathLike[str]"]
# A polars DataFrame or LazyFrame, a pyarrow Table, a pandas DataFrame, or any object with
# `__arrow_c_stream__`.
Frame = Any

def classify(
    df: Frame,
    *,
    ruleset: Optional[PathLike] = None,
    layout: Layout = "wide",
    evidence: Evidence = "full",
    guidance_text: bool = False,
    source: str = "<frame>",
    decimal: Decimal = "auto",
    mapping: Optional[PathLike] = None,
    panel_window_days: float = 7.0,
) -> Tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Classify a frame; returns (results, rejects, summary).

    >>> results, rejects, summary = classify(pl.read_csv("export.csv", infer_schema=False))
    """

def classify_file(
    path: PathLike,
    *,
    ruleset: Optional[PathLike] = None,
    layout: Layout = "auto",
    evidence: Evidence = "full",
    guidance_text: bool = False,
    decimal: Decimal = "auto",
    mapping: Optional[PathLike] = None,
    panel_window_days: float = 7.0,
) -> Tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Classify a file as `anemia-engine classify PATH` reads it.

    >>> results, rejects, summary = classify_file("examples/lab_export.csv")
    """

def explain(
    df: Frame,
    row: Optional[int] = None,
    *,
    specimen: Optional[str] = None,
    ruleset: Optional[PathLike] = None,
    layout: Layout = "wide",
    decimal: Decimal = "auto",
    mapping: Optional[PathLike] = None,
    panel_window_days: float = 7.0,
    format: Literal["dict", "text"] = "dict",
) -> Union[dict[str, Any], str]:
    """One panel's trace, as `anemia-engine explain --row N` gives it.

    >>> explain(df, 3)["classification"]
    """

def ruleset_info(ruleset: Optional[PathLike] = None) -> dict[str, str]:
    """The ruleset's version, effective date, checksum and origin.

    >>> ruleset_info()["checksum"]
    """
