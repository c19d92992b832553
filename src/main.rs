use std::process::ExitCode;

fn main() -> ExitCode {
    match neversent::ui::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("neversent: cannot open the window: {e}");
            ExitCode::FAILURE
        }
    }
}
