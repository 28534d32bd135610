//! Assembly of long-layout results into panels. Corrections and duplicates are resolved to
//! one result per (patient, specimen, analyte); then every haemoglobin specimen forms a panel
//! with the patient's nearest other results within the window, and a specimen far from any
//! haemoglobin result forms a panel of its own. Results no panel used are "not attached".
//!
//! Cost: one sort of all results by (patient, specimen, analyte), then per patient a sort of
//! its specimens' collection times by analyte and a binary search per haemoglobin specimen
//! and analyte: O(n log n) in the results, whatever their spread over patients. Panels are
//! planned here (which results, how many newly used) and built only when emitted, in input
//! order (the line of the haemoglobin result, or of a lone specimen's first result).

use std::collections::HashMap;
use std::ops::Range;

use super::store::{self, Rec, NONE, NO_TIME};
use super::{LongReader, Store};
use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::error::RunError;
use crate::ingest::context::ContextSource;
use crate::ingest::header::Column;
use crate::ingest::{NotAttached, Reject, RejectReason, RowOutcome};
use crate::panel::Panel;
use crate::ruleset::Ruleset;

const HB: usize = Analyte::Hb as usize;

/// What became of an accepted result so far.
const SUPERSEDED: u8 = 0;
const UNUSED: u8 = 1;
const USED: u8 = 2;

/// One specimen of a patient: a run of `alive` (its results, in analyte order).
#[derive(Clone, Copy, Debug)]
struct Spec {
    patient: u32,
    specimen: u32,
    /// The first readable collection time of its results, in input order, or [`NO_TIME`].
    collected: i64,
    start: u32,
    len: u32,
    /// Its first result (input order).
    first: u32,
}

impl Spec {
    fn rows(&self) -> Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// A panel to build when it is emitted.
#[derive(Clone, Copy, Debug)]
struct PanelPlan {
    spec: u32,
    /// Results joined from other specimens: a range of `joined`, in analyte order.
    joined_start: u32,
    joined_len: u32,
    rows_used: u32,
    /// Context tuple with, per column, the first value among the patient's results.
    fallback: u32,
    /// Formed from a specimen without haemoglobin alone.
    lone: bool,
}

/// A result joined from another specimen.
#[derive(Clone, Copy, Debug)]
struct Joined {
    result: u32,
    spec: u32,
}

/// Outcome categories, in the order they are emitted among outcomes of one line.
const READ_REJECT: u64 = 0;
const SUPERSEDED_REJECT: u64 = 1;
const PANEL: u64 = 2;
const NOT_ATTACHED: u64 = 3;

/// One outcome: its line, then category and index (the order among outcomes of one line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    line: u64,
    key: u64,
}

impl Event {
    fn new(line: u64, category: u64, index: usize) -> Event {
        Event {
            line,
            key: category << 62 | index as u64,
        }
    }

    fn category(self) -> u64 {
        self.key >> 62
    }

    fn index(self) -> usize {
        (self.key & ((1 << 62) - 1)) as usize
    }
}

/// Why a result was superseded: by a better result of its key, or by a withdrawal at a line.
#[derive(Clone, Copy, Debug)]
enum Cause {
    By(usize),
    Withdrawn(u64),
}

/// Superseded results' rejects, each with the index of the result whose arrival rejected it.
type Superseded = Vec<(usize, Reject)>;

/// Marks a fallback id as one of [`Emitter::fallbacks`] rather than a stored tuple.
const FALLBACK: u32 = 1 << 31;

/// The assembled outcomes of one input, built one batch at a time.
pub(super) struct Emitter {
    input: usize,
    window_seconds: f64,
    context: ContextSource,
    context_cols: Vec<Column>,
    store: Store,
    /// Fallback context tuples that are no stored row's tuple.
    fallbacks: store::Contexts,
    rejects: Vec<Option<Reject>>,
    alive: Vec<u32>,
    specs: Vec<Spec>,
    plans: Vec<PanelPlan>,
    joined: Vec<Joined>,
    events: Vec<Event>,
    next: usize,
}

