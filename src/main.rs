//! anemia-engine binary: parse arguments, run the command, exit with its documented status
//! (see [`anemia_engine::app::ExitStatus`]).

use std::io::Write;
use std::process::ExitCode;

use anemia_engine::app;
use anemia_engine::cli::Cli;
use anemia_engine::messages::Messages;
use clap::Parser;

/// The library's messages, on stderr. A closed stderr loses them but never stops the run
/// (`eprintln!` would panic).
struct Stderr;

fn to_stderr(text: &str) {
    let text = anemia_engine::messages::escape_controls(text);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

impl Messages for Stderr {
    fn warn(&self, line: &str) {
        to_stderr(&format!("{line}\n"));
    }
    fn info(&self, line: &str) {
        to_stderr(&format!("{line}\n"));
    }
    fn report(&self, text: &str) {
        to_stderr(text);
    }
}

/// SIGINT, SIGTERM and SIGHUP remove the run's temporary output files, then end the process
/// with 128 + the signal's number (130, 143, 129), as a shell reports a signal.
fn remove_temp_files_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            anemia_engine::report::atomic::remove_temp_files();
            std::process::exit(128 + signal);
        }
    });
}

fn main() -> ExitCode {
    remove_temp_files_on_signals();
    let status = match app::run(Cli::parse(), &Stderr) {
        Ok(status) => status,
        Err(err) => {
            let status = err.exit_status();
            if status != app::ExitStatus::ClosedStdout {
                let err = anyhow::Error::new(err);
                to_stderr(&format!("error: {err}\n"));
                for cause in err.chain().skip(1) {
                    to_stderr(&format!("  caused by: {cause}\n"));
                }
            }
            status
        }
    };
    ExitCode::from(status.code())
}
