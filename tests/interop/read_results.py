"""The typed results as a data engineer reads them: duckdb, polars, pandas and pyarrow on the
Parquet, Arrow IPC, CSV and NDJSON outputs of the same run (interface 2026.2, "Output").

    python tests/interop/read_results.py ENGINE INPUT.csv WORKDIR

Exits non-zero with a message on the first mismatch.
"""

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

engine, export, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
work.mkdir(parents=True, exist_ok=True)
out = {}
for ext in ["parquet", "arrow", "csv", "ndjson"]:
    out[ext] = work / f"results.{ext}"
    subprocess.run([engine, "classify", export, "-o", str(out[ext]), "--quiet"], check=True)


def check(cond, what):
    if not cond:
        sys.exit(f"interop: {what}")
    print(f"ok  {what}")


# duckdb: numbers are numbers, lists are lists, the ruleset is in the file metadata.
con = duckdb.connect()
types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{out['parquet']}'").fetchall()}
check(types["hb_g_dl"] == "DOUBLE", f"duckdb hb_g_dl is DOUBLE ({types['hb_g_dl']})")
check(types["flags"] == "VARCHAR[]", f"duckdb flags is VARCHAR[] ({types['flags']})")
check(types["collected_at"].startswith("TIMESTAMP"), f"duckdb collected_at is a timestamp ({types['collected_at']})")
check(types["anemia"] == "BOOLEAN", "duckdb anemia is BOOLEAN")
rows = con.execute(
    f"SELECT classification, count(*), avg(hb_g_dl) FROM '{out['parquet']}' GROUP BY 1 ORDER BY 2 DESC"
).fetchall()
check(len(rows) > 3 and all(isinstance(r[2], float) for r in rows if r[2] is not None),
      "duckdb SELECT classification, avg(hb_g_dl) GROUP BY 1")
low = con.execute(
    f"SELECT count(*) FROM '{out['parquet']}' WHERE ferritin_ug_l < 30"
).fetchone()[0]
low_text = sum(
    1 for r in con.execute(f"SELECT ferritin_ug_l FROM '{out['parquet']}'").fetchall()
    if r[0] is not None and r[0] < 30
)
check(low == low_text and low > 0, f"duckdb WHERE ferritin_ug_l < 30 compares numbers ({low} rows)")
kv = dict(con.execute(f"SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata('{out['parquet']}')").fetchall())
check(kv.get("anemia_engine.ruleset_version") == "2026.2", "Parquet metadata names the ruleset")
csv_types = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{out['csv']}')").fetchall())
check(csv_types["ferritin_ug_l"] == "DOUBLE", f"duckdb read_csv infers ferritin_ug_l DOUBLE ({csv_types['ferritin_ug_l']})")

# Parquet statistics are numeric.
meta = pq.ParquetFile(out["parquet"]).metadata
names = [meta.schema.column(i).name for i in range(meta.num_columns)]
stats = meta.row_group(0).column(names.index("hb_g_dl")).statistics
check(isinstance(stats.min, float) and stats.min < stats.max, f"Parquet min/max of hb_g_dl are numbers ({stats.min}, {stats.max})")

# polars: the same frame from Parquet and Arrow; CSV with stable float columns.
p = pl.read_parquet(out["parquet"])
a = pl.read_ipc(out["arrow"])
check(p.equals(a), "polars reads the same frame from Parquet and Arrow")
check(p.schema["flags"] == pl.List(pl.String), "polars flags is list[str]")
check(p.filter(pl.col("flags").list.contains("NSAID_CAUTION")).height > 0, "polars list.contains on flags")
c = pl.read_csv(out["csv"], infer_schema_length=None)
check(c.schema["ferritin_ug_l"] == pl.Float64, f"polars read_csv ferritin_ug_l Float64 ({c.schema['ferritin_ug_l']})")
# A comparator column is null in most rows: let polars look at all of them.
n = pl.read_ndjson(out["ndjson"], infer_schema_length=None)
check(n.schema["evidence"] == pl.List(pl.String), "polars read_ndjson evidence is list[str]")

# pandas and pyarrow.
df = pd.read_parquet(out["parquet"])
check(str(df["hb_g_dl"].dtype) == "float64", "pandas hb_g_dl float64")
check(df.groupby("classification", observed=True)["hb_g_dl"].mean().notna().any(), "pandas groupby mean")
table = ipc.open_file(out["arrow"]).read_all()
check(table.schema.metadata[b"anemia_engine.ruleset_version"] == b"2026.2", "Arrow schema metadata names the ruleset")
check(str(table.schema.field("classification").type).startswith("dictionary"), "Arrow labels are dictionary-encoded")
lines = [json.loads(l) for l in out["ndjson"].read_text().splitlines()]
check(len(lines) == p.height, "NDJSON has one object per Parquet row")
print("interop: all checks passed")
