//! Bulk `UID FETCH` on the session's own connection, pipelined and parsed in one pass.
//!
//! The `imap` crate re-parses a response from its start for every line of a literal, which makes
//! fetching the headers of 100,000 messages about twice as slow as the wire allows. For the two
//! bulk fetches of a scan (header fields of every message, bodies of the bounces) we write the
//! commands ourselves on the same connection, keep a few in flight, and parse the responses with
//! the small reader below. Everything else (login, SELECT, MOVE, …) stays with the crate.

use std::io::{BufRead, Read, Write};

/// One message from a FETCH response.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawFetch {
    pub uid: Option<u32>,
    pub size: Option<u32>,
    /// The first BODY[…] section in the response (NIL → empty).
    pub section: Option<Vec<u8>>,
}

/// Why a raw command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawError {
    Io(String),
    /// The server answered NO or BAD.
    Refused(String),
    Protocol(String),
}

/// The most a single literal may hold (a body is asked for with a size cap; this is a guard
/// against a misbehaving server).
const MAX_LITERAL: usize = 64 << 20;
/// The most a response line without literals may hold.
const MAX_LINE: usize = 1 << 20;

/// Reads one whole response (a line, with the literals it announces inlined) into `out`.
/// Returns false at end of stream.
pub fn read_response<R: BufRead>(r: &mut R, out: &mut Vec<u8>) -> Result<bool, RawError> {
    out.clear();
    loop {
        let start = out.len();
        let n = r.read_until(b'\n', out).map_err(|e| RawError::Io(e.to_string()))?;
        if n == 0 {
            return Ok(!out.is_empty());
        }
        if out.len() - start > MAX_LINE {
            return Err(RawError::Protocol("overlong response line".into()));
        }
        let line = &out[start..];
        let trimmed =
            line.strip_suffix(b"\r\n").or_else(|| line.strip_suffix(b"\n")).unwrap_or(line);
        // A literal announcement "{123}" (or "{123+}") at the end of the line.
        if let Some(rest) = trimmed.strip_suffix(b"}") {
            if let Some(open) = rest.iter().rposition(|&b| b == b'{') {
                let digits = rest[open + 1..].strip_suffix(b"+").unwrap_or(&rest[open + 1..]);
                if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                    let len: usize = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| RawError::Protocol("bad literal length".into()))?;
                    if len > MAX_LITERAL {
                        return Err(RawError::Protocol(format!("literal of {len} bytes")));
                    }
                    let at = out.len();
                    out.resize(at + len, 0);
                    r.read_exact(&mut out[at..]).map_err(|e| RawError::Io(e.to_string()))?;
                    continue;
                }
            }
        }
        return Ok(true);
    }
}

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, s: &[u8]) -> bool {
        if self.b.get(self.i..self.i + s.len()).is_some_and(|x| x.eq_ignore_ascii_case(s)) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i]).ok()?.parse().ok()
    }
    /// "{n}\r\n" + n bytes, as inlined by `read_response`.
    fn literal(&mut self) -> Option<&'a [u8]> {
        if self.peek() != Some(b'{') {
            return None;
        }
        self.i += 1;
        let n = self.number()? as usize;
        self.eat(b"+");
        if !self.eat(b"}") {
            return None;
        }
        if !self.eat(b"\r\n") && !self.eat(b"\n") {
            return None;
        }
        let data = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(data)
    }
    fn quoted(&mut self) -> Option<Vec<u8>> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    out.push(*self.b.get(self.i + 1)?);
                    self.i += 2;
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
    /// Skips one value: atom, number, NIL, quoted, literal or a parenthesised list.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        match self.peek()? {
            b'(' => {
                self.i += 1;
                loop {
                    self.spaces();
                    if self.peek()? == b')' {
                        self.i += 1;
                        return Some(());
                    }
                    self.skip_value(depth + 1)?;
                }
            }
            b'"' => self.quoted().map(|_| ()),
            b'{' => self.literal().map(|_| ()),
            _ => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c == b' ' || c == b')' || c == b'(' || c == b'\r' || c == b'\n' {
                        break;
                    }
                    if c == b'[' {
                        // BODY[...] style names inside lists: skip to the matching ']'.
                        while self.peek()? != b']' {
                            self.i += 1;
                        }
                    }
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }
}

