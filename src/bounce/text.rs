//! Small text utilities: line splitting for any line ending, bounded phrase
//! matching, address and status-code extraction.  All functions are total
//! (never panic) and work on `&str` at char boundaries only.

use std::sync::OnceLock;

/// Iterator over lines terminated by CRLF, LF or a bare CR.  The terminator
/// is not included.
pub struct Lines<'a> {
    rest: &'a str,
    done: bool,
    /// The line-break searcher, built once (see [`ByteFinder`]).
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::Two>,
}

pub fn lines(s: &str) -> Lines<'_> {
    Lines {
        rest: s,
        done: s.is_empty(),
        #[cfg(target_arch = "x86_64")]
        avx2: memchr::arch::x86_64::avx2::memchr::Two::new(b'\n', b'\r'),
    }
}

impl Lines<'_> {
    /// `memchr::memchr2(b'\n', b'\r', hay)`.
    #[inline]
    fn find_break(&self, hay: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(f) = &self.avx2 {
            return f.find(hay);
        }
        memchr::memchr2(b'\n', b'\r', hay)
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.rest.as_bytes();
        match self.find_break(bytes) {
            Some(pos) => {
                let line = self.rest.get(..pos).unwrap_or("");
                let skip = if bytes.get(pos) == Some(&b'\r') && bytes.get(pos + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                self.rest = self.rest.get(pos + skip..).unwrap_or("");
                if self.rest.is_empty() {
                    self.done = true;
                }
                Some(line)
            }
            None => {
                self.done = true;
                Some(self.rest)
            }
        }
    }
}

/// `memchr` of one byte with its searcher built once: repeated searches
/// (one per line of a header block) skip memchr's per-call dispatch and
/// set-up.  The same results as `memchr::memchr`.
#[derive(Clone, Copy)]
pub struct ByteFinder {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
    byte: u8,
}

impl ByteFinder {
    pub fn new(byte: u8) -> ByteFinder {
        ByteFinder {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(byte),
            byte,
        }
    }

    /// The position of the first `byte` in `hay`.
    #[inline]
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(f) = &self.avx2 {
            return f.find(hay);
        }
        memchr::memchr(self.byte, hay)
    }
}

/// `memchr::memchr(b':', hay)` with a searcher built once for the program
/// (colon searches run once per field line).
#[inline]
pub fn find_colon(hay: &[u8]) -> Option<usize> {
    static COLON: OnceLock<ByteFinder> = OnceLock::new();
    COLON.get_or_init(|| ByteFinder::new(b':')).find(hay)
}

/// `String::from_utf8_lossy` with a fast path for valid UTF-8 (the usual case):
/// the standard validator runs much faster than the lossy chunk iterator.
pub fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// Longest prefix of `s` that is at most `max` bytes and ends on a char boundary.
pub fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Collapse runs of whitespace into single spaces and trim; cap the length.
///
/// Runs of non-whitespace ASCII are copied as slices; other characters are
/// decoded one by one (Unicode whitespace counts as whitespace).  Same result
/// as the plain per-char loop, including the cap: a pending space is written
/// before the length check, so the result may end in a space and be `max + 1`
/// bytes long.
pub fn squash_ws(s: &str, max: usize) -> String {
    if s.len() <= max && squashed_already(s.as_bytes()) {
        return s.to_string();
    }
    squash_ws_copy(s, max)
}

/// [`squash_ws`] of a string that is not known to be squashed already
/// (the same result for any string).
fn squash_ws_copy(s: &str, max: usize) -> String {
    #[inline]
    fn ascii_ws(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len().min(max));
    let mut pending_space = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if ascii_ws(c) {
                pending_space = !out.is_empty();
                i += 1;
                continue;
            }
            // the run of ASCII words separated by single spaces from i:
            // copied in one piece
            let j = regular_run_end(b, i + 1);
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            let run = s.get(i..j).unwrap_or("");
            let room = max.saturating_sub(out.len());
            if run.len() > room {
                out.push_str(run.get(..room).unwrap_or(""));
                // word by word, a space after a word that filled the room
                // was written before the next word's length check
                if room > 0 && run.as_bytes().get(room) == Some(&b' ') {
                    out.push(' ');
                }
                break;
            }
            out.push_str(run);
            i = j;
            continue;
        }
        let Some(ch) = s.get(i..).and_then(|r| r.chars().next()) else { break };
        i += ch.len_utf8();
        if ch.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if out.len() + ch.len_utf8() > max {
            break;
        }
        out.push(ch);
    }
    out
}

/// [`squash_ws`], borrowing `s` when it is squashed already.
pub fn squash_ws_cow(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max && squashed_already(s.as_bytes()) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(squash_ws_copy(s, max))
    }
}

/// `squash_ws(&s, max)` of an owned string: `s` itself (no copy) when it is
/// squashed already.
pub fn squash_ws_owned(s: String, max: usize) -> String {
    if s.len() <= max && squashed_already(s.as_bytes()) {
        s
    } else {
        squash_ws_copy(&s, max)
    }
}

/// Is `b` non-empty ASCII words (no white space) separated by single spaces,
/// i.e. its own `squash_ws`?
fn squashed_already(b: &[u8]) -> bool {
    let mut i = 0;
    loop {
        let j = ascii_word_end(b, i);
        if j == i {
            // empty: leading, trailing or double space, other white space, non-ASCII
            return false;
        }
        match b.get(j) {
            None => return true,
            Some(b' ') => i = j + 1,
            Some(_) => return false,
        }
    }
}

/// An ASCII byte other than white space (control characters included).
#[inline]
fn is_word_byte_ascii(c: u8) -> bool {
    c < 0x80 && !matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// End of the run from `i` of ASCII words separated by single spaces: the
/// first byte at or after `i` that is neither a word byte
/// ([`is_word_byte_ascii`]) nor a space followed by one (`b.len()` when
/// none).  Eight bytes at a time (SWAR, with the following eight for the
/// byte after each space); a flagged byte is checked exactly (the flags may
/// include bytes that are fine, never miss one that is not).
fn regular_run_end(b: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // high bit of each byte < 0x21 or >= 0x80 (and maybe of bytes above one)
    let special = |x: u64| (x.wrapping_sub(LO * 0x21) | x) & HI;
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    loop {
        while let (Some(c0), Some(c1)) = (b.get(i..i + 8), b.get(i + 1..i + 9)) {
            let (x0, x1) = (word(c0), word(c1));
            // exactly the space bytes
            let t = x0 ^ (LO * 0x20);
            let space = !(((t & !HI) + (LO * 0x7F)) | t) & HI;
            let bad = (special(x0) & !space) | (space & special(x1));
            if bad != 0 {
                i += (bad.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match b.get(i) {
            None => return b.len(),
            Some(&c) if is_word_byte_ascii(c) => i += 1,
            Some(b' ') if b.get(i + 1).is_some_and(|&n| is_word_byte_ascii(n)) => i += 2,
            Some(_) => return i,
        }
    }
}

/// End of the run of ASCII non-white-space bytes starting at `i` (the first
/// ASCII white space or non-ASCII byte at or after `i`, else `b.len()`).
/// Eight bytes at a time (SWAR): a word is only looked at byte by byte when
/// it holds a byte <= 0x20 or >= 0x80.
#[inline]
fn ascii_word_end(b: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    loop {
        while let Some(c) = b.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            let x = u64::from_le_bytes(w);
            // high bit per byte >= 0x80 or < 0x21; the lowest flagged byte is exact
            let z = (x.wrapping_sub(LO * 0x21) | x) & HI;
            if z != 0 {
                i += (z.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match b.get(i) {
            // control characters other than white space belong to the run
            Some(&c) if c < 0x80 && !matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') => {
                i += 1
            }
            Some(_) => return i,
            None => return b.len(),
        }
    }
}

/// `s.to_lowercase()`, with runs of ASCII and caseless characters copied in
/// bulk: the standard one goes char by char through the Unicode tables after
/// the first non-ASCII char.  Texts with a capital sigma (whose lower case
/// depends on its neighbours) take the standard path.
pub fn lowercase(s: &str) -> String {
    const HI: u64 = 0x8080_8080_8080_8080;
    let b = s.as_bytes();
    // U+03A3 is CE A3 in UTF-8
    if memchr::memchr_iter(0xCE, b).any(|p| b.get(p + 1) == Some(&0xA3)) {
        return s.to_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        // the run from i of ASCII (eight bytes at a time) and caseless chars
        let mut j = i;
        loop {
            while let Some(c) = b.get(j..j + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                let x = u64::from_le_bytes(w) & HI;
                if x != 0 {
                    j += (x.trailing_zeros() / 8) as usize;
                    break;
                }
                j += 8;
            }
            match b.get(j) {
                Some(c) if c.is_ascii() => j += 1,
                Some(_) => match caseless_len(&b[j..]) {
                    Some(n) => j += n,
                    None => break,
                },
                None => break,
            }
        }
        if j > i {
            let start = out.len();
            out.push_str(s.get(i..j).unwrap_or(""));
            if let Some(t) = out.get_mut(start..) {
                // UTF-8 multi-byte sequences hold no ASCII bytes
                t.make_ascii_lowercase();
            }
        }
        i = j;
        // one non-ASCII char with a case mapping (or unknown)
        if let Some(ch) = s.get(i..).and_then(|r| r.chars().next()) {
            match ch {
                // the basic Cyrillic capitals, one offset each (Russian text)
                '\u{0410}'..='\u{042F}' => out.push(char::from_u32(ch as u32 + 0x20).unwrap_or(ch)),
                '\u{0400}'..='\u{040F}' => out.push(char::from_u32(ch as u32 + 0x50).unwrap_or(ch)),
                '\u{0430}'..='\u{045F}' => out.push(ch),
                _ => out.extend(ch.to_lowercase()),
            }
            i += ch.len_utf8();
        }
    }
    out
}

/// Byte length of the char at the start of `b` (not ASCII) when its block of
/// 64 code points (one UTF-8 lead byte, or lead and second byte) has no case
/// mappings at all: most of Hebrew, Arabic, Indic, Thai, CJK, kana, Hangul,
/// punctuation and symbols.  Other chars go through `char::to_lowercase`.
#[inline]
fn caseless_len(b: &[u8]) -> Option<usize> {
    /// Bit `lead - 0xC0`: the two-byte block U+(lead-0xC0)*64.. is caseless.
    const TWO: u32 = 0xffc0_1c04;
    /// Word `lead - 0xE0`, bit `second - 0x80`: the three-byte block is caseless.
    const THREE: [u64; 16] = [
        0xffff_ffff_0000_0000,
        0x00fb_ffff_ffff_3ff3,
        0xfff0_ffff_fff3_ff8f,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        0xffff_ffff_09ff_ffff,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        u64::MAX,
        0xefff_ffff_ffff_ffff,
    ];
    match *b {
        [l @ 0xC0..=0xDF, _, ..] if TWO >> (l - 0xC0) & 1 != 0 => Some(2),
        [l @ 0xE0..=0xEF, s @ 0x80..=0xBF, _, ..]
            if THREE[usize::from(l - 0xE0)] >> (s - 0x80) & 1 != 0 =>
        {
            Some(3)
        }
        _ => None,
    }
}

/// The bytes of a field name as the engine reads one: ASCII letters and
/// digits, '-' and '_'.
pub(crate) static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        c += 1;
    }
    t
};

/// Are all bytes of `b` [`NAME_BYTE`]s?
pub(crate) fn all_name_bytes(b: &[u8]) -> bool {
    all_bytes_in(b, &NAME_BYTE)
}

/// Are all bytes of `b` in the byte class `class`?  (A plain loop over a
/// table: the iterator form with several tests per byte compiles to much
/// more.)
pub(crate) fn all_bytes_in(b: &[u8], class: &[bool; 256]) -> bool {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if !class[usize::from(c)] {
            return false;
        }
        i += 1;
    }
    true
}

/// `s.trim()`, without decoding chars when both ends are ASCII (for ASCII,
/// `char::is_whitespace` is these six bytes).
#[inline]
pub fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    let mut i = 0;
    while i < b.len() && ws(b[i]) {
        i += 1;
    }
    let mut j = b.len();
    while j > i && ws(b[j - 1]) {
        j -= 1;
    }
    if b.get(i).is_some_and(|&c| c >= 0x80) || (j > i && b[j - 1] >= 0x80) {
        return s.trim();
    }
    s.get(i..j).unwrap_or("")
}

/// [`trim`] as a method, for `str`, `String` and `Cow<str>` alike.
pub trait TrimWs {
    fn trim_ws(&self) -> &str;
}

impl TrimWs for str {
    #[inline]
    fn trim_ws(&self) -> &str {
        trim(self)
    }
}

/// `s.trim().is_empty()` without the Unicode tables for ASCII text.
pub fn is_blank(s: &str) -> bool {
    for &b in s.as_bytes() {
        if b >= 0x80 {
            return s.trim().is_empty();
        }
        if !matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            return false;
        }
    }
    true
}

