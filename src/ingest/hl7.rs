//! HL7 v2.x ORU^R01 input: a file of messages, plain or in MLLP frames (0x0B ... 0x1C 0x0D),
//! segments ended by `\r`, `\n` or `\r\n`. Each OBX segment becomes a long-layout result
//! (the same test-code and unit tables, rejects, corrections and panel assembly) with the
//! patient of its PID (PID-3 id, PID-7 birth date, PID-8 sex) and the specimen of its OBR
//! (OBR-3 filler order number, else OBR-2 placer order number; OBR-7 collection time, unless
//! OBX-14 gives the observation's own). OBX-3 is a LOINC code (`LN`) or a local code mapped
//! with `--mapping`; OBX-5 the value (`SN` structured numerics and OBX-8 `<`/`>` read as
//! censored values), OBX-6 the unit, OBX-11 the status (`C` corrects; `D` and `W` withdraw
//! the results of their key received before them; `X` has no result; `P` is used and
//! counted). Line numbers count segments (each `\r`, `\n` or `\r\n` ends a line).
//!
//! The ledger unit is an OBX segment. A message that cannot be read as ORU^R01 (no MSH, bad
//! encoding characters, a line that is not a segment, an OBX outside a PID and OBR, not
//! UTF-8 unless MSH-18 declares ISO 8859-1) is rejected whole: each of its OBX segments as
//! `malformed_message` at its own line, or the message's first line when it has none.
//!
//! The parser is written here rather than taken from crates.io. Of the HL7 v2 crates
//! evaluated (2026-12): `hl7-parser` 0.3 decodes escapes by slicing with character indices
//! as byte offsets (wrong text, and a panic, after any non-ASCII character), decodes only
//! `\X0A\`/`\X0D\` of the hex escapes, and shifts every MSH field when MSH-2 carries the
//! v2.7 truncation character; `rust-hl7` 0.5 calls itself experimental and panics
//! (`expect`, `unwrap`) on a bad `\X..\` escape or non-UTF-8 hex bytes, and prints to stdout;
//! `hl7-v2` 0.1 decodes no escape sequence. What this reader needs (fields, the first
//! repetition, components, subcomponents, escapes, MSH-1/MSH-2) is small; hostile input
//! must never panic it.

use std::borrow::Cow;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::fhir::{read_all, Source};
use super::long::{row, LongReader, RowLoader, ROW_COLUMNS};
use super::{IngestOptions, Input, InterchangeCounts, RejectReason, RowOutcome};
use crate::error::RunError;
use crate::ruleset::Ruleset;

/// MLLP start and end of block.
const MLLP_START: u8 = 0x0b;
const MLLP_END: u8 = 0x1c;