/// Parses "* N FETCH (…)". None if the response is something else (or malformed).
pub fn parse_fetch(resp: &[u8]) -> Option<RawFetch> {
    let mut c = Cur { b: resp, i: 0 };
    if !c.eat(b"* ") {
        return None;
    }
    c.number()?;
    if !c.eat(b" FETCH (") {
        return None;
    }
    let mut f = RawFetch::default();
    loop {
        c.spaces();
        match c.peek()? {
            b')' => return Some(f),
            _ => {
                let name_start = c.i;
                while let Some(ch) = c.peek() {
                    if ch == b' ' || ch == b'[' {
                        break;
                    }
                    c.i += 1;
                }
                let name = resp[name_start..c.i].to_ascii_uppercase();
                let is_section = c.peek() == Some(b'[');
                if is_section {
                    while c.peek()? != b']' {
                        c.i += 1;
                    }
                    c.i += 1;
                    if c.peek() == Some(b'<') {
                        while c.peek()? != b'>' {
                            c.i += 1;
                        }
                        c.i += 1;
                    }
                }
                c.spaces();
                if is_section && (name == b"BODY" || name == b"BINARY") {
                    let data = match c.peek()? {
                        b'{' => c.literal()?.to_vec(),
                        b'"' => c.quoted()?,
                        _ => {
                            c.skip_value(0)?; // NIL
                            Vec::new()
                        }
                    };
                    if f.section.is_none() {
                        f.section = Some(data);
                    }
                } else if name == b"UID" {
                    f.uid = Some(c.number()?);
                } else if name == b"RFC822.SIZE" {
                    f.size = Some(c.number()?);
                } else {
                    c.skip_value(0)?;
                }
            }
        }
    }
}

/// What [`pipelined_fetch`] reports.
#[derive(Debug)]
pub enum RawEvent {
    /// One message.
    Fetch(RawFetch),
    /// The i-th command completed.
    Done(usize),
}

/// Runs `UID FETCH <set> <items>` for each set, keeping up to `window` commands in flight, and
/// reports each message and each completed command. A `Break` stops sending more commands; the
/// ones in flight are still read to their end.
pub fn pipelined_fetch<S: Read + Write>(
    stream: &mut S,
    tag_prefix: &str,
    sets: &[String],
    items: &str,
    window: usize,
    on_event: &mut dyn FnMut(RawEvent) -> std::ops::ControlFlow<()>,
) -> Result<(), RawError> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, ReadHalf(stream));
    let mut sent = 0usize;
    let mut done = 0usize;
    let mut stop = false;
    let mut buf = Vec::with_capacity(8192);
    while done < sets.len() {
        while !stop && sent < sets.len() && sent - done < window.max(1) {
            let cmd = format!("{tag_prefix}{sent} UID FETCH {} {items}\r\n", sets[sent]);
            let w = &mut reader.get_mut().0;
            w.write_all(cmd.as_bytes()).map_err(|e| RawError::Io(e.to_string()))?;
            w.flush().map_err(|e| RawError::Io(e.to_string()))?;
            sent += 1;
        }
        if done == sent {
            break;
        }
        if !read_response(&mut reader, &mut buf)? {
            return Err(RawError::Io("the server closed the connection".into()));
        }
        if buf.starts_with(b"* ") {
            if let Some(f) = parse_fetch(&buf) {
                if on_event(RawEvent::Fetch(f)).is_break() {
                    stop = true;
                }
            } else if buf[2..].to_ascii_uppercase().starts_with(b"BYE") {
                return Err(RawError::Io(String::from_utf8_lossy(&buf).trim().to_string()));
            }
            continue;
        }
        let expected = format!("{tag_prefix}{done} ");
        if buf.starts_with(expected.as_bytes()) {
            let status = &buf[expected.len()..];
            if !status.to_ascii_uppercase().starts_with(b"OK") {
                return Err(RawError::Refused(String::from_utf8_lossy(status).trim().to_string()));
            }
            if on_event(RawEvent::Done(done)).is_break() {
                stop = true;
            }
            done += 1;
        }
    }
    // Nothing else is outstanding, so nothing was read beyond the last tagged response.
    Ok(())
}

