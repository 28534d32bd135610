//! Compact storage of the accepted results of one long input: a fixed-size record per result
//! (numbers and ids, no heap string of its own), the strings each kept once, the context
//! cells as tuples of string ids shared by consecutive rows, and the raw fields (needed only
//! when a result is superseded) in a buffer that moves to a temporary file past a budget.
//!
//! About 64 bytes a result stay in memory, plus what the distinct strings take (patients,
//! specimens, collection times: roughly one of each per specimen).

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::cell::{Cell, Censor, Measure};

/// No string, no tuple, no conversion.
pub(super) const NONE: u32 = u32::MAX;
/// No readable time.
pub(super) const NO_TIME: i64 = i64::MIN;

/// Records per chunk of [`Chunked`]: 1 Mi records (64 MiB of results).
const CHUNK: usize = 1 << 20;

/// A growable array in fixed-size chunks: growing never copies what is stored (a doubling
/// `Vec` briefly holds its old and its new buffer, twice the memory at the worst moment).
pub(super) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Chunked<T> {
    pub fn new() -> Chunked<T> {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(value),
            _ => {
                let mut c = Vec::with_capacity(CHUNK.min(1024 << self.chunks.len().min(10)));
                c.push(value);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    /// The element at `i` (`i < len`).
    pub fn get(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }
}

/// Strings kept once: one text buffer, the end of each string, and a hash table of ids.
pub(super) struct Interner {
    text: String,
    ends: Vec<usize>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Interner {
    pub fn new() -> Interner {
        Interner {
            text: String::new(),
            ends: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// The string of an id given by [`Interner::intern`].
    pub fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The id of `s`, adding it when new; None past `u32::MAX - 1` distinct strings.
    pub fn intern(&mut self, s: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(s);
        let (text, ends) = (&self.text, &self.ends);
        let get = |id: u32| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &text[start..ends[i]]
        };
        if let Some(id) = self.table.find(hash, |id| get(*id) == s) {
            return Some(*id);
        }
        let id = u32::try_from(self.ends.len())
            .ok()
            .filter(|id| *id != NONE)?;
        self.text.push_str(s);
        self.ends.push(self.text.len());
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.table.insert_unique(hash, id, |id| {
            let i = *id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            hasher.hash_one(&text[start..ends[i]])
        });
        Some(id)
    }
}

/// The context cells of the results (sex, age, collection time, ...) as tuples of string
/// ids, one id per context column ([`NONE`] for a blank cell). Consecutive rows with the same
/// cells share one tuple.
pub(super) struct Contexts {
    width: usize,
    ids: Vec<u32>,
}

impl Contexts {
    pub fn new(width: usize) -> Contexts {
        Contexts {
            width,
            ids: Vec::new(),
        }
    }

    fn count(&self) -> usize {
        self.ids.len().checked_div(self.width).unwrap_or(1)
    }

    /// The id of a tuple equal to `cells`: the last one when it is equal, else a new one.
    pub fn push(&mut self, cells: &[u32]) -> Option<u32> {
        let n = self.count();
        if n > 0 && (self.width == 0 || self.ids[(n - 1) * self.width..] == *cells) {
            return u32::try_from(n - 1).ok();
        }
        // Ids stay below 2^31: assembly tags its own tuples with the top bit.
        let id = u32::try_from(n).ok().filter(|id| *id < 1 << 31)?;
        self.ids.extend_from_slice(cells);
        Some(id)
    }

    /// The string id of column `col` in tuple `tuple`, or [`NONE`].
    pub fn cell(&self, tuple: u32, col: usize) -> u32 {
        self.ids
            .get(tuple as usize * self.width + col)
            .copied()
            .unwrap_or(NONE)
    }

    pub fn width(&self) -> usize {
        self.width
    }
}

/// One accepted result. The cell is stored flat: `kind` says which [`Cell`] it is (and how
/// a value is censored), `value` holds a number, `text` a text result or the raw value of a
/// converted number.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rec {
    pub line: u64,
    /// Seconds of `collected_at`, or [`NO_TIME`].
    pub collected: i64,
    /// Seconds of `result_time`, or [`NO_TIME`] (ordered like `Option`: none first).
    pub result_time: i64,
    pub value: f64,
    /// End of this result's raw fields in the [`RawStore`] (they start where the previous
    /// result's end).
    pub raw_end: u64,
    pub patient: u32,
    pub specimen: u32,
    /// Context tuple ([`Contexts`]).
    pub ctx: u32,
    pub text: u32,
    /// Index into the conversions table, or [`NONE`].
    pub conv: u32,
    pub analyte: u8,
    pub kind: u8,
    pub corrected: bool,
}

const KIND_MISSING: u8 = 0;
const KIND_TEXT: u8 = 1;
const KIND_AMBIGUOUS: u8 = 2;
/// Values: `KIND_VALUE + censor`.
const KIND_VALUE: u8 = 8;
const CENSORS: [Censor; 5] = [
    Censor::Exact,
    Censor::Lt,
    Censor::Le,
    Censor::Gt,
    Censor::Ge,
];

impl Rec {
    pub fn analyte(&self) -> Analyte {
        Analyte::ALL[usize::from(self.analyte) % ANALYTE_COUNT]
    }
}

/// The flat form of a cell: (kind, value, text to keep).
pub(super) fn flatten_cell(cell: &Cell) -> (u8, f64, Option<&str>) {
    match cell {
        Cell::Missing => (KIND_MISSING, 0.0, None),
        Cell::Text(t) => (KIND_TEXT, 0.0, Some(t)),
        Cell::Ambiguous(t) => (KIND_AMBIGUOUS, 0.0, Some(t)),
        Cell::Value(m) => {
            let c = CENSORS.iter().position(|c| *c == m.censor).unwrap_or(0);
            (KIND_VALUE + c as u8, m.value, None)
        }
    }
}

/// The cell of a stored result (`text` resolved by the caller).
pub(super) fn cell_of(rec: &Rec, text: &str) -> Cell {
    match rec.kind {
        KIND_TEXT => Cell::Text(text.to_string()),
        KIND_AMBIGUOUS => Cell::Ambiguous(text.to_string()),
        k if k >= KIND_VALUE => Cell::Value(Measure {
            value: rec.value,
            censor: CENSORS[usize::from(k - KIND_VALUE) % CENSORS.len()],
        }),
        _ => Cell::Missing,
    }
}

/// The raw fields of every accepted result, re-joined with the delimiter, back to back. In
/// memory up to `budget` bytes; past it everything moves to an anonymous temporary file.
pub(super) struct RawStore {
    mem: Vec<u8>,
    file: Option<BufWriter<File>>,
    len: u64,
    budget: usize,
}

impl RawStore {
    pub fn new(budget: usize) -> RawStore {
        RawStore {
            mem: Vec::new(),
            file: None,
            len: 0,
            budget,
        }
    }

    /// Appends one result's raw text; returns where it ends.
    pub fn push(&mut self, raw: &str) -> io::Result<u64> {
        if self.file.is_none() && self.mem.len() + raw.len() > self.budget {
            let mut f = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
            f.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        match &mut self.file {
            Some(f) => f.write_all(raw.as_bytes())?,
            None => self.mem.extend_from_slice(raw.as_bytes()),
        }
        self.len += raw.len() as u64;
        Ok(self.len)
    }

    /// Whether the text moved to a temporary file.
    #[cfg(test)]
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// The text between two offsets given by [`RawStore::push`].
    pub fn get(&mut self, start: u64, end: u64) -> io::Result<String> {
        let len = usize::try_from(end.saturating_sub(start))
            .map_err(|_| io::Error::other("raw record too long"))?;
        let bytes = match &mut self.file {
            None => {
                let (s, e) = (start as usize, start as usize + len);
                self.mem.get(s..e).map(<[u8]>::to_vec).unwrap_or_default()
            }
            Some(w) => {
                w.flush()?;
                let f = w.get_mut();
                f.seek(SeekFrom::Start(start))?;
                let mut buf = vec![0; len];
                f.read_exact(&mut buf)?;
                f.seek(SeekFrom::End(0))?;
                buf
            }
        };
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_keeps_each_string_once() {
        let mut i = Interner::new();
        let a = i.intern("MRN1");
        let b = i.intern("");
        let c = i.intern("MRN1");
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_eq!(i.get(a.unwrap()), "MRN1");
        assert_eq!(i.get(b.unwrap()), "");
        for n in 0..10_000 {
            let id = i.intern(&n.to_string()).unwrap();
            assert_eq!(i.get(id), n.to_string());
        }
        assert_eq!(i.intern("5"), i.intern("5"));
    }

    #[test]
    fn contexts_share_consecutive_equal_tuples() {
        let mut c = Contexts::new(2);
        let a = c.push(&[1, NONE]).unwrap();
        assert_eq!(c.push(&[1, NONE]), Some(a));
        let b = c.push(&[2, 3]).unwrap();
        assert_ne!(a, b);
        assert_eq!(c.cell(b, 1), 3);
        assert_eq!(c.cell(a, 1), NONE);
        let mut empty = Contexts::new(0);
        assert_eq!(empty.push(&[]), empty.push(&[]));
    }

    #[test]
    fn raw_store_reads_back_in_memory_and_after_spilling() {
        for budget in [usize::MAX, 10, 0] {
            let mut s = RawStore::new(budget);
            let mut ends = vec![0];
            for n in 0..100 {
                ends.push(s.push(&format!("P{n}|S|718-7|{n}")).unwrap());
            }
            assert_eq!(s.spilled(), budget != usize::MAX);
            for n in [57, 0, 99, 3] {
                assert_eq!(
                    s.get(ends[n], ends[n + 1]).unwrap(),
                    format!("P{n}|S|718-7|{n}")
                );
            }
            assert_eq!(s.push("more").unwrap(), ends[100] + 4);
            assert_eq!(s.get(ends[100], ends[100] + 4).unwrap(), "more");
        }
    }

    #[test]
    fn cells_round_trip_through_the_flat_form() {
        for cell in [
            Cell::Missing,
            Cell::Text("hemolyzed".into()),
            Cell::Ambiguous("1,234".into()),
            Cell::Value(Measure::exact(9.5)),
            Cell::Value(Measure {
                value: 5.0,
                censor: Censor::Le,
            }),
        ] {
            let (kind, value, text) = flatten_cell(&cell);
            let rec = Rec {
                line: 2,
                collected: NO_TIME,
                result_time: NO_TIME,
                value,
                raw_end: 0,
                patient: 0,
                specimen: 0,
                ctx: 0,
                text: NONE,
                conv: NONE,
                analyte: 0,
                kind,
                corrected: false,
            };
            assert_eq!(cell_of(&rec, text.unwrap_or("")), cell);
        }
    }
}
