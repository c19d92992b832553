//! `neversent`: no subcommand opens the desktop app; `analyze`, `scan` and `clean` are the
//! command line (see `neversent --help`).

// Windows: a GUI-subsystem program, so starting the app opens no console window. The command
// line reattaches to the console it was started from (see `attach_parent_console`).
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_parser_panics();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        #[cfg(feature = "gui")]
        None | Some("--demo") => match neversent::ui::run(!args.is_empty()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("neversent: cannot open the window: {e}");
                ExitCode::FAILURE
            }
        },
        #[cfg(not(feature = "gui"))]
        None | Some("--demo") => {
            eprintln!(
                "neversent: this build has no desktop app (built without the gui feature)\n{}",
                neversent::cli::USAGE
            );
            ExitCode::from(2)
        }
        Some(_) => {
            #[cfg(windows)]
            attach_parent_console();
            ExitCode::from(neversent::cli::run(&args).clamp(0, 255) as u8)
        }
    }
}

/// mail-parser 0.11 panics on some malformed MIME; the analysis catches that and reports a
/// warning about the one message, so the panic message itself (and a backtrace) would only be
/// noise. Every other panic is reported as usual.
fn quiet_parser_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.location().is_some_and(|l| l.file().contains("mail-parser")) {
            return;
        }
        default(info);
    }));
}

/// Windows only: lets `neversent scan …` typed in cmd or PowerShell print there, although the
/// binary is a GUI-subsystem program. Output already redirected to a file or pipe is left
/// alone; started from Explorer there is no parent console and nothing happens.
#[cfg(windows)]
fn attach_parent_console() {
    use windows_sys::Win32::Foundation::{GENERIC_READ, GENERIC_WRITE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, GetFileType, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_TYPE_DISK,
        FILE_TYPE_PIPE, OPEN_EXISTING,
    };
    use windows_sys::Win32::System::Console::{
        AttachConsole, GetStdHandle, SetStdHandle, ATTACH_PARENT_PROCESS, STD_ERROR_HANDLE,
        STD_OUTPUT_HANDLE,
    };

    // SAFETY: plain Win32 calls on handles this process owns; no Rust memory is shared.
    unsafe {
        let redirected = |which| {
            let handle = GetStdHandle(which);
            !handle.is_null()
                && handle != INVALID_HANDLE_VALUE
                && matches!(GetFileType(handle), FILE_TYPE_DISK | FILE_TYPE_PIPE)
        };
        let (out_redirected, err_redirected) =
            (redirected(STD_OUTPUT_HANDLE), redirected(STD_ERROR_HANDLE));
        if (out_redirected && err_redirected) || AttachConsole(ATTACH_PARENT_PROCESS) == 0 {
            return;
        }
        let name: Vec<u16> = "CONOUT$\0".encode_utf16().collect();
        let console = CreateFileW(
            name.as_ptr(),
            GENERIC_READ | GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            std::ptr::null(),
            OPEN_EXISTING,
            0,
            std::ptr::null_mut(),
        );
        if console == INVALID_HANDLE_VALUE {
            return;
        }
        if !out_redirected {
            SetStdHandle(STD_OUTPUT_HANDLE, console);
        }
        if !err_redirected {
            SetStdHandle(STD_ERROR_HANDLE, console);
        }
    }
}