/// `s` without its leading bytes in `set` (ASCII), like `trim_start_matches`
/// with a char set.
pub fn trim_start_ascii<'a>(s: &'a str, set: &[u8]) -> &'a str {
    let n = s.bytes().take_while(|b| set.contains(b)).count();
    s.get(n..).unwrap_or("")
}

/// Case-insensitive ASCII prefix test.
pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.as_bytes().get(..prefix.len()).is_some_and(|p| eq_ci(p, prefix.as_bytes()))
}

/// `a.eq_ignore_ascii_case(b)`, eight bytes at a time: a byte where `b` has
/// an ASCII letter compares with bit 0x20 (the case bit) set on both sides,
/// every other byte exactly.
#[inline]
pub fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    #[inline(always)]
    fn eq8(x: u64, y: u64) -> bool {
        // y's ASCII letters: y | 0x20 within 'a'..='z' (bytes < 0x80 only)
        let v = (y | (LO * 0x20)) & !HI;
        let ge = v + LO * u64::from(0x80 - b'a');
        let gt = v + LO * u64::from(0x7F - b'z');
        let letter = ge & !gt & HI & !y;
        let mask = letter >> 2;
        (x | mask) == (y | mask)
    }
    #[inline(always)]
    fn word(c: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        if let Some(d) = w.get_mut(..c.len()) {
            d.copy_from_slice(c);
        }
        u64::from_le_bytes(w)
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return eq8(word(a), word(b));
    }
    let mut i = 0;
    loop {
        // the last chunk overlaps the one before it
        let j = i.min(n - 8);
        match (a.get(j..j + 8), b.get(j..j + 8)) {
            (Some(x), Some(y)) if eq8(word(x), word(y)) => {}
            _ => return false,
        }
        if j + 8 >= n {
            return true;
        }
        i += 8;
    }
}

/// Case-insensitive ASCII substring test (needle must be lowercase ASCII).
pub fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    let n = needle_lower.as_bytes();
    if n.is_empty() {
        return true;
    }
    let h = hay.as_bytes();
    if h.len() < n.len() {
        return false;
    }
    let first = n[0];
    let first_up = first.to_ascii_uppercase();
    let last_start = h.len() - n.len();
    let mut i = 0;
    while i <= last_start {
        let b = h[i];
        if (b == first || b == first_up) && eq_ci(&h[i..i + n.len()], n) {
            return true;
        }
        i += 1;
    }
    false
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Phrase categories used by the classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cat {
    /// Delivery failed / could not be delivered.
    Failure = 0,
    /// Delivery delayed, will retry.
    Delay = 1,
    /// Delivered successfully.
    Success = 2,
    /// Vacation / out of office.
    AutoReply = 3,
    /// Challenge-response verification request.
    Challenge = 4,
    /// Virus / content filter notice.
    Virus = 5,
    /// "Original message follows" separators.
    Separator = 6,
    /// Typical reasons (user unknown, mailbox full ...): supports failure.
    Reason = 7,
    /// Abuse / spam complaint reports in non-ARF formats.
    Feedback = 8,
}

pub const NCAT: usize = 9;

/// Result of phrase matching: per category the first phrase found.
#[derive(Default, Debug, Clone)]
pub struct Hits {
    pub first: [Option<&'static str>; NCAT],
    pub count: [u16; NCAT],
    /// Byte offset of the first failure phrase typical of MTA-written
    /// bounce text (not one of [`WEAK_FAIL`] / [`GENERIC_FAIL`]).
    pub mta_pos: Option<u32>,
}

impl Hits {
    pub fn has(&self, c: Cat) -> bool {
        self.count[c as usize] > 0
    }
    pub fn n(&self, c: Cat) -> usize {
        self.count[c as usize] as usize
    }
    pub fn phrase(&self, c: Cat) -> Option<&'static str> {
        self.first[c as usize]
    }
}

