//! `neversent analyze PATH... [--json]`: analyse .eml files, directories
//! (recursively) and mbox files, printing JSON Lines or a table.
//!
//! Refers to the engine as `crate::bounce`, so it can live in the main crate
//! unchanged.

use std::ffi::OsStr;
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
    let mut files = MessageFiles::default();
    // Hidden files and our own sidecar files (fixtures' expected answers) are skipped.
    let keep = |name: &OsStr, _is_dir: bool| {
        let name = name.to_str().unwrap_or("");
        !(name.starts_with('.') || name.ends_with(".json"))
    };
    for p in &paths {
        files.visit(p, &keep, &mut |item| match item {
            Item::Message { path, index, raw } => {
                emit(&path.display().to_string(), index, raw, &mut ctx)
            }
            Item::Unreadable { path, error } => {
                eprintln!("warning: {}: {}", path.display(), error);
                ctx.failed += 1;
            }
        });
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

/// What [`MessageFiles::visit`] finds: a message, or a file or directory it could not read.
pub enum Item<'a> {
    /// Message number `index` of the file at `path` (0 unless the file is an mbox); at most
    /// `MAX_INPUT + 1` bytes of it, so the engine sees that it was cut.
    Message {
        path: &'a Path,
        index: usize,
        raw: &'a [u8],
    },
    Unreadable {
        path: &'a Path,
        error: std::io::Error,
    },
}

/// Reads messages as `analyze` does: files, directories (recursively, entries sorted by name)
/// and mbox files (split at their "From " lines). A file is read whole into one buffer reused for
/// every file, with no stat or seek; on Unix a directory's files are opened relative to the
/// directory, so the kernel does not walk the whole path again for each.
#[derive(Default)]
pub struct MessageFiles {
    /// The file read last is `buf[..len]`. `buf` only grows, and all of it stays initialised,
    /// so reading into it never clears memory again.
    buf: Vec<u8>,
    len: usize,
    /// The directory of the last path given to [`Self::visit`], open.
    last_directory: Option<(PathBuf, Opener)>,
}

impl MessageFiles {
    /// Calls `found` for each message under `path`. Entries of a directory whose name `keep`
    /// refuses (given the name and whether it is a directory) are skipped; `path` itself is
    /// always read.
    pub fn visit(
        &mut self,
        path: &Path,
        keep: &dyn Fn(&OsStr, bool) -> bool,
        found: &mut dyn FnMut(Item<'_>),
    ) {
        // Most paths given are files: open and read first, and only when that fails ask whether
        // it was a directory (reading one fails). A file is opened relative to its directory,
        // which stays open while the next paths are in the same one.
        let parent = path.parent().unwrap_or(Path::new(""));
        let opener = match self.last_directory.take() {
            Some((dir, opener)) if dir == parent => opener,
            _ => Opener::directory(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })
            .unwrap_or(Opener::Path),
        };
        let read = self.file(path, &opener, found);
        self.last_directory = Some((parent.to_path_buf(), opener));
        if let Err(error) = read {
            if path.is_dir() {
                self.directory(path, keep, found, 0);
            } else {
                found(Item::Unreadable { path, error });
            }
        }
    }

    fn directory(
        &mut self,
        path: &Path,
        keep: &dyn Fn(&OsStr, bool) -> bool,
        found: &mut dyn FnMut(Item<'_>),
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            let error = std::io::Error::other("directory nesting too deep, skipped");
            return found(Item::Unreadable { path, error });
        }
        let listed = std::fs::read_dir(path).and_then(|rd| {
            let opener = Opener::directory(path)?;
            Ok((rd, opener))
        });
        let (rd, opener) = match listed {
            Ok(x) => x,
            Err(error) => return found(Item::Unreadable { path, error }),
        };
        // The entry's type comes with the listing on most file systems; a symbolic link (or
        // an unknown type) is followed to see whether it is a directory.
        let mut entries: Vec<(PathBuf, bool)> = rd
            .filter_map(|e| {
                let e = e.ok()?;
                let ty = e.file_type().ok()?;
                let path = e.path();
                let is_dir = if ty.is_symlink() { path.is_dir() } else { ty.is_dir() };
                Some((path, is_dir))
            })
            .filter(|(p, is_dir)| p.file_name().is_some_and(|n| keep(n, *is_dir)))
            .collect();
        // (All in one directory: comparing the bytes is comparing the names, and much cheaper
        // than comparing paths component by component.)
        entries.sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
        for (entry, is_dir) in entries {
            if is_dir {
                self.directory(&entry, keep, found, depth + 1);
            } else if let Err(error) = self.file(&entry, &opener, found) {
                found(Item::Unreadable { path: &entry, error });
            }
        }
    }

