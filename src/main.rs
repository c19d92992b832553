//! `neversent`: no subcommand opens the desktop app; `analyze`, `scan` and `clean` are the
//! command line (see `neversent --help`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("--demo") => match neversent::ui::run(!args.is_empty()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("neversent: cannot open the window: {e}");
                ExitCode::FAILURE
            }
        },
        Some(_) => ExitCode::from(neversent::cli::run(&args).clamp(0, 255) as u8),
    }
}