impl LongReader {
    /// Resolves duplicates and plans the panels of the stored results.
    pub(super) fn assemble(
        &self,
        mut store: Store,
        rs: &Ruleset,
    ) -> Result<Box<Emitter>, RunError> {
        let n = store.recs.len();
        let mut state = vec![UNUSED; n];
        let mut rejects: Vec<Option<Reject>> = store.rejects.drain(..).map(Some).collect();
        let mut events: Vec<Event> = (0..rejects.len())
            .filter_map(|i| Some(Event::new(rejects[i].as_ref()?.line, READ_REJECT, i)))
            .collect();
        let (alive, superseded) = self.supersede(&mut store, &mut state)?;
        // The raw fields are needed no more (a temporary file is removed here).
        store.raw = store::RawStore::new(0);
        for (_, r) in superseded {
            events.push(Event::new(r.line, SUPERSEDED_REJECT, rejects.len()));
            rejects.push(Some(r));
        }
        let specs = specimens(&store, &alive);
        let mut planner = Planner {
            store: &store,
            alive: &alive,
            specs: &specs,
            window: self.window_seconds,
            state: &mut state,
            plans: Vec::new(),
            joined: Vec::new(),
            events: &mut events,
            scratch: Scratch::default(),
            fallbacks: store::Contexts::new(store.contexts.width()),
        };
        for range in patients(&specs) {
            planner.patient(range);
        }
        let Planner {
            plans,
            joined,
            fallbacks,
            ..
        } = planner;
        for (i, s) in state.iter().enumerate() {
            if *s == UNUSED {
                events.push(Event::new(store.recs.get(i).line, NOT_ATTACHED, i));
            }
        }
        events.sort_unstable();
        Ok(Box::new(Emitter {
            input: self.input_index,
            window_seconds: self.window_seconds,
            context: ContextSource {
                max_age: rs.thresholds.age_valid_max_years,
                mark: self.mark,
                collection_date_column: true,
            },
            context_cols: self.context_cols.iter().map(|(c, _)| c.clone()).collect(),
            store,
            fallbacks,
            rejects,
            alive,
            specs,
            plans,
            joined,
            events,
            next: 0,
        }))
    }