/// The separators of one message (MSH-1, MSH-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Separators {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Separators {
    /// MSH-1 and MSH-2 of an MSH segment: a field separator, then four (v2.7: five, with
    /// the truncation character) distinct encoding characters, none a letter or digit.
    pub fn of_msh(msh: &str) -> Result<Separators, String> {
        let b = msh.as_bytes();
        let Some(&field) = b.get(3) else {
            return Err("MSH has no field separator (MSH-1)".into());
        };
        if !field.is_ascii_punctuation() {
            return Err("MSH-1, the field separator, is not a punctuation character".into());
        }
        let enc: Vec<u8> = b[4..]
            .iter()
            .take_while(|c| **c != field)
            .copied()
            .collect();
        let distinct = enc.iter().enumerate().all(|(i, c)| !enc[..i].contains(c));
        if !(4..=5).contains(&enc.len())
            || !distinct
            || enc.iter().any(|c| !c.is_ascii_punctuation() || *c == field)
        {
            return Err(
                "MSH-2 is not four distinct encoding characters (component, repetition, escape, subcomponent: ^~\\&)"
                    .into(),
            );
        }
        Ok(Separators {
            field: char::from(field),
            component: char::from(enc[0]),
            repetition: char::from(enc[1]),
            escape: char::from(enc[2]),
            subcomponent: char::from(enc[3]),
        })
    }

    /// Decodes the escape sequences of a value: `\F\ \S\ \T\ \R\ \E\` (the separators),
    /// `\Xhh..\` (bytes, read as UTF-8, else as ISO 8859-1), `\.br\` (a line break, read as a
    /// space); highlighting (`\H\`, `\N\`), character-set and local (`\C..\`, `\M..\`,
    /// `\Z..\`) sequences are dropped. An escape character without its closing one is kept.
    pub fn decode<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if !value.contains(self.escape) {
            return Cow::Borrowed(value);
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find(self.escape) {
            out.push_str(&rest[..start]);
            let after = &rest[start + self.escape.len_utf8()..];
            let Some(end) = after.find(self.escape) else {
                out.push_str(&rest[start..]);
                return Cow::Owned(out);
            };
            let seq = &after[..end];
            match seq {
                "F" => out.push(self.field),
                "S" => out.push(self.component),
                "T" => out.push(self.subcomponent),
                "R" => out.push(self.repetition),
                "E" => out.push(self.escape),
                ".br" => out.push(' '),
                "H" | "N" => {}
                _ if seq.starts_with('X') || seq.starts_with('x') => {
                    out.push_str(&hex_text(&seq[1..]))
                }
                _ if seq.starts_with(['C', 'M', 'Z']) => {}
                _ => {
                    // Not a sequence: the characters as written.
                    out.push(self.escape);
                    out.push_str(seq);
                    out.push(self.escape);
                }
            }
            rest = &after[end + self.escape.len_utf8()..];
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

/// The text of `\X..\` hex digits (pairs; an odd or non-hex one ends it).
fn hex_text(hex: &str) -> String {
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks_exact(2)
        .map_while(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect();
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|b| char::from(*b)).collect(),
    }
}

/// One segment of a message, decoded to text, with its separators.
struct Seg<'a> {
    text: &'a str,
    seps: Separators,
}

impl<'a> Seg<'a> {
    fn name(&self) -> &'a str {
        self.text.get(..3).unwrap_or("")
    }

    /// Field `n` as written (MSH counts MSH-1, the separator, as field 1).
    fn field(&self, n: usize) -> &'a str {
        let skip = if self.name() == "MSH" {
            if n <= 1 {
                return "";
            }
            n - 1
        } else {
            n
        };
        self.text.split(self.seps.field).nth(skip).unwrap_or("")
    }

    /// The first repetition of field `n`.
    fn first(&self, n: usize) -> &'a str {
        self.field(n)
            .split(self.seps.repetition)
            .next()
            .unwrap_or("")
    }

    /// Component `k` (1-based) of the first repetition of field `n`, its first
    /// subcomponent, decoded.
    fn comp(&self, n: usize, k: usize) -> Cow<'a, str> {
        let c = self
            .first(n)
            .split(self.seps.component)
            .nth(k.saturating_sub(1))
            .unwrap_or("");
        let sub = c.split(self.seps.subcomponent).next().unwrap_or("");
        self.seps.decode(sub.trim())
    }
}

/// One line of the input: its number and its bytes (MLLP bytes removed).
struct Line<'a> {
    number: u64,
    bytes: &'a [u8],
}

/// The non-blank lines of `bytes`; `\r`, `\n` and `\r\n` end a line, MLLP frame bytes at
/// either end of a line are removed.
fn lines(bytes: &[u8]) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let (mut start, mut number, mut i) = (0, 1u64, 0);
    while i <= bytes.len() {
        let end_here = i == bytes.len() || matches!(bytes[i], b'\r' | b'\n');
        if end_here {
            let mut l = &bytes[start..i];
            while let [MLLP_START | MLLP_END, rest @ ..] = l {
                l = rest;
            }
            while let [rest @ .., MLLP_START | MLLP_END] = l {
                l = rest;
            }
            if !l.iter().all(u8::is_ascii_whitespace) {
                out.push(Line { number, bytes: l });
            }
            if i < bytes.len() && bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            number += 1;
            start = i + 1;
        }
        i += 1;
    }
    out
}

