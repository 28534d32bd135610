//! The benchmark floor (issue 6): what polars' streaming engine alone costs to read a wide
//! export and write it again, so the engine's time can be stated as a ratio to it.
//!
//! `bench-floor INPUT.csv OUTPUT.parquet|OUTPUT.csv [--text]`
//!
//! Every column is read as text (as the engine must: cells hold `<5`, `12.1 L`, `hemolyzed`),
//! the analyte columns are parsed to numbers, and a handful of rule-like columns are derived
//! with when/then expressions; the result is streamed to the output file. No classification,
//! no evidence strings, no rejects: this is the floor of issue 6.
//!
//! `--text` adds two text columns about as long as the engine's `evidence` and `guidance`
//! (about 540 and 80 bytes a row, each quoting the row's values), to show what writing that
//! much text costs polars itself. It is not the floor; the benchmark reports it beside it.
//!
//! `--as-is` writes the export unchanged (every column text) as Parquet: the benchmark's
//! Parquet input of the same export.
//!
//! What polars itself needs for each part of the engine's work, measured on the engine's own
//! data (phase figures appended to the file `$BENCH_FLOOR_PHASES`, tab-separated: phase,
//! wall s, CPU s):
//! - `bench-floor --read-text INPUT.csv`: the export read with every column as text,
//!   each cell materialised (the engine's reading, without its checks);
//! - `bench-floor --rewrite RESULT.parquet OUTPUT.parquet [DROP]`: the engine's own result
//!   file read into memory (not timed), then written again by polars' Parquet writer in row
//!   groups of 16 384 rows (the engine's writing of the same columns, without its
//!   evaluation); a fifth argument leaves columns out (`evidence,^.*_comparator$`).

use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use polars::prelude::*;

const ANALYTES: [&str; 18] = [
    "hb_g_dl",
    "rbc_10e12_l",
    "mcv_fl",
    "rdw_pct",
    "retic_pct",
    "ferritin_ug_l",
    "iron_ug_dl",
    "tibc_ug_dl",
    "transferrin_mg_dl",
    "tsat_pct",
    "stfr_mg_l",
    "crp_mg_l",
    "esr_mm_h",
    "b12_pg_ml",
    "folate_ng_ml",
    "calcium_mg_dl",
    "creatinine_mg_dl",
    "egfr_ml_min_1_73m2",
];

