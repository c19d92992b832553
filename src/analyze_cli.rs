//! `neversent analyze PATH... [--json]`: analyse .eml files, directories
//! (recursively) and mbox files, printing JSON Lines or a table.
//!
//! Refers to the engine as `crate::bounce`, so it can live in the main crate
//! unchanged.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bounce::{self, Analysis};

#[derive(Serialize)]
struct JsonOriginal<'a> {
    message_id: &'a Option<String>,
    recipients: &'a [String],
    from: &'a Option<String>,
    subject: &'a Option<String>,
    date: &'a Option<String>,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    path: &'a str,
    index: usize,
    kind: &'static str,
    original: JsonOriginal<'a>,
    status: &'a Option<String>,
    diagnostic: &'a Option<String>,
    evidence: &'a [String],
}

/// Per-message upper bound kept in memory while splitting an mbox.
const MAX_MESSAGE: usize = bounce::MAX_INPUT + 1;
const MAX_DEPTH: usize = 64;

pub const USAGE: &str = "usage: neversent analyze PATH... [--json]";

/// Run the analyze subcommand.  `args` are the arguments after "analyze".
/// Returns the process exit code (0 ok, 1 nothing could be read) or an
/// error message for bad usage (exit code 2).
pub fn run(args: &[String]) -> Result<i32, String> {
    let mut json = false;
    let mut paths: Vec<PathBuf> = Vec::new();
    for a in args {
        match a.as_str() {
            "--json" => json = true,
            "-h" | "--help" => {
                println!("{}", USAGE);
                return Ok(0);
            }
            s if s.starts_with("--") => return Err(format!("unknown option {}\n{}", s, USAGE)),
            s => paths.push(PathBuf::from(s)),
        }
    }
    if paths.is_empty() {
        return Err(USAGE.to_string());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut ctx = Ctx { json, analysed: 0, failed: 0, out: &mut out };
    if !json {
        let _ = writeln!(
            ctx.out,
            "{:<18} {:<7} {:<40} {:<30} PATH",
            "KIND", "STATUS", "ORIGINAL MESSAGE-ID", "RECIPIENT"
        );
    }
    for p in &paths {
        walk(p, &mut ctx, 0);
    }
    let _ = ctx.out.flush();
    if ctx.analysed == 0 && ctx.failed > 0 {
        return Ok(1);
    }
    Ok(0)
}

struct Ctx<'a, W: Write> {
    json: bool,
    analysed: usize,
    failed: usize,
    out: &'a mut W,
}

fn walk<W: Write>(p: &Path, ctx: &mut Ctx<'_, W>, depth: usize) {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("warning: {}: {}", p.display(), e);
            ctx.failed += 1;
            return;
        }
    };
    if meta.is_dir() {
        if depth > MAX_DEPTH {
            eprintln!("warning: {}: directory nesting too deep, skipped", p.display());
            return;
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                eprintln!("warning: {}: {}", p.display(), e);
                ctx.failed += 1;
                return;
            }
        };
        entries.sort();
        for e in entries {
            // skip hidden files and our own sidecar files
            let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || name.ends_with(".json") {
                continue;
            }
            walk(&e, ctx, depth + 1);
        }
        return;
    }
    if let Err(e) = analyse_file(p, ctx) {
        eprintln!("warning: {}: {}", p.display(), e);
        ctx.failed += 1;
    }
}

fn analyse_file<W: Write>(p: &Path, ctx: &mut Ctx<'_, W>) -> std::io::Result<()> {
    let f = File::open(p)?;
    let mut r = BufReader::with_capacity(64 * 1024, f);
    let is_mbox = r.fill_buf()?.starts_with(b"From ");
    let path = p.display().to_string();
    if !is_mbox {
        let mut buf = Vec::new();
        r.take(MAX_MESSAGE as u64).read_to_end(&mut buf)?;
        emit(&path, 0, &buf, ctx);
        return Ok(());
    }
    // mbox: messages start at "From " lines (at the start or after a blank line)
    let mut index = 0usize;
    let mut msg: Vec<u8> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut prev_blank = true;
    let mut started = false;
    loop {
        line.clear();
        let n = read_line(&mut r, &mut line)?;
        if n == 0 {
            break;
        }
        if line.starts_with(b"From ") && prev_blank {
            if started {
                emit(&path, index, &msg, ctx);
                index += 1;
            }
            started = true;
            msg.clear();
            prev_blank = false;
            continue;
        }
        prev_blank = matches!(&line[..], b"\n" | b"\r\n" | b"\r" | b"\r\r\n");
        // mboxrd unescaping of ">From " lines
        let content: &[u8] = if line.starts_with(b">")
            && line.iter().skip_while(|&&b| b == b'>').take(5).eq(b"From ".iter())
        {
            &line[1..]
        } else {
            &line
        };
        if msg.len() + content.len() <= MAX_MESSAGE {
            msg.extend_from_slice(content);
        }
    }
    if started {
        emit(&path, index, &msg, ctx);
    }
    Ok(())
}

/// Read one line into `line` (cleared by the caller), terminator included: LF, CRLF, CR CR LF
/// or a bare CR (old Mac mailboxes), so a CR-only mbox is split at its "From " lines too.
/// Returns the number of bytes read, 0 at the end of the input.
fn read_line<R: BufRead>(r: &mut R, line: &mut Vec<u8>) -> std::io::Result<usize> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(line.len());
        }
        if line.last() == Some(&b'\r') {
            // the line ended in a CR: CRLF, CR CR LF (CRLF converted once more,
            // as the engine reads it) or a bare CR
            let more: &[u8] = if buf[0] == b'\n' {
                b"\n"
            } else if buf.starts_with(b"\r\n") {
                b"\r\n"
            } else {
                b""
            };
            line.extend_from_slice(more);
            r.consume(more.len());
            return Ok(line.len());
        }
        match memchr::memchr2(b'\n', b'\r', buf) {
            Some(i) => {
                let lf = buf[i] == b'\n';
                line.extend_from_slice(&buf[..=i]);
                r.consume(i + 1);
                if lf {
                    return Ok(line.len());
                }
            }
            None => {
                let n = buf.len();
                line.extend_from_slice(buf);
                r.consume(n);
            }
        }
    }
}

fn emit<W: Write>(path: &str, index: usize, raw: &[u8], ctx: &mut Ctx<'_, W>) {
    let a: Analysis = bounce::analyze(raw);
    ctx.analysed += 1;
    for w in &a.warnings {
        eprintln!("warning: {}#{}: {}", path, index, w);
    }
    if ctx.json {
        let line = JsonLine {
            path,
            index,
            kind: bounce::kind_name(&a.kind),
            original: JsonOriginal {
                message_id: &a.original.message_id,
                recipients: &a.original.recipients,
                from: &a.original.from,
                subject: &a.original.subject,
                date: &a.original.date,
            },
            status: &a.status,
            diagnostic: &a.diagnostic,
            evidence: &a.evidence,
        };
        if let Ok(s) = serde_json::to_string(&line) {
            let _ = writeln!(ctx.out, "{}", s);
        }
    } else {
        let loc = if index > 0 { format!("{}#{}", path, index) } else { path.to_string() };
        let _ = writeln!(
            ctx.out,
            "{:<18} {:<7} {:<40} {:<30} {}",
            bounce::kind_name(&a.kind),
            a.status.as_deref().unwrap_or("-"),
            clip(a.original.message_id.as_deref().unwrap_or("-"), 40),
            clip(a.original.recipients.first().map(|s| s.as_str()).unwrap_or("-"), 30),
            loc
        );
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