/// Runs one command and returns its untagged responses (literals inlined).
pub fn command<S: Read + Write>(
    stream: &mut S,
    tag: &str,
    cmd: &str,
) -> Result<Vec<Vec<u8>>, RawError> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, ReadHalf(stream));
    let w = &mut reader.get_mut().0;
    w.write_all(format!("{tag} {cmd}\r\n").as_bytes()).map_err(|e| RawError::Io(e.to_string()))?;
    w.flush().map_err(|e| RawError::Io(e.to_string()))?;
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let expected = format!("{tag} ");
    loop {
        if !read_response(&mut reader, &mut buf)? {
            return Err(RawError::Io("the server closed the connection".into()));
        }
        if buf.starts_with(expected.as_bytes()) {
            let status = &buf[expected.len()..];
            if status.to_ascii_uppercase().starts_with(b"OK") {
                return Ok(out);
            }
            return Err(RawError::Refused(String::from_utf8_lossy(status).trim().to_string()));
        }
        if buf.starts_with(b"* ") {
            out.push(std::mem::take(&mut buf));
        }
    }
}

/// Reads the UIDs of an ESEARCH response: "* ESEARCH (TAG "a1") UID ALL 1:5,9".
pub fn parse_esearch_all(resp: &[u8]) -> Option<Vec<u32>> {
    let text = std::str::from_utf8(resp).ok()?.trim_end();
    let upper = text.to_ascii_uppercase();
    if !upper.starts_with("* ESEARCH") {
        return None;
    }
    let Some(pos) = upper.find(" ALL ") else { return Some(Vec::new()) };
    let set = text[pos + 5..].split_whitespace().next()?;
    let mut out = Vec::new();
    for part in set.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                let (lo, hi) = (a.min(b), a.max(b));
                if hi - lo > 50_000_000 {
                    return None;
                }
                out.extend(lo..=hi);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

struct ReadHalf<'a, S>(&'a mut S);

impl<S: Read> Read for ReadHalf<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fetch_responses_with_literals_and_odd_order() {
        let raw = b"* 12 FETCH (RFC822.SIZE 4021 BODY[HEADER.FIELDS (SUBJECT FROM)] {28}\r\nSubject: hi\r\nFrom: a@b.c\r\n\r\n UID 77)\r\n";
        let mut r = std::io::Cursor::new(&raw[..]);
        let mut buf = Vec::new();
        assert!(read_response(&mut r, &mut buf).expect("read"));
        let f = parse_fetch(&buf).expect("parse");
        assert_eq!(f.uid, Some(77));
        assert_eq!(f.size, Some(4021));
        assert_eq!(f.section.as_deref(), Some(&b"Subject: hi\r\nFrom: a@b.c\r\n\r\n"[..]));

        let q = b"* 1 FETCH (UID 5 FLAGS (\\Seen $Junk) BODY[]<0> \"a \\\"q\\\" b\")\r\n";
        let f = parse_fetch(q).expect("quoted");
        assert_eq!(f.uid, Some(5));
        assert_eq!(f.section.as_deref(), Some(&b"a \"q\" b"[..]));
        let n = parse_fetch(b"* 2 FETCH (UID 6 BODY[HEADER.FIELDS (X)] NIL)\r\n").expect("nil");
        assert_eq!(n.section.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn esearch_sets_expand() {
        assert_eq!(
            parse_esearch_all(b"* ESEARCH (TAG \"a\") UID ALL 1:3,7\r\n"),
            Some(vec![1, 2, 3, 7])
        );
        assert_eq!(parse_esearch_all(b"* ESEARCH (TAG \"a\") UID\r\n"), Some(vec![]));
        assert_eq!(parse_esearch_all(b"* SEARCH 1 2\r\n"), None);
    }

    #[test]
    fn malformed_responses_do_not_panic() {
        for bad in [
            &b"* 1 FETCH (UID"[..],
            b"* 1 FETCH (BODY[HEADER {99999}\r\nabc)",
            b"* x FETCH ()",
            b"* 1 FETCH ((((((",
            b"* 1 FETCH (BODY[] \"unterminated",
            b"* 3 EXISTS",
        ] {
            let _ = parse_fetch(bad);
        }
        let mut r = std::io::Cursor::new(&b"* 1 FETCH (BODY[] {999999999999}\r\n"[..]);
        let mut buf = Vec::new();
        assert!(read_response(&mut r, &mut buf).is_err());
    }
}
