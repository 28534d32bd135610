//! Deterministic synthetic lab exports for benchmarks and large-input tests (issue 6).
//!
//! ```text
//! gen-export --rows N --seed S [--layout wide|long] [--messy] [-o FILE]
//! ```
//!
//! Every row is drawn from a clinical scenario (iron deficiency, anemia of inflammation,
//! B12/folate deficiency, thalassemia trait, ...) with joint distributions that make the
//! engine reach every classification label, in the proportions of [`SCENARIOS`]. Each row
//! has its own random stream derived from `(seed, row)`, so the same seed gives a
//! byte-identical file, and the first N rows of a larger file equal a file of N rows.
//! Rows are written as they are generated: memory is constant whatever `--rows` is.
//!
//! `--messy` adds the cells real exports carry: censored values (`<5`, `>90`), abnormal marks
//! (`12.1 L`, `250H`), text results (`hemolyzed`), NA tokens, and, rarely, rows the engine must
//! reject (a g/L haemoglobin in the g/dL column, a cut line, a blank patient id, a row without
//! any result) and blank lines (which are not data rows).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Layout {
    /// One row per specimen, `<analyte>_<unit>` columns (the engine's wide layout).
    Wide,
    /// One row per result with LOINC `test_code`, `value` and `unit` (LIS style).
    Long,
}

#[derive(Debug, Parser)]
#[command(
    name = "gen-export",
    about = "Write a deterministic synthetic lab export (benchmarks, large-input tests)"
)]
struct Args {
    /// Number of panels (wide: data rows; long: specimens, one line per result).
    #[arg(long)]
    rows: u64,
    /// Seed of the random streams; the same seed gives a byte-identical file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = Layout::Wide)]
    layout: Layout,
    /// Add censored values, abnormal marks, text results, NA tokens, rows to reject and blank lines.
    #[arg(long)]
    messy: bool,
    /// Output file (default: stdout).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let options = Options {
        seed: args.seed,
        messy: args.messy,
    };
    write_export(&mut out, args.rows, args.layout, options).context("writing the export")?;
    out.flush().context("writing the export")?;
    Ok(())
}

#[derive(Clone, Copy, Debug)]
struct Options {
    seed: u64,
    messy: bool,
}

