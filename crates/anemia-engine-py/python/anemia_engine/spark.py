"""Classify a Spark DataFrame on the executors, one partition at a time.

Every partition goes through the same Rust library as the CLI, via ``mapInArrow``. One pass
produces the results, the rejects and one ledger per partition; the ledgers are summed on the
driver and checked (every input row is a result row, a reject, or for the long layout a result
not attached to any panel). The wheel must be installed on the executors: see README,
"Running at scale".

Example::

    >>> from anemia_engine import spark as ae_spark
    >>> df = spark.read.option("header", True).csv("exports/*.csv")  # every column text
    >>> results, rejects, summary = ae_spark.classify(df)
    >>> results.write.parquet("results/")
    >>> rejects.write.parquet("rejects/")
    >>> summary["ledger_balanced"], summary["partitions"]
    (True, 8)
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .errors import LedgerError, UsageError

__all__ = ["classify", "merge_summaries", "results_schema"]

KIND = "_ae_kind"
LEDGER = "_ae_ledger"
ROW = "_ae_row"
REJECT_PREFIX = "_ae_reject_"
REJECT_COLUMNS = ["source", "line", "reason_code", "message", "raw"]

# Ledger counts summed over partitions; maps of counts summed key by key.
COUNTS = ["rows_read", "classified", "rejected", "rows_used", "not_attached"]
INPUT_COUNTS = COUNTS + ["header_repeats"]
COUNT_MAPS = [
    "rejected_by_reason",
    "not_attached_by_analyte",
    "classification_counts",
    "flag_counts",
    "unknown_context_codes",
]


def _spark_arrow_type(t: Any) -> Any:
    """The Arrow type Spark takes for an output column: plain strings for dictionary and
    large strings, int64 for uint64 (Spark has no unsigned types), list<string>."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _spark_arrow_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_unsigned_integer(t):
        return pa.int64()
    if pa.types.is_large_list(t) or pa.types.is_list(t) or pa.types.is_list_view(t):
        return pa.list_(_spark_arrow_type(t.value_type))
    return t


def _spark_type(t: Any) -> Any:
    import pyarrow as pa
    from pyspark.sql import types as T

    if pa.types.is_string(t):
        return T.StringType()
    if pa.types.is_int64(t):
        return T.LongType()
    if pa.types.is_floating(t):
        return T.DoubleType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_timestamp(t):
        # Naive timestamps (interface: timestamp[µs] without a zone).
        return T.TimestampNTZType() if t.tz is None else T.TimestampType()
    if pa.types.is_list(t):
        return T.ArrayType(_spark_type(t.value_type), containsNull=True)
    raise TypeError(f"no Spark type for Arrow type {t}")


def _empty_input(columns: List[str]) -> Any:
    import pyarrow as pa

    return pa.table({c: pa.array([], pa.string()) for c in columns})


def _native_classify(table: Any, opts: Dict[str, Any], source: str) -> Tuple[Any, Any, dict]:
    import pyarrow as pa

    from . import _native

    results, rejects, summary = _native.classify(table, source=source, newest=False, **opts)
    return pa.table(results), pa.table(rejects), json.loads(summary)


def results_schema(
    columns: List[str], opts: Dict[str, Any]
) -> Tuple[Any, Any, Any, dict]:
    """(results Arrow schema for Spark, rejects Arrow schema, Spark schema of the combined
    output, the ledger of no rows) for an input with ``columns``. Classifying no rows on the
    driver checks the columns and the ruleset before any task starts."""
    import pyarrow as pa
    from pyspark.sql import types as T

    results, rejects, summary = _native_classify(_empty_input(columns), opts, "<spark>")
    res = pa.schema([pa.field(f.name, _spark_arrow_type(f.type)) for f in results.schema])
    rej = pa.schema([pa.field(f.name, _spark_arrow_type(f.type)) for f in rejects.schema])
    fields = [T.StructField(f.name, _spark_type(f.type), True) for f in res]
    fields.append(T.StructField(KIND, T.StringType(), False))
    fields += [
        T.StructField(REJECT_PREFIX + f.name, _spark_type(f.type), True) for f in rej
    ]
    fields.append(T.StructField(LEDGER, T.StringType(), True))
    return res, rej, T.StructType(fields), summary


