//! Progress of a classify run on stderr: a live bar when stderr is a terminal, or periodic
//! plain lines (`--progress`) sent to the messages sink.
//!
//! Progress counts rows, and the ETA comes from rows, not bytes: when progress is shown, the
//! data rows of the run are estimated before it starts by counting the line ends of every
//! input (one buffered scan, minus the header line). ETA = rows remaining / rows per second
//! so far. Only a regular, uncompressed file has such a total: with a gzip or zstd file,
//! stdin or another non-regular input among the inputs, progress shows rows and rows/s, with
//! no ETA.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use super::Progress;
use crate::ingest::Input;
use crate::messages::Messages;
use crate::report::summary::Summary;

/// Seconds between two progress lines.
const LINE_INTERVAL_SECONDS: u64 = 5;

/// First bytes of the inputs whose line ends are not their rows (compressed or binary).
const NOT_TEXT: [&[u8]; 4] = [
    &[0x1f, 0x8b],             // gzip
    &[0x28, 0xb5, 0x2f, 0xfd], // zstd
    b"PAR1",                   // Parquet
    b"ARROW1",                 // Arrow IPC
];

/// Shows how far a run has got, after every batch.
pub(super) struct ProgressReport {
    mode: Progress,
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: Instant,
    /// Estimated data rows of all inputs; None when one of them has no cheap total.
    total_rows: Option<u64>,
}

impl ProgressReport {
    /// Estimates the rows when progress is shown (terminal bar or `--progress` lines), and
    /// with `--progress` says on a first line what the estimate is.
    pub(super) fn new(
        mode: Progress,
        inputs: &[Input],
        started: Instant,
        messages: &dyn Messages,
    ) -> Self {
        let terminal = mode != Progress::Quiet && io::stderr().is_terminal();
        let shown = terminal || mode == Progress::Lines;
        let total_rows = if shown { estimate_rows(inputs) } else { None };
        if mode == Progress::Lines && !terminal {
            messages.info(&start_line(total_rows, inputs.len()));
        }
        ProgressReport {
            mode,
            bar: terminal.then(|| progress_bar(total_rows)),
            started,
            last_line: Instant::now(),
            total_rows,
        }
    }

    /// Updates the bar, or sends a progress line when one is due.
    pub(super) fn update(&mut self, summary: &Summary, messages: &dyn Messages) {
        let status = Status::of(summary, self.started.elapsed(), self.total_rows);
        if let Some(b) = &self.bar {
            if let Some(total) = self.total_rows {
                // The estimate counts lines: a file with blank lines or quoted line breaks
                // can hold fewer rows, never (barring a growing file) more.
                b.set_length(total.max(status.rows));
            }
            b.set_position(status.rows);
            b.set_message(status.bar_message());
        } else if self.mode == Progress::Lines
            && self.last_line.elapsed().as_secs() >= LINE_INTERVAL_SECONDS
        {
            self.last_line = Instant::now();
            messages.info(&status.line());
        }
    }

    /// Clears the bar; with `--progress`, a last line with the rows and the rate.
    pub(super) fn finish(self, summary: &Summary, messages: &dyn Messages) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        } else if self.mode == Progress::Lines {
            let elapsed = self.started.elapsed();
            let status = Status::of(summary, elapsed, None);
            messages.info(&format!(
                "progress: done, {} rows read ({} rejected) in {:.1} s, {:.0} rows/s",
                status.rows,
                status.rejected,
                elapsed.as_secs_f64(),
                status.rate
            ));
        }
    }
}

/// Where a run is, as shown.
#[derive(Debug)]
struct Status {
    rows: u64,
    rejected: u64,
    /// Rows per second so far.
    rate: f64,
    total: Option<u64>,
}

impl Status {
    fn of(summary: &Summary, elapsed: Duration, total: Option<u64>) -> Status {
        Status {
            rows: summary.rows_read,
            rejected: summary.rejected,
            rate: summary.rows_read as f64 / elapsed.as_secs_f64().max(1e-9),
            total,
        }
    }

    /// Remaining rows / rows per second; None without a total or before the first row.
    fn eta(&self) -> Option<Duration> {
        let total = self.total?;
        if self.rows == 0 || !self.rate.is_finite() || self.rate <= 0.0 {
            return None;
        }
        let remaining = total.saturating_sub(self.rows) as f64;
        Duration::try_from_secs_f64(remaining / self.rate).ok()
    }

    fn eta_text(&self) -> String {
        self.eta().map_or("--:--:--".into(), clock)
    }

    /// The message beside the bar (the bar itself shows rows done, and the total if known).
    fn bar_message(&self) -> String {
        let eta = match self.total {
            Some(_) => format!(", ETA {}", self.eta_text()),
            None => String::new(),
        };
        format!("{:.0} rows/s{eta}, {} rejected", self.rate, self.rejected)
    }

    /// A `--progress` line.
    fn line(&self) -> String {
        match self.total {
            Some(total) => format!(
                "progress: {} of about {total} rows read ({} rejected), {:.0} rows/s, ETA {}",
                self.rows,
                self.rejected,
                self.rate,
                self.eta_text()
            ),
            None => format!(
                "progress: {} rows read ({} rejected), {:.0} rows/s",
                self.rows, self.rejected, self.rate
            ),
        }
    }
}