/// CPU seconds this process has used (user + system), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields of the line, 12th and 13th after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `f`, appends `phase<TAB>wall<TAB>cpu` to `phases`.
fn phase<T>(phases: &str, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    use std::io::Write;
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let out = f()?;
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(phases)
        .map_err(|e| anyhow!("writing {phases}: {e}"))?;
    writeln!(file, "{name}\t{wall:.3}\t{cpu:.2}")?;
    eprintln!("bench-floor: {name} {wall:.2} s wall, {cpu:.2} s CPU");
    Ok(out)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let phases = || {
        std::env::var("BENCH_FLOOR_PHASES")
            .map_err(|_| anyhow!("BENCH_FLOOR_PHASES: the file the phase figures go to"))
    };
    match args.as_slice() {
        [flag, input] if flag == "--read-text" => return read_text(input, &phases()?),
        [flag, input, output] if flag == "--rewrite" => {
            return rewrite(input, output, &phases()?, "")
        }
        [flag, input, output, drop] if flag == "--rewrite" => {
            return rewrite(input, output, &phases()?, drop)
        }
        _ => {}
    }
    let (input, output, text, as_is) = match args.as_slice() {
        [input, output] => (input, output, false, false),
        [input, output, flag] if flag == "--text" => (input, output, true, false),
        [input, output, flag] if flag == "--as-is" => (input, output, false, true),
        _ => bail!("usage: bench-floor INPUT.csv OUTPUT.parquet|OUTPUT.csv [--text|--as-is]"),
    };
    let started = Instant::now();
    let lf = LazyCsvReader::new(PlRefPath::new(input.as_str()))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()
        .map_err(|e| anyhow!("scanning {input}: {e}"))?;
    let schema = lf.clone().collect_schema()?;
    let present: Vec<&str> = ANALYTES
        .iter()
        .copied()
        .filter(|a| schema.contains(a))
        .collect();

    if as_is {
        // The export itself as Parquet, every column text: the benchmark's Parquet input.
        lf.sink(
            SinkDestination::File {
                target: SinkTarget::Path(PlRefPath::new(output.as_str())),
            },
            FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default())),
            UnifiedSinkArgs::default(),
        )?
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| anyhow!("writing {output}: {e}"))?;
        return Ok(());
    }
    let mut exprs: Vec<Expr> = vec![
        col("patient_id"),
        col("specimen_id"),
        col("collected_at"),
        col("sex"),
        col("age_years").cast(DataType::Float64).alias("age_years"),
    ];
    exprs.extend(
        present
            .iter()
            .map(|a| col(*a).cast(DataType::Float64).alias(*a)),
    );
    let hb = || col("hb_g_dl").cast(DataType::Float64);
    let mcv = || col("mcv_fl").cast(DataType::Float64);
    let ferritin = || col("ferritin_ug_l").cast(DataType::Float64);
    let crp = || col("crp_mg_l").cast(DataType::Float64);
    let b12 = || col("b12_pg_ml").cast(DataType::Float64);
    let anemia = || {
        when(col("sex").eq(lit("F")))
            .then(hb().lt(lit(12.0)))
            .when(col("sex").eq(lit("M")))
            .then(hb().lt(lit(13.0)))
            .otherwise(lit(NULL).cast(DataType::Boolean))
    };
    exprs.push(anemia().alias("anemia"));
    exprs.push(
        when(mcv().lt(lit(80.0)))
            .then(lit("microcytic"))
            .when(mcv().gt(lit(100.0)))
            .then(lit("macrocytic"))
            .when(mcv().is_not_null())
            .then(lit("normocytic"))
            .otherwise(lit("unknown"))
            .alias("morphology"),
    );
    exprs.push(
        when(crp().gt(lit(5.0)))
            .then(lit("present"))
            .when(crp().is_not_null())
            .then(lit("absent"))
            .otherwise(lit("unknown"))
            .alias("inflammation"),
    );
    exprs.push(
        when(ferritin().lt(lit(30.0)))
            .then(lit("deficient"))
            .when(ferritin().is_not_null())
            .then(lit("adequate"))
            .otherwise(lit("unknown"))
            .alias("iron_status"),
    );
    exprs.push(
        when(anemia().and(b12().lt(lit(200.0))))
            .then(lit("b12_folate_deficiency_anemia"))
            .when(anemia().and(ferritin().lt(lit(30.0))))
            .then(lit("iron_deficiency_anemia"))
            .when(anemia().and(crp().gt(lit(5.0))))
            .then(lit("anemia_of_inflammation"))
            .when(anemia())
            .then(lit("anemia_other"))
            .when(anemia().not())
            .then(lit("no_anemia"))
            .otherwise(lit("insufficient_data"))
            .alias("classification"),
    );
    exprs.push(
        hb().is_null()
            .and(col("hb_g_dl").is_not_null())
            .alias("hb_not_numeric"),
    );
    if text {
        // One clause per analyte, each quoting the raw cell: like an evidence line.
        let mut evidence = lit("");
        for (i, a) in present.iter().enumerate() {
            evidence = evidence
                + lit(format!(
                    "{}RULE-{:03} {a} ",
                    if i > 0 { " | " } else { "" },
                    i + 1
                ))
                + col(*a).fill_null(lit("NA"))
                + lit(" against its cutoff");
        }
        exprs.push(evidence.alias("evidence_like"));
        exprs.push(
            (col("sex").fill_null(lit("U"))
                + lit(";anemia.iron.oral;back_pain.treat_both;back_pain.nonpharmacological;back_pain.red_flags"))
            .alias("guidance_like"),
        );
    }

    let format = if output.ends_with(".parquet") {
        FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default()))
    } else if output.ends_with(".csv") {
        FileWriteFormat::Csv(CsvWriterOptions::default())
    } else {
        bail!("output must end in .parquet or .csv: {output}");
    };
    lf.select(exprs)
        .sink(
            SinkDestination::File {
                target: SinkTarget::Path(PlRefPath::new(output.as_str())),
            },
            format,
            UnifiedSinkArgs::default(),
        )?
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| anyhow!("writing {output}: {e}"))?;
    eprintln!(
        "bench-floor: {input} -> {output} in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The export read as text, every cell materialised: the total byte length of each column
/// (a streaming read; nothing is kept).
fn read_text(input: &str, phases: &str) -> Result<()> {
    phase(phases, "polars-read-text", || {
        let lf = LazyCsvReader::new(PlRefPath::new(input))
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .finish()
            .map_err(|e| anyhow!("scanning {input}: {e}"))?;
        let schema = lf.clone().collect_schema()?;
        let lengths: Vec<Expr> = schema
            .iter_names()
            .map(|name| col(name.clone()).str().len_bytes().sum())
            .collect();
        lf.select(lengths)
            .collect_with_engine(Engine::Streaming)
            .map_err(|e| anyhow!("reading {input}: {e}"))
    })?;
    Ok(())
}

/// The engine's result file read whole, then written again by polars (only the write is
/// the phase). `drop`: comma-separated columns left out (a regular expression each, as
/// polars' `col` takes them: `^.*_comparator$`), to see what each part of the schema costs.
fn rewrite(input: &str, output: &str, phases: &str, drop: &str) -> Result<()> {
    let file = std::fs::File::open(input).map_err(|e| anyhow!("opening {input}: {e}"))?;
    let mut df = ParquetReader::new(file)
        .finish()
        .map_err(|e| anyhow!("reading {input}: {e}"))?;
    let dropped: Vec<&str> = drop.split(',').filter(|d| !d.is_empty()).collect();
    if !dropped.is_empty() {
        let names: Vec<PlSmallStr> = dropped.iter().map(|d| PlSmallStr::from(*d)).collect();
        df = df
            .lazy()
            .select([all().exclude_cols(names).as_expr()])
            .collect()
            .map_err(|e| anyhow!("dropping {drop}: {e}"))?;
    }
    let name = if dropped.is_empty() {
        "polars-write-engine-output".to_string()
    } else {
        format!("polars-write-engine-output-without:{drop}")
    };
    phase(phases, &name, || {
        let out = std::fs::File::create(output).map_err(|e| anyhow!("creating {output}: {e}"))?;
        ParquetWriter::new(out)
            .with_row_group_size(Some(16_384))
            .finish(&mut df)
            .map_err(|e| anyhow!("writing {output}: {e}"))
    })?;
    Ok(())
}