/// Writes the header and `rows` panels.
fn write_export(out: &mut dyn Write, rows: u64, layout: Layout, options: Options) -> Result<()> {
    let mut line = String::with_capacity(1024);
    let mut panel = Panel::default();
    match layout {
        Layout::Wide => {
            line.push_str(CONTEXT_COLUMNS.join(",").as_str());
            for a in ANALYTES {
                line.push(',');
                line.push_str(a.column);
            }
            line.push('\n');
        }
        Layout::Long => {
            line.push_str(CONTEXT_COLUMNS.join(",").as_str());
            line.push_str(",test_code,value,unit\n");
        }
    }
    out.write_all(line.as_bytes())?;
    for row in 0..rows {
        let mut rng = Rng::for_row(options.seed, row);
        panel.generate(row, &mut rng, options.messy);
        line.clear();
        match layout {
            Layout::Wide => panel.write_wide(&mut line)?,
            Layout::Long => panel.write_long(&mut line)?,
        }
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Random numbers: splitmix64 seeding a xoshiro256** stream per row. No dependency, stable
// across platforms and Rust versions (the file must not change when a crate is upgraded).

struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn for_row(seed: u64, row: u64) -> Rng {
        let mut state = seed ^ row.wrapping_mul(0xd1b5_4a32_d192_ed03);
        Rng {
            s: [
                splitmix64(&mut state),
                splitmix64(&mut state),
                splitmix64(&mut state),
                splitmix64(&mut state),
            ],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Normal by Box–Muller, clamped to [lo, hi].
    fn normal(&mut self, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (mean + sd * z).clamp(lo, hi)
    }

    /// Log-normal around `median` (multiplicative spread `gsd`), clamped to [lo, hi].
    fn lognormal(&mut self, median: f64, gsd: f64, lo: f64, hi: f64) -> f64 {
        let z = self.normal(0.0, 1.0, -4.0, 4.0);
        (median * gsd.powf(z)).clamp(lo, hi)
    }

    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

// ---------------------------------------------------------------------------------------------
// Columns.

const CONTEXT_COLUMNS: [&str; 12] = [
    "patient_id",
    "specimen_id",
    "collected_at",
    "sex",
    "age_years",
    "pregnant",
    "altitude_m",
    "cigarettes_per_day",
    "smoker",
    "back_pain",
    "conditions",
    "medications",
];

/// One analyte column: wide name, decimals written, LOINC code and unit of the long layout.
struct AnalyteColumn {
    column: &'static str,
    decimals: usize,
    loinc: &'static str,
    unit: &'static str,
}

const fn analyte(
    column: &'static str,
    decimals: usize,
    loinc: &'static str,
    unit: &'static str,
) -> AnalyteColumn {
    AnalyteColumn {
        column,
        decimals,
        loinc,
        unit,
    }
}

const HB: usize = 0;
const RBC: usize = 1;
const MCV: usize = 2;
const RDW: usize = 3;
const RETIC: usize = 4;
const FERRITIN: usize = 5;
const IRON: usize = 6;
const TIBC: usize = 7;
const TRANSFERRIN: usize = 8;
const TSAT: usize = 9;
const STFR: usize = 10;
const CRP: usize = 11;
const ESR: usize = 12;
const B12: usize = 13;
const FOLATE: usize = 14;
const CALCIUM: usize = 15;
const CREATININE: usize = 16;
const EGFR: usize = 17;
const N_ANALYTES: usize = 18;

/// LOINC codes as in `reference-ranges/2026.1/loinc.csv`; the wide unit is the column suffix.
const ANALYTES: [AnalyteColumn; N_ANALYTES] = [
    analyte("hb_g_dl", 1, "718-7", "g/dL"),
    analyte("rbc_10e12_l", 2, "789-8", "10*12/L"),
    analyte("mcv_fl", 1, "787-2", "fL"),
    analyte("rdw_pct", 1, "788-0", "%"),
    analyte("retic_pct", 1, "4679-7", "%"),
    analyte("ferritin_ug_l", 0, "2276-4", "ng/mL"),
    analyte("iron_ug_dl", 0, "2498-4", "ug/dL"),
    analyte("tibc_ug_dl", 0, "2500-7", "ug/dL"),
    analyte("transferrin_mg_dl", 0, "3034-6", "mg/dL"),
    analyte("tsat_pct", 0, "2502-3", "%"),
    analyte("stfr_mg_l", 2, "30248-9", "mg/L"),
    analyte("crp_mg_l", 1, "1988-5", "mg/L"),
    analyte("esr_mm_h", 0, "4537-7", "mm/h"),
    analyte("b12_pg_ml", 0, "2132-9", "pg/mL"),
    analyte("folate_ng_ml", 1, "2284-8", "ng/mL"),
    analyte("calcium_mg_dl", 1, "17861-6", "mg/dL"),
    analyte("creatinine_mg_dl", 2, "2160-0", "mg/dL"),
    analyte("egfr_ml_min_1_73m2", 0, "33914-3", "mL/min/1.73m2"),
];

// ---------------------------------------------------------------------------------------------
// Scenarios: what is wrong with the patient, which decides the joint distribution of values.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Healthy,
    IronDeficiencyAnemia,
    IronDeficiencyWithoutAnemia,
    AnemiaOfInflammation,
    MixedIronDeficiencyInflammation,
    B12FolateAnemia,
    B12FolateWithoutAnemia,
    CombinedIronB12,
    ThalassemiaTrait,
    /// Normocytic anemia with adequate iron and no inflammation (CKD, marrow, hemolysis).
    AnemiaOther,
    /// Anemic, but without the tests that would tell why.
    AnemiaUntested,
    /// Hb missing, or a case the engine cannot decide.
    Insufficient,
    IronOverload,
    /// Anemia with back pain, high ESR and CRAB features: the myeloma screen.
    MyelomaPattern,
}

/// Scenario and weight (per 1000 rows).
const SCENARIOS: [(Scenario, u32); 14] = [
    (Scenario::Healthy, 380),
    (Scenario::IronDeficiencyAnemia, 120),
    (Scenario::IronDeficiencyWithoutAnemia, 60),
    (Scenario::AnemiaOfInflammation, 90),
    (Scenario::MixedIronDeficiencyInflammation, 60),
    (Scenario::B12FolateAnemia, 50),
    (Scenario::B12FolateWithoutAnemia, 30),
    (Scenario::CombinedIronB12, 20),
    (Scenario::ThalassemiaTrait, 40),
    (Scenario::AnemiaOther, 50),
    (Scenario::AnemiaUntested, 40),
    (Scenario::Insufficient, 30),
    (Scenario::IronOverload, 20),
    (Scenario::MyelomaPattern, 10),
];

const SCENARIO_WEIGHTS: [u32; SCENARIOS.len()] = {
    let mut w = [0; SCENARIOS.len()];
    let mut i = 0;
    while i < w.len() {
        w[i] = SCENARIOS[i].1;
        i += 1;
    }
    w
};

impl Scenario {
    fn anemic(self) -> bool {
        !matches!(
            self,
            Scenario::Healthy
                | Scenario::IronDeficiencyWithoutAnemia
                | Scenario::B12FolateWithoutAnemia
                | Scenario::IronOverload
                | Scenario::Insufficient
        )
    }

    fn inflamed(self) -> bool {
        matches!(
            self,
            Scenario::AnemiaOfInflammation
                | Scenario::MixedIronDeficiencyInflammation
                | Scenario::MyelomaPattern
        )
    }

    fn b12_folate_deficient(self) -> bool {
        matches!(
            self,
            Scenario::B12FolateAnemia
                | Scenario::B12FolateWithoutAnemia
                | Scenario::CombinedIronB12
        )
    }
}

const INFLAMMATORY_CONDITIONS: [&str; 6] = [
    "rheumatoid_arthritis",
    "inflammatory_bowel_disease",
    "ankylosing_spondylitis",
    "chronic_kidney_disease",
    "heart_failure",
    "cancer",
];
const OTHER_CONDITIONS: [&str; 3] = [
    "fibromyalgia",
    "cardiovascular_disease",
    "sickle_cell_disease",
];
const MEDICATIONS: [&str; 6] = [
    "corticosteroid",
    "nsaid",
    "anticoagulant",
    "ppi",
    "metformin",
    "methotrexate",
];
const TEXT_RESULTS: [&str; 5] = ["hemolyzed", "QNS", "clotted", "see comment", "lipemic"];
const NA_TOKENS: [&str; 6] = ["NA", "N/A", "null", "-", "--", "."];
const MARKS: [&str; 6] = [" L", " H", "L", "H", "(L)", "*"];

// ---------------------------------------------------------------------------------------------
// One panel.

/// How a cell is written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Value {
    #[default]
    Blank,
    Number(f64),
    /// `<x` / `>x` with x written with the analyte's decimals.
    Below(f64),
    Above(f64),
    /// A number followed by an abnormal mark.
    Marked(f64, &'static str),
    Text(&'static str),
}

/// What makes a messy row rejectable (or not a data row at all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Defect {
    #[default]
    None,
    /// Fewer fields than the header: `malformed_line`.
    CutLine,
    /// Preceded by a blank line (blank lines are not data rows).
    BlankLineBefore,
}

#[derive(Debug, Default)]
struct Panel {
    patient_id: String,
    specimen_id: String,
    collected_at: String,
    sex: &'static str,
    age: Option<f64>,
    pregnant: &'static str,
    altitude_m: Option<f64>,
    cigarettes_per_day: Option<f64>,
    smoker: &'static str,
    back_pain: &'static str,
    conditions: Vec<&'static str>,
    medications: Vec<&'static str>,
    values: [Value; N_ANALYTES],
    defect: Defect,
}

impl Panel {
    fn generate(&mut self, row: u64, rng: &mut Rng, messy: bool) {
        let scenario = SCENARIOS[rng.weighted(&SCENARIO_WEIGHTS)].0;
        self.values = [Value::Blank; N_ANALYTES];
        self.defect = Defect::None;
        self.conditions.clear();
        self.medications.clear();

        // Identity: patients recur (about 1.5 panels each); specimens are unique.
        self.patient_id.clear();
        let _ = write!(
            self.patient_id,
            "MRN{:07}",
            1_000_000 + rng.below(9_000_000)
        );
        self.specimen_id.clear();
        let _ = write!(self.specimen_id, "S{:09}", row + 1);
        // About one specimen every 3 seconds from 2026-01-01, in input order.
        let seconds = row * 3 + rng.below(3) as u64;
        self.collected_at.clear();
        write_timestamp(&mut self.collected_at, seconds);

        // Demographics.
        let age = match rng.weighted(&[15, 60, 925]) {
            0 => rng.uniform(0.5, 5.0),
            1 => rng.uniform(5.0, 15.0),
            _ => rng.normal(52.0, 19.0, 15.0, 98.0).floor(),
        };
        self.age = if rng.chance(0.01) { None } else { Some(age) };
        self.sex = match rng.weighted(&[52, 46, 1, 1]) {
            0 => "F",
            1 => "M",
            2 => "",
            _ => "U",
        };
        let female_like = self.sex != "M";
        self.pregnant = "";
        if female_like && (18.0..45.0).contains(&age) && rng.chance(0.08) {
            self.pregnant = rng.pick(&["yes", "1", "2", "3"]);
        }
        self.altitude_m = rng
            .chance(0.05)
            .then(|| rng.lognormal(1200.0, 2.2, 0.0, 5200.0).round());
        self.cigarettes_per_day = None;
        self.smoker = "";
        if age >= 15.0 {
            match rng.weighted(&[70, 12, 10, 8]) {
                1 => self.cigarettes_per_day = Some(rng.uniform(1.0, 30.0).round()),
                2 => self.smoker = "no",
                3 => self.smoker = "yes",
                _ => {}
            }
        }
        self.back_pain = match rng.weighted(&[50, 22, 12, 8, 8]) {
            0 => "",
            1 => "no",
            2 => "yes",
            3 => "acute",
            _ => "chronic",
        };

        // Context codes.
        if scenario.inflamed() || (scenario == Scenario::AnemiaOther && rng.chance(0.3)) {
            if rng.chance(0.7) {
                self.conditions.push(rng.pick(&INFLAMMATORY_CONDITIONS));
            }
        } else if rng.chance(0.04) {
            self.conditions.push(rng.pick(&INFLAMMATORY_CONDITIONS));
        }
        if rng.chance(0.05) {
            let c = rng.pick(&OTHER_CONDITIONS);
            if !self.conditions.contains(&c) {
                self.conditions.push(c);
            }
        }
        if rng.chance(0.18) {
            self.medications.push(rng.pick(&MEDICATIONS));
            if rng.chance(0.25) {
                let m = rng.pick(&MEDICATIONS);
                if !self.medications.contains(&m) {
                    self.medications.push(m);
                }
            }
        }
        if scenario == Scenario::MyelomaPattern {
            self.age = Some(rng.uniform(60.0, 90.0).floor());
            self.back_pain = rng.pick(&["yes", "chronic"]);
        }

        self.generate_values(scenario, self.age.unwrap_or(age), rng);
        if messy {
            self.mess_up(rng);
        }
    }

    /// The Hb cutoff (g/dL) the engine will apply, approximately (WHO 2024 with adjustments).
    fn hb_cutoff(&self, age: f64) -> f64 {
        let base = if !self.pregnant.is_empty() {
            11.0
        } else if age < 2.0 {
            10.5
        } else if age < 5.0 {
            11.0
        } else if age < 12.0 {
            11.5
        } else if age < 15.0 || self.sex != "M" {
            12.0
        } else {
            13.0
        };
        let altitude = self.altitude_m.map_or(0.0, |a| (a / 1000.0 * 0.7).min(3.3));
        let smoking = match (self.cigarettes_per_day, self.smoker) {
            (Some(c), _) if c >= 20.0 => 0.6,
            (Some(c), _) if c >= 10.0 => 0.5,
            (Some(_), _) | (None, "yes") => 0.3,
            _ => 0.0,
        };
        base + altitude + smoking
    }

    fn generate_values(&mut self, scenario: Scenario, age: f64, rng: &mut Rng) {
        use Scenario as S;
        let cutoff = self.hb_cutoff(age);
        // Sex unknown adults are only "not anemic" from 13 g/dL on.
        let healthy_floor = if self.sex == "F" || self.sex == "M" || !self.pregnant.is_empty() {
            cutoff
        } else {
            cutoff.max(13.0)
        };
        let hb = if scenario.anemic() {
            let severe = rng.chance(0.04);
            if severe || scenario == S::MyelomaPattern && rng.chance(0.3) {
                rng.uniform(5.0, 7.9)
            } else {
                cutoff - rng.lognormal(1.4, 1.8, 0.2, 5.0)
            }
        } else {
            healthy_floor + rng.lognormal(1.5, 1.6, 0.2, 5.0)
        };
        let hb = round_to(hb, 1);

        let mcv = match scenario {
            S::IronDeficiencyAnemia => rng.normal(72.0, 5.0, 58.0, 82.0),
            S::ThalassemiaTrait => rng.normal(67.0, 4.0, 56.0, 76.0),
            S::B12FolateAnemia => rng.normal(110.0, 6.0, 99.0, 128.0),
            S::B12FolateWithoutAnemia => rng.normal(99.0, 5.0, 88.0, 112.0),
            S::MixedIronDeficiencyInflammation => rng.normal(79.0, 5.0, 68.0, 92.0),
            S::AnemiaOfInflammation => rng.normal(85.0, 5.0, 74.0, 96.0),
            S::IronDeficiencyWithoutAnemia => rng.normal(83.0, 5.0, 72.0, 94.0),
            _ => rng.normal(90.0, 4.5, 78.0, 103.0),
        };
        let rbc = if scenario == S::ThalassemiaTrait {
            rng.uniform(5.4, 6.6)
        } else {
            // MCH in pg is about a third of MCV in fL: RBC = Hb / MCH.
            let mch = mcv / 3.0 * rng.uniform(0.93, 1.05);
            (hb * 10.0 / mch).clamp(1.2, 7.5)
        };
        let rdw = match scenario {
            S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.normal(17.0, 1.8, 13.5, 24.0),
            S::B12FolateAnemia | S::MixedIronDeficiencyInflammation => {
                rng.normal(15.8, 1.5, 12.5, 22.0)
            }
            S::ThalassemiaTrait => rng.normal(14.0, 0.8, 12.0, 16.0),
            _ => rng.normal(13.2, 0.7, 11.5, 16.0),
        };

        let ferritin = match scenario {
            S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.lognormal(9.0, 1.8, 1.5, 40.0),
            S::IronDeficiencyWithoutAnemia => rng.lognormal(12.0, 1.5, 2.0, 28.0),
            S::AnemiaOfInflammation | S::MyelomaPattern => rng.lognormal(320.0, 1.8, 110.0, 2500.0),
            S::MixedIronDeficiencyInflammation => {
                if rng.chance(0.3) {
                    rng.uniform(5.0, 29.0)
                } else {
                    rng.uniform(31.0, 98.0)
                }
            }
            S::IronOverload => rng.lognormal(900.0, 1.7, 420.0, 6000.0),
            _ => rng.lognormal(110.0, 1.7, 46.0, 600.0),
        };
        let tsat = match scenario {
            S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.uniform(3.0, 14.0),
            S::IronDeficiencyWithoutAnemia => rng.uniform(8.0, 22.0),
            S::AnemiaOfInflammation | S::MyelomaPattern => rng.uniform(8.0, 30.0),
            S::MixedIronDeficiencyInflammation => rng.uniform(4.0, 17.5),
            S::IronOverload => rng.uniform(52.0, 92.0),
            _ => rng.uniform(21.0, 42.0),
        };
        let tibc = match scenario {
            S::IronDeficiencyAnemia | S::IronDeficiencyWithoutAnemia | S::CombinedIronB12 => {
                rng.uniform(370.0, 480.0)
            }
            S::AnemiaOfInflammation | S::MixedIronDeficiencyInflammation | S::MyelomaPattern => {
                rng.uniform(180.0, 270.0)
            }
            S::IronOverload => rng.uniform(200.0, 280.0),
            _ => rng.uniform(250.0, 380.0),
        };
        let crp = if scenario.inflamed() {
            rng.lognormal(35.0, 2.2, 6.0, 300.0)
        } else {
            rng.lognormal(1.2, 2.0, 0.1, 4.9)
        };
        let esr = match scenario {
            S::MyelomaPattern => rng.uniform(85.0, 135.0),
            _ if scenario.inflamed() => rng.uniform(32.0, 95.0),
            _ => rng.uniform(2.0, 19.0),
        };
        let (b12, folate) = if scenario.b12_folate_deficient() {
            if rng.chance(0.7) {
                (rng.uniform(70.0, 195.0), rng.uniform(4.5, 16.0))
            } else {
                (rng.uniform(250.0, 700.0), rng.uniform(1.2, 3.8))
            }
        } else {
            (
                rng.lognormal(450.0, 1.4, 210.0, 1500.0),
                rng.uniform(4.5, 20.0),
            )
        };
        let ckd = self.conditions.contains(&"chronic_kidney_disease");
        let (calcium, creatinine, egfr) = if scenario == S::MyelomaPattern {
            (
                rng.uniform(10.2, 13.5),
                rng.uniform(1.2, 3.5),
                rng.uniform(15.0, 60.0),
            )
        } else if ckd {
            (
                rng.uniform(8.4, 10.2),
                rng.uniform(1.8, 4.5),
                rng.uniform(12.0, 55.0),
            )
        } else {
            (
                rng.normal(9.4, 0.4, 8.4, 10.4),
                rng.normal(0.9, 0.18, 0.45, 1.4),
                rng.normal(92.0, 18.0, 55.0, 135.0),
            )
        };

        // Which tests were ordered. The scenario's defining tests are always there.
        let v = &mut self.values;
        if scenario != S::Insufficient {
            v[HB] = Value::Number(hb);
        } else {
            match rng.weighted(&[2, 1, 1]) {
                // Hb not measured.
                0 => {}
                // Sex unknown and Hb in the grey zone between the female and male cutoffs.
                1 => {
                    v[HB] = Value::Number(round_to(rng.uniform(12.0, 12.9), 1));
                    self.sex = "";
                    self.pregnant = "";
                    self.altitude_m = None;
                    self.cigarettes_per_day = None;
                    self.smoker = "";
                }
                // An infant under 6 months: out of scope.
                _ => {
                    v[HB] = Value::Number(round_to(rng.uniform(9.0, 16.0), 1));
                    self.age = Some(round_to(rng.uniform(0.05, 0.45), 2));
                    self.pregnant = "";
                }
            }
        }
        if rng.chance(0.97)
            || matches!(
                scenario,
                S::ThalassemiaTrait | S::B12FolateAnemia | S::IronDeficiencyAnemia
            )
        {
            v[RBC] = Value::Number(rbc);
            v[MCV] = Value::Number(mcv);
        }
        if rng.chance(0.9) {
            v[RDW] = Value::Number(rdw);
        }
        if rng.chance(0.15) {
            v[RETIC] = Value::Number(if scenario.anemic() {
                rng.uniform(0.4, 3.5)
            } else {
                rng.uniform(0.5, 2.0)
            });
        }
        let iron_studies_needed = scenario != S::Healthy
            && scenario != S::B12FolateWithoutAnemia
            && scenario != S::AnemiaUntested
            && scenario != S::Insufficient;
        if iron_studies_needed || rng.chance(0.55) {
            v[FERRITIN] = Value::Number(ferritin);
            match rng.weighted(&[50, 25, 10, 15]) {
                0 => v[TSAT] = Value::Number(tsat),
                1 => {
                    v[IRON] = Value::Number(tsat * tibc / 100.0);
                    v[TIBC] = Value::Number(tibc);
                }
                2 => {
                    v[IRON] = Value::Number(tsat * tibc / 100.0);
                    v[TRANSFERRIN] = Value::Number(tibc / 1.4);
                }
                _ if iron_studies_needed => v[TSAT] = Value::Number(tsat),
                _ => {}
            }
            if rng.chance(0.08) {
                let stfr = match scenario {
                    S::IronDeficiencyAnemia | S::CombinedIronB12 => rng.uniform(3.5, 8.0),
                    S::MixedIronDeficiencyInflammation => rng.uniform(2.8, 6.0),
                    _ => rng.uniform(0.8, 1.8),
                };
                v[STFR] = Value::Number(stfr);
            }
        }
        // The untested anemic: no iron studies, and a CRP that says "no inflammation" at most.
        let crp_needed = scenario.inflamed() || scenario == S::AnemiaOther;
        if crp_needed && !(scenario.inflamed() && rng.chance(0.15)) || rng.chance(0.6) {
            v[CRP] = Value::Number(crp);
        }
        if scenario.inflamed() && v[CRP] == Value::Blank {
            // No CRP: the ESR carries the inflammation.
            v[ESR] = Value::Number(esr);
        }
        if scenario == S::MyelomaPattern || rng.chance(0.25) {
            v[ESR] = Value::Number(esr);
        }
        if scenario.b12_folate_deficient() || rng.chance(0.3) {
            v[B12] = Value::Number(b12);
            v[FOLATE] = Value::Number(folate);
        }
        if scenario == S::MyelomaPattern || ckd || rng.chance(0.4) {
            v[CALCIUM] = Value::Number(calcium);
            v[CREATININE] = Value::Number(creatinine);
            if rng.chance(0.8) {
                v[EGFR] = Value::Number(egfr);
            }
        }
        if scenario == S::Insufficient
            && v[HB] == Value::Blank
            && v.iter().all(|c| *c == Value::Blank)
        {
            v[MCV] = Value::Number(mcv);
        }
    }

    /// Messy cells and, rarely, rows the engine must reject.
    fn mess_up(&mut self, rng: &mut Rng) {
        let present: Vec<usize> = (0..N_ANALYTES)
            .filter(|i| matches!(self.values[*i], Value::Number(_)))
            .collect();
        // Censored results where labs report them.
        if let Value::Number(c) = self.values[CRP] {
            if c < 5.0 && rng.chance(0.35) {
                self.values[CRP] = Value::Below(5.0);
            }
        }
        if let Value::Number(f) = self.values[FERRITIN] {
            if f < 10.0 && rng.chance(0.3) {
                self.values[FERRITIN] = Value::Below(10.0);
            } else if f > 1500.0 && rng.chance(0.5) {
                self.values[FERRITIN] = Value::Above(1500.0);
            }
        }
        if let Value::Number(e) = self.values[EGFR] {
            // Many laboratories report eGFR above 90 only as ">90".
            if e > 90.0 && rng.chance(0.5) {
                self.values[EGFR] = Value::Above(90.0);
            }
        }
        if let Value::Number(b) = self.values[B12] {
            if b > 1000.0 && rng.chance(0.5) {
                self.values[B12] = Value::Above(1000.0);
            }
        }
        if !present.is_empty() {
            if rng.chance(0.03) {
                let i = rng.pick(&present);
                if let Value::Number(x) = self.values[i] {
                    self.values[i] = Value::Marked(x, rng.pick(&MARKS));
                }
            }
            if rng.chance(0.004) {
                let i = rng.pick(&present);
                self.values[i] = Value::Text(rng.pick(&TEXT_RESULTS));
            }
        }
        if rng.chance(0.03) {
            let blanks: Vec<usize> = (0..N_ANALYTES)
                .filter(|i| self.values[*i] == Value::Blank)
                .collect();
            if !blanks.is_empty() {
                let i = rng.pick(&blanks);
                self.values[i] = Value::Text(rng.pick(&NA_TOKENS));
            }
        }
        // Rows to reject, about 1 in 1000 in all.
        match rng.weighted(&[9_990_000, 3_000, 2_000, 2_500, 1_500, 1_000]) {
            1 => {
                // A g/L haemoglobin in the g/dL column: implausible_value.
                if let Value::Number(hb) = self.values[HB] {
                    self.values[HB] = Value::Number(round_to(hb * 10.0, 0));
                }
            }
            2 => self.defect = Defect::CutLine,
            3 => self.patient_id.clear(),
            4 => {
                for (i, v) in self.values.iter_mut().enumerate() {
                    *v = if i % 5 == 0 {
                        Value::Text(NA_TOKENS[i % NA_TOKENS.len()])
                    } else {
                        Value::Blank
                    };
                }
            }
            5 => self.defect = Defect::BlankLineBefore,
            _ => {}
        }
    }

    fn write_context(&self, line: &mut String) {
        line.push_str(&self.patient_id);
        line.push(',');
        line.push_str(&self.specimen_id);
        line.push(',');
        line.push_str(&self.collected_at);
        line.push(',');
        line.push_str(self.sex);
        line.push(',');
        if let Some(age) = self.age {
            if age < 15.0 && age.fract() != 0.0 {
                let _ = write!(line, "{age:.1}");
            } else {
                let _ = write!(line, "{age:.0}");
            }
        }
        line.push(',');
        line.push_str(self.pregnant);
        line.push(',');
        if let Some(a) = self.altitude_m {
            let _ = write!(line, "{a:.0}");
        }
        line.push(',');
        if let Some(c) = self.cigarettes_per_day {
            let _ = write!(line, "{c:.0}");
        }
        line.push(',');
        line.push_str(self.smoker);
        line.push(',');
        line.push_str(self.back_pain);
        line.push(',');
        push_codes(line, &self.conditions);
        line.push(',');
        push_codes(line, &self.medications);
    }

    fn write_wide(&self, line: &mut String) -> Result<()> {
        if self.defect == Defect::BlankLineBefore {
            line.push('\n');
        }
        self.write_context(line);
        for (value, column) in self.values.iter().zip(&ANALYTES) {
            line.push(',');
            write_value(line, *value, column.decimals);
        }
        if self.defect == Defect::CutLine {
            // Cut after the 15th field, as a truncated transfer would.
            if let Some((cut, _)) = line.match_indices(',').nth(14) {
                line.truncate(cut);
            }
        }
        line.push('\n');
        Ok(())
    }

    fn write_long(&self, line: &mut String) -> Result<()> {
        let mut context = String::with_capacity(160);
        self.write_context(&mut context);
        for (value, column) in self.values.iter().zip(&ANALYTES) {
            if *value == Value::Blank {
                continue;
            }
            line.push_str(&context);
            line.push(',');
            line.push_str(column.loinc);
            line.push(',');
            write_value(line, *value, column.decimals);
            line.push(',');
            line.push_str(column.unit);
            line.push('\n');
        }
        Ok(())
    }
}

fn push_codes(line: &mut String, codes: &[&str]) {
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            line.push(';');
        }
        line.push_str(c);
    }
}

fn write_value(line: &mut String, value: Value, decimals: usize) {
    let _ = match value {
        Value::Blank => Ok(()),
        Value::Number(x) => write!(line, "{:.*}", decimals, x),
        Value::Below(x) => write!(line, "<{:.*}", decimals, x),
        Value::Above(x) => write!(line, ">{:.*}", decimals, x),
        Value::Marked(x, mark) => write!(line, "{:.*}{mark}", decimals, x),
        Value::Text(t) => {
            line.push_str(t);
            Ok(())
        }
    };
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Writes `2026-01-01T00:00:00` plus `seconds` as an ISO 8601 local date-time.
fn write_timestamp(out: &mut String, seconds: u64) {
    // Days from 1970-01-01 to 2026-01-01.
    const EPOCH_2026: i64 = 20_454;
    let days = EPOCH_2026 + (seconds / 86_400) as i64;
    let secs = seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(rows: u64, layout: Layout, seed: u64, messy: bool) -> String {
        let mut out = Vec::new();
        write_export(&mut out, rows, layout, Options { seed, messy }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_and_prefix_stable() {
        let a = export(500, Layout::Wide, 7, true);
        assert_eq!(a, export(500, Layout::Wide, 7, true));
        assert_ne!(a, export(500, Layout::Wide, 8, true));
        assert!(export(1000, Layout::Wide, 7, true).starts_with(&a));
    }

    #[test]
    fn wide_rows_have_every_field() {
        let text = export(2000, Layout::Wide, 1, false);
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let n = header.split(',').count();
        assert_eq!(n, 30);
        assert!(lines.all(|l| l.split(',').count() == n));
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        let mut s = String::new();
        write_timestamp(&mut s, 86_400 * 59 + 3661);
        assert_eq!(s, "2026-03-01T01:01:01");
    }
}