/// The first `--progress` line: the estimate, or why there is none.
fn start_line(total_rows: Option<u64>, inputs: usize) -> String {
    let files = if inputs == 1 { "input" } else { "inputs" };
    match total_rows {
        Some(total) => format!(
            "progress: about {total} data rows in {inputs} {files} (ETA from rows per second)"
        ),
        None => format!(
            "progress: rows of {inputs} {files} not known ahead (compressed, stdin or not a regular file): rows and rows/s, no ETA"
        ),
    }
}

/// `h:mm:ss`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The data rows of all inputs; None when any input has no cheap total (stdin, compressed,
/// binary, not a regular file, unreadable: the run itself reports an unreadable input).
fn estimate_rows(inputs: &[Input]) -> Option<u64> {
    inputs
        .iter()
        .map(|input| match input {
            Input::Stdin => None,
            Input::File(path) => file_rows(path).ok().flatten(),
        })
        .sum()
}

/// The data rows of one file: its lines (LF, CRLF or CR-only endings, a last line without
/// one counted) minus the header. None for a non-regular file (a FIFO is never opened) or a
/// compressed or binary one.
fn file_rows(path: &Path) -> io::Result<Option<u64>> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 18];
    let (mut lf, mut cr) = (0u64, 0u64);
    let mut first = true;
    let mut last = None;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        if first {
            if NOT_TEXT.iter().any(|magic| chunk.starts_with(magic)) {
                return Ok(None);
            }
            first = false;
        }
        lf += count(chunk, b'\n');
        cr += count(chunk, b'\r');
        last = chunk.last().copied();
    }
    let ends = if lf > 0 { lf } else { cr };
    let unterminated = last.is_some_and(|b| b != b'\n' && b != b'\r');
    Ok(Some((ends + u64::from(unterminated)).saturating_sub(1)))
}

fn count(bytes: &[u8], byte: u8) -> u64 {
    bytes.iter().filter(|b| **b == byte).count() as u64
}

fn progress_bar(total_rows: Option<u64>) -> indicatif::ProgressBar {
    let style = |template: &str| {
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
    };
    let bar = match total_rows {
        Some(total) => {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(style(
                "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} rows, {msg}",
            ));
            bar
        }
        None => {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(style("{spinner} {elapsed_precise} {human_pos} rows, {msg}"));
            bar
        }
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(bytes: &[u8]) -> Option<u64> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(&path, bytes).unwrap();
        file_rows(&path).unwrap()
    }

    #[test]
    fn rows_are_lines_minus_the_header_for_every_line_ending() {
        assert_eq!(rows_of(b"patient_id,hb_g_dl\nP1,12\nP2,13\n"), Some(2));
        assert_eq!(
            rows_of(b"patient_id,hb_g_dl\r\nP1,12\r\nP2,13\r\n"),
            Some(2)
        );
        assert_eq!(rows_of(b"patient_id,hb_g_dl\rP1,12\rP2,13\r"), Some(2));
        assert_eq!(rows_of(b"patient_id,hb_g_dl\nP1,12\nP2,13"), Some(2));
        assert_eq!(rows_of(b"patient_id,hb_g_dl\n"), Some(0));
        assert_eq!(rows_of(b""), Some(0));
    }

    #[test]
    fn compressed_and_binary_files_stdin_and_fifos_have_no_total() {
        assert_eq!(rows_of(&[0x1f, 0x8b, 8, 0, b'\n', b'\n']), None);
        assert_eq!(rows_of(b"PAR1\n\n\n"), None);
        assert_eq!(estimate_rows(&[Input::Stdin]), None);
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, "h\n1\n2\n").unwrap();
        let b = dir.path().join("b.csv");
        std::fs::write(&b, "h\n1\n").unwrap();
        let files = [Input::File(a.clone()), Input::File(b)];
        assert_eq!(estimate_rows(&files), Some(3));
        assert_eq!(estimate_rows(&[Input::File(a), Input::Stdin]), None);
        // A directory stands for a non-regular file here: never opened, no total.
        assert_eq!(file_rows(dir.path()).unwrap(), None);
    }

    #[test]
    fn eta_is_remaining_rows_over_rows_per_second() {
        let status = Status {
            rows: 1000,
            rejected: 2,
            rate: 100.0,
            total: Some(4600),
        };
        assert_eq!(status.eta(), Some(Duration::from_secs(36)));
        assert_eq!(
            status.line(),
            "progress: 1000 of about 4600 rows read (2 rejected), 100 rows/s, ETA 0:00:36"
        );
        assert_eq!(status.bar_message(), "100 rows/s, ETA 0:00:36, 2 rejected");
        // More rows than estimated: nothing left, not a negative time.
        let over = Status {
            rows: 5000,
            ..status
        };
        assert_eq!(over.eta(), Some(Duration::ZERO));
        let unknown = Status {
            total: None,
            ..over
        };
        assert_eq!(unknown.eta(), None);
        assert_eq!(
            unknown.line(),
            "progress: 5000 rows read (2 rejected), 100 rows/s"
        );
        assert_eq!(unknown.bar_message(), "100 rows/s, 2 rejected");
        assert_eq!(clock(Duration::from_secs(3 * 3600 + 62)), "3:01:02");
    }
}