/// Streams the outcomes of one HL7 v2 input.
pub struct Hl7Reader {
    long: LongReader,
    source: Option<Source>,
    bytes_read: Arc<AtomicU64>,
    pub counts: InterchangeCounts,
}

impl Hl7Reader {
    pub fn open(
        index: usize,
        input: &Input,
        opts: &IngestOptions,
        buffered: Box<dyn std::io::BufRead + Send>,
    ) -> Result<Hl7Reader, RunError> {
        let source = match input {
            Input::Stdin => Source::Bytes(read_all(&input.name(), buffered)?),
            Input::File(p) => Source::File(p.clone()),
        };
        Ok(Hl7Reader {
            long: LongReader::for_rows(
                index,
                input.name(),
                opts.mapping.as_ref(),
                opts.panel_window_days,
            )?,
            source: Some(source),
            bytes_read: opts.bytes_read.clone(),
            counts: InterchangeCounts::default(),
        })
    }

    /// A reader over bytes already in memory (no I/O: the fuzz targets' entry).
    pub fn from_bytes(
        index: usize,
        name: String,
        bytes: Vec<u8>,
        opts: &IngestOptions,
    ) -> Result<Hl7Reader, RunError> {
        Ok(Hl7Reader {
            long: LongReader::for_rows(index, name, opts.mapping.as_ref(), opts.panel_window_days)?,
            source: Some(Source::Bytes(bytes)),
            bytes_read: opts.bytes_read.clone(),
            counts: InterchangeCounts::default(),
        })
    }

    pub fn next_batch(
        &mut self,
        max: usize,
        rs: &Ruleset,
        out: &mut Vec<RowOutcome>,
    ) -> Result<bool, RunError> {
        if let Some(source) = self.source.take() {
            let bytes = source.into_bytes(&self.bytes_read)?;
            let mut loader = RowLoader::new(&self.long, rs);
            let mut counts = InterchangeCounts::default();
            load(&bytes, rs, &mut loader, &mut counts)?;
            let loaded = loader.finish();
            self.long.preload(loaded);
            self.counts = counts;
        }
        self.long.next_batch(max, rs, out)
    }
}

/// Reads every message of an input into `loader`.
fn load(
    bytes: &[u8],
    rs: &Ruleset,
    loader: &mut RowLoader<'_>,
    counts: &mut InterchangeCounts,
) -> Result<(), RunError> {
    let all = lines(bytes);
    let is_envelope = |l: &Line| {
        [&b"FHS"[..], b"BHS", b"FTS", b"BTS"]
            .iter()
            .any(|n| l.bytes.starts_with(n) && l.bytes.get(3).is_none_or(u8::is_ascii_punctuation))
    };
    let lines: Vec<&Line> = all.iter().filter(|l| !is_envelope(l)).collect();
    let mut fields = vec![String::new(); ROW_COLUMNS.len()];
    let mut start = 0;
    while start < lines.len() {
        let mut end = start + 1;
        while end < lines.len() && !lines[end].bytes.starts_with(b"MSH") {
            end += 1;
        }
        message(&lines[start..end], rs, loader, counts, &mut fields)?;
        start = end;
    }
    Ok(())
}

/// A result of a message, kept until the whole message has been read.
struct Pending {
    line: u64,
    fields: Vec<String>,
    raw: String,
    kind: PendingKind,
}

