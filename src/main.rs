//! The `fivexx` binary: a Lambda function when the Lambda runtime starts it
//! (`AWS_LAMBDA_RUNTIME_API` set, no arguments), else the command line (`fivexx --help`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use fivexx::cli::{Cli, Command, run_triage};

fn main() -> ExitCode {
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
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() <= 1 {
        return match runtime.block_on(fivexx::lambda::run()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fivexx: {e}");
                ExitCode::from(1)
            }
        };
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fivexx: {}", fivexx::cli::usage_line(&e));
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Triage(args) => run_triage(args).await,
            Command::Rules => Ok(fivexx::rules::catalog::markdown().trim_end().to_owned()),
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
