//! `anemia-engine ranges show`: every table of the ruleset in use, row by row with its
//! line number, so that a cutoff quoted in evidence can be found in its file.

use crate::ruleset::Ruleset;

/// `anemia-engine ranges show`: the tables of the ruleset in use.
pub fn ranges_show(rs: &Ruleset) -> String {
    let mut s = format!(
        "Ruleset {} (effective {}), {}\norigin: {}\n",
        rs.version, rs.effective_date, rs.checksum, rs.origin
    );
    s.push_str("\nhb_cutoffs.csv (g/L; anemia below, not anemic from, mild from, moderate from)\n");
    for r in &rs.hb_cutoffs {
        let b = &r.row;
        s.push_str(&format!(
            "  line {:>2}: {:<70} {:>4} {:>4} {:>4} {:>4}  ages [{}, {})\n",
            r.line,
            b.population,
            b.anemia_below,
            b.not_anemic_from,
            b.mild_from,
            b.moderate_from,
            b.age_from_years,
            b.age_to_years.map_or("..".into(), |a| a.to_string())
        ));
    }
    s.push_str("\nhb_adjustments.csv (g/L added to every cutoff)\n");
    for r in rs.altitude.iter().chain(&rs.smoking) {
        let b = &r.row;
        s.push_str(&format!(
            "  line {:>2}: {:?} [{}, {}) +{}{}\n",
            r.line,
            b.kind,
            b.from.map_or("..".into(), |x| x.to_string()),
            b.to.map_or("..".into(), |x| x.to_string()),
            b.add,
            if b.out_of_table {
                " (beyond the source table)"
            } else {
                ""
            }
        ));
    }
    s.push_str("\nmcv_ranges.csv (fL)\n");
    for r in &rs.mcv {
        s.push_str(&format!(
            "  line {:>2}: {:<35} {}-{}\n",
            r.line, r.row.population, r.row.mcv_low, r.row.mcv_high
        ));
    }
    s.push_str("\nferritin_cutoffs.csv (ug/L; deficient below, without / with inflammation)\n");
    for r in &rs.ferritin {
        s.push_str(&format!(
            "  line {:>2}: {:<40} {:>3} / {:>3}\n",
            r.line,
            r.row.population,
            r.row.deficient_below_no_inflammation,
            r.row.deficient_below_with_inflammation
        ));
    }
    s.push_str("\nthresholds.csv\n");
    for r in &rs.threshold_rows {
        s.push_str(&format!(
            "  line {:>2}: {:<36} {} {}  [{}]\n",
            r.line, r.row.id, r.row.value, r.row.unit, r.row.source
        ));
    }
    s.push_str("\nplausibility.csv (canonical units, inclusive)\n");
    for r in &rs.plausibility {
        s.push_str(&format!(
            "  line {:>2}: {:<12} {}-{} {}\n",
            r.line, r.row.analyte, r.row.min, r.row.max, r.row.unit
        ));
    }
    s.push_str("\nunits.csv\n");
    for r in &rs.units {
        s.push_str(&format!(
            "  line {:>2}: {}_{} ({}) x {}\n",
            r.line, r.row.analyte, r.row.suffix, r.row.unit, r.row.factor
        ));
    }
    s
}