// Phrases are lowercase.  ASCII phrases match only at word starts; non-ASCII
// phrases (CJK etc.) match anywhere.
const PHRASES: &[(Cat, &str)] = &[
    // ---- failure (English) ----
    (Cat::Failure, "could not be delivered"),
    (Cat::Failure, "couldn't be delivered"),
    (Cat::Failure, "could not deliver"),
    (Cat::Failure, "cannot be delivered"),
    (Cat::Failure, "can't be delivered"),
    (Cat::Failure, "was not delivered"),
    (Cat::Failure, "wasn't delivered"),
    (Cat::Failure, "has not been delivered"),
    (Cat::Failure, "not been delivered"),
    (Cat::Failure, "were not delivered"),
    (Cat::Failure, "unable to deliver"),
    (Cat::Failure, "not able to deliver"),
    (Cat::Failure, "wasn't able to deliver"),
    (Cat::Failure, "was not able to deliver"),
    (Cat::Failure, "delivery failed"),
    (Cat::Failure, "delivery has failed"),
    (Cat::Failure, "delivery to the following recipient"),
    (Cat::Failure, "delivery to the following recipients failed"),
    (Cat::Failure, "delivery failure"),
    (Cat::Failure, "delivery status notification"),
    (Cat::Failure, "failed permanently"),
    (Cat::Failure, "permanent error"),
    (Cat::Failure, "permanent failure"),
    (Cat::Failure, "permanent fatal error"),
    (Cat::Failure, "fatal error"),
    (Cat::Failure, "undeliverable"),
    (Cat::Failure, "undelivered"),
    (Cat::Failure, "non-deliverable"),
    (Cat::Failure, "nondeliverable"),
    (Cat::Failure, "non delivery"),
    (Cat::Failure, "non-delivery"),
    (Cat::Failure, "returned mail"),
    (Cat::Failure, "returned to sender"),
    (Cat::Failure, "return to sender"),
    (Cat::Failure, "mail delivery failed"),
    (Cat::Failure, "failure notice"),
    (Cat::Failure, "delivery notification"),
    (Cat::Failure, "had delivery errors"),
    (Cat::Failure, "following addresses had"),
    (Cat::Failure, "following address had"),
    (Cat::Failure, "following recipients"),
    (Cat::Failure, "following recipient"),
    (Cat::Failure, "following address failed"),
    (Cat::Failure, "following addresses failed"),
    (Cat::Failure, "address failed"),
    (Cat::Failure, "addresses failed"),
    (Cat::Failure, "message could not"),
    (Cat::Failure, "your message to"),
    (Cat::Failure, "your message was"),
    (Cat::Failure, "your message cannot"),
    (Cat::Failure, "your message could"),
    (Cat::Failure, "your email"),
    (Cat::Failure, "message was rejected"),
    (Cat::Failure, "message rejected"),
    (Cat::Failure, "has been rejected"),
    (Cat::Failure, "was rejected"),
    (Cat::Failure, "rejected your message"),
    (Cat::Failure, "blocked"),
    (Cat::Failure, "giving up"),
    (Cat::Failure, "i'm sorry to have to inform you"),
    (Cat::Failure, "i'm afraid i wasn't able"),
    (Cat::Failure, "this is the mail system at host"),
    (Cat::Failure, "this is the qmail-send program"),
    (Cat::Failure, "this message was created automatically by mail delivery software"),
    (Cat::Failure, "mail delivery software"),
    (Cat::Failure, "mail delivery subsystem"),
    (Cat::Failure, "mail delivery system"),
    (Cat::Failure, "delivery problem"),
    (Cat::Failure, "message not delivered"),
    (Cat::Failure, "mail not delivered"),
    (Cat::Failure, "not delivered"),
    (Cat::Failure, "delivery error"),
    (Cat::Failure, "delivery errors"),
    (Cat::Failure, "mail system error"),
    (Cat::Failure, "remote server returned"),
    (Cat::Failure, "remote server said"),
    (Cat::Failure, "server rejected"),
    (Cat::Failure, "smtp error"),
    (Cat::Failure, "host said"),
    (Cat::Failure, "said:"),
    (Cat::Failure, "transcript of session"),
    (Cat::Failure, "the error that the other server returned"),
    (Cat::Failure, "message wasn't delivered"),
    (Cat::Failure, "message was not delivered"),
    (Cat::Failure, "message delivery"),
    (Cat::Failure, "bounced"),
    (Cat::Failure, "delivery status"),
    (Cat::Failure, "not a member"),
    (Cat::Failure, "not member"),
    (Cat::Failure, "non-member"),
    (Cat::Failure, "nonmember"),
    (Cat::Failure, "not allowed to post"),
    (Cat::Failure, "held for moderation"),
    (Cat::Failure, "awaiting moderator approval"),
    (Cat::Failure, "requires moderator approval"),
    (Cat::Failure, "not permitted to post"),
    (Cat::Failure, "bounce"),
    // German
    (Cat::Failure, "unzustellbar"),
    (Cat::Failure, "nicht zugestellt"),
    (Cat::Failure, "nicht zustellbar"),
    (Cat::Failure, "konnte nicht"),
    (Cat::Failure, "zustellung fehlgeschlagen"),
    (Cat::Failure, "fehlgeschlagen"),
    (Cat::Failure, "unzustellbare"),
    (Cat::Failure, "nicht ausgeliefert"),
    (Cat::Failure, "nicht an folgende empfänger"),
    (Cat::Failure, "folgende empfänger nicht erreicht"),
    (Cat::Failure, "empfänger nicht erreicht"),
    // French
    (Cat::Failure, "non remis"),
    (Cat::Failure, "non distribuable"),
    (Cat::Failure, "n'a pas pu être remis"),
    (Cat::Failure, "n'a pas pu etre remis"),
    (Cat::Failure, "échec de la remise"),
    (Cat::Failure, "echec de la remise"),
    (Cat::Failure, "échec de remise"),
    (Cat::Failure, "impossible de remettre"),
    (Cat::Failure, "message non délivré"),
    (Cat::Failure, "n'a pas été remis"),
    (Cat::Failure, "erreur de distribution"),
    (Cat::Failure, "n'a pas pu être distribué"),
    (Cat::Failure, "n'a pas pu etre distribue"),
    // Spanish / Portuguese / Italian / Dutch
    (Cat::Failure, "no se pudo entregar"),
    (Cat::Failure, "no pudo ser entregado"),
    (Cat::Failure, "no entregado"),
    (Cat::Failure, "imposible entregar"),
    (Cat::Failure, "error de entrega"),
    (Cat::Failure, "devuelto"),
    (Cat::Failure, "no ha podido ser entregado"),
    (Cat::Failure, "no se puede entregar"),
    (Cat::Failure, "não pôde ser entregue"),
    (Cat::Failure, "não foi entregue"),
    (Cat::Failure, "nao foi entregue"),
    (Cat::Failure, "não entregue"),
    (Cat::Failure, "falha na entrega"),
    (Cat::Failure, "mensagem não entregue"),
    (Cat::Failure, "não foi possível entregar"),
    (Cat::Failure, "nao foi possivel entregar"),
    (Cat::Failure, "não é possível entregar"),
    (Cat::Failure, "nao e possivel entregar"),
    (Cat::Failure, "non recapitabile"),
    (Cat::Failure, "non è stato possibile recapitare"),
    (Cat::Failure, "mancata consegna"),
    (Cat::Failure, "impossibile recapitare"),
    (Cat::Failure, "non è stato possibile consegnare"),
    (Cat::Failure, "messaggio non consegnato"),
    (Cat::Failure, "onbestelbaar"),
    (Cat::Failure, "niet afgeleverd"),
    (Cat::Failure, "kon niet worden afgeleverd"),
    (Cat::Failure, "niet bezorgd"),
    (Cat::Failure, "kan niet worden bezorgd"),
    (Cat::Failure, "kon niet worden bezorgd"),
    // Russian
    (Cat::Failure, "не доставлено"),
    (Cat::Failure, "не может быть доставлено"),
    (Cat::Failure, "не удалось доставить"),
    (Cat::Failure, "недоставлен"),
    (Cat::Failure, "ошибка доставки"),
    (Cat::Failure, "не было доставлено"),
    (Cat::Failure, "возвращено"),
    // Japanese / Chinese
    (Cat::Failure, "配信できません"),
    (Cat::Failure, "配信できなかった"),
    (Cat::Failure, "配送できません"),
    (Cat::Failure, "配信エラー"),
    (Cat::Failure, "送信できませんでした"),
    (Cat::Failure, "届きませんでした"),
    (Cat::Failure, "宛先不明"),
    (Cat::Failure, "エラー"),
    (Cat::Failure, "エラー通知"),
    (Cat::Failure, "メールエラー"),
    (Cat::Failure, "送信エラー"),
    (Cat::Failure, "配信不能"),
    (Cat::Failure, "不達"),
    (Cat::Failure, "无法投递"),
    (Cat::Failure, "投递失败"),
    (Cat::Failure, "退信"),
    (Cat::Failure, "发送失败"),
    (Cat::Failure, "無法投遞"),
    (Cat::Failure, "系统退信"),
    (Cat::Failure, "配信に失敗"),
    (Cat::Failure, "配送に失敗"),
    (Cat::Failure, "无法将邮件投递"),
    (Cat::Failure, "无法送达"),
    (Cat::Failure, "無法傳遞"),
    // ---- reasons ----
    (Cat::Reason, "user unknown"),
    (Cat::Reason, "unknown user"),
    (Cat::Reason, "no such user"),
    (Cat::Reason, "no such recipient"),
    (Cat::Reason, "no such address"),
    (Cat::Reason, "unknown recipient"),
    (Cat::Reason, "recipient unknown"),
    (Cat::Reason, "invalid recipient"),
    (Cat::Reason, "recipient address rejected"),
    (Cat::Reason, "address rejected"),
    (Cat::Reason, "mailbox unavailable"),
    (Cat::Reason, "mailbox not found"),
    (Cat::Reason, "mailbox is full"),
    (Cat::Reason, "mailbox full"),
    (Cat::Reason, "over quota"),
    (Cat::Reason, "quota exceeded"),
    (Cat::Reason, "does not exist"),
    (Cat::Reason, "doesn't exist"),
    (Cat::Reason, "not exist"),
    (Cat::Reason, "unrouteable"),
    (Cat::Reason, "host not found"),
    (Cat::Reason, "domain not found"),
    (Cat::Reason, "relay access denied"),
    (Cat::Reason, "relaying denied"),
    (Cat::Reason, "access denied"),
    (Cat::Reason, "message too large"),
    (Cat::Reason, "message size exceeds"),
    (Cat::Reason, "spam"),
    (Cat::Reason, "blacklisted"),
    (Cat::Reason, "blocklisted"),
    (Cat::Reason, "policy"),
    (Cat::Reason, "retry timeout exceeded"),
    (Cat::Reason, "expired"),
    (Cat::Reason, "connection timed out"),
    (Cat::Reason, "unknown address"),
    (Cat::Reason, "address unknown"),
    (Cat::Reason, "account is disabled"),
    (Cat::Reason, "account has been disabled"),
    (Cat::Reason, "inactive"),
    (Cat::Reason, "suspended"),
    // ---- delay ----
    (Cat::Delay, "has not yet been delivered"),
    (Cat::Delay, "not yet been delivered"),
    (Cat::Delay, "has not been delivered yet"),
    (Cat::Delay, "delivery has been delayed"),
    (Cat::Delay, "delivery delayed"),
    (Cat::Delay, "delivery delay"),
    (Cat::Delay, "mail delayed"),
    (Cat::Delay, "message delayed"),
    (Cat::Delay, "delayed mail"),
    (Cat::Delay, "delayed"),
    // Gmail's delay notice: heading and subject
    (Cat::Delay, "delivery incomplete"),
    (Cat::Delay, "delivery status notification (delay)"),
    (Cat::Delay, "will retry"),
    (Cat::Delay, "will continue to try"),
    (Cat::Delay, "will keep trying"),
    (Cat::Delay, "still trying"),
    (Cat::Delay, "still being retried"),
    (Cat::Delay, "this is a warning message only"),
    (Cat::Delay, "you do not need to resend"),
    (Cat::Delay, "no action is required"),
    (Cat::Delay, "verzögert"),
    (Cat::Delay, "retardée"),
    (Cat::Delay, "retardé"),
    (Cat::Delay, "retrasad"),
    (Cat::Delay, "ritardat"),
    (Cat::Delay, "vertraagd"),
    (Cat::Delay, "задерж"),
    (Cat::Delay, "遅延"),
    (Cat::Delay, "延迟"),
    // ---- success ----
    (Cat::Success, "successfully delivered"),
    (Cat::Success, "was delivered successfully"),
    (Cat::Success, "delivery to the following recipients was successful"),
    (Cat::Success, "delivery to these recipients or groups is complete"),
    (Cat::Success, "your message has been delivered"),
    (Cat::Success, "successfully relayed"),
    (Cat::Success, "delivery status notification (success)"),
    (Cat::Success, "relayed to non-dsn-aware mailer"),
    // ---- auto-reply ----
    (Cat::AutoReply, "out of office"),
    (Cat::AutoReply, "out of the office"),
    (Cat::AutoReply, "auto-reply"),
    (Cat::AutoReply, "autoreply"),
    (Cat::AutoReply, "auto reply"),
    (Cat::AutoReply, "automatic reply"),
    (Cat::AutoReply, "automatic response"),
    (Cat::AutoReply, "auto-response"),
    (Cat::AutoReply, "autoresponse"),
    (Cat::AutoReply, "auto response"),
    (Cat::AutoReply, "autoresponder"),
    (Cat::AutoReply, "on vacation"),
    (Cat::AutoReply, "vacation"),
    (Cat::AutoReply, "away from the office"),
    (Cat::AutoReply, "away from my desk"),
    (Cat::AutoReply, "i am away"),
    (Cat::AutoReply, "i'm away"),
    (Cat::AutoReply, "i am out"),
    (Cat::AutoReply, "i'm out"),
    (Cat::AutoReply, "i will be out"),
    (Cat::AutoReply, "limited access to email"),
    (Cat::AutoReply, "abwesenheitsnotiz"),
    (Cat::AutoReply, "abwesenheit"),
    (Cat::AutoReply, "automatische antwort"),
    (Cat::AutoReply, "nicht im büro"),
    (Cat::AutoReply, "außer haus"),
    (Cat::AutoReply, "réponse automatique"),
    (Cat::AutoReply, "reponse automatique"),
    (Cat::AutoReply, "absence du bureau"),
    (Cat::AutoReply, "absent du bureau"),
    (Cat::AutoReply, "respuesta automática"),
    (Cat::AutoReply, "respuesta automatica"),
    (Cat::AutoReply, "fuera de la oficina"),
    (Cat::AutoReply, "fuera de oficina"),
    (Cat::AutoReply, "risposta automatica"),
    (Cat::AutoReply, "fuori ufficio"),
    (Cat::AutoReply, "resposta automática"),
    (Cat::AutoReply, "resposta automatica"),
    (Cat::AutoReply, "fora do escritório"),
    (Cat::AutoReply, "automatisch antwoord"),
    (Cat::AutoReply, "afwezig"),
    (Cat::AutoReply, "автоответ"),
    (Cat::AutoReply, "автоматический ответ"),
    (Cat::AutoReply, "в отпуске"),
    (Cat::AutoReply, "不在"),
    (Cat::AutoReply, "自動応答"),
    (Cat::AutoReply, "自動返信"),
    (Cat::AutoReply, "自动回复"),
    (Cat::AutoReply, "不在办公室"),
    (Cat::AutoReply, "无法及时回复"),
    (Cat::AutoReply, "無法及時回覆"),
    (Cat::AutoReply, "休假期间"),
    (Cat::AutoReply, "出差期间"),
    (Cat::AutoReply, "不在辦公室"),
    (Cat::AutoReply, "自動回覆"),
    // ---- challenge-response ----
    (Cat::Challenge, "verify you are a human"),
    (Cat::Challenge, "verify that you are a human"),
    (Cat::Challenge, "prove you are human"),
    (Cat::Challenge, "prove that you are human"),
    (Cat::Challenge, "confirm you are a human"),
    (Cat::Challenge, "confirm that you are a human"),
    (Cat::Challenge, "you are a real person"),
    (Cat::Challenge, "you are not a spammer"),
    (Cat::Challenge, "requires verification"),
    (Cat::Challenge, "requires your verification"),
    (Cat::Challenge, "challenge-response"),
    (Cat::Challenge, "challenge response"),
    (Cat::Challenge, "sender verification"),
    (Cat::Challenge, "verify your message"),
    (Cat::Challenge, "verify your email address to"),
    (Cat::Challenge, "confirm your message"),
    (Cat::Challenge, "awaiting your confirmation"),
    (Cat::Challenge, "pending your verification"),
    (Cat::Challenge, "approved sender"),
    (Cat::Challenge, "whitelist"),
    (Cat::Challenge, "boxbe"),
    (Cat::Challenge, "spamarrest"),
    (Cat::Challenge, "spam arrest"),
    (Cat::Challenge, "choicemail"),
    (Cat::Challenge, "mailblocks"),
    (Cat::Challenge, "tmda"),
    (Cat::Challenge, "bluebottle"),
    (Cat::Challenge, "sendio"),
    // ---- virus / content filter ----
    (Cat::Virus, "virus found"),
    (Cat::Virus, "virus detected"),
    (Cat::Virus, "virus alert"),
    (Cat::Virus, "virus warning"),
    (Cat::Virus, "contained a virus"),
    (Cat::Virus, "contains a virus"),
    (Cat::Virus, "infected"),
    (Cat::Virus, "malware"),
    (Cat::Virus, "banned attachment"),
    (Cat::Virus, "blocked attachment"),
    (Cat::Virus, "attachment blocked"),
    (Cat::Virus, "attachment removed"),
    (Cat::Virus, "attachment has been removed"),
    (Cat::Virus, "banned or potentially offensive"),
    (Cat::Virus, "potentially offensive"),
    (Cat::Virus, "dangerous content"),
    (Cat::Virus, "content filter"),
    (Cat::Virus, "quarantined"),
    (Cat::Virus, "quarantine"),
    (Cat::Virus, "blocked message"),
    (Cat::Virus, "antivirus"),
    (Cat::Virus, "anti-virus"),
    (Cat::Virus, "virus"),
    (Cat::Virus, "viren"),
    (Cat::Virus, "вирус"),
    (Cat::Virus, "ウイルス"),
    (Cat::Virus, "病毒"),
    // ---- feedback ----
    (Cat::Feedback, "complaint about message"),
    (Cat::Feedback, "abuse report"),
    (Cat::Feedback, "spam report"),
    (Cat::Feedback, "spam complaint"),
    (Cat::Feedback, "feedback report"),
    (Cat::Feedback, "complaint"),
    (Cat::Challenge, "real live human"),
    (Cat::Challenge, "verify your message"),
    (Cat::Challenge, "senders i have approved"),
    (Cat::Challenge, "has not been confirmed"),
    (Cat::Challenge, "not been confirmed yet"),
    (Cat::Challenge, "confirmation address"),
    (Cat::Challenge, "unconfirmed messages"),
    (Cat::Challenge, "release it for delivery"),
    (Cat::Challenge, "verification needed"),
    (Cat::Challenge, "verification required"),
    (Cat::Challenge, "only accept messages from"),
    (Cat::Challenge, "verify that you"),
    // ---- separators ----
    (Cat::Separator, "original message follows"),
    (Cat::Separator, "original message"),
    (Cat::Separator, "original message headers"),
    (Cat::Separator, "original message details"),
    (Cat::Separator, "copy of the message"),
    (Cat::Separator, "copy of your message"),
    (Cat::Separator, "below this line is a copy"),
    (Cat::Separator, "message headers follow"),
    (Cat::Separator, "headers of the original"),
    (Cat::Separator, "returned message"),
    (Cat::Separator, "undelivered message"),
    (Cat::Separator, "unsent message"),
    (Cat::Separator, "message text follows"),
    (Cat::Separator, "nachricht folgt"),
    (Cat::Separator, "ursprüngliche nachricht"),
    (Cat::Separator, "message d'origine"),
    (Cat::Separator, "mensaje original"),
    (Cat::Separator, "messaggio originale"),
    (Cat::Separator, "mensagem original"),
    (Cat::Separator, "oorspronkelijk bericht"),
    (Cat::Separator, "исходное сообщение"),
    (Cat::Separator, "元のメッセージ"),
    (Cat::Separator, "原始邮件"),
];

