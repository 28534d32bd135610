//! anemia-engine binary: parse arguments, run the command, exit with its documented status
//! (see [`anemia_engine::app::ExitStatus`]).

use std::process::ExitCode;

use anemia_engine::app;
use anemia_engine::cli::Cli;
use anemia_engine::messages::Messages;
use clap::Parser;

/// The engine allocates many short strings per row (evidence, rendered cells); mimalloc
/// handles that pattern markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The library's messages, on stderr.
struct Stderr;

impl Messages for Stderr {
    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }
    fn info(&self, line: &str) {
        eprintln!("{line}");
    }
    fn report(&self, text: &str) {
        eprint!("{text}");
    }
}

fn main() -> ExitCode {
    let status = match app::run(Cli::parse(), &Stderr) {
        Ok(status) => status,
        Err(err) => {
            let status = err.exit_status();
            let err = anyhow::Error::new(err);
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            status
        }
    };
    ExitCode::from(status.code())
}