    /// Corrections and duplicates: one result per (patient, specimen, analyte). A corrected
    /// result wins, then the later result_time, then the later row; results are compared in
    /// input order, each with the best one before it. A withdrawal (HL7 `D`/`W`) supersedes
    /// the results of its key stored before it. Returns the results still in play, in
    /// (patient, specimen, analyte) order, and the losers' rejects with the index of the
    /// result whose arrival rejected them.
    fn supersede(
        &self,
        store: &mut Store,
        state: &mut [u8],
    ) -> Result<(Vec<u32>, Superseded), RunError> {
        let recs = &store.recs;
        let mut keys: Vec<u128> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                u128::from(r.patient) << 96
                    | u128::from(r.specimen) << 64
                    | u128::from(r.analyte) << 32
                    | i as u128
            })
            .collect();
        keys.sort_unstable();
        let index = |k: u128| (k & 0xffff_ffff) as usize;
        let rank = |r: &Rec| (r.corrected, r.result_time, r.line);
        // The latest withdrawal of each key: results stored before it are withdrawn.
        let mut withdrawn: HashMap<u128, (usize, u64)> = HashMap::new();
        for w in &store.withdrawals {
            let key =
                u128::from(w.patient) << 64 | u128::from(w.specimen) << 32 | u128::from(w.analyte);
            let e = withdrawn.entry(key).or_insert((0, 0));
            if w.before >= e.0 {
                *e = (w.before, w.line);
            }
        }
        let mut alive = Vec::with_capacity(keys.len());
        let mut superseded: Vec<(usize, usize, Cause)> = Vec::new();
        let mut g = 0;
        while g < keys.len() {
            let group = keys[g] >> 32;
            let (before, by_line) = withdrawn.get(&group).copied().unwrap_or((0, 0));
            let mut winner: Option<usize> = None;
            while g < keys.len() && keys[g] >> 32 == group {
                let i = index(keys[g]);
                g += 1;
                if i < before {
                    state[i] = SUPERSEDED;
                    superseded.push((i, i, Cause::Withdrawn(by_line)));
                    continue;
                }
                let Some(w) = winner else {
                    winner = Some(i);
                    continue;
                };
                let (keep, lose) = if rank(recs.get(i)) > rank(recs.get(w)) {
                    (i, w)
                } else {
                    (w, i)
                };
                winner = Some(keep);
                state[lose] = SUPERSEDED;
                superseded.push((i, lose, Cause::By(keep)));
            }
            if let Some(w) = winner {
                alive.push(w as u32);
            }
        }
        drop(keys);
        let mut out = Vec::with_capacity(superseded.len());
        for (i, lose, cause) in superseded {
            let l = recs.get(lose);
            let msg = match cause {
                Cause::By(keep) => {
                    let k = recs.get(keep);
                    let why = if k.corrected && !l.corrected {
                        "a corrected result"
                    } else if k.result_time != l.result_time {
                        "a later result_time"
                    } else {
                        "a later row"
                    };
                    // Identifiers stay out of messages (they reach logs); the lines name
                    // both results.
                    format!(
                        "{} superseded by line {} ({why}); the result was not used",
                        l.analyte(),
                        k.line
                    )
                }
                // Identifiers stay out of messages; the line names the withdrawal.
                Cause::Withdrawn(line) => format!(
                    "{} withdrawn by line {line}; the result was not used",
                    l.analyte()
                ),
            };
            let start = if lose == 0 {
                0
            } else {
                recs.get(lose - 1).raw_end
            };
            let raw = store.raw.get(start, l.raw_end).map_err(|e| {
                RunError::io(format!("cannot read a temporary file for {}", self.name), e)
            })?;
            out.push((
                i,
                self.reject_raw(
                    l.line,
                    raw,
                    RejectReason::Superseded,
                    msg,
                    Some(store.patients.get(l.patient).to_string()),
                ),
            ));
        }
        out.sort_unstable_by_key(|(i, _)| *i);
        Ok((alive, out))
    }
}

/// The specimens of the alive results (a run of equal (patient, specimen) in `alive`),
/// ordered by patient and, within a patient, by first appearance.
fn specimens(store: &Store, alive: &[u32]) -> Vec<Spec> {
    let recs = &store.recs;
    let mut specs = Vec::new();
    let mut j = 0;
    while j < alive.len() {
        let r = recs.get(alive[j] as usize);
        let mut spec = Spec {
            patient: r.patient,
            specimen: r.specimen,
            collected: NO_TIME,
            start: j as u32,
            len: 0,
            first: alive[j],
        };
        let mut collected_from = u32::MAX;
        while j < alive.len() {
            let i = alive[j];
            let r = recs.get(i as usize);
            if r.patient != spec.patient || r.specimen != spec.specimen {
                break;
            }
            spec.first = spec.first.min(i);
            if r.collected != NO_TIME && i < collected_from {
                collected_from = i;
                spec.collected = r.collected;
            }
            spec.len += 1;
            j += 1;
        }
        specs.push(spec);
    }
    specs.sort_unstable_by_key(|s| (s.patient, s.first));
    specs
}

/// The range of each patient's specimens in `specs`, patients in order of first appearance.
fn patients(specs: &[Spec]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=specs.len() {
        if i == specs.len() || specs[i].patient != specs[start].patient {
            out.push(start..i);
            start = i;
        }
    }
    out.sort_unstable_by_key(|r| specs[r.start].first);
    out
}

/// A candidate specimen for an analyte: (collection time, first line, position in the
/// patient's specimens). Sorted, the nearest is found by binary search.
type Candidate = (i64, u64, u32);

