#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        // mail-parser 0.11.9 has a known explicit panic on some malformed
        // multipart input ("Invalid part ID, could not find multipart");
        // `analyze` catches it with catch_unwind and reports a warning.
        // libfuzzer-sys aborts on every panic, so tolerate panics raised
        // inside mail-parser only; any panic in our code still aborts.
        std::panic::set_hook(Box::new(|info| {
            if info.location().is_some_and(|l| l.file().contains("mail-parser")) {
                return;
            }
            eprintln!("{info}");
            std::process::abort();
        }));
    });
    let a = neversent::bounce::analyze(data);
    let n = a.evidence.iter().map(|s| s.len()).sum::<usize>() + a.original.recipients.len();
    std::hint::black_box(n);
    std::hint::black_box(neversent::bounce::headers_suggest_bounce(data));
});
