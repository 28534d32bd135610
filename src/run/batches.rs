//! Batch evaluation: the reading thread that parses inputs a couple of batches ahead, and
//! the evaluation of a batch (rules, guidance, encoding) on several threads with the batch
//! order kept, so the output does not depend on the number of threads.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender};

use crate::error::RunError;
use crate::guidance;
use crate::ingest::{InputReader, NotAttached, Reject, RowOutcome};
use crate::report::{Chunk, Encoder, ResultColumns, ResultsSpec};
use crate::rules;
use crate::ruleset::Ruleset;
use crate::vocab::{Flag, Label};

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

/// What the sequential writer needs of one classified panel.
pub(super) struct RowSummary {
    pub input: usize,
    pub label: Label,
    pub flags: Vec<Flag>,
    pub unknown_codes: Vec<String>,
    pub rows_used: u64,
}

/// One row outcome for the ledger, in batch order.
pub(super) enum Processed<'a> {
    Row(RowSummary),
    Reject(&'a Reject),
    NotAttached(&'a NotAttached),
}

/// A part of a batch after rules, guidance and encoding: the encoded results and the
/// ledger items, in order.
pub(super) struct ProcessedPart<'a> {
    pub chunk: Chunk,
    pub items: Vec<Processed<'a>>,
}

fn process_part<'a>(
    part: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
    encoder: Encoder,
) -> io::Result<ProcessedPart<'a>> {
    let mut results = ResultColumns::new(spec.clone(), part.len());
    let mut items = Vec::with_capacity(part.len());
    for outcome in part {
        items.push(match outcome {
            RowOutcome::Panel(panel) => {
                let result = rules::evaluate(panel, rs);
                let ids = guidance::attach(panel, &result, rs);
                results.push(panel, &result, &ids, rs);
                Processed::Row(RowSummary {
                    input: panel.input,
                    label: result.classification,
                    flags: result.flags,
                    unknown_codes: panel.unknown_codes.clone(),
                    rows_used: panel.rows_used,
                })
            }
            RowOutcome::Reject(r) => Processed::Reject(r),
            RowOutcome::NotAttached(n) => Processed::NotAttached(n),
        });
    }
    Ok(ProcessedPart {
        chunk: encoder.encode(&results)?,
        items,
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
) -> io::Result<Vec<ProcessedPart<'a>>> {
    // Below this, a thread costs more than the rows it would evaluate.
    const MIN_ROWS_PER_THREAD: usize = 512;
    let threads = threads.min(batch.len() / MIN_ROWS_PER_THREAD).max(1);
    if threads == 1 {
        return Ok(vec![process_part(batch, rs, spec, encoder)?]);
    }
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| scope.spawn(move || process_part(part, rs, spec, encoder)))
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
