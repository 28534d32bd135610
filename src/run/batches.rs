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

/// Reads every input in turn, `batch_rows` rows at a time, into `tx`; stops at the first
/// read error (sent) or when the receiver is gone.
pub(super) fn read_all(
    readers: &mut [InputReader],
    batch_rows: usize,
    rs: &Ruleset,
    tx: SyncSender<BatchMessage>,
) {
    for reader in readers.iter_mut() {
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
    }
}

pub(super) use crate::frame::Processed;

/// A part of a batch after rules, guidance and encoding: the encoded results and the
/// ledger items, in order.
pub(super) struct ProcessedPart<'a> {
    pub chunk: Chunk,
    pub items: Vec<Processed<'a>>,
    /// The typed results, kept only for the nightly report (`--report`).
    pub results: Option<ResultColumns>,
}

fn process_part<'a>(
    part: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
    encoder: Encoder,
    keep_results: bool,
) -> io::Result<ProcessedPart<'a>> {
    let (results, items) = crate::frame::classify_rows(part, rs, spec);
    Ok(ProcessedPart {
        chunk: encoder.encode(&results)?,
        items,
        results: keep_results.then_some(results),
    })
}

/// Evaluates a batch on up to `threads` threads; parts keep the batch order, so the
/// output does not depend on the number of threads.
pub(super) fn process_batch<'a>(
    batch: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
    encoder: Encoder,
    threads: usize,
    keep_results: bool,
) -> io::Result<Vec<ProcessedPart<'a>>> {
    // Below this, a thread costs more than the rows it would evaluate.
    const MIN_ROWS_PER_THREAD: usize = 512;
    let threads = threads.min(batch.len() / MIN_ROWS_PER_THREAD).max(1);
    if threads == 1 {
        return Ok(vec![process_part(batch, rs, spec, encoder, keep_results)?]);
    }
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| scope.spawn(move || process_part(part, rs, spec, encoder, keep_results)))
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(
                h.join()
                    .map_err(|_| io::Error::other("a worker thread panicked"))??,
            );
        }
        Ok(out)
    })
}