def _partition_function(
    opts: Dict[str, Any], res_schema: Any, rej_schema: Any, drop: List[str]
) -> Any:
    """The mapInArrow function: classify the partition's rows, then yield the results, the
    rejects and one ledger row, each in the combined schema."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa
        from pyspark import TaskContext

        batches = list(batches)
        if not batches:
            return
        table = pa.Table.from_batches(batches)
        if drop:
            table = table.drop_columns([c for c in drop if c in table.column_names])
        rows_in = table.num_rows
        ctx = TaskContext.get()
        part = ctx.partitionId() if ctx is not None else 0
        results, rejects, summary = _native_classify(table, opts, f"<spark partition {part}>")
        summary["partitions"] = 1
        summary["input_rows"] = rows_in

        def combined(kind: str, own: Any, own_schema: Any, prefix: str) -> Iterator[Any]:
            n = own.num_rows
            own = own.cast(own_schema)
            arrays, names = [], []
            for f in res_schema:
                arrays.append(own.column(f.name) if prefix == "" else pa.nulls(n, f.type))
                names.append(f.name)
            arrays.append(pa.array([kind] * n, pa.string()))
            names.append(KIND)
            for f in rej_schema:
                arrays.append(own.column(f.name) if prefix else pa.nulls(n, f.type))
                names.append(REJECT_PREFIX + f.name)
            arrays.append(pa.nulls(n, pa.string()))
            names.append(LEDGER)
            yield from pa.Table.from_arrays(arrays, names=names).to_batches()

        if results.num_rows:
            yield from combined("result", results, res_schema, "")
        if rejects.num_rows:
            yield from combined("reject", rejects, rej_schema, REJECT_PREFIX)
        ledger = [pa.nulls(1, f.type) for f in res_schema]
        ledger.append(pa.array(["ledger"], pa.string()))
        ledger += [pa.nulls(1, f.type) for f in rej_schema]
        ledger.append(pa.array([json.dumps(summary)], pa.string()))
        names = [f.name for f in res_schema] + [KIND]
        names += [REJECT_PREFIX + f.name for f in rej_schema] + [LEDGER]
        yield from pa.Table.from_arrays(ledger, names=names).to_batches()

    return run


def _add(into: Dict[str, Any], part: Dict[str, Any], keys: List[str]) -> None:
    for k in keys:
        into[k] = into.get(k, 0) + part.get(k, 0)


def merge_summaries(base: dict, parts: List[dict]) -> dict:
    """Sum per-partition ledgers (each the summary of one ``classify`` call) onto ``base``
    (the summary of no rows). Refuses ledgers made with different rulesets; recomputes
    ``ledger_balanced``: rows read = rows used + rejected + not attached, in every part and
    in the sum, and (when the parts say how many rows they were given) rows given = rows
    read."""
    total = json.loads(json.dumps(base))
    for k in COUNTS:
        total[k] = 0
    for m in COUNT_MAPS:
        total[m] = {k: 0 for k in total.get(m, {})}
    total["partitions"] = 0
    total["input_rows"] = 0
    merged_input = dict(total["inputs"][0]) if total.get("inputs") else None
    if merged_input is not None:
        for k in INPUT_COUNTS:
            merged_input[k] = 0
    balanced = True
    checksum = total["ruleset"]["checksum"]
    for part in parts:
        if part["ruleset"]["checksum"] != checksum:
            raise LedgerError(
                "a partition was classified with ruleset "
                f"{part['ruleset']['checksum']}, not {checksum}: install the same "
                "anemia-engine wheel and ruleset on every executor"
            )
        _add(total, part, COUNTS)
        total["partitions"] += part.get("partitions", 1)
        total["input_rows"] += part.get("input_rows", part.get("rows_read", 0))
        for m in COUNT_MAPS:
            for k, v in part.get(m, {}).items():
                total[m][k] = total[m].get(k, 0) + v
        for i in part.get("inputs", []) if merged_input is not None else []:
            _add(merged_input, i, INPUT_COUNTS)
        balanced = balanced and bool(part.get("ledger_balanced", False))
        if "input_rows" in part and part["input_rows"] != part["rows_read"]:
            balanced = False
    if merged_input is not None:
        merged_input["name"] = "<spark>"
        merged_input["format"] = "spark"
        total["inputs"] = [merged_input]
    total["ledger_balanced"] = (
        balanced
        and total["rows_read"] == total["rows_used"] + total["rejected"] + total["not_attached"]
        and total["input_rows"] == total["rows_read"]
        and (merged_input is None or merged_input["rows_read"] == total["rows_read"])
    )
    return total


def _column(columns: List[str], name: str) -> Optional[str]:
    return next((c for c in columns if c.strip().lower() == name), None)


def classify(
    spark_df: Any,
    *,
    layout: str = "wide",
    ruleset: Optional[str] = None,
    evidence: str = "full",
    guidance_text: bool = False,
    decimal: str = "auto",
    mapping: Optional[str] = None,
    panel_window_days: float = 7.0,
    num_partitions: Optional[int] = None,
    persist: bool = True,
) -> Tuple[Any, Any, dict]:
    """Classify a Spark DataFrame; returns ``(results, rejects, summary)``.

    ``results`` is a Spark DataFrame with the output schema (``source_line`` as a long: Spark
    has no unsigned type; ``source_file`` is ``<spark partition N>`` and ``source_line`` the
    row's number in that partition). ``rejects`` has ``source``, ``line``, ``reason_code``,
    ``message``, ``raw``. ``summary`` is the run's ledger summed over the partitions
    (``partitions``, ``rows_read``, ``classified``, ``rejected``, ``ledger_balanced``, ...).

    The wide layout classifies each partition as it is. The long layout (one row per result)
    first repartitions by ``patient_id`` (``num_partitions``, default
    ``spark.sql.shuffle.partitions``), keeping the input order within each patient, so all
    results of a patient meet in one task.

    The summary is collected when this function returns (one Spark job). With ``persist``
    (default) that job's output is persisted (memory and disk), so writing ``results`` and
    ``rejects`` afterwards does not classify again; unpersist with
    ``spark.catalog.clearCache()`` when done. ``ruleset`` and ``mapping`` are paths that must
    exist on every executor (default: the ruleset bundled in the wheel).

    Raises ``InputError``/``RulesetError``/``UsageError`` on the driver, before any task, as
    :func:`anemia_engine.classify` does, and ``LedgerError`` if the partitions' ledgers do not
    add up.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    started = time.monotonic()
    if layout not in ("wide", "long", "auto"):
        raise UsageError(f'layout={layout!r}: use "wide", "long" or "auto"')
    columns = list(spark_df.columns)
    if layout == "auto":
        long = _column(columns, "test_code") is not None and _column(columns, "value") is not None
        layout = "long" if long else "wide"
    opts = dict(
        ruleset_dir=ruleset,
        layout_name=layout,
        evidence_name=evidence,
        guidance_text=guidance_text,
        decimal_name=decimal,
        mapping_path=mapping,
        panel_window_days=panel_window_days,
    )
    res_schema, rej_schema, spark_schema, base = results_schema(columns, opts)
    df = spark_df
    drop: List[str] = []
    if layout == "long":
        patient = _column(columns, "patient_id")
        if patient is None:  # results_schema already refused it; kept for clarity
            raise UsageError("the long layout needs a patient_id column")
        df = df.withColumn(ROW, F.monotonically_increasing_id())
        df = df.repartition(num_partitions, patient) if num_partitions else df.repartition(patient)
        df = df.sortWithinPartitions(ROW)
        drop = [ROW]
    elif num_partitions:
        df = df.repartition(num_partitions)
    out = df.mapInArrow(_partition_function(opts, res_schema, rej_schema, drop), spark_schema)
    if persist:
        out = out.persist(StorageLevel.MEMORY_AND_DISK)
    ledgers = [
        json.loads(r[0]) for r in out.filter(F.col(KIND) == "ledger").select(LEDGER).collect()
    ]
    summary = merge_summaries(base, ledgers)
    summary["elapsed_seconds"] = round(time.monotonic() - started, 3)
    if not summary["ledger_balanced"]:
        raise LedgerError(
            "the partitions' ledgers do not add up: "
            f"{summary['input_rows']} rows given, {summary['rows_read']} read = "
            f"{summary['rows_used']} used + {summary['rejected']} rejected + "
            f"{summary['not_attached']} not attached"
        )
    results = out.filter(F.col(KIND) == "result").select(*[f.name for f in res_schema])
    rejects = out.filter(F.col(KIND) == "reject").select(
        *[F.col(REJECT_PREFIX + f.name).alias(f.name) for f in rej_schema]
    )
    return results, rejects, summary