    /// Reads the file at `path` and reports its messages, or an error while reading it. Fails
    /// (reporting nothing) if it cannot be opened or read at all, as a directory cannot.
    fn file(
        &mut self,
        path: &Path,
        opener: &Opener,
        found: &mut dyn FnMut(Item<'_>),
    ) -> std::io::Result<()> {
        let mut f = opener.open(path)?;
        // The first read (usually the whole file) tells an mbox from one message.
        self.len = 0;
        self.fill(&mut f, 5)?;
        if self.buf[..self.len].starts_with(b"From ") {
            let read = std::io::Cursor::new(&self.buf[..self.len]).chain(f);
            if let Err(error) = split_mbox(BufReader::with_capacity(64 * 1024, read), path, found) {
                found(Item::Unreadable { path, error });
            }
            return Ok(());
        }
        match self.fill(&mut f, MAX_MESSAGE) {
            Ok(()) => found(Item::Message { path, index: 0, raw: &self.buf[..self.len] }),
            Err(error) => found(Item::Unreadable { path, error }),
        }
        Ok(())
    }

    /// Reads on from `r` until the file read holds `least` bytes (at most [`MAX_MESSAGE`]) or
    /// the input ends.
    fn fill(&mut self, r: &mut impl Read, least: usize) -> std::io::Result<()> {
        while self.len < least {
            if self.len == self.buf.len() {
                let size = (2 * self.buf.len()).clamp(64 * 1024, MAX_MESSAGE);
                if size <= self.len {
                    return Ok(());
                }
                self.buf.resize(size, 0);
            }
            let room = MAX_MESSAGE.min(self.buf.len());
            match r.read(&mut self.buf[self.len..room]) {
                Ok(0) => return Ok(()),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// How a directory's files are opened.
enum Opener {
    /// By their whole path.
    Path,
    /// Relative to the directory (Unix): the kernel resolves one name, not the whole path.
    #[cfg(unix)]
    Directory(std::os::fd::OwnedFd),
}

impl Opener {
    #[cfg(unix)]
    fn directory(path: &Path) -> std::io::Result<Opener> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Opener::Directory(rustix::fs::open(path, flags, Mode::empty())?))
    }

    #[cfg(not(unix))]
    fn directory(_: &Path) -> std::io::Result<Opener> {
        Ok(Opener::Path)
    }

    fn open(&self, path: &Path) -> std::io::Result<File> {
        match self {
            Opener::Path => File::open(path),
            #[cfg(unix)]
            Opener::Directory(dir) => {
                use rustix::fs::{Mode, OFlags};
                let name = path.file_name().ok_or(std::io::ErrorKind::InvalidInput)?;
                let fd =
                    rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
                Ok(File::from(fd))
            }
        }
    }
}

/// Splits an mbox at its "From " lines (at the start or after a blank line), undoing mboxrd's
/// ">From " quoting, and reports each message.
fn split_mbox(
    mut r: impl BufRead,
    path: &Path,
    found: &mut dyn FnMut(Item<'_>),
) -> std::io::Result<()> {
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
                found(Item::Message { path, index, raw: &msg });
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
        found(Item::Message { path, index, raw: &msg });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message `visit` reports for `paths`, as (file name, index, bytes), and the names of
    /// the paths it could not read.
    /// A message found: its file's name, its index in the file, its bytes.
    type Found = (String, usize, Vec<u8>);

    fn visit_all(paths: &[PathBuf]) -> (Vec<Found>, Vec<String>) {
        let keep = |name: &OsStr, _: bool| !name.to_string_lossy().starts_with('.');
        let mut files = MessageFiles::default();
        let (mut messages, mut failed) = (Vec::new(), Vec::new());
        let name = |p: &Path| p.file_name().expect("a file name").to_string_lossy().into_owned();
        for p in paths {
            files.visit(p, &keep, &mut |item| match item {
                Item::Message { path, index, raw } => {
                    messages.push((name(path), index, raw.to_vec()))
                }
                Item::Unreadable { path, .. } => failed.push(name(path)),
            });
        }
        (messages, failed)
    }

    fn message(fill: u8, len: usize) -> Vec<u8> {
        let mut m = b"Subject: x\r\n\r\n".to_vec();
        m.resize(len, fill);
        m
    }

    #[test]
    fn files_are_read_whole_into_one_reused_buffer_and_cut_after_the_limit() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // Smaller than the first read, larger (the buffer grows), a large one after a small
        // one (the buffer is reused), and one beyond the limit.
        let sizes =
            [("a.eml", 900), ("b.eml", 200_000), ("c.eml", 30), ("d.eml", MAX_MESSAGE + 5_000)];
        let mut paths = Vec::new();
        for (i, (name, len)) in sizes.iter().enumerate() {
            let p = dir.path().join(name);
            std::fs::write(&p, message(b'a' + i as u8, *len)).expect("a file written");
            paths.push(p);
        }
        paths.push(dir.path().join("missing.eml"));
        let (messages, failed) = visit_all(&paths);
        assert_eq!(failed, ["missing.eml"]);
        assert_eq!(messages.len(), 4);
        for (i, ((name, len), (got, index, raw))) in sizes.iter().zip(&messages).enumerate() {
            assert_eq!((got.as_str(), *index), (*name, 0));
            assert_eq!(raw, &message(b'a' + i as u8, (*len).min(MAX_MESSAGE)), "{name}");
        }
    }

    #[test]
    fn a_directory_given_among_files_is_walked_and_an_mbox_split_across_reads() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let sub = dir.path().join("sub");
        std::fs::create_dir_all(sub.join("deeper")).expect("a directory");
        std::fs::write(sub.join("z.eml"), message(b'z', 100)).expect("a file written");
        std::fs::write(sub.join("deeper").join("y.eml"), message(b'y', 100))
            .expect("a file written");
        std::fs::write(sub.join(".hidden"), message(b'h', 100)).expect("a file written");
        // An mbox larger than the first read: its later messages come from the file itself.
        let parts = [message(b'1', 50_000), message(b'2', 40_000), message(b'3', 10)];
        let mut mbox = Vec::new();
        for part in &parts {
            mbox.extend_from_slice(b"From someone@example.com Mon Dec  7 10:00:00 2026\r\n");
            mbox.extend_from_slice(part);
            mbox.extend_from_slice(b"\r\n\r\n");
        }
        std::fs::write(dir.path().join("box.mbox"), &mbox).expect("a file written");
        std::fs::write(dir.path().join("x.eml"), message(b'x', 10)).expect("a file written");
        let paths = [dir.path().join("x.eml"), sub.clone(), dir.path().join("box.mbox")];
        let (messages, failed) = visit_all(&paths);
        assert!(failed.is_empty(), "{failed:?}");
        let names: Vec<(&str, usize)> = messages.iter().map(|(n, i, _)| (n.as_str(), *i)).collect();
        assert_eq!(
            names,
            [
                ("x.eml", 0),
                ("y.eml", 0),
                ("z.eml", 0),
                ("box.mbox", 0),
                ("box.mbox", 1),
                ("box.mbox", 2)
            ]
        );
        for (part, (_, _, raw)) in parts.iter().zip(&messages[3..]) {
            let mut expected = part.clone();
            expected.extend_from_slice(b"\r\n\r\n");
            assert_eq!(raw, &expected);
        }
    }
}