/// Per-patient buffers, reused from patient to patient.
#[derive(Default)]
struct Scratch {
    /// Result of each analyte, per specimen of the patient ([`NONE`]: absent).
    by_analyte: Vec<[u32; ANALYTE_COUNT]>,
    candidates: Vec<Vec<Candidate>>,
    hb_times: Vec<i64>,
    anchors: Vec<(u64, usize)>,
}

/// Plans the panels of every patient.
struct Planner<'a> {
    store: &'a Store,
    alive: &'a [u32],
    specs: &'a [Spec],
    window: f64,
    state: &'a mut [u8],
    plans: Vec<PanelPlan>,
    joined: Vec<Joined>,
    events: &'a mut Vec<Event>,
    scratch: Scratch,
    fallbacks: store::Contexts,
}

impl Planner<'_> {
    fn rec(&self, i: u32) -> &Rec {
        self.store.recs.get(i as usize)
    }

    fn within(&self, a: i64, b: i64) -> bool {
        (a.abs_diff(b) as f64) <= self.window
    }

    /// One panel per haemoglobin specimen, in the order of their Hb lines; then one per
    /// specimen without haemoglobin and without a haemoglobin specimen within the window.
    fn patient(&mut self, range: Range<usize>) {
        let (all, alive) = (self.specs, self.alive);
        let specs = &all[range.clone()];
        let mut sc = std::mem::take(&mut self.scratch);
        sc.by_analyte.clear();
        for s in specs {
            let mut row = [NONE; ANALYTE_COUNT];
            for &i in &alive[s.rows()] {
                row[usize::from(self.rec(i).analyte) % ANALYTE_COUNT] = i;
            }
            sc.by_analyte.push(row);
        }
        let fallback = self.fallback(specs);
        sc.candidates.resize_with(ANALYTE_COUNT, Vec::new);
        for list in &mut sc.candidates {
            list.clear();
        }
        sc.hb_times.clear();
        sc.anchors.clear();
        for (q, s) in specs.iter().enumerate() {
            let row = &sc.by_analyte[q];
            if row[HB] != NONE {
                sc.anchors.push((self.rec(row[HB]).line, q));
                if s.collected != NO_TIME {
                    sc.hb_times.push(s.collected);
                }
            }
            if s.collected == NO_TIME {
                continue;
            }
            let first_line = self.rec(s.first).line;
            for (a, i) in row.iter().enumerate() {
                if *i != NONE {
                    sc.candidates[a].push((s.collected, first_line, q as u32));
                }
            }
        }
        for list in &mut sc.candidates {
            list.sort_unstable();
        }
        sc.hb_times.sort_unstable();
        sc.anchors.sort_unstable();
        for k in 0..sc.anchors.len() {
            let (line, q) = sc.anchors[k];
            self.anchored(range.start, q, line, fallback, &sc);
        }
        for (q, s) in specs.iter().enumerate() {
            if sc.by_analyte[q][HB] != NONE || self.near_hb(s.collected, &sc.hb_times) {
                continue;
            }
            let line = self.rec(s.first).line;
            let rows_used = mark_used(self.state, sc.by_analyte[q].iter().copied());
            self.plan(
                line,
                range.start + q,
                (self.joined.len(), 0),
                rows_used,
                fallback,
                true,
            );
        }
        self.scratch = sc;
    }

    /// The panel of haemoglobin specimen `q`: its own results, and for each analyte it lacks
    /// the patient's nearest result within the window (ties: the earlier time, then the
    /// earlier specimen).
    fn anchored(&mut self, base: usize, q: usize, line: u64, fallback: u32, sc: &Scratch) {
        let own = &sc.by_analyte[q];
        let t0 = self.specs[base + q].collected;
        let joined_start = self.joined.len();
        if t0 != NO_TIME {
            for (a, own_a) in own.iter().enumerate() {
                if *own_a != NONE {
                    continue;
                }
                let Some((t, _, p)) = nearest(&sc.candidates[a], t0) else {
                    continue;
                };
                if self.within(t, t0) {
                    self.joined.push(Joined {
                        result: sc.by_analyte[p as usize][a],
                        spec: (base + p as usize) as u32,
                    });
                }
            }
        }
        let joined = self.joined[joined_start..].iter().map(|j| j.result);
        let rows_used = mark_used(self.state, own.iter().copied().chain(joined));
        let joined_range = (joined_start, self.joined.len() - joined_start);
        self.plan(line, base + q, joined_range, rows_used, fallback, false);
    }

    fn near_hb(&self, t: i64, hb_times: &[i64]) -> bool {
        if t == NO_TIME {
            return false;
        }
        let p = hb_times.partition_point(|h| *h <= t);
        let before = p.checked_sub(1).map(|i| hb_times[i]);
        [before, hb_times.get(p).copied()]
            .into_iter()
            .flatten()
            .any(|h| self.within(h, t))
    }

    fn plan(
        &mut self,
        line: u64,
        spec: usize,
        (joined_start, joined_len): (usize, usize),
        rows_used: u32,
        fallback: u32,
        lone: bool,
    ) {
        self.events.push(Event::new(line, PANEL, self.plans.len()));
        self.plans.push(PanelPlan {
            spec: spec as u32,
            joined_start: joined_start as u32,
            joined_len: joined_len as u32,
            rows_used,
            fallback,
            lone,
        });
    }

    /// The context tuple holding, per column, the first non-blank value among the patient's
    /// results (specimens in order of appearance, each in analyte order): the context of a
    /// panel whose own specimen leaves a column blank.
    fn fallback(&mut self, specs: &[Spec]) -> u32 {
        let contexts = &self.store.contexts;
        let width = contexts.width();
        let first_tuple = specs
            .first()
            .and_then(|s| self.alive.get(s.start as usize))
            .map_or(NONE, |i| self.rec(*i).ctx);
        let mut cells = vec![NONE; width];
        let mut missing = width;
        let mut last = NONE;
        'rows: for s in specs {
            for &i in &self.alive[s.rows()] {
                let tuple = self.rec(i).ctx;
                if tuple == last {
                    continue;
                }
                last = tuple;
                for (c, cell) in cells.iter_mut().enumerate() {
                    if *cell == NONE {
                        let v = contexts.cell(tuple, c);
                        if v != NONE {
                            *cell = v;
                            missing -= 1;
                        }
                    }
                }
                if missing == 0 {
                    break 'rows;
                }
            }
        }
        if first_tuple < FALLBACK && (0..width).all(|c| contexts.cell(first_tuple, c) == cells[c]) {
            return first_tuple;
        }
        // At most one fallback per patient: fewer than the results, so below FALLBACK.
        self.fallbacks.push(&cells).map_or(NONE, |id| id | FALLBACK)
    }
}

