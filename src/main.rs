//! `wabill`: the command line over the wabill library. Parses arguments, opens files, calls the
//! library, renders, and maps errors to exit codes (0 success, 1 bad data or configuration,
//! 2 bad usage, 3 `reconcile --check` found disagreements). Messages go to stderr; a closed stdout ends the run quietly.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(status) => ExitCode::from(status),
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = format!("wabill: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}