enum PendingKind {
    Result,
    Withdrawal(&'static str),
    Reject(RejectReason, String),
}

/// One message: its results, or every OBX of it rejected as `malformed_message`.
fn message(
    lines: &[&Line<'_>],
    rs: &Ruleset,
    loader: &mut RowLoader<'_>,
    counts: &mut InterchangeCounts,
    fields: &mut [String],
) -> Result<(), RunError> {
    let first = lines.first().map_or(0, |l| l.number);
    match read_message(lines, rs, loader, counts, fields) {
        Ok(pending) => {
            for p in pending {
                match p.kind {
                    PendingKind::Result => loader.result(p.line, &p.fields, &p.raw)?,
                    PendingKind::Withdrawal(why) => {
                        loader.withdrawal(p.line, &p.fields, &p.raw, why)?
                    }
                    PendingKind::Reject(reason, message) => {
                        loader.reject(p.line, reason, message, p.raw)
                    }
                }
            }
        }
        Err(why) => {
            let message = format!(
                "the message starting at line {first} {why}; the whole message was rejected"
            );
            let raw = |l: &Line| String::from_utf8_lossy(l.bytes).into_owned();
            let obx: Vec<&&Line> = lines
                .iter()
                .filter(|l| l.bytes.starts_with(b"OBX"))
                .collect();
            if obx.is_empty() {
                let l = lines.first().map(|l| raw(l)).unwrap_or_default();
                loader.reject(first, RejectReason::MalformedMessage, message, l);
            } else {
                for l in obx {
                    loader.reject(
                        l.number,
                        RejectReason::MalformedMessage,
                        message.clone(),
                        raw(l),
                    );
                }
            }
        }
    }
    Ok(())
}

/// The text of a message's lines: UTF-8, or ISO 8859-1 when MSH-18 declares it.
fn texts<'a>(lines: &[&Line<'a>]) -> Result<Vec<Cow<'a, str>>, String> {
    if let Ok(t) = lines
        .iter()
        .map(|l| std::str::from_utf8(l.bytes).map(Cow::Borrowed))
        .collect::<Result<Vec<_>, _>>()
    {
        return Ok(t);
    }
    // MSH-18 in the ASCII bytes of MSH (field 18 is the 17th after MSH-1).
    let latin1 = lines.first().is_some_and(|msh| {
        let sep = msh.bytes.get(3).copied().unwrap_or(b'|');
        let charset = msh.bytes.split(|b| *b == sep).nth(17).unwrap_or(b"");
        [&b"8859/1"[..], b"ISO-8859-1", b"ISO IR100"]
            .iter()
            .any(|c| charset.eq_ignore_ascii_case(c))
    });
    if !latin1 {
        return Err("is not UTF-8 text and MSH-18 does not declare ISO 8859-1 (8859/1)".into());
    }
    Ok(lines
        .iter()
        .map(|l| Cow::Owned(l.bytes.iter().map(|b| char::from(*b)).collect()))
        .collect())
}