/// Marks results used; returns how many were not used before (the panel's `rows_used`).
fn mark_used(state: &mut [u8], rows: impl Iterator<Item = u32>) -> u32 {
    let mut n = 0;
    for i in rows.filter(|i| *i != NONE) {
        if let Some(s) = state.get_mut(i as usize).filter(|s| **s == UNUSED) {
            *s = USED;
            n += 1;
        }
    }
    n
}

/// The nearest candidate to `t0` by (distance, time, first line, position).
fn nearest(list: &[Candidate], t0: i64) -> Option<Candidate> {
    let p = list.partition_point(|c| c.0 <= t0);
    let before = p.checked_sub(1).map(|i| {
        let t = list[i].0;
        list[list.partition_point(|c| c.0 < t)]
    });
    let after = list.get(p).copied();
    match (before, after) {
        (Some(b), Some(a)) if t0.abs_diff(a.0) < t0.abs_diff(b.0) => Some(a),
        (Some(b), _) => Some(b),
        (None, a) => a,
    }
}

impl Emitter {
    /// Emits up to `max` outcomes; false when none is left.
    pub(super) fn next_batch(&mut self, max: usize, out: &mut Vec<RowOutcome>) -> bool {
        let end = self.events.len().min(self.next.saturating_add(max));
        for k in self.next..end {
            let e = self.events[k];
            let index = e.index();
            match e.category() {
                READ_REJECT | SUPERSEDED_REJECT => {
                    if let Some(r) = self.rejects.get_mut(index).and_then(Option::take) {
                        out.push(RowOutcome::Reject(r));
                    }
                }
                PANEL => out.push(RowOutcome::Panel(Box::new(self.panel(e.line, index)))),
                _ => {
                    let r = self.store.recs.get(index);
                    out.push(RowOutcome::NotAttached(NotAttached {
                        input: self.input,
                        line: r.line,
                        analyte: r.analyte(),
                        patient_id: Some(self.store.patients.get(r.patient).to_string()),
                    }));
                }
            }
        }
        self.next = end;
        if self.next >= self.events.len() {
            // Everything is out: free the results before the run goes on.
            self.events = Vec::new();
            self.plans = Vec::new();
            self.joined = Vec::new();
            self.specs = Vec::new();
            self.alive = Vec::new();
            self.rejects = Vec::new();
            self.store = Store::new(0);
            return false;
        }
        true
    }