/// Failure phrases too common in ordinary mail to count alone.
pub const WEAK_FAIL: &[&str] = &[
    "bounce",
    "bounced",
    "blocked",
    "your email",
    "your message to",
    "your message was",
    "said:",
    "host said",
    "delivery status",
    "following recipient",
    "following recipients",
    "message delivery",
    "not delivered",
    "delivery notification",
    "mail delivery system",
    "mail delivery subsystem",
    "konnte nicht",
    "fehlgeschlagen",
    "エラー",
    "devuelto",
    "возвращено",
    "smtp error",
    "delivery problem",
    "not member",
    "non-member",
    "nonmember",
    "not a member",
    "was rejected",
    "has been rejected",
    "delivery error",
];

/// Failure phrases that name a problem in general (monitoring alerts, ticket
/// comments, status pages) rather than report one message's failed delivery.
pub const GENERIC_FAIL: &[&str] = &[
    "delivery failure",
    "delivery failed",
    "mail delivery failed",
    "delivery has failed",
    "fatal error",
    "delivery errors",
    "failure notice",
    "giving up",
    "mail system error",
    "server rejected",
    "message rejected",
    "non-delivery",
    "non delivery",
    "undeliverable",
    "undelivered",
    "returned mail",
    "mail not delivered",
    "message not delivered",
    "delivery status notification",
    "remote server said",
    "permanent failure",
    "permanent error",
];

struct PhraseTable {
    /// Per byte: bit 0 a word byte ([`is_word_byte`]), bit 1 some phrase starts with it.
    class: [u8; 256],
    /// Open-addressing table over the phrases' first four bytes (every
    /// phrase has at least four): (key, start and length in `quad_ids`;
    /// length 0 for an empty slot).
    quad: Vec<(u32, u16, u16)>,
    /// The phrases of each key, in `PHRASES` order.
    quad_ids: Vec<u16>,
    /// Bit set of the (first byte, second byte) pairs some phrase starts with.
    pairs: Vec<u64>,
    /// Per phrase: counts as MTA-typical failure wording.
    mta: Vec<bool>,
    /// Per phrase: its first (up to) eight bytes as a little-endian word and
    /// the mask of those bytes, to reject candidates with one comparison.
    head: Vec<(u64, u64)>,
}

/// Slots of `PhraseTable::quad` (a power of two, well above the number of keys).
const QUAD_SLOTS: usize = 2048;

#[inline]
fn quad_slot(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 21) as usize & (QUAD_SLOTS - 1)
}

