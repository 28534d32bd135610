//! Assembly of long-layout results into panels. Corrections and duplicates are resolved to
//! one result per (patient, specimen, analyte); then every haemoglobin specimen forms a panel
//! with the patient's nearest other results within the window, and a specimen far from any
//! haemoglobin result forms a panel of its own. Results no panel used are "not attached".

use std::collections::HashMap;

use super::{LongReader, LongResult};
use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::ingest::context::ContextSource;
use crate::ingest::{NotAttached, RejectReason, RowOutcome};
use crate::panel::Panel;
use crate::ruleset::Ruleset;

/// Outcomes of one input, each with the line it is ordered by.
pub(super) type Events = Vec<(u64, RowOutcome)>;

/// One specimen of a patient: its results by analyte.
struct Specimen {
    id: String,
    collected: Option<i64>,
    first_line: u64,
    by_analyte: [Option<usize>; ANALYTE_COUNT],
}

/// Result indices chosen for a panel, by analyte.
type Chosen = [Option<usize>; ANALYTE_COUNT];

const HB: usize = Analyte::Hb as usize;

impl LongReader {
    /// Turns the accepted results into panels, superseded rejects and not-attached results.
    pub(super) fn assemble(&self, results: Vec<LongResult>, events: &mut Events, rs: &Ruleset) {
        let alive = self.supersede(&results, events);
        let mut run = Assembly {
            reader: self,
            results: &results,
            context: ContextSource {
                max_age: rs.thresholds.age_valid_max_years,
                mark: self.mark,
                collection_date_column: true,
            },
            used: vec![false; results.len()],
        };
        for specs in by_patient(&results, &alive) {
            let patient_rows: Vec<usize> = specs
                .iter()
                .flat_map(|s| s.by_analyte.iter().flatten().copied())
                .collect();
            run.anchored_panels(&specs, &patient_rows, events);
            run.lone_panels(&specs, &patient_rows, events);
        }
        for (i, r) in results.iter().enumerate() {
            if alive[i] && !run.used[i] {
                events.push((
                    r.line,
                    RowOutcome::NotAttached(NotAttached {
                        input: self.input_index,
                        line: r.line,
                        analyte: r.analyte,
                    }),
                ));
            }
        }
    }

    /// Corrections and duplicates: one result per (patient, specimen, analyte). A corrected
    /// result wins, then the later result_time, then the later row. Returns which results
    /// are still in play; the losers are rejected as superseded.
    fn supersede(&self, results: &[LongResult], events: &mut Events) -> Vec<bool> {
        let rank = |r: &LongResult| (r.corrected, r.result_time, r.line);
        let mut winner: HashMap<(&str, &str, Analyte), usize> = HashMap::new();
        let mut alive = vec![true; results.len()];
        for (i, r) in results.iter().enumerate() {
            let key = (r.patient.as_str(), r.specimen.as_str(), r.analyte);
            let Some(&prev) = winner.get(&key) else {
                winner.insert(key, i);
                continue;
            };
            let (keep, lose) = if rank(r) > rank(&results[prev]) {
                (i, prev)
            } else {
                (prev, i)
            };
            winner.insert(key, keep);
            alive[lose] = false;
            let why = if results[keep].corrected && !results[lose].corrected {
                "a corrected result"
            } else if results[keep].result_time != results[lose].result_time {
                "a later result_time"
            } else {
                "a later row"
            };
            let l = &results[lose];
            let msg = format!(
                "{} for specimen {} superseded by line {} ({why}); the result was not used",
                l.analyte, l.specimen, results[keep].line
            );
            events.push(self.reject(l.line, &l.fields, RejectReason::Superseded, msg));
        }
        alive
    }
}

/// The specimens of each patient, patients and specimens in order of first appearance.
fn by_patient(results: &[LongResult], alive: &[bool]) -> Vec<Vec<Specimen>> {
    let mut patients: Vec<Vec<Specimen>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in results.iter().enumerate().filter(|(i, _)| alive[*i]) {
        let p = *index.entry(r.patient.as_str()).or_insert_with(|| {
            patients.push(Vec::new());
            patients.len() - 1
        });
        let list = &mut patients[p];
        let pos = match list.iter().position(|s| s.id == r.specimen) {
            Some(p) => p,
            None => {
                list.push(Specimen {
                    id: r.specimen.clone(),
                    collected: None,
                    first_line: r.line,
                    by_analyte: [None; ANALYTE_COUNT],
                });
                list.len() - 1
            }
        };
        let s = &mut list[pos];
        s.collected = s.collected.or(r.collected);
        s.by_analyte[r.analyte.index()] = Some(i);
    }
    patients
}

/// One assembly over the accepted results of an input.
struct Assembly<'a> {
    reader: &'a LongReader,
    results: &'a [LongResult],
    context: ContextSource,
    /// Results already counted in some panel's `rows_used`.
    used: Vec<bool>,
}

