//! The report's side table, filled row by row from a run's result batches or from result
//! files: a count per (day, label, site, analyzer) and bounded, deterministic samples of
//! anonymous points. Memory does not grow with the rows: the count table grows with the
//! distinct days and groups, each sample holds at most [`MAX_POINTS`] points per label.
//!
//! No identifier is ever kept: a point is two or three analyte values and a label.

use std::collections::{BinaryHeap, HashMap};

use polars::prelude::*;

use crate::analyte::Analyte;
use crate::report::ResultColumns;
use crate::vocab::{Flag, Label};

/// At most this many points are drawn in a scatter plot (and kept per label while reading).
pub const MAX_POINTS: usize = 5000;

/// Distinct sites (and analyzers) named on the page; the rest are counted as "other".
pub const MAX_GROUPS: usize = 12;

/// Name of the group that collects the sites or analyzers past [`MAX_GROUPS`].
pub const OTHER_GROUP: &str = "(other)";

/// One result row as the report sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportRow<'a> {
    /// Days since 1970-01-01 of `collected_at`.
    pub day: Option<i32>,
    pub hb_g_dl: Option<f64>,
    pub ferritin_ug_l: Option<f64>,
    pub stfr_mg_l: Option<f64>,
    pub ret_he_pg: Option<f64>,
    pub site: &'a str,
    pub analyzer_id: &'a str,
}

/// Names seen in a text column, by first appearance, up to [`MAX_GROUPS`]. Index 0 is "absent".
#[derive(Debug, Default)]
struct Groups {
    index: HashMap<String, u16>,
    names: Vec<String>,
}

impl Groups {
    fn id(&mut self, name: &str) -> u16 {
        if name.is_empty() {
            return 0;
        }
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        let name = if self.names.len() >= MAX_GROUPS {
            OTHER_GROUP
        } else {
            name
        };
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        self.names.push(name.to_string());
        let id = u16::try_from(self.names.len()).unwrap_or(u16::MAX);
        self.index.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: u16) -> Option<&str> {
        match id {
            0 => None,
            i => self.names.get(usize::from(i) - 1).map(String::as_str),
        }
    }
}

/// A point of a scatter plot with its sampling key.
#[derive(Clone, Copy, Debug)]
struct Keyed {
    key: u64,
    values: [f64; 3],
}

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// The points of one label with the smallest keys (bottom-k sampling): the same rows are
/// kept whatever the batch sizes, and any smaller sample is a prefix of a larger one.
#[derive(Debug, Default)]
struct BottomK {
    seen: u64,
    heap: BinaryHeap<Keyed>,
}

impl BottomK {
    fn offer(&mut self, key: u64, values: [f64; 3]) {
        self.seen += 1;
        if self.heap.len() < MAX_POINTS {
            self.heap.push(Keyed { key, values });
        } else if self.heap.peek().is_some_and(|top| key < top.key) {
            self.heap.pop();
            self.heap.push(Keyed { key, values });
        }
    }
}