impl PhraseTable {
    /// The phrases whose first four bytes are `key` (in `PHRASES` order).
    #[inline]
    fn phrases_with(&self, key: u32) -> &[u16] {
        let mut slot = quad_slot(key);
        for _ in 0..QUAD_SLOTS {
            let Some(&(k, start, len)) = self.quad.get(slot) else { return &[] };
            if len == 0 {
                return &[];
            }
            if k == key {
                return self
                    .quad_ids
                    .get(usize::from(start)..usize::from(start) + usize::from(len))
                    .unwrap_or(&[]);
            }
            slot = (slot + 1) & (QUAD_SLOTS - 1);
        }
        &[]
    }
}

/// The first (up to) eight bytes of `b` as a little-endian word, zero-padded.
#[inline]
fn head8(b: &[u8]) -> u64 {
    if let Some(w) = b.first_chunk::<8>() {
        return u64::from_le_bytes(*w);
    }
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(w)
}

fn table() -> &'static PhraseTable {
    static T: OnceLock<PhraseTable> = OnceLock::new();
    T.get_or_init(|| {
        let mut class = [0u8; 256];
        for (c, k) in class.iter_mut().enumerate() {
            *k = u8::from(is_word_byte(c as u8));
        }
        // (first four bytes, phrase index), sorted: the phrases of a key
        // together, in PHRASES order
        let mut keyed: Vec<(u32, u16)> = Vec::with_capacity(PHRASES.len());
        for (i, (_, p)) in PHRASES.iter().enumerate() {
            let pb = p.as_bytes();
            let Some(&b0) = pb.first() else { continue };
            class[b0 as usize] |= 2;
            let Some(q) = pb.first_chunk::<4>() else { continue };
            keyed.push((u32::from_le_bytes(*q), i as u16));
        }
        keyed.sort_unstable();
        let mut quad = vec![(0u32, 0u16, 0u16); QUAD_SLOTS];
        let quad_ids: Vec<u16> = keyed.iter().map(|k| k.1).collect();
        let mut start = 0;
        while start < keyed.len() {
            let key = keyed[start].0;
            let len = keyed[start..].iter().take_while(|k| k.0 == key).count();
            let mut slot = quad_slot(key);
            while quad[slot].2 != 0 {
                slot = (slot + 1) & (QUAD_SLOTS - 1);
            }
            quad[slot] = (key, start as u16, len as u16);
            start += len;
        }
        // (every phrase has at least two bytes: see `quad`)
        let mut pairs = vec![0u64; 65536 / 64];
        for (_, p) in PHRASES.iter() {
            if let Some(&[b0, b1]) = p.as_bytes().first_chunk::<2>() {
                let k = (b0 as usize) << 8 | b1 as usize;
                if let Some(w) = pairs.get_mut(k / 64) {
                    *w |= 1 << (k % 64);
                }
            }
        }
        let weak: std::collections::HashSet<&str> =
            WEAK_FAIL.iter().chain(GENERIC_FAIL).copied().collect();
        let mta = PHRASES.iter().map(|(c, p)| *c == Cat::Failure && !weak.contains(p)).collect();
        let head = PHRASES
            .iter()
            .map(|(_, p)| {
                let n = p.len().min(8);
                (head8(p.as_bytes()), if n == 8 { u64::MAX } else { (1u64 << (8 * n)) - 1 })
            })
            .collect();
        PhraseTable { class, quad, quad_ids, pairs, mta, head }
    })
}

/// Scan lowercase text once for all phrases.  Work is linear in `text`.
///
/// ASCII phrases are tried only at word starts, non-ASCII ones at every
/// character start.  Eight bytes at a time (SWAR), the positions that can
/// start a phrase (ASCII bytes after a non-word byte, UTF-8 lead bytes) are
/// found without looking at each byte; a byte class table and the candidates
/// grouped by their first two bytes keep the work per position small.
pub fn scan_phrases(lower: &str, hits: &mut Hits) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    /// High bit set in each byte of `v` (all bytes < 0x80) within `lo..=hi`.
    #[inline]
    fn in_range(v: u64, lo: u8, hi: u8) -> u64 {
        let ge = v + LO * u64::from(0x80 - lo);
        let gt = v + LO * u64::from(0x7F - hi);
        ge & !gt & HI
    }
    let t = table();
    let b = lower.as_bytes();
    let mut prev_word = false;
    let mut base = 0;
    while let Some(chunk) = b.get(base..base + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        let hi = x & HI;
        let x7 = x & !HI;
        // word bytes (`is_word_byte`): ASCII letters and digits, and all of >= 0x80
        let alnum = in_range(x7, b'0', b'9') | in_range(x7 | (LO * 0x20), b'a', b'z');
        let word = (alnum & !hi) | hi;
        let after_nonword = (!word & HI) << 8 | if prev_word { 0 } else { 0x80 };
        let lead = x & (x << 1) & HI;
        let mut cand = (after_nonword & !hi) | lead;
        while cand != 0 {
            let k = (cand.trailing_zeros() / 8) as usize;
            cand &= cand - 1;
            // most word starts cannot start a phrase: no call for those
            if t.class[usize::from(w[k])] & 2 != 0 {
                try_phrases_at(t, b, base + k, hits);
            }
        }
        prev_word = word >> 63 != 0;
        base += 8;
    }
    for (i, &c) in b.iter().enumerate().skip(base) {
        let cls = t.class[c as usize];
        let at_word_start = !prev_word;
        prev_word = cls & 1 != 0;
        if c < 0x80 && !at_word_start {
            continue;
        }
        try_phrases_at(t, b, i, hits);
    }
}

/// Count the phrases starting at `b[i]` (a word start or a non-ASCII byte).
#[inline(always)]
fn try_phrases_at(t: &PhraseTable, b: &[u8], i: usize, hits: &mut Hits) {
    let Some(rest) = b.get(i..) else { return };
    let Some(&c) = rest.first() else { return };
    // no phrase starts with this byte (UTF-8 continuation bytes included)
    if t.class[c as usize] & 2 == 0 {
        return;
    }
    // every phrase has at least four bytes
    let Some(q) = rest.first_chunk::<4>() else { return };
    let k = (c as usize) << 8 | q[1] as usize;
    if t.pairs.get(k / 64).is_none_or(|w| w & (1 << (k % 64)) == 0) {
        return;
    }
    let cands = t.phrases_with(u32::from_le_bytes(*q));
    if cands.is_empty() {
        return;
    }
    // phrase bytes are never zero, so the zero padding past the end never matches
    let w = head8(rest);
    for &pi in cands {
        let Some(&(h, m)) = t.head.get(pi as usize) else { continue };
        if w & m != h {
            continue;
        }
        let Some((cat, p)) = PHRASES.get(pi as usize) else { continue };
        if p.len() <= 8 || rest.starts_with(p.as_bytes()) {
            let ci = *cat as usize;
            if hits.mta_pos.is_none() && t.mta.get(pi as usize).copied().unwrap_or(false) {
                hits.mta_pos = Some(i as u32);
            }
            if let Some(cnt) = hits.count.get_mut(ci) {
                if *cnt == 0 {
                    hits.first[ci] = Some(p);
                }
                *cnt = cnt.saturating_add(1);
            }
        }
    }
}

/// Is `b` a plausible byte of an address local part / domain?
fn is_addr_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-=!#$&'*/?^`{|}~".contains(&b) || b >= 0x80
}

/// CJK and full-width punctuation (and typographic quotes) that ends an
/// address written in running text: `收件人：a@b.example`, `a@b.example。`.
fn is_foreign_punct(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303F}'
        | '\u{FF01}'..='\u{FF0F}'
        | '\u{FF1A}'..='\u{FF20}'
        | '\u{FF3B}'..='\u{FF40}'
        | '\u{FF5B}'..='\u{FF65}'
        | '\u{2010}'..='\u{2027}'
        | '\u{00A0}' | '\u{00AB}' | '\u{00BB}')
}

/// Kana, CJK ideographs and Hangul syllables.
fn is_cjk_letter(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}')
}

/// Narrow an address candidate `s[start..end]` (its `@` at `at`) whose
/// edges hold non-ASCII text: it ends at CJK / full-width punctuation, and
/// at the change from CJK letters to ASCII (`用户kijitora@example.jp不存在`),
/// so an all-CJK (internationalised) local part or domain stays whole.
/// ASCII candidates are returned unchanged.
fn trim_foreign_edges(s: &str, start: usize, at: usize, end: usize) -> (usize, usize) {
    let b = s.as_bytes();
    let (mut start, mut end) = (start, end);
    // a byte-bounded scan may stop inside a character
    while start < at && !s.is_char_boundary(start) {
        start += 1;
    }
    while end > at + 1 && !s.is_char_boundary(end) {
        end -= 1;
    }
    if b.get(start..at).is_some_and(|l| l.iter().any(|&c| c >= 0x80)) {
        if let Some(local) = s.get(start..at) {
            let mut prev_ascii = false;
            for (k, c) in local.char_indices().rev() {
                if is_foreign_punct(c) || (prev_ascii && is_cjk_letter(c)) {
                    start += k + c.len_utf8();
                    break;
                }
                prev_ascii = c.is_ascii_alphanumeric();
            }
        }
    }
    if b.get(at + 1..end).is_some_and(|d| d.iter().any(|&c| c >= 0x80)) {
        if let Some(domain) = s.get(at + 1..end) {
            let mut prev_ascii = false;
            for (k, c) in domain.char_indices() {
                if is_foreign_punct(c) || (prev_ascii && is_cjk_letter(c)) {
                    end = at + 1 + k;
                    break;
                }
                prev_ascii = c.is_ascii_alphanumeric();
            }
        }
    }
    (start, end)
}