impl Assembly<'_> {
    /// One panel per haemoglobin specimen of the patient, in the order of their Hb lines.
    fn anchored_panels(&mut self, specs: &[Specimen], patient_rows: &[usize], events: &mut Events) {
        let results = self.results;
        let mut anchors: Vec<&Specimen> = specs
            .iter()
            .filter(|s| s.by_analyte[HB].is_some())
            .collect();
        anchors.sort_by_key(|s| s.by_analyte[HB].map_or(0, |i| results[i].line));
        for anchor in anchors {
            let (chosen, notes) = self.nearest_results(anchor, specs);
            let line = anchor.by_analyte[HB].map_or(anchor.first_line, |i| results[i].line);
            let panel = self.build_panel(anchor, &chosen, notes, patient_rows, line);
            events.push((line, RowOutcome::Panel(Box::new(panel))));
        }
    }

    /// The anchor's own results, and for each analyte it lacks the patient's nearest result
    /// within the window (ties: the earlier time, then the earlier specimen), with a note.
    fn nearest_results(&self, anchor: &Specimen, specs: &[Specimen]) -> (Chosen, Vec<String>) {
        let mut chosen = [None; ANALYTE_COUNT];
        let mut notes = Vec::new();
        for a in Analyte::ALL {
            if let Some(i) = anchor.by_analyte[a.index()] {
                chosen[a.index()] = Some(i);
                continue;
            }
            let Some(t0) = anchor.collected else { continue };
            let nearest = specs
                .iter()
                .filter(|s| s.id != anchor.id)
                .filter_map(|s| Some((s, s.by_analyte[a.index()]?, s.collected?)))
                .filter(|(_, _, t)| ((t - t0).abs() as f64) <= self.reader.window_seconds)
                .min_by_key(|(s, _, t)| ((t - t0).abs(), *t, s.first_line));
            if let Some((s, i, t)) = nearest {
                chosen[a.index()] = Some(i);
                let days = (t - t0) as f64 / 86_400.0;
                notes.push(format!(
                    "{a} from specimen {} collected {} day(s) {} specimen {}",
                    s.id,
                    crate::numfmt::num(days.abs()),
                    if days < 0.0 { "before" } else { "after" },
                    anchor.id
                ));
            }
        }
        (chosen, notes)
    }

    /// A specimen without haemoglobin and with no haemoglobin specimen of the patient within
    /// the window forms a panel of its own, so iron deficiency without a blood count is still
    /// reported. Within a window, its unused results are "not attached".
    fn lone_panels(&mut self, specs: &[Specimen], patient_rows: &[usize], events: &mut Events) {
        let window = self.reader.window_seconds;
        let hb_times: Vec<Option<i64>> = specs
            .iter()
            .filter(|s| s.by_analyte[HB].is_some())
            .map(|s| s.collected)
            .collect();
        for s in specs.iter().filter(|s| s.by_analyte[HB].is_none()) {
            let anchored = s.collected.is_some_and(|t| {
                hb_times
                    .iter()
                    .flatten()
                    .any(|h| ((h - t).abs() as f64) <= window)
            });
            if anchored {
                continue;
            }
            let notes = vec![format!(
                "no haemoglobin result of this patient within {} day(s) of specimen {}: panel formed from it alone",
                crate::numfmt::num(window / 86_400.0),
                s.id
            )];
            let panel = self.build_panel(s, &s.by_analyte, notes, patient_rows, s.first_line);
            events.push((s.first_line, RowOutcome::Panel(Box::new(panel))));
        }
    }

    fn build_panel(
        &mut self,
        anchor: &Specimen,
        chosen: &Chosen,
        notes: Vec<String>,
        patient_rows: &[usize],
        line: u64,
    ) -> Panel {
        let (reader, results) = (self.reader, self.results);
        let own_rows: Vec<usize> = anchor.by_analyte.iter().flatten().copied().collect();
        let first = own_rows.first().map_or(&results[0], |i| &results[*i]);
        let mut panel = Panel::new(
            reader.input_index,
            line,
            first.patient.clone(),
            anchor.id.clone(),
        );
        panel.rows_used = 0;
        for i in chosen.iter().flatten() {
            if !self.used[*i] {
                self.used[*i] = true;
                panel.rows_used += 1;
            }
            let r = &results[*i];
            panel.values[r.analyte.index()] = r.cell.clone();
            panel.conversions[r.analyte.index()] = r.conversion.clone();
        }
        panel.assembly_notes = notes;
        // Context: the anchor specimen's rows first, then any row of the patient.
        self.context.read_into(&mut panel, |c| {
            own_rows
                .iter()
                .chain(patient_rows)
                .filter_map(|i| reader.ctx(&results[*i].fields, c))
                .map(str::trim)
                .find(|v| !v.is_empty())
        });
        panel
    }
}
