//! Throughput benchmark: NeverSent `analyze` vs mail-parser alone vs Sisimai.
//!
//! cargo bench --bench analyze -- [DIR_OR_FILES...] [--iters N] [--no-sisimai]
//! Default input: the project's own fixtures (tests/fixtures/bounces); name a directory of
//! real bounces (e.g. the measurement corpus) for the figures that matter.
//!
//! Each side is measured twice, so that the ratios compare like with like:
//! - in memory: the messages read beforehand, the engine alone (NeverSent's `analyze(&[u8])`;
//!   Sisimai's `make(\$text)`);
//! - from files: each pass opens and reads every file (NeverSent: each file's path given to the
//!   reading code of `neversent analyze`, then `analyze`; Sisimai: `make($path)` for each file,
//!   which reads the file itself).
//!
//! Sisimai runs in one Perl process per way; its first pass over the files is timed apart from
//! three more (it loads the module for each MTA format the first time it meets one).

use std::path::{Path, PathBuf};
use std::time::Instant;

use mail_parser::MessageParser;
use neversent::analyze_cli::{Item, MessageFiles};
use neversent::bounce;

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        if let Ok(rd) = std::fs::read_dir(p) {
            let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            v.sort();
            for e in v {
                walk(&e, out);
            }
        }
    } else if p.extension().and_then(|e| e.to_str()) == Some("eml") {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let mut iters = 20usize;
    let mut sisimai = true;
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {}
            "--iters" => iters = args.next().and_then(|x| x.parse().ok()).unwrap_or(iters),
            "--no-sisimai" => sisimai = false,
            s => walk(Path::new(s), &mut inputs),
        }
    }
    if inputs.is_empty() {
        walk(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bounces")),
            &mut inputs,
        );
    }
    let data: Vec<Vec<u8>> = inputs.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let n = data.len();
    let bytes: usize = data.iter().map(|d| d.len()).sum();
    println!("{} messages, {:.1} KiB, {} iterations", n, bytes as f64 / 1024.0, iters);
    if n == 0 {
        return;
    }
    // warm-up
    let mut sink = 0usize;
    for d in &data {
        sink += bounce::analyze(d).evidence.len();
    }
    let t = Instant::now();
    for _ in 0..iters {
        for d in &data {
            sink += bounce::analyze(d).evidence.len();
        }
    }
    let ns = t.elapsed().as_secs_f64();
    let ns_rate = (n * iters) as f64 / ns;
    // The same files, read as `neversent analyze` reads them (each is a file: nothing to skip).
    let mut files = MessageFiles::default();
    let t = Instant::now();
    let mut read = 0;
    for _ in 0..iters {
        for p in &inputs {
            files.visit(p, &|_, _| true, &mut |item| {
                if let Item::Message { raw, index, .. } = item {
                    sink += bounce::analyze(raw).evidence.len();
                    // Files, as the other figures count (an mbox-like .eml gives more than one
                    // message, as it does to Sisimai).
                    read += usize::from(index == 0);
                }
            });
        }
    }
    assert_eq!(read, n * iters, "the walk read other files than the list Sisimai is given");
    let ns_files = t.elapsed().as_secs_f64();
    let ns_files_rate = read as f64 / ns_files;
    let parser = MessageParser::default();
    let t = Instant::now();
    for _ in 0..iters {
        for d in &data {
            sink += parser.parse(d).map(|m| m.parts.len()).unwrap_or(0);
        }
    }
    let mp = t.elapsed().as_secs_f64();
    let mp_rate = (n * iters) as f64 / mp;
    println!(
        "NeverSent analyze, in memory  : {:>10.0} msgs/s  ({:.3} s for {} msgs)",
        ns_rate,
        ns,
        n * iters
    );
    println!("NeverSent analyze, from files : {:>10.0} msgs/s  ({:.3} s)", ns_files_rate, ns_files);
    println!("mail-parser parse, in memory  : {:>10.0} msgs/s  ({:.3} s)", mp_rate, mp);
    println!("NeverSent / mail-parser time ratio: {:.2}x (goal <= 2x)", ns / mp);
    if sisimai {
        for (way, from_files, ours) in
            [("in memory", false, ns_rate), ("from files", true, ns_files_rate)]
        {
            match run_sisimai(&inputs, from_files) {
                Ok(s) => {
                    let cold = s.count as f64 / s.first_pass;
                    let warm = (s.count * s.warm_passes) as f64 / s.warm_secs;
                    println!(
                        "Sisimai (perl), {way:<10}: first pass {cold:>6.0} msgs/s ({:.3} s for {} msgs), then {warm:>6.0} msgs/s ({} more passes, {:.3} s)",
                        s.first_pass, s.count, s.warm_passes, s.warm_secs
                    );
                    println!(
                        "NeverSent / Sisimai, {way:<10}: {:.1}x against its first pass, {:.1}x against it warm (goal >= 50x)",
                        ours / cold,
                        ours / warm
                    );
                }
                Err(e) => println!("Sisimai not run: {}", e),
            }
        }
    }
    if sink == usize::MAX {
        println!("{}", sink);
    }
}

struct SisimaiRun {
    count: usize,
    /// Seconds for the first pass over the files, in a fresh process.
    first_pass: f64,
    /// Passes after the first, and the seconds they took together.
    warm_passes: usize,
    warm_secs: f64,
}

/// Sisimai over `files` in one Perl process: given each file's path (`from_files`: it reads the
/// file itself), or each message's text read beforehand.
fn run_sisimai(files: &[PathBuf], from_files: bool) -> Result<SisimaiRun, String> {
    let list = std::env::temp_dir().join(format!("neversent-bench-{}.lst", std::process::id()));
    let body: String = files.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::write(&list, body).map_err(|e| e.to_string())?;
    // The first pass is timed alone: Sisimai loads the module for each MTA format the first time
    // it meets one. Three more passes in the same process give its steady-state speed.
    let script = r#"
use strict; use warnings; use Sisimai; use Time::HiRes qw(time);
open(my $fh, '<', $ARGV[0]) or die $!; my @f = <$fh>; chomp @f; close $fh;
my $from_files = $ARGV[1];
my @d = $from_files ? () : map {
    local $/; open(my $h, '<:raw', $_) or die "$_: $!"; my $x = <$h>; close $h; $x
} @f;
my @t;
for my $pass (0..3) {
    my $t0 = time;
    if ($from_files) { for my $p (@f) { my $r = Sisimai->make($p) // []; } }
    else { for my $x (@d) { my $r = Sisimai->make(\$x) // []; } }
    push @t, time - $t0;
}
printf "%d %.6f %.6f\n", scalar(@f), $t[0], $t[1] + $t[2] + $t[3];
"#;
    let out = std::process::Command::new("perl")
        .arg("-e")
        .arg(script)
        .arg(&list)
        .arg(if from_files { "1" } else { "0" })
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&list);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).chars().take(500).collect());
    }
    let s = String::from_utf8_lossy(&out.stdout);
    let mut it = s.split_whitespace();
    let mut num = || it.next().and_then(|x| x.parse::<f64>().ok()).ok_or("bad perl output");
    let count = num()? as usize;
    let first_pass = num()?;
    let warm_secs = num()?;
    Ok(SisimaiRun { count, first_pass, warm_passes: 3, warm_secs })
}