fn read_message(
    lines: &[&Line<'_>],
    rs: &Ruleset,
    loader: &RowLoader<'_>,
    counts: &mut InterchangeCounts,
    fields: &mut [String],
) -> Result<Vec<Pending>, String> {
    let Some(first) = lines.first() else {
        return Ok(Vec::new());
    };
    if !first.bytes.starts_with(b"MSH") {
        return Err("has no MSH segment".into());
    }
    let texts = texts(lines)?;
    let seps = Separators::of_msh(&texts[0]).map_err(|e| format!("is malformed: {e}"))?;
    let segs: Vec<Seg> = texts.iter().map(|t| Seg { text: t, seps }).collect();
    for (s, l) in segs.iter().zip(lines) {
        let b = s.text.as_bytes();
        let named = b.len() >= 3
            && b[..3]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && (b.len() == 3 || char::from(b[3]) == seps.field);
        if !named {
            return Err(format!(
                "has a line ({}) that is not a segment (a three-character name, then the field separator)",
                l.number
            ));
        }
    }
    let has_obx = segs.iter().any(|s| s.name() == "OBX");
    let kind = segs[0].comp(9, 1);
    if kind != "ORU" {
        if has_obx {
            return Err(format!(
                "is of type {:?} (MSH-9), not an ORU^R01 result message",
                kind.chars().take(8).collect::<String>()
            ));
        }
        counts.other += 1;
        return Ok(Vec::new());
    }
    if !has_obx {
        counts.other += 1;
    }
    let mut pending = Vec::new();
    let (mut pid, mut obr): (Option<&Seg>, Option<&Seg>) = (None, None);
    for (s, l) in segs.iter().zip(lines) {
        match s.name() {
            "PID" => {
                pid = Some(s);
                obr = None;
            }
            "OBR" => obr = Some(s),
            "OBX" => {
                let Some(pid) = pid else {
                    return Err(format!(
                        "has an OBX (line {}) before any PID segment",
                        l.number
                    ));
                };
                let Some(obr) = obr else {
                    return Err(format!(
                        "has an OBX (line {}) outside an OBR group",
                        l.number
                    ));
                };
                pending.push(observation(
                    l.number, pid, obr, s, rs, loader, counts, fields,
                ));
            }
            _ => {}
        }
    }
    Ok(pending)
}

/// One OBX with its PID and OBR.
#[allow(clippy::too_many_arguments)]
fn observation(
    line: u64,
    pid: &Seg<'_>,
    obr: &Seg<'_>,
    obx: &Seg<'_>,
    rs: &Ruleset,
    loader: &RowLoader<'_>,
    counts: &mut InterchangeCounts,
    fields: &mut [String],
) -> Pending {
    for f in fields.iter_mut() {
        f.clear();
    }
    let raw = obx.text.to_string();
    let pending = |fields: &[String], kind| Pending {
        line,
        fields: fields.to_vec(),
        raw: raw.clone(),
        kind,
    };
    let patient = pid.comp(3, 1);
    if patient.is_empty() {
        let why = "PID-3 (patient identifier) is blank; every result needs its patient".into();
        return pending(
            fields,
            PendingKind::Reject(RejectReason::MissingPatientId, why),
        );
    }
    fields[row::PATIENT].push_str(&patient);
    let specimen = match obr.comp(3, 1) {
        s if !s.is_empty() => s,
        _ => obr.comp(2, 1),
    };
    fields[row::SPECIMEN].push_str(&specimen);
    let when = match obx.comp(14, 1) {
        t if !t.is_empty() => t,
        _ => obr.comp(7, 1),
    };
    fields[row::COLLECTED].push_str(&timestamp(&when));
    fields[row::SEX].push_str(&pid.comp(8, 1));
    let birth = timestamp(&pid.comp(7, 1));
    fields[row::BIRTH_DATE].push_str(birth.get(..10).unwrap_or(&birth));
    fields[row::TEST_CODE].push_str(&test_code(obx, loader, rs));
    fields[row::VALUE].push_str(&value(obx));
    let unit = match obx.comp(6, 1) {
        u if !u.is_empty() => u,
        _ => obx.comp(6, 2),
    };
    fields[row::UNIT].push_str(&unit);
    let status = obx.comp(11, 1).to_ascii_uppercase();
    match status.as_str() {
        "C" => fields[row::STATUS].push('C'),
        "D" => return pending(fields, PendingKind::Withdrawal("OBX-11 D (deleted)")),
        "W" => {
            return pending(
                fields,
                PendingKind::Withdrawal("OBX-11 W (posted as wrong)"),
            )
        }
        "X" => {
            let why = "OBX-11 X: the result cannot be obtained".into();
            return pending(
                fields,
                PendingKind::Reject(RejectReason::NoAnalyteValues, why),
            );
        }
        "P" => counts.preliminary += 1,
        _ => {}
    }
    pending(fields, PendingKind::Result)
}

/// OBX-3's code to use: a code `--mapping` maps (identifier, then alternate identifier),
/// else a LOINC code of the ruleset's table (coding system `LN`, or none), else the
/// identifier as written (rejected as unknown).
fn test_code(obx: &Seg<'_>, loader: &RowLoader<'_>, rs: &Ruleset) -> String {
    let pairs = [
        (obx.comp(3, 1), obx.comp(3, 3)),
        (obx.comp(3, 4), obx.comp(3, 6)),
    ];
    let pick = pairs
        .iter()
        .find(|(c, _)| !c.is_empty() && loader.is_mapped(c))
        .or_else(|| {
            pairs.iter().find(|(c, sys)| {
                (sys.eq_ignore_ascii_case("LN") || sys.is_empty()) && rs.loinc(c).is_some()
            })
        })
        .or_else(|| pairs.iter().find(|(c, _)| !c.is_empty()));
    pick.map_or(String::new(), |(c, _)| c.to_string())
}

/// OBX-5 (first repetition) as the long layout reads a value: `SN` as comparator and
/// number, coded values by their text, OBX-8 `<`/`>` (below/above the instrument scale)
/// making a plain number a bound.
fn value(obx: &Seg<'_>) -> String {
    let kind = obx.comp(2, 1).to_ascii_uppercase();
    let v: String = match kind.as_str() {
        "SN" => {
            let (cmp, n1, sep, n2) = (
                obx.comp(5, 1),
                obx.comp(5, 2),
                obx.comp(5, 3),
                obx.comp(5, 4),
            );
            let cmp = if cmp == "=" { "" } else { &cmp };
            if sep.is_empty() && n2.is_empty() {
                format!("{cmp}{n1}")
            } else {
                format!("{cmp}{n1}{sep}{n2}")
            }
        }
        "CE" | "CWE" | "CNE" => match obx.comp(5, 2) {
            t if !t.is_empty() => t.into_owned(),
            _ => obx.comp(5, 1).into_owned(),
        },
        _ => obx.seps.decode(obx.first(5).trim()).into_owned(),
    };
    let flags = obx.field(8);
    let bound = flags
        .split(obx.seps.repetition)
        .map(str::trim)
        .find(|f| *f == "<" || *f == ">");
    match bound {
        Some(b) if v.starts_with(|c: char| c.is_ascii_digit() || c == '.') => format!("{b}{v}"),
        _ => v,
    }
}

/// An HL7 timestamp (`YYYYMMDD[HH[MM[SS[.S...]]]][+/-ZZZZ]`) as ISO 8601; anything else as
/// written (the rules then flag an unreadable collection time).
pub fn timestamp(raw: &str) -> String {
    let t = raw.trim();
    let (main, zone) = match t.get(1..).and_then(|r| r.find(['+', '-'])) {
        Some(i) => (&t[..i + 1], &t[i + 1..]),
        None => (t, ""),
    };
    let (digits, fraction) = main.split_once('.').unwrap_or((main, ""));
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(digits.len(), 8 | 10 | 12 | 14)
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && (zone.is_empty() || (zone.len() == 5 && zone[1..].bytes().all(|b| b.is_ascii_digit())));
    if !ok {
        return t.to_string();
    }
    let mut s = format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]);
    if digits.len() > 8 {
        let hh = &digits[8..10];
        let mm = digits.get(10..12).unwrap_or("00");
        let ss = digits.get(12..14).unwrap_or("00");
        s.push_str(&format!("T{hh}:{mm}:{ss}"));
        if !fraction.is_empty() {
            s.push('.');
            s.push_str(fraction);
        }
        if !zone.is_empty() {
            s.push_str(&format!("{}:{}", &zone[..3], &zone[3..]));
        }
    }
    s
}

