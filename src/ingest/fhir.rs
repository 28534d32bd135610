//! FHIR R4 NDJSON input (as a FHIR Bulk Data `$export` writes it): one resource per line,
//! or one `Bundle` per line. `Observation` resources become long-layout results (the same
//! test-code and unit tables, rejects, corrections and panel assembly); `Patient` resources,
//! in the same input or another one of the run, give the sex and birth date of the results
//! that reference them.
//!
//! Only the fields used are deserialised, into the small typed structs below: a whole FHIR
//! model (the `fhir-sdk` family of crates) would type hundreds of elements this engine never
//! reads, and a resource that fails on an element we ignore would be rejected for nothing.
//!
//! The ledger unit is a resource: every `Observation` is in a panel, rejected or not attached.
//! `Patient` resources are counted apart (`patients_read`), other resource types as ignored.
//! An input is read whole before its first panel (as the long layout is): once for its
//! Patients when it is opened, then for its Observations.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::long::{row, LongReader, RowLoader, ROW_COLUMNS};
use super::{IngestOptions, Input, InterchangeCounts, RejectReason, RowOutcome};
use crate::error::RunError;
use crate::ruleset::Ruleset;

/// The LOINC code system (FHIR `Coding.system`).
const LOINC: &str = "http://loinc.org";
/// Raw text kept of a line that is not a resource, at most.
const RAW_LIMIT: usize = 64 << 10;

/// The sex and birth date of the patients of a run, by the id their results reference.
#[derive(Clone, Debug, Default)]
pub struct Patients(HashMap<String, Demographics>);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Demographics {
    /// `Patient.gender` (`female`, `male`, `other`, `unknown`).
    pub sex: String,
    /// `Patient.birthDate` (ISO date, possibly partial).
    pub birth_date: String,
}