/// Extract email addresses from `s` (in order, duplicates removed).
/// Returns at most `max` addresses.
pub fn find_addresses(s: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && out.len() < max {
        // the next '@'
        let Some(at) = b.get(i..).and_then(|r| memchr::memchr(b'@', r)) else { break };
        i += at;
        // expand left
        let mut start = i;
        while start > 0 && is_addr_byte(b[start - 1]) && i - start < 128 {
            start -= 1;
        }
        if start == i && i > 1 && b[i - 1] == b'"' {
            // a quoted local part: "first last"@host, "a..b"@host
            let lo = i.saturating_sub(66);
            if let Some(q) = b.get(lo..i - 1).and_then(|r| memchr::memrchr(b'"', r)) {
                let q = lo + q;
                if b[q + 1..i - 1].iter().all(|&c| c > b' ' && c != b'<' && c != b'>')
                    && q + 1 < i - 1
                {
                    start = q;
                }
            }
        }
        let mut end = i + 1;
        while end < b.len()
            && (b[end].is_ascii_alphanumeric()
                || b[end] == b'.'
                || b[end] == b'-'
                || b[end] >= 0x80)
            && end - i < 256
        {
            end += 1;
        }
        let (start, end) = trim_foreign_edges(s, start, i, end);
        i = end.max(i + 1);
        if let Some(a) = s.get(start..end).and_then(normalize_address) {
            if !out.iter().any(|x| eq_ci(x.as_bytes(), a.as_bytes())) {
                out.push(a);
            }
        }
    }
    out
}

/// Clean an address candidate: strip brackets/quotes/trailing dots, require
/// local@domain.tld, lowercase the domain.
pub fn normalize_address(raw: &str) -> Option<String> {
    if raw.is_ascii() {
        normalize_ascii_address(raw)
    } else {
        normalize_address_chars(raw)
    }
}

/// [`normalize_address`] of ASCII text, byte by byte: the same steps as
/// [`normalize_address_chars`] (for ASCII, `char::is_whitespace` is these six
/// bytes and `char::is_alphanumeric` is `u8::is_ascii_alphanumeric`).
fn normalize_ascii_address(raw: &str) -> Option<String> {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    let b = raw.as_bytes();
    let mut s = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let mut e = b.iter().rposition(|c| !ws(c)).map_or(s, |p| p + 1);
    while s < e
        && matches!(b[s], b'<' | b'"' | b'\'' | b'(' | b'[' | b':' | b';' | b',' | b'#' | b'*')
    {
        s += 1;
    }
    while e > s && matches!(b[e - 1], b'>' | b'"' | b'\'' | b')' | b']' | b'.' | b',' | b';' | b':')
    {
        e -= 1;
    }
    let t = raw.get(s..e)?;
    let t = t.strip_prefix("mailto:").unwrap_or(t);
    let at = t.bytes().rposition(|c| c == b'@')?;
    let local = t.get(..at)?;
    let domain = t.get(at + 1..)?;
    if local.is_empty() || domain.len() < 3 || local.len() > 128 {
        return None;
    }
    if domain.starts_with('.') || domain.starts_with('-') {
        return None;
    }
    // one pass over the domain: its bytes, a dot somewhere, no ".."
    let (mut dot, mut prev) = (false, 0u8);
    /// The bytes a domain may hold: ASCII letters and digits, `.-[]:`.
    static DOMAIN_BYTE: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':');
            c += 1;
        }
        t
    };
    for c in domain.bytes() {
        if !DOMAIN_BYTE[usize::from(c)] {
            return None;
        }
        if c == b'.' {
            if prev == b'.' {
                return None;
            }
            dot = true;
        }
        prev = c;
    }
    if !dot || local.bytes().any(|c| ws(&c)) {
        return None;
    }
    let local = local.trim_start_matches('.');
    if local.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    let start = out.len();
    out.push_str(domain);
    if let Some(d) = out.get_mut(start..) {
        d.make_ascii_lowercase();
    }
    Some(out)
}

/// [`normalize_address`] char by char (any text).
fn normalize_address_chars(raw: &str) -> Option<String> {
    let t = raw
        .trim()
        .trim_start_matches(['<', '"', '\'', '(', '[', ':', ';', ',', '#', '*'])
        .trim_end_matches(['>', '"', '\'', ')', ']', '.', ',', ';', ':']);
    let t = t.strip_prefix("mailto:").unwrap_or(t);
    let at = t.rfind('@')?;
    let local = t.get(..at)?;
    let domain = t.get(at + 1..)?;
    if local.is_empty() || domain.len() < 3 || !domain.contains('.') || local.len() > 128 {
        return None;
    }
    if domain.starts_with('.') || domain.starts_with('-') || domain.contains("..") {
        return None;
    }
    if local.contains(char::is_whitespace)
        || domain.contains(|c: char| {
            !(c.is_alphanumeric() || c == '.' || c == '-' || c == '[' || c == ']' || c == ':')
        })
    {
        return None;
    }
    let local = local.trim_start_matches('.');
    if local.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    if domain.is_ascii() {
        let start = out.len();
        out.push_str(domain);
        if let Some(d) = out.get_mut(start..) {
            d.make_ascii_lowercase();
        }
    } else {
        out.push_str(&domain.to_lowercase());
    }
    Some(out)
}

/// Find an RFC 3463 enhanced status code ("5.1.1") in `s`.  Only classes 2,
/// 4 and 5 with a plausible subject (0-7) are accepted, delimited by
/// non-alphanumerics so version numbers like "1.5.1.1" do not match.
pub fn find_enhanced_status(s: &str) -> Option<String> {
    find_enhanced_status_classes(s, b"245")
}

pub fn find_enhanced_status_classes(s: &str, classes: &[u8]) -> Option<String> {
    let b = s.as_bytes();
    let mut is_class = [false; 256];
    for &c in classes {
        is_class[c as usize] = true;
    }
    // a code is "<class>." followed by digits: only the bytes before a '.'
    // (memchr) can start one
    for dot in memchr::memchr_iter(b'.', b) {
        let Some(i) = dot.checked_sub(1) else { continue };
        if i + 4 > b.len() {
            break;
        }
        let c = b[i];
        if is_class[c as usize] {
            let before_ok = i == 0 || {
                let p = b[i - 1];
                !(p.is_ascii_alphanumeric() || p == b'.' || p == b'-' || p == b'/' || p == b':')
            };
            if before_ok {
                // subject: 1-3 digits
                let mut j = i + 2;
                let s_start = j;
                while j < b.len() && b[j].is_ascii_digit() && j - s_start < 3 {
                    j += 1;
                }
                if j > s_start && b.get(j) == Some(&b'.') {
                    let d_start = j + 1;
                    let mut k = d_start;
                    while k < b.len() && b[k].is_ascii_digit() && k - d_start < 3 {
                        k += 1;
                    }
                    let after_ok = match b.get(k) {
                        None => true,
                        Some(&a) => {
                            !(a.is_ascii_alphanumeric()
                                || a == b'.' && b.get(k + 1).is_some_and(|x| x.is_ascii_digit())
                                || a == b'-')
                        }
                    };
                    let subj_ok = s
                        .get(s_start..j)
                        .and_then(|x| x.parse::<u32>().ok())
                        .is_some_and(|v| v <= 7);
                    if k > d_start && after_ok && subj_ok {
                        return s.get(i..k).map(|x| x.to_string());
                    }
                }
            }
        }
    }
    None
}

/// Find a basic SMTP reply code (4xx/5xx) that looks like a server reply:
/// at a line start, or after "said:", "<<<", "error", "SMTP;" etc.
pub fn find_smtp_reply(lower: &str) -> Option<(u16, usize)> {
    let b = lower.as_bytes();
    // only a '4' or a '5' (memchr2) can start a reply code
    for i in memchr::memchr2_iter(b'4', b'5', b) {
        if i + 3 > b.len() {
            break;
        }
        let c = b[i];
        if (c == b'4' || c == b'5')
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric()
                    || b[i - 1] == b'.'
                    || b[i - 1] == b'-'
                    || b[i - 1] == b':'
                    || b[i - 1] == b'/'
                    || b[i - 1] == b'#'
                    || b[i - 1] == b'$'
                    || b[i - 1] == b','))
            && b.get(i + 3).is_none_or(|&a| a == b' ' || a == b'-' || a == b'\t')
        {
            let code =
                (c - b'0') as u16 * 100 + (b[i + 1] - b'0') as u16 * 10 + (b[i + 2] - b'0') as u16;
            // second digit of a reply code is 0-5
            if b[i + 1] <= b'5' {
                // check context: what precedes on the line
                let line_start =
                    lower.get(..i).and_then(|p| p.rfind('\n')).map(|p| p + 1).unwrap_or(0);
                let prefix = lower.get(line_start..i).unwrap_or("").trim();
                let ctx_ok = prefix.is_empty()
                    || prefix.ends_with(':')
                    || prefix.ends_with("<<<")
                    || prefix.ends_with(';')
                    || prefix.ends_with('(')
                    || prefix.ends_with('#')
                    || prefix.ends_with("said")
                    || prefix.ends_with("error")
                    || prefix.ends_with("reply")
                    || prefix.ends_with("response")
                    || prefix.ends_with("code")
                    || prefix.ends_with("smtp")
                    || prefix.ends_with("status")
                    || prefix.ends_with('>')
                    || prefix.ends_with('"');
                if ctx_ok {
                    return Some((code, i));
                }
            }
        }
    }
    None
}

/// The line of `text` containing byte offset `pos`, trimmed.
pub fn line_at(text: &str, pos: usize) -> &str {
    let pos = pos.min(text.len());
    let start = text.get(..pos).and_then(|p| p.rfind(['\n', '\r'])).map(|p| p + 1).unwrap_or(0);
    let end =
        text.get(pos..).and_then(|p| p.find(['\n', '\r'])).map(|p| p + pos).unwrap_or(text.len());
    text.get(start..end).unwrap_or("").trim()
}