    fn panel(&self, line: u64, index: usize) -> Panel {
        let st = &self.store;
        let plan = self.plans[index];
        let anchor = self.specs[plan.spec as usize];
        let own = &self.alive[anchor.rows()];
        let joined = &self.joined
            [plan.joined_start as usize..(plan.joined_start + plan.joined_len) as usize];
        let specimen_id = st.specimens.get(anchor.specimen);
        let mut panel = Panel::new(
            self.input,
            line,
            st.patients.get(anchor.patient).to_string(),
            specimen_id.to_string(),
        );
        panel.rows_used = u64::from(plan.rows_used);
        for &i in own.iter().chain(joined.iter().map(|j| &j.result)) {
            let r = st.recs.get(i as usize);
            let a = r.analyte().index();
            let text = if r.text == NONE {
                ""
            } else {
                st.strings.get(r.text)
            };
            panel.values[a] = store::cell_of(r, text);
            panel.conversions[a] = st.conversions.get(r.conv as usize).map(|c| {
                let mut c = c.clone();
                c.raw = text.to_string();
                c
            });
        }
        panel.assembly_notes = if plan.lone {
            vec![format!(
                "no haemoglobin result of this patient within {} day(s) of specimen {}: panel formed from it alone",
                crate::numfmt::num(self.window_seconds / 86_400.0),
                specimen_id
            )]
        } else {
            joined
                .iter()
                .map(|j| {
                    let s = self.specs[j.spec as usize];
                    let days =
                        (i128::from(s.collected) - i128::from(anchor.collected)) as f64 / 86_400.0;
                    format!(
                        "{} from specimen {} collected {} day(s) {} specimen {}",
                        st.recs.get(j.result as usize).analyte(),
                        st.specimens.get(s.specimen),
                        crate::numfmt::num(days.abs()),
                        if days < 0.0 { "before" } else { "after" },
                        specimen_id
                    )
                })
                .collect()
        };
        // Context: the anchor specimen's rows first, then any row of the patient.
        self.context.read_into(&mut panel, |c| {
            let col = self.context_cols.iter().position(|d| d == c)?;
            let cell = own
                .iter()
                .map(|i| st.contexts.cell(st.recs.get(*i as usize).ctx, col))
                .find(|v| *v != NONE)
                .unwrap_or_else(|| match plan.fallback {
                    NONE => NONE,
                    f if f & FALLBACK != 0 => self.fallbacks.cell(f & !FALLBACK, col),
                    f => st.contexts.cell(f, col),
                });
            (cell != NONE).then(|| st.strings.get(cell))
        });
        panel
    }
}
