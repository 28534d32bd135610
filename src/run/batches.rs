//! Batch evaluation: the reading thread that parses inputs a couple of batches ahead, and
//! the evaluation of a batch (rules, guidance, encoding) on several threads with the batch
//! order kept, so the output does not depend on the number of threads.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender};

use crate::error::RunError;
use crate::guidance;
use crate::ingest::{InputReader, NotAttached, Reject, RowOutcome};
use crate::report::{self, Encoder, Field};
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

pub(super) enum Encoded {
    Bytes(Vec<u8>),
    Fields(Vec<Field>),
}

/// One row outcome after rules, guidance and encoding.
pub(super) enum Processed<'a> {
    Row { row: RowSummary, encoded: Encoded },
    Reject(&'a Reject),
    NotAttached(&'a NotAttached),
}

fn process<'a>(
    outcome: &'a RowOutcome,
    rs: &Ruleset,
    encoder: &Encoder,
    guidance_text: bool,
) -> io::Result<Processed<'a>> {
    Ok(match outcome {
        RowOutcome::Panel(panel) => {
            let result = rules::evaluate(panel, rs);
            let ids = guidance::attach(panel, &result, rs);
            let fields = report::render_row(panel, &result, &ids, rs, guidance_text);
            let mut bytes = Vec::new();
            let encoded = if encoder.encode(&fields, &mut bytes)? {
                Encoded::Bytes(bytes)
            } else {
                Encoded::Fields(fields)
            };
            Processed::Row {
                row: RowSummary {
                    input: panel.input,
                    label: result.classification,
                    flags: result.flags,
                    unknown_codes: panel.unknown_codes.clone(),
                    rows_used: panel.rows_used,
                },
                encoded,
            }
        }
        RowOutcome::Reject(r) => Processed::Reject(r),
        RowOutcome::NotAttached(n) => Processed::NotAttached(n),
    })
}

/// Evaluates a batch on up to `threads` threads; results keep the batch order, so the
/// output does not depend on the number of threads.
pub(super) fn process_batch<'a>(
    batch: &'a [RowOutcome],
    rs: &Ruleset,
    encoder: &Encoder,
    guidance_text: bool,
    threads: usize,
) -> io::Result<Vec<Processed<'a>>> {
    // Below this, a thread costs more than the rows it would evaluate.
    const MIN_ROWS_PER_THREAD: usize = 512;
    let threads = threads.min(batch.len() / MIN_ROWS_PER_THREAD).max(1);
    if threads == 1 {
        return batch
            .iter()
            .map(|o| process(o, rs, encoder, guidance_text))
            .collect();
    }
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|o| process(o, rs, encoder, guidance_text))
                        .collect::<io::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(batch.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| io::Error::other("a worker thread panicked"))??,
            );
        }
        Ok(out)
    })
}
