//! A columnar writer on its own thread: the row groups of one batch are encoded and
//! compressed while the engine evaluates the next, instead of the evaluation waiting for
//! them. A bounded queue keeps memory bounded; an error of the writer thread is
//! returned by the next `write` or by `finish`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{Chunk, ResultWriter};

/// Chunks waiting for the writer thread (besides the one it is writing): about a Parquet row
/// group's worth (16 384 rows in chunks of 4 096, half a batch each on two cores), so the
/// evaluation goes on while a whole row group is encoded. With one, the evaluation waited
/// for every row group (1M rows: 168 % CPU); with two, 1M rows took 6 % longer than with
/// four.
const QUEUED_CHUNKS: usize = 4;

pub struct Background {
    tx: Option<SyncSender<Chunk>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    /// Set when the run stops without `finish`: the thread then writes nothing more and never
    /// closes the file, so a failed run cannot leave a complete-looking Parquet file on a
    /// stream or device.
    abandoned: Arc<AtomicBool>,
}

impl Background {
    /// Starts the thread that feeds `inner` and closes it at the end.
    pub fn spawn(inner: Box<dyn ResultWriter>) -> io::Result<Background> {
        let (tx, rx) = sync_channel::<Chunk>(QUEUED_CHUNKS);
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abandoned);
        let thread = std::thread::Builder::new()
            .name("result-writer".into())
            .spawn(move || {
                let mut inner = inner;
                for chunk in rx {
                    if stop.load(Ordering::SeqCst) {
                        return Ok(());
                    }
                    inner.write(chunk)?;
                }
                if stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                inner.finish()
            })?;
        Ok(Background {
            tx: Some(tx),
            thread: Some(thread),
            abandoned,
        })
    }

    /// Closes the queue and waits for the thread: what it wrote, or why it stopped.
    fn join(&mut self) -> io::Result<()> {
        self.tx = None;
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| io::Error::other("the result writer thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl ResultWriter for Background {
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(chunk).is_ok());
        if sent {
            return Ok(());
        }
        // The thread stopped: its error says why.
        match self.join() {
            Err(e) => Err(e),
            Ok(()) => Err(io::Error::other(
                "the result writer stopped before the results ended",
            )),
        }
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.join()
    }
}

impl Drop for Background {
    /// A run that stops early (no `finish`) abandons the output: the thread stops writing
    /// and does not close the file, and the run waits for it, so nothing writes to the output
    /// after the run has removed it.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.abandoned.store(true, Ordering::SeqCst);
        }
        let _ = self.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Recorder {
        seen: Arc<Mutex<Vec<usize>>>,
        fail_at: Option<usize>,
    }

    impl ResultWriter for Recorder {
        fn write(&mut self, chunk: Chunk) -> io::Result<()> {
            let Chunk::Bytes(b) = chunk else {
                return Err(io::Error::other("bytes expected"));
            };
            let mut seen = self.seen.lock().map_err(|_| io::Error::other("poisoned"))?;
            if Some(seen.len()) == self.fail_at {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            seen.push(b.len());
            Ok(())
        }

        fn finish(self: Box<Self>) -> io::Result<()> {
            self.seen
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .push(0);
            Ok(())
        }
    }

    /// A writer on its thread over a recorder, and what the recorder saw.
    fn recorded(fail_at: Option<usize>) -> (Background, Arc<Mutex<Vec<usize>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let inner = Recorder {
            seen: Arc::clone(&seen),
            fail_at,
        };
        (Background::spawn(Box::new(inner)).unwrap(), seen)
    }

    #[test]
    fn chunks_arrive_in_order_and_finish_closes_the_writer() {
        let (w, seen) = recorded(None);
        let mut w = Box::new(w);
        for n in 1..=20 {
            w.write(Chunk::Bytes(vec![b'x'; n])).unwrap();
        }
        w.finish().unwrap();
        let mut expected: Vec<usize> = (1..=20).collect();
        expected.push(0);
        assert_eq!(*seen.lock().unwrap(), expected);
    }

    #[test]
    fn a_writer_dropped_without_finish_never_closes_the_file() {
        let (mut w, seen) = recorded(None);
        for n in 1..=5 {
            w.write(Chunk::Bytes(vec![b'x'; n])).unwrap();
        }
        drop(w);
        // Some chunks may have been written; the closing `finish` (recorded as 0) never ran.
        let seen = seen.lock().unwrap();
        assert!(!seen.contains(&0), "{seen:?}");
    }

    #[test]
    fn an_error_of_the_writer_thread_is_returned() {
        let (w, seen) = recorded(Some(3));
        let mut w = Box::new(w);
        let mut error = None;
        for n in 1..=20 {
            if let Err(e) = w.write(Chunk::Bytes(vec![b'x'; n])) {
                error = Some(e);
                break;
            }
        }
        let e = match error {
            Some(e) => e,
            None => w.finish().unwrap_err(),
        };
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    }
}
