//! Progress of a classify run on stderr: a live bar when stderr is a terminal, or periodic
//! plain lines (`--progress`) sent to the messages sink.

use std::io::IsTerminal;
use std::time::Instant;

use super::Progress;
use crate::messages::Messages;
use crate::report::summary::Summary;

/// Seconds between two progress lines.
const LINE_INTERVAL_SECONDS: u64 = 5;

/// Shows how far a run has got, after every batch.
pub(super) struct ProgressReport {
    mode: Progress,
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: Instant,
    /// Sizes are known for files, not for stdin; compressed inputs count compressed bytes.
    total_bytes: Option<u64>,
}

impl ProgressReport {
    pub(super) fn new(mode: Progress, total_bytes: Option<u64>, started: Instant) -> Self {
        ProgressReport {
            mode,
            bar: progress_bar(mode, total_bytes),
            started,
            last_line: Instant::now(),
            total_bytes,
        }
    }

    /// Updates the bar, or sends a progress line when one is due.
    pub(super) fn update(&mut self, summary: &Summary, bytes_done: u64, messages: &dyn Messages) {
        let rate = summary.rows_read as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        if let Some(b) = &self.bar {
            b.set_position(bytes_done);
            b.set_message(format!(
                "{} rows, {rate:.0} rows/s, {} rejected",
                summary.rows_read, summary.rejected
            ));
        } else if self.mode == Progress::Lines
            && self.last_line.elapsed().as_secs() >= LINE_INTERVAL_SECONDS
        {
            self.last_line = Instant::now();
            let share = self
                .total_bytes
                .filter(|t| *t > 0)
                .map_or(String::new(), |t| {
                    format!(
                        ", {:.1} % of input bytes",
                        100.0 * bytes_done as f64 / t as f64
                    )
                });
            messages.info(&format!(
                "progress: {} rows read ({} rejected), {rate:.0} rows/s{share}",
                summary.rows_read, summary.rejected
            ));
        }
    }

    /// Clears the bar.
    pub(super) fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

fn progress_bar(mode: Progress, total_bytes: Option<u64>) -> Option<indicatif::ProgressBar> {
    if mode == Progress::Quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let style = |template: &str| {
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
    };
    let bar = match total_bytes {
        Some(total) => {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(style(
                "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} ETA {eta} {msg}",
            ));
            bar
        }
        None => {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(style("{spinner} {elapsed_precise} {bytes} {msg}"));
            bar
        }
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    Some(bar)
}