/// Crude HTML to text: drop tags, script/style content, decode a few entities.
///
/// Text between markup is copied in runs (memchr for the next `<` or `&`),
/// and tag names are compared ASCII case-insensitively in place instead of in
/// a lowercased copy of the whole document.
pub fn html_to_text(html: &str, max: usize) -> String {
    let mut out = String::with_capacity(html.len().min(max));
    let b = html.as_bytes();
    let at = |i: usize, p: &str| b.get(i..i + p.len()).is_some_and(|x| eq_ci(x, p.as_bytes()));
    let mut i = 0;
    while i < b.len() && out.len() < max {
        let c = b[i];
        if c == b'<' {
            let mut breaks = false;
            let skip_until = if at(i, "<script") {
                Some("</script>")
            } else if at(i, "<style") {
                Some("</style>")
            } else {
                breaks = at(i, "<br")
                    || at(i, "<p")
                    || at(i, "</p")
                    || at(i, "<div")
                    || at(i, "</div")
                    || at(i, "<tr")
                    || at(i, "</tr")
                    || at(i, "<li")
                    || at(i, "</h");
                if breaks {
                    out.push('\n');
                } else if at(i, "<td") {
                    out.push(' ');
                }
                None
            };
            i += 1;
            if let Some(end) = skip_until {
                // script/style content: up to the end tag, searched from just
                // after the '<' (then, as before, the rest up to a '>' is dropped
                // as if still inside the opening tag)
                let Some(p) = find_ci(&b[i..], end.as_bytes()) else { break };
                i += p + end.len();
            }
            // inside the tag: up to and including the next '>'
            i = memchr::memchr(b'>', &b[i..]).map_or(b.len(), |p| i + p + 1);
            // the source's line break after a tag that breaks the line ("<br>\n")
            // is the same break, not an empty line
            if breaks {
                i += match b.get(i..i + 2) {
                    Some(b"\r\n") => 2,
                    _ => usize::from(matches!(b.get(i), Some(b'\n' | b'\r'))),
                };
            }
            continue;
        }
        if c == b'&' {
            let ents: [(&str, &str); 7] = [
                ("&lt;", "<"),
                ("&gt;", ">"),
                ("&amp;", "&"),
                ("&quot;", "\""),
                ("&nbsp;", " "),
                ("&#160;", " "),
                ("&#39;", "'"),
            ];
            if let Some((e, r)) = ents.iter().find(|(e, _)| at(i, e)) {
                out.push_str(r);
                i += e.len();
                continue;
            }
        }
        // copy text up to the next markup character (at least this one char),
        // stopping once `max` is reached (the char that crosses it is kept)
        let end = memchr::memchr2(b'<', b'&', &b[i + 1..]).map_or(b.len(), |p| i + 1 + p);
        let room = max - out.len();
        let end = if end - i > room {
            let mut e = i + room;
            while e < end && !html.is_char_boundary(e) {
                e += 1;
            }
            e
        } else {
            end
        };
        out.push_str(html.get(i..end).unwrap_or(""));
        i = end;
    }
    out
}

/// Position of the first ASCII case-insensitive match of `needle` (lowercase
/// ASCII, starting with `<`) in `hay`.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'<', hay)
        .find(|&p| hay.get(p..p + needle.len()).is_some_and(|x| eq_ci(x, needle)))
}

/// `decoded` (an RFC 2047 decoder's output for the raw field value `raw`)
/// mended where it holds U+FFFD because one character's bytes were split over
/// two encoded words ("=?UTF-8?B?44OL44O=?= =?UTF-8?B?o+ODvA==?="): adjacent
/// encoded words in one charset are joined as bytes before the charset
/// decoder runs, as RFC 2047 readers in mail clients do.  None when there is
/// nothing to mend or the joined decoding is no better.
pub(crate) fn mend_split_words(decoded: &str, raw: &str) -> Option<String> {
    use super::mime::{decode_cte, Cte};
    if !decoded.contains('\u{FFFD}') || !raw.contains("=?") || raw.len() > 16 * 1024 {
        return None;
    }
    // one encoded word at `p`: (lower-case charset, decoded bytes, end)
    let word = |p: usize| -> Option<(String, Vec<u8>, usize)> {
        let rest = raw.get(p + 2..)?;
        let q1 = rest.find('?')?;
        let cs = rest.get(..q1)?;
        let enc = rest.get(q1 + 1..q1 + 2)?;
        if rest.get(q1 + 2..q1 + 3)? != "?" || cs.is_empty() || cs.contains(char::is_whitespace) {
            return None;
        }
        let text_start = q1 + 3;
        let len = rest.get(text_start..)?.find("?=")?;
        let text = rest.get(text_start..text_start + len)?;
        if text.contains(['\r', '\n']) {
            return None;
        }
        let bytes = match enc {
            "B" | "b" => decode_cte(text.as_bytes(), Cte::Base64).into_owned(),
            "Q" | "q" => {
                decode_cte(text.replace('_', " ").as_bytes(), Cte::QuotedPrintable).into_owned()
            }
            _ => return None,
        };
        // RFC 2231 language suffix: "UTF-8*en"
        let cs = cs.split('*').next().unwrap_or(cs).to_ascii_lowercase();
        Some((cs, bytes, p + 2 + text_start + len + 2))
    };
    let mut out = String::with_capacity(raw.len());
    let mut pending: Option<(String, Vec<u8>)> = None;
    let flush = |out: &mut String, pending: &mut Option<(String, Vec<u8>)>| {
        if let Some((cs, bytes)) = pending.take() {
            out.push_str(&super::mime::decode_charset(&bytes, Some(&cs)));
        }
    };
    let (mut i, mut lit) = (0, 0);
    while let Some(p) = raw.get(i..).and_then(|r| r.find("=?")).map(|p| i + p) {
        let Some((cs, bytes, end)) = word(p) else {
            i = p + 2;
            continue;
        };
        let between = raw.get(lit..p).unwrap_or("");
        match pending.as_mut() {
            // white space (folds included) between two encoded words is dropped
            Some((pcs, pb)) if *pcs == cs && between.trim_ws().is_empty() => pb.extend(bytes),
            _ => {
                if !(pending.is_some() && between.trim_ws().is_empty()) {
                    flush(&mut out, &mut pending);
                    out.push_str(between);
                } else {
                    flush(&mut out, &mut pending);
                }
                pending = Some((cs, bytes));
            }
        }
        i = end;
        lit = end;
    }
    flush(&mut out, &mut pending);
    out.push_str(raw.get(lit..).unwrap_or(""));
    let out = squash_ws(&out, 1000);
    (!out.contains('\u{FFFD}')).then_some(out)
}

