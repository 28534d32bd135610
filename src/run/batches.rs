//! Batch evaluation: the reading thread that parses inputs a couple of batches ahead, and
//! the evaluation of a batch (rules, guidance, encoding) on several threads with the batch
//! order kept, so the output does not depend on the number of threads.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender};

use crate::error::RunError;
use crate::ingest::{InputReader, RowOutcome};
use crate::report::{Chunk, Encoder, ResultColumns, ResultsSpec};
use crate::ruleset::Ruleset;

/// A parsed batch, or the read error that ended the inputs.
pub(super) type BatchMessage = Result<Vec<RowOutcome>, RunError>;

/// Batches in flight between the reading thread and the writer: memory stays bounded by it.
const BATCHES_AHEAD: usize = 2;

/// The channel from the reading thread to the evaluation.
pub(super) fn channel() -> (SyncSender<BatchMessage>, Receiver<BatchMessage>) {
    std::sync::mpsc::sync_channel(BATCHES_AHEAD)
}

/// The inputs of a run as the reading thread sees them.
pub(super) struct Inputs<'a> {
    pub inputs: &'a [crate::ingest::Input],
    /// Readers still open (stdin); a file is reopened when its turn comes.
    pub opened: &'a mut [Option<InputReader>],
    /// What each input's reader counted, filled in as inputs finish.
    pub ends: &'a mut [InputEnd],
    /// The FHIR Patient resources of every input of the run.
    pub patients: &'a std::sync::Arc<crate::ingest::fhir::Patients>,
    pub options: &'a crate::ingest::IngestOptions,
}

/// What a reader counted besides its rows, taken when its input is read.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct InputEnd {
    /// Lines that repeated the header.
    pub header_repeats: u64,
    /// FHIR and HL7 v2 inputs: Patients, preliminary results, other resources.
    pub interchange: Option<crate::ingest::InterchangeCounts>,
}

/// Reads every input in turn, `batch_rows` rows at a time, into `tx`; stops at the first
/// error (sent) or when the receiver is gone. One input is open at a time: each is closed
/// when its rows are read.
pub(super) fn read_all(
    inputs: Inputs<'_>,
    batch_rows: usize,
    rs: &Ruleset,
    tx: SyncSender<BatchMessage>,
) {
    for (i, input) in inputs.inputs.iter().enumerate() {
        let opened = inputs.opened.get_mut(i).and_then(Option::take);
        let mut reader = match opened {
            Some(r) => r,
            None => match InputReader::open(i, input, rs, inputs.options) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            },
        };
        crate::ingest::give_patients(&mut reader, inputs.patients);
        loop {
            let mut batch = Vec::with_capacity(batch_rows);
            match reader.next_batch(batch_rows, rs, &mut batch) {
                Ok(more) => {
                    if tx.send(Ok(batch)).is_err() {
                        return;
                    }
                    if !more {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if let Some(end) = inputs.ends.get_mut(i) {
            *end = InputEnd {
                header_repeats: reader.header_repeats(),
                interchange: reader.interchange_counts(),
            };
        }
    }
}

pub(super) use crate::frame::Processed;

/// A part of a batch after rules, guidance and encoding: the encoded results and the
/// ledger items, in order.
pub(crate) struct ProcessedPart<'a> {
    pub chunk: Chunk,
    pub items: Vec<Processed<'a>>,
    /// The typed results, kept only for the nightly report (`--report`).
    pub results: Option<ResultColumns>,
}

/// The result columns of parts already encoded, emptied for the next parts of the same
/// run: their buffers (megabytes each) are reused rather than allocated afresh, whose pages
/// the kernel would fault in and zero again for every part.
#[derive(Default)]
pub(crate) struct Spares(std::sync::Mutex<Vec<ResultColumns>>);

impl Spares {
    fn take(&self, spec: &ResultsSpec, rows: usize) -> ResultColumns {
        let spare = self.0.lock().ok().and_then(|mut v| v.pop());
        spare.unwrap_or_else(|| ResultColumns::new(spec.clone(), rows))
    }

    fn give(&self, mut results: ResultColumns) {
        results.clear();
        if let Ok(mut v) = self.0.lock() {
            v.push(results);
        }
    }
}

fn process_part<'a>(
    part: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
    encoder: Encoder,
    keep_results: bool,
    spares: &Spares,
) -> io::Result<ProcessedPart<'a>> {
    let mut results = spares.take(spec, part.len());
    let items = crate::frame::classify_rows_into(part, rs, spec, &mut results);
    let chunk = encoder.encode(&results)?;
    let results = if keep_results {
        Some(results)
    } else {
        spares.give(results);
        None
    };
    Ok(ProcessedPart {
        chunk,
        items,
        results,
    })
}

/// Evaluates a batch on up to `threads` threads; parts keep the batch order, so the
/// output does not depend on the number of threads. The threads are rayon's, alive for the
/// whole run: a thread started per batch would start a new stack and allocator heap each
/// time, and fault their pages in again.
pub(crate) fn process_batch<'a>(
    batch: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
    encoder: Encoder,
    threads: usize,
    keep_results: bool,
    spares: &Spares,
) -> io::Result<Vec<ProcessedPart<'a>>> {
    use rayon::prelude::*;
    // Below this, a thread costs more than the rows it would evaluate.
    const MIN_ROWS_PER_THREAD: usize = 512;
    let threads = threads.min(batch.len() / MIN_ROWS_PER_THREAD).max(1);
    if threads == 1 {
        return Ok(vec![process_part(
            batch,
            rs,
            spec,
            encoder,
            keep_results,
            spares,
        )?]);
    }
    let chunk = batch.len().div_ceil(threads);
    // A panic on a worker is an error of the run, as it was with scoped threads (rayon
    // would resume it on this thread).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        batch
            .par_chunks(chunk)
            .map(|part| process_part(part, rs, spec, encoder, keep_results, spares))
            .collect()
    }))
    .map_err(|_| io::Error::other("a worker thread panicked"))?
}
