//! Sharded runs without a framework: `classify --partition K/N` keeps the rows of the
//! patients that hash to part K, so N runs over the same inputs (a Kubernetes Indexed Job,
//! a Slurm array, GNU parallel) classify every row exactly once; [`merge`] checks the parts'
//! summaries against each other and writes the run's summary.
//!
//! The hash is part of the interface, so that other tools can reproduce a split: FNV-1a
//! (64-bit) over the UTF-8 bytes of `patient_id` exactly as the output column holds it, modulo
//! N. A row without a readable `patient_id` (a malformed line, a blank id) belongs to part 0.
//! A patient's rows all land in one part, so long-layout panels are assembled whole.

pub mod merge;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ingest::RowOutcome;

/// How the summary names the hash, so a reader of a part knows how rows were split.
pub const HASH_NAME: &str = "fnv1a64(patient_id) mod N; no patient_id: part 0";

/// The most parts a run may be split into.
pub const MAX_PARTS: u32 = 65_536;

/// Part K of N (0 ≤ K < N).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub index: u32,
    pub count: u32,
}

/// A `--partition` value that is not `K/N` with 0 ≤ K < N ≤ 65 536.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--partition {given:?}: {why} (expected K/N with 0 <= K < N <= 65536, e.g. 0/4)")]
pub struct PartitionError {
    given: String,
    why: &'static str,
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Partition, PartitionError> {
        let err = |why| PartitionError {
            given: s.to_string(),
            why,
        };
        let (k, n) = s.split_once('/').ok_or_else(|| err("no `/`"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| err("K is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| err("N is not a whole number"))?;
        if count == 0 || count > MAX_PARTS {
            return Err(err("N is out of range"));
        }
        if index >= count {
            return Err(err("K must be smaller than N (parts are numbered from 0)"));
        }
        Ok(Partition { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Partition {
    /// The part a patient's rows belong to.
    pub fn part_of(count: u32, patient_id: Option<&str>) -> u32 {
        match patient_id {
            Some(id) if !id.is_empty() && count > 1 => {
                // The remainder is below `count`, a u32.
                u32::try_from(fnv1a64(id.as_bytes()) % u64::from(count)).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Whether this part keeps the patient's rows.
    pub fn keeps_patient(&self, patient_id: Option<&str>) -> bool {
        Partition::part_of(self.count, patient_id) == self.index
    }

    /// Whether this part keeps a row outcome (a panel, reject or unattached result).
    pub fn keeps(&self, outcome: &RowOutcome) -> bool {
        let id = match outcome {
            RowOutcome::Panel(p) => Some(p.patient_id.as_str()),
            RowOutcome::Reject(r) => r.patient_id.as_deref(),
            RowOutcome::NotAttached(n) => n.patient_id.as_deref(),
        };
        self.keeps_patient(id)
    }
}

/// What the summary says of a partitioned run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionSummary {
    pub index: u32,
    pub count: u32,
    pub hash: String,
}

impl From<Partition> for PartitionSummary {
    fn from(p: Partition) -> PartitionSummary {
        PartitionSummary {
            index: p.index,
            count: p.count,
            hash: HASH_NAME.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv): "" and "a" and "foobar".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn partition_values_parse_and_refuse() {
        assert_eq!(
            "3/4".parse::<Partition>(),
            Ok(Partition { index: 3, count: 4 })
        );
        for bad in ["4/4", "1", "a/4", "0/0", "-1/4", "0/70000", "1/"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_patient_lands_in_exactly_one_part() {
        for id in ["P1", "Müller01", "", "12345"] {
            let owners: Vec<u32> = (0..7)
                .filter(|k| {
                    Partition {
                        index: *k,
                        count: 7,
                    }
                    .keeps_patient(Some(id).filter(|s| !s.is_empty()))
                })
                .collect();
            assert_eq!(owners.len(), 1, "{id}");
        }
        assert!(Partition { index: 0, count: 7 }.keeps_patient(None));
    }
}