/// The sampling key of the n-th result row (splitmix64): a fixed pseudo-random order.
fn sample_key(ordinal: u64) -> u64 {
    let mut z = ordinal.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Points drawn for one label.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelPoints {
    pub label: Label,
    /// Panels of this label that had the plotted values.
    pub available: u64,
    /// The sampled points, each `[x, y, z]` as the plot defines them.
    pub points: Vec<[f64; 3]>,
}

/// A stratified sample: every label present keeps at least one point, the rest of
/// [`MAX_POINTS`] is shared in proportion to the label's panels (largest remainder).
fn stratified(per_label: &[BottomK]) -> Vec<LabelPoints> {
    let present: Vec<(usize, &BottomK)> = per_label
        .iter()
        .enumerate()
        .filter(|(_, b)| b.seen > 0)
        .collect();
    let total: u64 = present.iter().map(|(_, b)| b.seen).sum();
    let cap = MAX_POINTS as u64;
    let quotas: Vec<u64> = if total <= cap {
        present.iter().map(|(_, b)| b.seen).collect()
    } else {
        let k = present.len() as u64;
        let spare = cap.saturating_sub(k);
        let rest = total - k;
        let mut quotas: Vec<u64> = present
            .iter()
            .map(|(_, b)| 1 + spare * (b.seen - 1) / rest.max(1))
            .collect();
        let mut left = cap.saturating_sub(quotas.iter().sum());
        // Largest remainders first; ties in label order.
        let mut order: Vec<(u64, usize)> = present
            .iter()
            .enumerate()
            .map(|(i, (_, b))| ((spare * (b.seen - 1)) % rest.max(1), i))
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in order {
            if left == 0 {
                break;
            }
            if quotas[i] < present[i].1.seen {
                quotas[i] += 1;
                left -= 1;
            }
        }
        quotas
    };
    present
        .iter()
        .zip(quotas)
        .map(|((label, b), quota)| {
            let mut kept = b.heap.clone().into_sorted_vec();
            kept.truncate(usize::try_from(quota).unwrap_or(usize::MAX));
            LabelPoints {
                label: Label::ALL[*label],
                available: b.seen,
                points: kept.into_iter().map(|k| k.values).collect(),
            }
        })
        .collect()
}

/// A cell of the count table: day, label index, site id, analyzer id.
type CubeKey = (Option<i32>, u8, u16, u16);

/// The side table of one report.
#[derive(Debug)]
pub struct Collector {
    ordinal: u64,
    cube: HashMap<CubeKey, u64>,
    sites: Groups,
    analyzers: Groups,
    flags: [u64; Flag::COUNT],
    /// `[ferritin, hb, 0]` of rows with both.
    hb_ferritin: Vec<BottomK>,
    /// `[ret_he, stfr, ferritin]` of rows with all three.
    thomas: Vec<BottomK>,
}

impl Default for Collector {
    fn default() -> Self {
        Collector::new()
    }
}

impl Collector {
    pub fn new() -> Collector {
        Collector {
            ordinal: 0,
            cube: HashMap::new(),
            sites: Groups::default(),
            analyzers: Groups::default(),
            flags: [0; Flag::COUNT],
            hb_ferritin: (0..Label::COUNT).map(|_| BottomK::default()).collect(),
            thomas: (0..Label::COUNT).map(|_| BottomK::default()).collect(),
        }
    }

    /// Result rows seen.
    pub fn rows(&self) -> u64 {
        self.ordinal
    }

    /// Counts one result row (rows in file or run order: the order fixes the sample).
    pub fn add<'f>(
        &mut self,
        label: Label,
        row: &ReportRow<'_>,
        flags: impl IntoIterator<Item = &'f str>,
    ) {
        let key = sample_key(self.ordinal);
        self.ordinal += 1;
        let site = self.sites.id(row.site);
        let analyzer = self.analyzers.id(row.analyzer_id);
        let l = label as usize;
        *self
            .cube
            .entry((row.day, l as u8, site, analyzer))
            .or_default() += 1;
        for f in flags {
            self.count_flag(f);
        }
        let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
        if let (Some(ferritin), Some(hb)) = (finite(row.ferritin_ug_l), finite(row.hb_g_dl)) {
            if ferritin > 0.0 {
                self.hb_ferritin[l].offer(key, [ferritin, hb, 0.0]);
            }
        }
        if let (Some(ret_he), Some(stfr), Some(ferritin)) = (
            finite(row.ret_he_pg),
            finite(row.stfr_mg_l),
            finite(row.ferritin_ug_l),
        ) {
            self.thomas[l].offer(key, [ret_he, stfr, ferritin]);
        }
    }

    /// Counts one flag code of a row (codes outside the vocabulary are not counted).
    pub fn count_flag(&mut self, code: &str) {
        if let Some(flag) = Flag::from_code(code.trim()) {
            self.flags[flag as usize] += 1;
        }
    }

    /// Counts the rows of a run's result batch.
    pub fn add_results(&mut self, results: &ResultColumns) {
        for row in 0..results.len() {
            let day = results
                .collected_at(row)
                .and_then(|t| i32::try_from(t.div_euclid(86_400_000_000)).ok());
            let r = ReportRow {
                day,
                hb_g_dl: results.value(Analyte::Hb, row),
                ferritin_ug_l: results.value(Analyte::Ferritin, row),
                stfr_mg_l: results.value(Analyte::Stfr, row),
                ret_he_pg: results.value(Analyte::RetHe, row),
                site: results.site(row),
                analyzer_id: results.analyzer_id(row),
            };
            self.add(
                results.classification(row),
                &r,
                results.flags(row).iter().copied(),
            );
        }
    }

    /// Flag counts, in the vocabulary's order.
    pub fn flag_counts(&self) -> Vec<(Flag, u64)> {
        Flag::ALL
            .iter()
            .map(|f| (*f, self.flags[*f as usize]))
            .collect()
    }

    /// The Hb–ferritin sample: `[ferritin µg/L, Hb g/dL, 0]` per point.
    pub fn hb_ferritin_sample(&self) -> Vec<LabelPoints> {
        stratified(&self.hb_ferritin)
    }

    /// The Thomas-plot sample: `[Ret-He pg, sTfR mg/L, ferritin µg/L]` per point.
    pub fn thomas_sample(&self) -> Vec<LabelPoints> {
        stratified(&self.thomas)
    }

    /// The count table as a frame: `day` (i32, days since 1970-01-01, null when undated),
    /// `label`, `site`, `analyzer_id` (null when absent) and `n`, in a fixed order.
    pub fn cube_frame(&self) -> PolarsResult<DataFrame> {
        let mut cells: Vec<(&CubeKey, &u64)> = self.cube.iter().collect();
        cells.sort();
        let day: Int32Chunked = cells.iter().map(|(k, _)| k.0).collect();
        let label: StringChunked = cells
            .iter()
            .map(|(k, _)| Some(Label::ALL[usize::from(k.1)].code()))
            .collect();
        let site: StringChunked = cells.iter().map(|(k, _)| self.sites.name(k.2)).collect();
        let analyzer: StringChunked = cells
            .iter()
            .map(|(k, _)| self.analyzers.name(k.3))
            .collect();
        let n: UInt64Chunked = cells.iter().map(|(_, n)| Some(**n)).collect();
        DataFrame::new_infer_height(vec![
            day.with_name("day".into()).into_series().into(),
            label.with_name("label".into()).into_series().into(),
            site.with_name("site".into()).into_series().into(),
            analyzer
                .with_name("analyzer_id".into())
                .into_series()
                .into(),
            n.with_name("n".into()).into_series().into(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hb: f64, ferritin: f64) -> ReportRow<'static> {
        ReportRow {
            hb_g_dl: Some(hb),
            ferritin_ug_l: Some(ferritin),
            ..ReportRow::default()
        }
    }

    #[test]
    fn sample_is_capped_stratified_and_independent_of_batching() {
        let mut c = Collector::new();
        for i in 0..12_000u32 {
            c.add(Label::NoAnemia, &row(13.0, f64::from(i) + 1.0), []);
        }
        c.add(Label::IronDeficiencyAnemia, &row(9.0, 5.0), []);
        let sample = c.hb_ferritin_sample();
        let total: usize = sample.iter().map(|s| s.points.len()).sum();
        assert_eq!(total, MAX_POINTS);
        let ida = sample
            .iter()
            .find(|s| s.label == Label::IronDeficiencyAnemia);
        assert_eq!(
            ida.map(|s| s.points.len()),
            Some(1),
            "a rare label keeps a point"
        );
        // The same rows in the same order give the same sample.
        let mut again = Collector::new();
        for i in 0..12_000u32 {
            again.add(Label::NoAnemia, &row(13.0, f64::from(i) + 1.0), []);
        }
        again.add(Label::IronDeficiencyAnemia, &row(9.0, 5.0), []);
        assert_eq!(again.hb_ferritin_sample(), sample);
    }

    #[test]
    fn groups_past_the_limit_are_other() {
        let mut g = Groups::default();
        for i in 0..MAX_GROUPS + 3 {
            g.id(&format!("site{i}"));
        }
        assert_eq!(g.names.len(), MAX_GROUPS + 1);
        assert_eq!(g.names.last().map(String::as_str), Some(OTHER_GROUP));
        assert_eq!(g.id(""), 0);
    }
}