/// UTF-7 (RFC 2152) text decoded: "+" opens a run of modified base64 holding
/// UTF-16 code units, ended by any other character ("-" is then dropped);
/// "+-" is "+".  A "+" followed by nothing of base64 stays a "+"; 8-bit bytes
/// (never UTF-7) are read as UTF-8 with replacement characters.
pub(crate) fn decode_utf7(b: &[u8]) -> String {
    fn b64(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = String::with_capacity(b.len());
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'+' {
            let end = memchr::memchr(b'+', &b[i..]).map_or(b.len(), |p| i + p);
            out.push_str(&String::from_utf8_lossy(&b[i..end]));
            i = end;
            continue;
        }
        i += 1;
        let start = i;
        let (mut bits, mut nbits) = (0u32, 0u32);
        units.clear();
        while let Some(v) = b.get(i).and_then(|&c| b64(c)) {
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push((bits >> nbits) as u16);
                bits &= (1 << nbits) - 1;
            }
            i += 1;
        }
        if i == start && b.get(i) != Some(&b'-') {
            out.push('+');
            continue;
        }
        if b.get(i) == Some(&b'-') {
            if i == start {
                out.push('+');
            }
            i += 1;
        }
        out.extend(char::decode_utf16(units.iter().copied()).map(|r| r.unwrap_or('\u{FFFD}')));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast lowercasing (caseless-block tables, bulk copies, Cyrillic offsets) against the
    /// standard library for every char, alone and inside text, and for a capital sigma's context.
    #[test]
    fn byte_finder_is_memchr() {
        let mut hay = Vec::new();
        for i in 0..300u32 {
            hay.push(if i % 37 == 5 || i % 91 == 0 { b':' } else { b'a' + (i % 26) as u8 });
        }
        let f = ByteFinder::new(b':');
        for s in 0..hay.len() {
            for e in s..hay.len().min(s + 130) {
                assert_eq!(f.find(&hay[s..e]), memchr::memchr(b':', &hay[s..e]), "{s} {e}");
            }
        }
        let t = "a\r\nb\rc\n\nd\r\r\n".repeat(20);
        let want: Vec<&str> = t.split("\r\n").flat_map(|x| x.split(['\r', '\n'])).collect();
        let got: Vec<&str> = lines(&t).collect();
        assert_eq!(got, want[..want.len() - 1]);
    }

    #[test]
    fn eq_ci_is_eq_ignore_ascii_case() {
        let alphabet: &[u8] = b"aAzZ@[`{-_:09\r\x7f\x80\xc1\xe1\xff mM";
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..200_000 {
            let n = next() % 20;
            let a: Vec<u8> = (0..n).map(|_| alphabet[next() % alphabet.len()]).collect();
            let mut b = a.clone();
            for c in b.iter_mut() {
                match next() % 4 {
                    0 => *c ^= 0x20,
                    1 => *c = alphabet[next() % alphabet.len()],
                    _ => {}
                }
            }
            if next() % 16 == 0 {
                b.push(b'a');
            }
            assert_eq!(eq_ci(&a, &b), a.eq_ignore_ascii_case(&b), "{a:?} {b:?}");
            assert_eq!(eq_ci(&b, &a), b.eq_ignore_ascii_case(&a), "{b:?} {a:?}");
        }
        for c in 0..=255u8 {
            for d in 0..=255u8 {
                let (x, y) = ([c, b'k', c, d, c, b'Q', d, c, d], [d, b'K', d, c, d, b'q', c, d, c]);
                assert_eq!(eq_ci(&x, &y), x.eq_ignore_ascii_case(&y));
                assert_eq!(eq_ci(&[c], &[d]), [c].eq_ignore_ascii_case(&[d]));
            }
        }
    }

    #[test]
    fn lowercase_is_the_standard_one() {
        let mut mixed = String::new();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(lowercase(&alone), alone.to_lowercase(), "U+{:04X}", c as u32);
            mixed.push(c);
            if mixed.len() > 200 {
                mixed.push_str(" Ab ");
                assert_eq!(lowercase(&mixed), mixed.to_lowercase());
                mixed.clear();
            }
        }
        for s in ["ΟΔΟΣ ΣΑΣ", "Σ", "AΣ b", "ΑΣ.", "Straße ÖL İstanbul ǅ"] {
            assert_eq!(lowercase(s), s.to_lowercase(), "{s}");
        }
    }

    #[test]
    fn lines_all_endings() {
        let v: Vec<_> = lines("a\r\nb\nc\rd\r\n\r\ne").collect();
        assert_eq!(v, vec!["a", "b", "c", "d", "", "e"]);
        let v: Vec<_> = lines("a\n").collect();
        assert_eq!(v, vec!["a"]);
        assert_eq!(lines("").count(), 0);
    }

    #[test]
    fn status_codes() {
        assert_eq!(find_enhanced_status("550 5.1.1 user unknown").as_deref(), Some("5.1.1"));
        assert_eq!(find_enhanced_status("#5.7.1 denied").as_deref(), Some("5.7.1"));
        assert_eq!(find_enhanced_status("version 1.5.1.1"), None);
        assert_eq!(find_enhanced_status("Perl 5.8.0 released"), None);
        assert_eq!(find_enhanced_status("(4.4.7)").as_deref(), Some("4.4.7"));
    }

    #[test]
    fn addresses() {
        let v = find_addresses("<Foo.Bar@Example.COM>: host mx said: 550", 5);
        assert_eq!(v, vec!["Foo.Bar@example.com"]);
        assert!(find_addresses("no at sign", 5).is_empty());
        assert!(find_addresses("@@@@", 5).is_empty());
        // a quoted local part (RFC 5321), as the DSN path normalises it
        let q = "\"jo..smith.\"@example.org";
        let v = find_addresses(&format!("<{q}>: host mx said: 550 5.1.1 User unknown"), 5);
        assert_eq!(v.first(), normalize_address(q).as_ref());
        assert_eq!(v.len(), 1);
        // quotes around prose are not a local part
        assert_eq!(
            find_addresses("he said \"write to\"@ noon a@b.example", 5),
            vec!["a@b.example"]
        );
        // CJK / full-width punctuation and CJK words around an address
        for t in [
            "收件人：kijitora@example.jp\n",
            "退信原因：用户kijitora@example.jp不存在。",
            "宛先: 「kijitora@example.jp」、エラー",
            "destinataire « kijitora@example.jp »",
            "收件人kijitora@example.jp，原因",
        ] {
            assert_eq!(find_addresses(t, 5), vec!["kijitora@example.jp"], "{t}");
        }
        // an internationalised address stays whole
        assert_eq!(find_addresses("to 用户@例子.广告 failed", 5), vec!["用户@例子.广告"]);
    }

    #[test]
    fn phrases() {
        let mut h = Hits::default();
        scan_phrases("your message could not be delivered. user unknown. 配信できません", &mut h);
        assert!(h.has(Cat::Failure));
        assert!(h.has(Cat::Reason));
        // localized failure notices of real servers
        for t in [
            "não foi possível entregar a sua mensagem",
            "não é possível entregar: orçamento",
            "votre message n'a pas pu être distribué",
            "su mensaje no ha podido ser entregado",
            "non è stato possibile consegnare il messaggio",
            "uw bericht kan niet worden bezorgd",
            "die nachricht konnte nicht an folgende empfänger zugestellt werden",
            "die nachricht hat folgende empfänger nicht erreicht",
            "次の受信者への配信に失敗しました",
            "无法将邮件投递到以下收件人",
            "邮件无法送达",
        ] {
            let mut h = Hits::default();
            scan_phrases(t, &mut h);
            assert!(h.has(Cat::Failure), "{t}");
        }
        // Chinese out-of-office bodies (not in the office); "on leave" and "business trip"
        // alone are everyday words, in subjects too
        for t in [
            "我目前不在办公室。",
            "本人目前不在辦公室。",
            "我于7月15日前休假，无法及时回复。",
            "休假期间请联系我的同事。",
        ] {
            let mut h = Hits::default();
            scan_phrases(t, &mut h);
            assert!(h.has(Cat::AutoReply), "{t}");
        }
        let mut h = Hits::default();
        scan_phrases("thebounce is not a word start", &mut h);
        assert!(!h.has(Cat::Failure));
    }

    #[test]
    fn truncation_char_boundary() {
        assert_eq!(truncate_str("héllo", 2), "h");
        assert_eq!(squash_ws("  a \n\t b  ", 10), "a b");
    }

    #[test]
    fn ascii_address_normalisation_is_the_char_one() {
        let pieces = [
            "a",
            "B.c",
            "@",
            "@@",
            ".",
            "..",
            "-",
            " ",
            "\t",
            "\u{b}",
            "\u{c}",
            "\r\n",
            "<",
            ">",
            "\"",
            "'",
            "(",
            ")",
            "[",
            "]",
            ":",
            ";",
            ",",
            "#",
            "*",
            "mailto:",
            "x_y",
            "1.2.3.4",
            "Example.COM",
            "%",
            "+",
            "!",
            "a@b.cd",
            "Q@X.ORG",
        ];
        let mut next = crate::bounce::xorshift(0x6A09_E667_F3BC_C908);
        let mut some = 0;
        for _ in 0..200_000 {
            let mut s = String::new();
            for _ in 0..next() % 10 {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let n = normalize_ascii_address(&s);
            some += usize::from(n.is_some());
            assert_eq!(n, normalize_address_chars(&s), "{s:?}");
        }
        assert!(some > 2_000, "{some}");
        for s in [
            "<Foo.Bar@Example.COM>",
            "a@b.c.",
            " mailto:x@Y.Z ",
            "..a@b.cd",
            "a b@c.d",
            "a@b..cd",
            "a@bcd",
            "a@b.c..",
            "a@..bc",
            "a@b.-c",
            "a@b._c..d",
            "a@b._c.d",
        ] {
            assert_eq!(normalize_ascii_address(s), normalize_address_chars(s), "{s:?}");
        }
    }

    /// `scan_phrases` by its definition: every phrase tried at every
    /// candidate position (an ASCII byte after a non-word byte or at the
    /// start, or a UTF-8 lead byte), in `PHRASES` order.
    fn scan_reference(lower: &str, hits: &mut Hits) {
        let b = lower.as_bytes();
        let mta = |c: Cat, p: &str| {
            c == Cat::Failure && !WEAK_FAIL.contains(&p) && !GENERIC_FAIL.contains(&p)
        };
        for i in 0..b.len() {
            let start = if b[i] < 0x80 { i == 0 || !is_word_byte(b[i - 1]) } else { b[i] >= 0xC0 };
            if !start {
                continue;
            }
            for &(cat, p) in PHRASES {
                if b[i..].starts_with(p.as_bytes()) {
                    let ci = cat as usize;
                    if hits.mta_pos.is_none() && mta(cat, p) {
                        hits.mta_pos = Some(i as u32);
                    }
                    if hits.count[ci] == 0 {
                        hits.first[ci] = Some(p);
                    }
                    hits.count[ci] = hits.count[ci].saturating_add(1);
                }
            }
        }
    }

    #[test]
    fn phrase_scan_is_its_definition() {
        assert!(PHRASES.iter().all(|(_, p)| p.len() >= 4));
        let mut pieces: Vec<&str> = PHRASES.iter().map(|(_, p)| *p).collect();
        pieces.extend([
            " ",
            "  ",
            "\n",
            ".",
            "-",
            "x",
            "un",
            "de",
            "mail",
            "é",
            "日本",
            "—",
            "5.1.1",
            "the ",
            "a",
            "in",
            "delivery ",
            "message ",
            "user ",
        ]);
        let mut next = crate::bounce::xorshift(0xB7E1_5162_8AED_2A6B);
        let mut found = 0;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..next() % 24 {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let (mut fast, mut slow) = (Hits::default(), Hits::default());
            scan_phrases(&s, &mut fast);
            scan_reference(&s, &mut slow);
            assert_eq!(
                (fast.first, fast.count, fast.mta_pos),
                (slow.first, slow.count, slow.mta_pos),
                "{s:?}"
            );
            found += usize::from(fast.count.iter().any(|&c| c > 0));
        }
        assert!(found > 10_000, "{found}");
    }

    #[test]
    fn trim_is_the_standard_one() {
        let pieces = [
            " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{1c}", "\u{85}", "\u{a0}", "\u{3000}", "a",
            "é", "日", "x y",
        ];
        let mut next = crate::bounce::xorshift(0x1319_8A2E_0370_7344);
        for _ in 0..100_000 {
            let mut s = String::new();
            for _ in 0..next() % 8 {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            assert_eq!(trim(&s), s.trim(), "{s:?}");
            assert_eq!(s.trim_ws(), s.trim(), "{s:?}");
        }
    }

    /// The plain per-char loop `squash_ws` must equal.
    fn squash_reference(s: &str, max: usize) -> String {
        let mut out = String::new();
        let mut pending_space = false;
        for ch in s.chars() {
            if ch.is_whitespace() {
                pending_space = !out.is_empty();
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            if out.len() + ch.len_utf8() > max {
                break;
            }
            out.push(ch);
        }
        out
    }

    #[test]
    fn squash_ws_is_the_per_char_loop() {
        let pieces = [
            "a",
            "bc",
            "defghijkl",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n\t",
            "\u{0b}",
            "\u{0c}",
            "\u{1}",
            "é",
            "\u{a0}",
            "\u{3000}",
            "日本",
            "x y",
            ";",
            "0123456789abcdef",
        ];
        let mut next = crate::bounce::xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..100_000 {
            let mut s = String::new();
            for _ in 0..next() % 16 {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let max = (next() % 24) as usize;
            for m in [max, usize::MAX] {
                assert_eq!(squash_ws(&s, m), squash_reference(&s, m), "{s:?} {m}");
                assert_eq!(squash_ws_copy(&s, m), squash_reference(&s, m), "{s:?} {m}");
                assert_eq!(squash_ws_owned(s.clone(), m), squash_reference(&s, m), "{s:?} {m}");
            }
        }
    }
}
