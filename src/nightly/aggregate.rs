//! The report's numbers, as polars lazy queries over the count table of a [`Collector`]:
//! the label mix, and the daily label prevalence with its p-chart limits (overall, per site,
//! per analyzer).
//!
//! [`Collector`]: super::collect::Collector

use polars::prelude::*;

use crate::vocab::Label;

/// Labels given their own daily p-chart (the most frequent ones).
pub const DAILY_LABELS: usize = 3;

/// One day of a p-chart.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPoint {
    /// Days since 1970-01-01.
    pub day: i32,
    /// Panels collected that day.
    pub n: u64,
    /// Of which with the charted label.
    pub x: u64,
    pub p: f64,
    /// 3σ binomial limits around the centre line for this day's n, clipped to [0, 1].
    pub lcl: f64,
    pub ucl: f64,
}

impl DayPoint {
    /// Outside its control limits.
    pub fn signal(&self) -> bool {
        self.p > self.ucl || self.p < self.lcl
    }
}

/// The daily prevalence of one label, with the centre line p̄ = Σx / Σn.
#[derive(Clone, Debug, PartialEq)]
pub struct PChart {
    pub label: Label,
    pub p_bar: f64,
    pub days: Vec<DayPoint>,
}

/// A p-chart of one site or analyzer.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupChart {
    pub name: String,
    pub panels: u64,
    pub chart: PChart,
}

/// Everything the page shows that is counted from the result rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregates {
    /// Labels with at least one panel, most frequent first (ties in vocabulary order).
    pub label_counts: Vec<(Label, u64)>,
    pub classified: u64,
    /// Panels without a readable collection date (not in the daily charts).
    pub undated: u64,
    pub daily: Vec<PChart>,
    pub by_site: Vec<GroupChart>,
    pub by_analyzer: Vec<GroupChart>,
}