impl Patients {
    pub fn get(&self, id: &str) -> Option<&Demographics> {
        self.0.get(id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds the patients of `other` not known yet (the first input naming a patient wins).
    pub fn extend_from(&mut self, other: &Patients) {
        for (k, v) in &other.0 {
            self.0.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "resourceType", borrow, default)]
    resource_type: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Observation {
    status: Option<String>,
    code: Option<CodeableConcept>,
    subject: Option<Reference>,
    specimen: Option<Reference>,
    effective_date_time: Option<String>,
    effective_period: Option<Period>,
    effective_instant: Option<String>,
    issued: Option<String>,
    value_quantity: Option<Quantity>,
    value_string: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeableConcept {
    coding: Vec<Coding>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reference {
    reference: Option<String>,
    identifier: Option<Identifier>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Identifier {
    value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Period {
    start: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Quantity {
    value: Option<f64>,
    comparator: Option<String>,
    unit: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PatientResource {
    id: Option<String>,
    gender: Option<String>,
    birth_date: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Bundle<'a> {
    #[serde(borrow)]
    entry: Vec<Entry<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Entry<'a> {
    full_url: Option<String>,
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
}

/// The logical id a reference names: `Patient/123`, `Patient/123/_history/2`,
/// `https://host/fhir/Patient/123` → `123`; `urn:uuid:X` → `X`; anything else as written.
fn reference_id(reference: &str) -> &str {
    let r = reference.trim();
    if let Some(u) = r
        .strip_prefix("urn:uuid:")
        .or_else(|| r.strip_prefix("urn:oid:"))
    {
        return u;
    }
    let r = r.split("/_history/").next().unwrap_or(r);
    match r.rsplit_once('/') {
        Some((_, id)) if !id.is_empty() => id,
        _ => r,
    }
}

fn reference_key(r: &Reference) -> Option<&str> {
    r.reference
        .as_deref()
        .map(reference_id)
        .or(r.identifier.as_ref().and_then(|i| i.value.as_deref()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Where a line's bytes are: the input (read when needed) or the bytes already read.
pub(super) enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
}

impl Source {
    /// The input's bytes: read now from the file (counted in `bytes_read`), or as held.
    pub(super) fn into_bytes(self, bytes_read: &Arc<AtomicU64>) -> Result<Vec<u8>, RunError> {
        match self {
            Source::Bytes(b) => Ok(b),
            Source::File(p) => {
                let input = Input::File(p);
                read_all(&input.name(), input.open_counted(bytes_read.clone())?)
            }
        }
    }
}

/// Streams the outcomes of one FHIR NDJSON input.
pub struct FhirReader {
    long: LongReader,
    source: Option<Source>,
    bytes_read: Arc<AtomicU64>,
    /// The Patients of this input (read when it was opened).
    own: Patients,
    /// The Patients of every FHIR input of the run ([`super::give_patients`]; its own until then).
    patients: Arc<Patients>,
    pub counts: InterchangeCounts,
}

impl FhirReader {
    /// Opens a FHIR input and reads its `Patient` resources.
    pub fn open(
        index: usize,
        input: &Input,
        opts: &IngestOptions,
        buffered: Box<dyn std::io::BufRead + Send>,
    ) -> Result<FhirReader, RunError> {
        let name = input.name();
        let (source, own) = match input {
            Input::Stdin => {
                let bytes = read_all(&name, buffered)?;
                let own = scan_patients(&bytes);
                (Source::Bytes(bytes), own)
            }
            Input::File(p) => {
                // Read here for the Patients only; the Observations on the first batch.
                drop(buffered);
                let own = scan_patients(&read_all(&name, Input::File(p.clone()).open()?)?);
                (Source::File(p.clone()), own)
            }
        };
        Ok(FhirReader {
            long: LongReader::for_rows(index, name, opts.mapping.as_ref(), opts.panel_window_days)?,
            source: Some(source),
            bytes_read: opts.bytes_read.clone(),
            patients: Arc::new(own.clone()),
            own,
            counts: InterchangeCounts::default(),
        })
    }

    /// A reader over bytes already in memory (no I/O: the fuzz targets' entry).
    pub fn from_bytes(
        index: usize,
        name: String,
        bytes: Vec<u8>,
        opts: &IngestOptions,
    ) -> Result<FhirReader, RunError> {
        let own = scan_patients(&bytes);
        Ok(FhirReader {
            long: LongReader::for_rows(index, name, opts.mapping.as_ref(), opts.panel_window_days)?,
            source: Some(Source::Bytes(bytes)),
            bytes_read: opts.bytes_read.clone(),
            patients: Arc::new(own.clone()),
            own,
            counts: InterchangeCounts::default(),
        })
    }

    /// The Patients found in this input.
    pub fn own_patients(&self) -> &Patients {
        &self.own
    }

    /// The Patients every input of the run contributes (see [`super::give_patients`]).
    pub fn set_patients(&mut self, all: Arc<Patients>) {
        self.patients = all;
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
            load(&bytes, &self.patients, rs, &mut loader, &mut counts)?;
            let loaded = loader.finish();
            self.long.preload(loaded);
            self.counts = counts;
        }
        self.long.next_batch(max, rs, out)
    }
}

pub(super) fn read_all(
    name: &str,
    mut r: Box<dyn std::io::BufRead + Send>,
) -> Result<Vec<u8>, RunError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|e| RunError::io(format!("cannot read {name}"), e))?;
    Ok(bytes)
}

/// The non-blank lines of `bytes` with their 1-based numbers (a BOM and `\r` removed).
fn lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
}

/// The Patient resources of an input (alone or in Bundles), by id and by Bundle `fullUrl`.
fn scan_patients(bytes: &[u8]) -> Patients {
    let mut patients = Patients::default();
    let finder = memchr::memmem::Finder::new(b"\"Patient\"");
    for (_, line) in lines(bytes) {
        if finder.find(line).is_none() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        let Ok(head) = serde_json::from_str::<Head>(text) else {
            continue;
        };
        match head.resource_type.as_deref() {
            Some("Patient") => add_patient(&mut patients, text, None),
            Some("Bundle") => {
                let Ok(bundle) = serde_json::from_str::<Bundle>(text) else {
                    continue;
                };
                for e in &bundle.entry {
                    let Some(r) = e.resource else { continue };
                    if let Ok(Head {
                        resource_type: Some(t),
                    }) = serde_json::from_str::<Head>(r.get())
                    {
                        if t == "Patient" {
                            add_patient(&mut patients, r.get(), e.full_url.as_deref());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    patients
}

fn add_patient(patients: &mut Patients, json: &str, full_url: Option<&str>) {
    let Ok(p) = serde_json::from_str::<PatientResource>(json) else {
        return;
    };
    let d = Demographics {
        sex: p.gender.unwrap_or_default(),
        birth_date: p.birth_date.unwrap_or_default(),
    };
    let keys = [p.id.as_deref(), full_url.map(reference_id)];
    for k in keys.into_iter().flatten().map(str::trim) {
        if !k.is_empty() {
            patients.0.entry(k.to_string()).or_insert_with(|| d.clone());
        }
    }
}

/// Why a line is not a resource, without quoting it (it may hold patient data).
fn json_problem(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "is not valid JSON"
        }
        _ => "has an element of the wrong type",
    };
    format!("{what} (column {})", e.column())
}

fn cut(text: &str) -> String {
    if text.len() <= RAW_LIMIT {
        return text.to_string();
    }
    let mut end = RAW_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Reads every line of a FHIR input into `loader`.
fn load(
    bytes: &[u8],
    patients: &Patients,
    rs: &Ruleset,
    loader: &mut RowLoader<'_>,
    counts: &mut InterchangeCounts,
) -> Result<(), RunError> {
    let mut fields = vec![String::new(); ROW_COLUMNS.len()];
    for (line, raw) in lines(bytes) {
        let Ok(text) = std::str::from_utf8(raw) else {
            loader.reject(
                line,
                RejectReason::MalformedMessage,
                "the line is not UTF-8 text; FHIR NDJSON is UTF-8".into(),
                cut(&String::from_utf8_lossy(raw)),
            );
            continue;
        };
        let head = match serde_json::from_str::<Head>(text) {
            Ok(h) => h,
            Err(e) => {
                let message = format!("the line {}; one FHIR resource per line", json_problem(&e));
                loader.reject(line, RejectReason::MalformedMessage, message, cut(text));
                continue;
            }
        };
        match head.resource_type.as_deref() {
            Some("Bundle") => match serde_json::from_str::<Bundle>(text) {
                Ok(bundle) => {
                    for e in &bundle.entry {
                        let Some(r) = e.resource else { continue };
                        match serde_json::from_str::<Head>(r.get()) {
                            Ok(Head {
                                resource_type: Some(t),
                            }) if t != "Bundle" => resource(
                                line,
                                &t,
                                r.get(),
                                patients,
                                rs,
                                loader,
                                counts,
                                &mut fields,
                            )?,
                            _ => counts.other += 1,
                        }
                    }
                }
                Err(e) => {
                    let message = format!("the Bundle {}", json_problem(&e));
                    loader.reject(line, RejectReason::MalformedMessage, message, cut(text));
                }
            },
            Some(t) => resource(line, t, text, patients, rs, loader, counts, &mut fields)?,
            None => loader.reject(
                line,
                RejectReason::MalformedMessage,
                "the line has no resourceType; one FHIR resource per line".into(),
                cut(text),
            ),
        }
    }
    Ok(())
}

/// One resource (of a line or a Bundle entry).
#[allow(clippy::too_many_arguments)]
fn resource(
    line: u64,
    resource_type: &str,
    json: &str,
    patients: &Patients,
    rs: &Ruleset,
    loader: &mut RowLoader<'_>,
    counts: &mut InterchangeCounts,
    fields: &mut [String],
) -> Result<(), RunError> {
    match resource_type {
        "Observation" => {}
        "Patient" => {
            counts.patients_read += 1;
            return Ok(());
        }
        _ => {
            counts.other += 1;
            return Ok(());
        }
    }
    let obs = match serde_json::from_str::<Observation>(json) {
        Ok(o) => o,
        Err(e) => {
            let message = format!("the Observation {}", json_problem(&e));
            loader.reject(line, RejectReason::MalformedMessage, message, cut(json));
            return Ok(());
        }
    };
    let status = obs.status.as_deref().unwrap_or("").trim();
    match status {
        "entered-in-error" => {
            loader.reject(
                line,
                RejectReason::Superseded,
                "Observation status entered-in-error: withdrawn by its sender; not used".into(),
                json.to_string(),
            );
            return Ok(());
        }
        "cancelled" => {
            loader.reject(
                line,
                RejectReason::NoAnalyteValues,
                "Observation status cancelled: no result".into(),
                json.to_string(),
            );
            return Ok(());
        }
        "preliminary" => counts.preliminary += 1,
        _ => {}
    }
    let Some(patient) = obs.subject.as_ref().and_then(reference_key) else {
        loader.reject(
            line,
            RejectReason::MissingPatientId,
            "Observation without a subject reference; every result needs its patient".into(),
            json.to_string(),
        );
        return Ok(());
    };
    let mut comparator = "";
    if let Some(c) = obs
        .value_quantity
        .as_ref()
        .and_then(|q| q.comparator.as_deref())
    {
        if !matches!(c, "<" | "<=" | ">" | ">=") {
            loader.reject(
                line,
                RejectReason::MalformedMessage,
                format!("valueQuantity.comparator {c:?} is not one of <, <=, >, >="),
                json.to_string(),
            );
            return Ok(());
        }
        comparator = c;
    }
    let collected = obs
        .effective_date_time
        .as_deref()
        .or(obs
            .effective_period
            .as_ref()
            .and_then(|p| p.start.as_deref()))
        .or(obs.effective_instant.as_deref())
        .unwrap_or("");
    let specimen = obs
        .specimen
        .as_ref()
        .and_then(reference_key)
        .unwrap_or(collected);
    for f in fields.iter_mut() {
        f.clear();
    }
    fields[row::PATIENT].push_str(patient);
    fields[row::SPECIMEN].push_str(specimen);
    fields[row::COLLECTED].push_str(collected);
    if let Some(d) = patients.get(patient) {
        fields[row::SEX].push_str(&d.sex);
        fields[row::BIRTH_DATE].push_str(&d.birth_date);
    }
    fields[row::TEST_CODE].push_str(test_code(obs.code.as_ref(), loader, rs));
    match (&obs.value_quantity, &obs.value_string) {
        (Some(q), _) if q.value.is_some() => {
            fields[row::VALUE].push_str(comparator);
            if let Some(v) = q.value {
                fields[row::VALUE].push_str(&v.to_string());
            }
            let unit = q
                .code
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .or(q.unit.as_deref())
                .unwrap_or("");
            fields[row::UNIT].push_str(unit);
        }
        (_, Some(s)) => fields[row::VALUE].push_str(s),
        _ => {}
    }
    if matches!(status, "corrected" | "amended") {
        fields[row::STATUS].push_str("corrected");
    }
    fields[row::RESULT_TIME].push_str(obs.issued.as_deref().unwrap_or(""));
    loader.result(line, fields, json)
}

/// The code of `code.coding` to use: a code the `--mapping` file maps, else a LOINC code of
/// the ruleset's table, else the first LOINC code (rejected as unknown), else the first code.
fn test_code<'c>(
    code: Option<&'c CodeableConcept>,
    loader: &RowLoader<'_>,
    rs: &Ruleset,
) -> &'c str {
    let codings = code.map_or(&[][..], |c| c.coding.as_slice());
    let code_of = |c: &'c Coding| c.code.as_deref().map(str::trim).unwrap_or("");
    let is_loinc = |c: &Coding| c.system.as_deref().is_some_and(|s| s.trim() == LOINC);
    codings
        .iter()
        .find(|c| !code_of(c).is_empty() && loader.is_mapped(code_of(c)))
        .or_else(|| {
            codings
                .iter()
                .find(|c| is_loinc(c) && rs.loinc(code_of(c)).is_some())
        })
        .or_else(|| codings.iter().find(|c| is_loinc(c)))
        .or_else(|| codings.first())
        .map_or("", code_of)
}

/// Outcomes of FHIR NDJSON bytes, read without I/O: the entry of the fuzz target.
pub fn read_fhir_bytes(
    bytes: &[u8],
    rs: &Ruleset,
    opts: &IngestOptions,
) -> Result<super::BytesRead, RunError> {
    let reader = FhirReader::from_bytes(0, "<bytes>".into(), bytes.to_vec(), opts)?;
    super::BytesRead::drain(super::InputReader::Fhir(Box::new(reader)), rs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_logical_id() {
        assert_eq!(reference_id("Patient/123"), "123");
        assert_eq!(reference_id("Patient/123/_history/4"), "123");
        assert_eq!(reference_id("https://ehr.example/fhir/Patient/p-9"), "p-9");
        assert_eq!(reference_id("urn:uuid:7f3c"), "7f3c");
        assert_eq!(reference_id("abc"), "abc");
    }

    #[test]
    fn patients_are_found_alone_and_in_bundles() {
        let ndjson = concat!(
            r#"{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1980-02-03"}"#,
            "\n",
            r#"{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:u2","resource":{"resourceType":"Patient","id":"p2","gender":"male"}}]}"#,
            "\n",
        );
        let p = scan_patients(ndjson.as_bytes());
        assert_eq!(p.get("p1").map(|d| d.sex.as_str()), Some("female"));
        assert_eq!(
            p.get("p1").map(|d| d.birth_date.as_str()),
            Some("1980-02-03")
        );
        assert_eq!(p.get("u2").map(|d| d.sex.as_str()), Some("male"));
        assert_eq!(p.get("p2").map(|d| d.sex.as_str()), Some("male"));
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn json_problems_never_quote_the_data() {
        let e = serde_json::from_str::<Observation>(r#"{"status": 5, "x": "SECRET"}"#)
            .err()
            .map(|e| json_problem(&e))
            .unwrap_or_default();
        assert!(e.contains("wrong type") && !e.contains("SECRET"), "{e}");
    }
}
