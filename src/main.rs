//! The `fivexx` binary: the command line (see `fivexx --help`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use fivexx::cli::{Cli, Command, run_triage};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fivexx: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Triage(args) => run_triage(args).await,
        }
    });
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            match writeln!(stdout, "{out}").and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                // A closed pipe (`fivexx ... | head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("fivexx: cannot write the verdict: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("fivexx: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