fn u64_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<u64>> {
    let c = df.column(name)?.cast(&DataType::UInt64)?;
    Ok(c.u64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

fn str_column(df: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

fn vocab_rank(label: Label) -> usize {
    label as usize
}

/// Panels by label, most frequent first.
fn label_counts(cube: &LazyFrame) -> PolarsResult<Vec<(Label, u64)>> {
    let df = cube
        .clone()
        .group_by([col("label")])
        .agg([col("n").sum().alias("n")])
        .collect()?;
    let labels = str_column(&df, "label")?;
    let counts = u64_column(&df, "n")?;
    let mut out: Vec<(Label, u64)> = labels
        .iter()
        .zip(counts)
        .filter_map(|(l, n)| Label::from_code(l).map(|l| (l, n)))
        .filter(|(_, n)| *n > 0)
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(vocab_rank(a.0).cmp(&vocab_rank(b.0))));
    Ok(out)
}

/// The daily counts of panels and of `label` among them, and the limits.
fn p_chart(cube: LazyFrame, label: Label) -> PolarsResult<PChart> {
    let df = cube
        .filter(col("day").is_not_null())
        .group_by([col("day")])
        .agg([
            col("n").sum().alias("n"),
            when(col("label").eq(lit(label.code())))
                .then(col("n"))
                .otherwise(lit(0u64))
                .sum()
                .alias("x"),
        ])
        .sort(["day"], SortMultipleOptions::default())
        .collect()?;
    let day_col = df.column("day")?.cast(&DataType::Int32)?;
    let days: Vec<i32> = day_col.i32()?.iter().map(|d| d.unwrap_or(0)).collect();
    let n = u64_column(&df, "n")?;
    let x = u64_column(&df, "x")?;
    let (sum_n, sum_x) = (n.iter().sum::<u64>(), x.iter().sum::<u64>());
    let p_bar = if sum_n == 0 {
        0.0
    } else {
        sum_x as f64 / sum_n as f64
    };
    let days = days
        .into_iter()
        .zip(n.into_iter().zip(x))
        .map(|(day, (n, x))| {
            let nf = n.max(1) as f64;
            let sigma = (p_bar * (1.0 - p_bar) / nf).sqrt();
            DayPoint {
                day,
                n,
                x,
                p: x as f64 / nf,
                lcl: (p_bar - 3.0 * sigma).max(0.0),
                ucl: (p_bar + 3.0 * sigma).min(1.0),
            }
        })
        .collect();
    Ok(PChart { label, p_bar, days })
}

/// One p-chart of `label` per value of `column` (most panels first).
fn group_charts(cube: &LazyFrame, column: &str, label: Label) -> PolarsResult<Vec<GroupChart>> {
    let groups = cube
        .clone()
        .filter(col(column).is_not_null())
        .group_by([col(column)])
        .agg([col("n").sum().alias("n")])
        .sort_by_exprs(
            [col("n"), col(column)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let names = str_column(&groups, column)?;
    let panels = u64_column(&groups, "n")?;
    let mut out = Vec::with_capacity(names.len());
    for (name, panels) in names.into_iter().zip(panels) {
        let chart = p_chart(
            cube.clone().filter(col(column).eq(lit(name.as_str()))),
            label,
        )?;
        out.push(GroupChart {
            name,
            panels,
            chart,
        });
    }
    Ok(out)
}

/// Runs the report's queries over a count table (`day`, `label`, `site`, `analyzer_id`, `n`).
pub fn aggregate(cube: DataFrame) -> PolarsResult<Aggregates> {
    let cube = cube.lazy();
    let label_counts = label_counts(&cube)?;
    let classified = label_counts.iter().map(|(_, n)| n).sum();
    let undated_df = cube
        .clone()
        .filter(col("day").is_null())
        .select([col("n").sum().alias("n")])
        .collect()?;
    let undated = u64_column(&undated_df, "n")?.first().copied().unwrap_or(0);
    let mut daily = Vec::new();
    for (label, _) in label_counts.iter().take(DAILY_LABELS) {
        daily.push(p_chart(cube.clone(), *label)?);
    }
    let (by_site, by_analyzer) = match label_counts.first() {
        Some((top, _)) => (
            group_charts(&cube, "site", *top)?,
            group_charts(&cube, "analyzer_id", *top)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(Aggregates {
        label_counts,
        classified,
        undated,
        daily,
        by_site,
        by_analyzer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nightly::collect::{Collector, ReportRow};

    #[test]
    fn p_chart_limits_follow_the_binomial_formula() {
        let mut c = Collector::new();
        // Day 0: 100 panels, 10 iron deficiency; day 1: 25 panels, 10 iron deficiency.
        for (day, n, x) in [(0, 100, 10), (1, 25, 10)] {
            for i in 0..n {
                let label = if i < x {
                    Label::IronDeficiencyAnemia
                } else {
                    Label::NoAnemia
                };
                let row = ReportRow {
                    day: Some(day),
                    site: "A",
                    ..ReportRow::default()
                };
                c.add(label, &row, []);
            }
        }
        c.add(Label::NoAnemia, &ReportRow::default(), []);
        let Ok(cube) = c.cube_frame() else {
            panic!("cube")
        };
        let Ok(a) = aggregate(cube) else {
            panic!("aggregate")
        };
        assert_eq!(a.classified, 126);
        assert_eq!(a.undated, 1);
        assert_eq!(a.label_counts[0], (Label::NoAnemia, 106));
        let ida = &a.daily[1];
        assert_eq!(ida.label, Label::IronDeficiencyAnemia);
        let p_bar = 20.0 / 125.0;
        assert!((ida.p_bar - p_bar).abs() < 1e-12);
        let sigma1 = (p_bar * (1.0 - p_bar) / 25.0).sqrt();
        assert!((ida.days[1].ucl - (p_bar + 3.0 * sigma1)).abs() < 1e-12);
        assert!((ida.days[1].lcl - (p_bar - 3.0 * sigma1).max(0.0)).abs() < 1e-12);
        // 10/25 = 0.40 is above 0.16 + 3·0.0733 = 0.38: a signal; day 0 (0.10) is inside.
        assert!(ida.days[1].signal());
        assert!(!ida.days[0].signal());
        assert_eq!(a.by_site.len(), 1);
        assert_eq!(a.by_site[0].panels, 125);
        assert!(a.by_analyzer.is_empty());
    }
}