/// Outcomes of HL7 v2 bytes, read without I/O: the entry of the fuzz target.
pub fn read_hl7_bytes(
    bytes: &[u8],
    rs: &Ruleset,
    opts: &IngestOptions,
) -> Result<super::BytesRead, RunError> {
    let reader = Hl7Reader::from_bytes(0, "<bytes>".into(), bytes.to_vec(), opts)?;
    super::BytesRead::drain(super::InputReader::Hl7(Box::new(reader)), rs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seps() -> Separators {
        Separators::of_msh("MSH|^~\\&|LAB").unwrap()
    }

    #[test]
    fn escapes_are_decoded() {
        let s = seps();
        assert_eq!(s.decode(r"a\F\b\S\c\T\d\R\e\E\f"), "a|b^c&d~e\\f");
        assert_eq!(s.decode(r"\X48656C6C6F\"), "Hello");
        assert_eq!(s.decode(r"\XC3A9\t\XE9\"), "ét\u{e9}");
        assert_eq!(s.decode(r"é\F\ü"), "é|ü");
        assert_eq!(s.decode(r"line\.br\two\H\bold\N\"), "line twobold");
        assert_eq!(s.decode(r"no end \F"), r"no end \F");
        assert_eq!(s.decode(r"\Q\"), r"\Q\");
        assert_eq!(s.decode(r"\X4\"), "");
    }

    #[test]
    fn msh_encoding_characters_are_honoured() {
        let s = Separators::of_msh("MSH#:*!@#LAB").unwrap();
        assert_eq!(
            (s.field, s.component, s.repetition, s.escape, s.subcomponent),
            ('#', ':', '*', '!', '@')
        );
        assert!(
            Separators::of_msh("MSH|^~\\&#|LAB").is_ok(),
            "v2.7 truncation character"
        );
        assert!(Separators::of_msh("MSH|^^\\&|").is_err());
        assert!(Separators::of_msh("MSH|^~|").is_err());
        assert!(Separators::of_msh("MSH").is_err());
        assert!(Separators::of_msh("MSHA^~\\&").is_err());
    }

    #[test]
    fn timestamps_become_iso() {
        assert_eq!(timestamp("20260301"), "2026-03-01");
        assert_eq!(timestamp("202603010830"), "2026-03-01T08:30:00");
        assert_eq!(
            timestamp("20260301083015.25+0100"),
            "2026-03-01T08:30:15.25+01:00"
        );
        assert_eq!(timestamp("2026030108-0500"), "2026-03-01T08:00:00-05:00");
        assert_eq!(timestamp("2026"), "2026");
        assert_eq!(timestamp("yesterday"), "yesterday");
    }

    #[test]
    fn lines_end_at_cr_lf_crlf_and_drop_mllp_bytes() {
        let b = b"\x0bMSH|a\rPID|b\r\nOBX|c\n\x1c\r\x0bMSH|d\r\x1c\r";
        let l = lines(b);
        let got: Vec<(u64, &[u8])> = l.iter().map(|l| (l.number, l.bytes)).collect();
        assert_eq!(
            got,
            vec![
                (1, &b"MSH|a"[..]),
                (2, b"PID|b"),
                (3, b"OBX|c"),
                (5, b"MSH|d")
            ]
        );
    }

    #[test]
    fn fields_components_and_repeats() {
        let seg = Seg {
            text: r"PID|1||MRN\T\1^^^HOSP^MR~OTHER^^^X||DOE^JANE||19800203|F",
            seps: seps(),
        };
        assert_eq!(seg.comp(3, 1), "MRN&1");
        assert_eq!(seg.comp(3, 4), "HOSP");
        assert_eq!(seg.comp(7, 1), "19800203");
        assert_eq!(seg.comp(8, 1), "F");
        assert_eq!(seg.comp(30, 1), "");
        let msh = Seg {
            text: r"MSH|^~\&|LAB|FAC|||20260301||ORU^R01|1|P|2.5",
            seps: seps(),
        };
        assert_eq!(msh.comp(3, 1), "LAB");
        assert_eq!(msh.comp(9, 1), "ORU");
        assert_eq!(msh.comp(9, 2), "R01");
    }
}
