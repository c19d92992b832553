//! Exact fast paths for simple header field values.
//!
//! mail-parser's field parsers are general state machines (comments, quoted
//! pairs, RFC 2047 encoded words, RFC 2231 parameter continuations, groups)
//! that cost a few thousand instructions per field.  Most values in bounces
//! are simple: `text/plain; charset="utf-8"`, `<id@host>`, `Name
//! <user@host>`, a plain subject.  Each function here recognises only such
//! simple shapes and builds the very value mail-parser's parser would build
//! for them; anything else (comments, quoted pairs, `=?`, `*`, non-ASCII in a
//! structured field, unusual spacing or folding, a value without its final
//! line break) returns None and goes through mail-parser's parser.  The
//! differential tests at the end compare both on many crafted values.
//!
//! Every function takes the raw field value as mail-parser's `MessageStream`
//! would see it (from just after the colon through the field's final line
//! break) and is linear in it.

use std::borrow::Cow;

use mail_parser::parsers::MessageStream;
use mail_parser::{Addr, Address, Attribute, ContentType, HeaderValue};

/// Parse a Content-Type or Content-Disposition value.
pub(crate) fn parse_content_type(v: &[u8]) -> HeaderValue<'_> {
    content_type(v).unwrap_or_else(|| MessageStream::new(v).parse_content_type())
}

/// Parse a Message-ID value.
///
/// Unlike mail-parser, a value whose first `<` is never closed is no id at
/// all: that is a field cut off mid-line (an attached original truncated by
/// the reporting server), and the part before the cut is not the Message-ID.
pub(crate) fn parse_id(v: &[u8]) -> HeaderValue<'_> {
    message_id(v).unwrap_or_else(|| {
        if unclosed_angle(v) {
            return HeaderValue::Empty;
        }
        MessageStream::new(v).parse_id()
    })
}

/// `v` has a `<` with no `>` after it.
fn unclosed_angle(v: &[u8]) -> bool {
    v.iter().position(|&c| c == b'<').is_some_and(|i| !v[i..].contains(&b'>'))
}

/// Parse an address list (From, To, Cc).
pub(crate) fn parse_address(v: &[u8]) -> HeaderValue<'_> {
    address(v).unwrap_or_else(|| MessageStream::new(v).parse_address())
}

/// Parse an unstructured value (Subject, Content-Transfer-Encoding).
pub(crate) fn parse_unstructured(v: &[u8]) -> HeaderValue<'_> {
    unstructured(v).unwrap_or_else(|| MessageStream::new(v).parse_unstructured())
}

/// Where the final line break of `v` starts ("\n" or "\r\n"); None when `v`
/// does not end in a line break.
fn content_end(v: &[u8]) -> Option<usize> {
    let end = v.len().checked_sub(1).filter(|&e| v[e] == b'\n')?;
    Some(if end > 0 && v[end - 1] == b'\r' { end - 1 } else { end })
}

/// Skip blanks and folds (a line break followed by a blank) from `i`,
/// stopping at `end`.
fn skip_ws_fold(v: &[u8], mut i: usize, end: usize) -> usize {
    while i < end {
        match v[i] {
            b' ' | b'\t' => i += 1,
            b'\r'
                if v.get(i + 1) == Some(&b'\n')
                    && i + 1 < end
                    && matches!(v.get(i + 2), Some(b' ' | b'\t')) =>
            {
                i += 3
            }
            b'\n' if matches!(v.get(i + 1), Some(b' ' | b'\t')) => i += 2,
            _ => break,
        }
    }
    i.min(end)
}

/// Does `b` hold "=?" (a possible RFC 2047 encoded word)?
fn has_encoded_word(b: &[u8]) -> bool {
    memchr::memchr_iter(b'=', b).any(|p| b.get(p + 1) == Some(&b'?'))
}

/// Byte classes (bit sets) of the scanners below.
/// A byte of a MIME type, subtype or parameter name.
const TCHAR: u8 = 1;
/// A byte of an unquoted parameter value.
const VCHAR: u8 = 2;
/// A byte inside a quoted string (parameter value or display name).
const QCHAR: u8 = 4;
/// A byte of an unquoted display name (blanks aside) or of a bare address ('@' aside).
const NAME: u8 = 8;
/// A byte of an address inside angle brackets.
const ANGLE: u8 = 16;
/// A blank (space or tab).
const BLANK: u8 = 32;
/// A byte of a Message-ID inside angle brackets.
const ID: u8 = 64;
/// A byte of a comment (no parentheses, backslashes or line breaks).
const COMMENT: u8 = 128;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'+'
                    | b'.'
                    | b'_'
                    | b'!'
                    | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'^'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            )
        {
            k |= TCHAR;
        }
        let visible = b >= 0x21 && b < 0x7F;
        if visible && !matches!(b, b'"' | b';' | b'\\' | b'(') {
            k |= VCHAR;
        }
        if (b == b'\t' || (b >= 0x20 && b < 0x7F)) && b != b'"' && b != b'\\' {
            k |= QCHAR;
        }
        if visible
            && !matches!(b, b',' | b'<' | b'>' | b'"' | b'@' | b'(' | b')' | b':' | b';' | b'\\')
        {
            k |= NAME;
        }
        if visible && !matches!(b, b'<' | b'>' | b'"' | b'(' | b')' | b'\\') {
            k |= ANGLE;
        }
        if b == b' ' || b == b'\t' {
            k |= BLANK;
        }
        if !matches!(b, b'<' | b'>' | b' ' | b'\t' | b'\r' | b'\n') {
            k |= ID;
        }
        if (b == b'\t' || (b >= 0x20 && b < 0x7F)) && !matches!(b, b'(' | b')' | b'\\') {
            k |= COMMENT;
        }
        t[c] = k;
        c += 1;
    }
    t
};

/// The end of the run of bytes of class `class` from `i` (at most `end`).
#[inline]
fn run(v: &[u8], i: usize, end: usize, class: u8) -> usize {
    match v.get(i..end) {
        Some(r) => {
            r.iter().position(|&c| CLASS[usize::from(c)] & class == 0).map_or(end, |p| i + p)
        }
        None => i,
    }
}

/// A token of `s` (ASCII, at byte offsets `a..b`) lower-cased (a copy only
/// when it has capitals).
fn lower_token(s: &str, a: usize, b: usize) -> Option<Cow<'_, str>> {
    let t = s.get(a..b)?;
    Some(if t.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(t.to_ascii_lowercase())
    } else {
        Cow::Borrowed(t)
    })
}

/// `type[/subtype](; name=value | ; name="value")*` with blanks around the
/// semicolons and folds after them; ASCII only, no comments, quoted pairs,
/// encoded words or RFC 2231 parameters, no empty values.
fn content_type(v: &[u8]) -> Option<HeaderValue<'_>> {
    let end = content_end(v)?;
    let s = std::str::from_utf8(v).ok()?;
    let mut i = skip_ws_fold(v, 0, end);
    let t_end = run(v, i, end, TCHAR);
    if t_end == i {
        return None;
    }
    let c_type = lower_token(s, i, t_end)?;
    i = t_end;
    let mut c_subtype = None;
    if i < end && v[i] == b'/' {
        let s_end = run(v, i + 1, end, TCHAR);
        if s_end == i + 1 {
            return None;
        }
        c_subtype = Some(lower_token(s, i + 1, s_end)?);
        i = s_end;
    }
    let mut attributes: Vec<Attribute<'_>> = Vec::new();
    loop {
        i = run(v, i, end, BLANK);
        if i == end {
            break;
        }
        if v[i] != b';' {
            return None;
        }
        i = skip_ws_fold(v, i + 1, end);
        if i == end {
            break;
        }
        let n_end = run(v, i, end, TCHAR);
        if n_end == i || n_end == end || v[n_end] != b'=' {
            return None;
        }
        let name = lower_token(s, i, n_end)?;
        i = n_end + 1;
        let (a, b) = if i < end && v[i] == b'"' {
            let q_end = run(v, i + 1, end, QCHAR);
            if q_end == i + 1 || q_end == end || v[q_end] != b'"' {
                return None;
            }
            let r = (i + 1, q_end);
            i = q_end + 1;
            r
        } else {
            let u_end = run(v, i, end, VCHAR);
            if u_end == i {
                return None;
            }
            let r = (i, u_end);
            i = u_end;
            r
        };
        let value = s.get(a..b)?;
        if has_encoded_word(value.as_bytes()) {
            return None;
        }
        attributes.push(Attribute { name, value: Cow::Borrowed(value) });
    }
    Some(HeaderValue::ContentType(ContentType {
        c_type,
        c_subtype,
        attributes: if attributes.is_empty() { None } else { Some(attributes) },
    }))
}

/// `<id>` with blanks (and leading folds) around it, the id without blanks,
/// angle brackets or line breaks.
fn message_id(v: &[u8]) -> Option<HeaderValue<'_>> {
    let end = content_end(v)?;
    let i = skip_ws_fold(v, 0, end);
    if i == end || v[i] != b'<' {
        return None;
    }
    let id_end = run(v, i + 1, end, ID);
    if id_end == i + 1 || id_end == end || v[id_end] != b'>' {
        return None;
    }
    if run(v, id_end + 1, end, BLANK) != end {
        return None;
    }
    Some(HeaderValue::Text(super::text::lossy(&v[i + 1..id_end])))
}

/// A comma-separated list of `addr`, `word ...` (a name alone), `<addr>`,
/// `Name <addr>` and `"Name" <addr>`, ASCII only, without comments, groups,
/// quoted pairs, encoded words or empty entries; folds only between entries.
fn address(v: &[u8]) -> Option<HeaderValue<'_>> {
    let end = content_end(v)?;
    if has_encoded_word(&v[..end]) {
        return None;
    }
    let s = std::str::from_utf8(v).ok()?;
    let mut list: Vec<Addr<'_>> = Vec::new();
    let mut i = skip_ws_fold(v, 0, end);
    while i < end {
        let mut name: Option<Cow<'_, str>> = None;
        match v[i] {
            b'"' => {
                let q_end = run(v, i + 1, end, QCHAR);
                if q_end == i + 1 || q_end == end || v[q_end] != b'"' {
                    return None;
                }
                name = Some(Cow::Borrowed(s.get(i + 1..q_end)?));
                i = run(v, q_end + 1, end, BLANK);
                if i == end || v[i] != b'<' {
                    return None;
                }
            }
            b'<' => {}
            _ => {
                // a run of words: a name before '<', else a bare address or name
                let mut j = i;
                let mut last = i; // end of the last word
                let mut at = false;
                while j < end {
                    let c = v[j];
                    let k = CLASS[usize::from(c)];
                    if k & BLANK != 0 {
                        j += 1;
                    } else if k & NAME != 0 || c == b'@' {
                        at |= c == b'@';
                        j += 1;
                        last = j;
                    } else {
                        break;
                    }
                }
                if last == i {
                    return None;
                }
                let word = s.get(i..last)?;
                if j < end && v[j] == b'<' {
                    if at {
                        return None;
                    }
                    name = Some(Cow::Borrowed(word));
                    i = j;
                } else {
                    let mut k = j;
                    let mut comment_text = None;
                    if k < end && v[k] == b'(' {
                        // `addr (comment)`: the comment is the name
                        if !at {
                            return None;
                        }
                        let (c, after) = comment(v, s, k, end)?;
                        comment_text = c;
                        k = skip_ws_fold(v, after, end);
                    }
                    if k < end && v[k] != b',' {
                        return None;
                    }
                    list.push(if at {
                        Addr {
                            name: comment_text.map(Cow::Borrowed),
                            address: Some(Cow::Borrowed(word)),
                        }
                    } else {
                        Addr { name: Some(Cow::Borrowed(word)), address: None }
                    });
                    i = k;
                    if i < end {
                        // past the comma
                        i = skip_ws_fold(v, i + 1, end);
                    }
                    continue;
                }
            }
        }
        // at '<'
        let a_end = run(v, i + 1, end, ANGLE);
        if a_end == i + 1 || a_end == end || v[a_end] != b'>' {
            return None;
        }
        let address = Some(Cow::Borrowed(s.get(i + 1..a_end)?));
        i = skip_ws_fold(v, a_end + 1, end);
        if i < end && v[i] == b'(' {
            // `<addr> (comment)`: the comment is the name, or follows it
            let (c, after) = comment(v, s, i, end)?;
            if let Some(c) = c {
                name = Some(match name {
                    Some(n) => Cow::Owned(format!("{n} ({c})")),
                    None => Cow::Borrowed(c),
                });
            }
            i = skip_ws_fold(v, after, end);
        }
        list.push(Addr { name, address });
        if i < end {
            if v[i] != b',' {
                return None;
            }
            i = skip_ws_fold(v, i + 1, end);
        }
    }
    if list.is_empty() {
        return None;
    }
    Some(HeaderValue::Address(Address::List(list)))
}

/// A comment `(text)` at `v[i]` (no nested parentheses, quoted pairs or
/// line breaks): its text trimmed of blanks (None when blank, which gives
/// no comment token) and the offset past it.
fn comment<'a>(v: &[u8], s: &'a str, i: usize, end: usize) -> Option<(Option<&'a str>, usize)> {
    if i >= end || v[i] != b'(' {
        return None;
    }
    let c_end = run(v, i + 1, end, COMMENT);
    if c_end == end || v[c_end] != b')' {
        return None;
    }
    let t = s.get(i + 1..c_end)?.trim_matches([' ', '\t']);
    Some(((!t.is_empty()).then_some(t), c_end + 1))
}

/// Any UTF-8 text without "=?", its lines (folds) trimmed of blanks and
/// joined with single spaces.
fn unstructured(v: &[u8]) -> Option<HeaderValue<'_>> {
    let end = content_end(v)?;
    if has_encoded_word(v) {
        return None;
    }
    // the text before the final line break
    let body = &v[..end];
    if memchr::memchr(b'\n', body).is_none() {
        let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r');
        let a = body.iter().position(|c| !blank(c)).unwrap_or(body.len());
        let b = body.iter().rposition(|c| !blank(c)).map_or(a, |p| p + 1);
        let t = body.get(a..b).unwrap_or(&[]);
        return Some(if t.is_empty() {
            HeaderValue::Empty
        } else {
            HeaderValue::Text(Cow::Borrowed(std::str::from_utf8(t).ok()?))
        });
    }
    let s = std::str::from_utf8(v).ok()?;
    fn trim(l: &str) -> &str {
        l.trim_matches([' ', '\t', '\r'])
    }
    let body = s.get(..end)?;
    // folded: every further line must start with a blank
    let mut out = String::with_capacity(body.len());
    for (k, line) in body.split('\n').enumerate() {
        if k > 0 && !line.starts_with([' ', '\t']) {
            return None;
        }
        let t = trim(line);
        if !t.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(t);
        }
    }
    Some(if out.is_empty() { HeaderValue::Empty } else { HeaderValue::Text(Cow::Owned(out)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        v: &[u8],
        fast: fn(&[u8]) -> Option<HeaderValue<'_>>,
        slow: fn(&[u8]) -> HeaderValue<'_>,
    ) -> bool {
        match fast(v) {
            Some(f) => {
                let s = slow(v);
                assert_eq!(f, s, "value {:?}", String::from_utf8_lossy(v));
                true
            }
            None => false,
        }
    }

    fn slow_ct(v: &[u8]) -> HeaderValue<'_> {
        MessageStream::new(v).parse_content_type()
    }
    fn slow_id(v: &[u8]) -> HeaderValue<'_> {
        MessageStream::new(v).parse_id()
    }
    fn slow_addr(v: &[u8]) -> HeaderValue<'_> {
        MessageStream::new(v).parse_address()
    }
    fn slow_text(v: &[u8]) -> HeaderValue<'_> {
        MessageStream::new(v).parse_unstructured()
    }

    /// Random concatenations of `pieces`, each checked by `f`; returns how
    /// many took the fast path.
    fn fuzz(pieces: &[&[u8]], n: usize, seed: u64, mut f: impl FnMut(&[u8]) -> bool) -> usize {
        let mut next = crate::bounce::xorshift(seed);
        let mut hits = 0;
        for _ in 0..n {
            let mut v = Vec::new();
            for _ in 0..next() % 12 {
                v.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            match next() % 4 {
                0 => v.extend_from_slice(b"\r\n"),
                1 | 2 => v.push(b'\n'),
                _ => {}
            }
            if next().is_multiple_of(8) {
                v.extend_from_slice(b" tail\n");
            }
            hits += usize::from(f(&v));
        }
        hits
    }

    /// Values built from `head` slots, then 0..4 repetitions of the `rep`
    /// slots, then the `tail` slots: one random choice per slot (near-valid
    /// values with every kind of irregularity); returns the fast-path count.
    fn compose(
        slots: [&[&[&[u8]]]; 3],
        n: usize,
        seed: u64,
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> usize {
        let mut next = crate::bounce::xorshift(seed);
        let mut hits = 0;
        for _ in 0..n {
            let mut v = Vec::new();
            let [head, rep, tail] = slots;
            let reps = next() % 4;
            let groups = std::iter::once(head)
                .chain(std::iter::repeat_n(rep, reps as usize))
                .chain(std::iter::once(tail));
            for group in groups {
                for slot in group {
                    v.extend_from_slice(slot[(next() % slot.len() as u64) as usize]);
                }
            }
            hits += usize::from(f(&v));
        }
        hits
    }

    #[test]
    fn content_type_matches_mail_parser() {
        let fixed: &[&[u8]] = &[
            b" text/plain\n",
            b" Text/PLAIN; Charset=\"UTF-8\"\r\n",
            b" multipart/report; report-type=delivery-status;\n\tboundary=\"==_x/y=\"\n",
            b" multipart/mixed;\r\n boundary=\"----=_Part_1_2.3\"\r\n",
            b" text/plain; charset=us-ascii;\n",
            b" text/plain;charset=iso-2022-jp;format=flowed;delsp=yes\n",
            b" message/delivery-status\n",
            b" attachment; filename=\"a (1).txt\"\n",
            b" inline\n",
            b" text\n",
            b"\n text/html; charset=\"\"\n",
            b" text/plain; name=\"=?utf-8?b?YQ==?=\"\n",
            b" text/plain; name*=utf-8''a%20b\n",
            b" text/plain (comment)\n",
            b" text/plain; a=b c=d\n",
            b" text/plain; charset = utf-8\n",
            b" text/plain\n charset=x\n",
            b" text/plain; x=\"a\\\"b\"\n",
            b" text/plain",
            b" text/plain; charset=\"  spaced \"\n",
            b" text/plain; a=1; a=2\n",
            b" /plain\n",
            b"\n",
        ];
        let mut hits = 0;
        for v in fixed {
            hits += usize::from(check(v, content_type, slow_ct));
        }
        assert!(hits >= 12, "{hits}");
        let pieces: &[&[u8]] = &[
            b" ",
            b"\t",
            b"\n ",
            b"\r\n\t",
            b"\n",
            b"\r",
            b"text",
            b"TEXT",
            b"plain",
            b"/",
            b";",
            b"; ",
            b"=",
            b"\"",
            b"charset",
            b"Charset",
            b"utf-8",
            b"=?",
            b"?=",
            b"*",
            b"'",
            b"(",
            b")",
            b"\\",
            b"a b",
            b"x.y",
            b"-",
            b"boundary",
            b"\"q v\"",
            b"\xc3\xa9",
            b"\xff",
            b",",
            b":",
            b"@",
            b"==",
        ];
        let hits =
            fuzz(pieces, 300_000, 0x9E37_79B9_7F4A_7C15, |v| check(v, content_type, slow_ct));
        assert!(hits > 1000, "{hits}");

        let hits = compose(
            [
                &[
                    &[b" ", b"", b"\n ", b"\r\n\t", b"\r"],
                    &[b"text", b"Multipart", b"a b", b"", b"x(y)", b"\"t\"", b"=?"],
                    &[b"/", b" /", b"/ ", b"", b"//"],
                    &[b"plain", b"HTML", b"", b"report ", b"a/b"],
                ],
                &[
                    &[b"; ", b";", b";\n\t", b" ; ", b";\r\n ", b"\n ", b" ", b"", b";;", b"\n"],
                    &[b"charset", b"Name", b"x*", b"x*0*", b"a b", b"", b"(c)"],
                    &[b"=", b" = ", b"= ", b""],
                    &[
                        b"utf-8",
                        b"\"q v\"",
                        b"\"\"",
                        b"\"a\\\"b\"",
                        b"=?x?=",
                        b"x(y)",
                        b"\"x;y\"",
                        b"a'b",
                        b"",
                        b"\"tab\t\"",
                        b"==_x",
                        b"\"=_a/b\"",
                        b"a\"b\"",
                        b"\"x\n y\"",
                        b"UTF-8",
                    ],
                ],
                &[&[b"\n", b"\r\n", b"", b" \n", b";\n", b"\n x\n", b"\nX: y\n"]],
            ],
            1_000_000,
            0xDEAD_BEEF_0000_0001,
            |v| check(v, content_type, slow_ct),
        );
        assert!(hits > 10_000, "{hits}");
    }

    #[test]
    fn message_id_matches_mail_parser() {
        let fixed: &[&[u8]] = &[
            b" <a@b>\n",
            b"\n <a.b.c@d.e>\r\n",
            b" <a@b> \t\n",
            b" <>\n",
            b" <a b@c>\n",
            b" a@b\n",
            b" <a@b> <c@d>\n",
            b" <a@b>",
            b" <a@b\n",
            b" <\xc3\xa9@x>\n",
            b" <\xff@x>\n",
        ];
        for v in fixed {
            check(v, message_id, slow_id);
        }
        let pieces: &[&[u8]] = &[
            b" ",
            b"\t",
            b"\n ",
            b"\r\n\t",
            b"\n",
            b"\r",
            b"<",
            b">",
            b"a",
            b"@",
            b"b.c",
            b"\"",
            b"(",
            b")",
            b"\xc3\xa9",
            b"\xff",
            b"<a@b>",
        ];
        let hits = fuzz(pieces, 200_000, 0x1234_5678_9ABC_DEF1, |v| check(v, message_id, slow_id));
        assert!(hits > 1000, "{hits}");

        let hits = compose(
            [
                &[&[b" ", b"", b"\n ", b"\r\n\t", b"\r", b"\n"], &[b"<", b"", b"<<", b" < "]],
                &[&[b"a", b"@", b"b.c", b" ", b"\"", b"(", b"\xc3\xa9", b"\xff", b"<", b">"]],
                &[
                    &[b">", b"", b"> ", b">>", b"> <x@y>"],
                    &[b"\n", b"\r\n", b"", b" \n", b"\n x\n", b"\nX: y\n", b"\r \n"],
                ],
            ],
            1_000_000,
            0xDEAD_BEEF_0000_0002,
            |v| check(v, message_id, slow_id),
        );
        assert!(hits > 10_000, "{hits}");
    }

    #[test]
    fn address_matches_mail_parser() {
        let fixed: &[&[u8]] = &[
            b" a@b\n",
            b" <a@b>\n",
            b" John Smith <john@example.com>\r\n",
            b" \"Smith, John\" <john@example.com>\n",
            b" a@b, c@d,\n\te@f\n",
            b" MAILER-DAEMON@x.y (Mail Delivery System)\n",
            b" MAILER-DAEMON@x.y ( Mail  Delivery )\r\n",
            b" a@b (),\n c@d (x)\n",
            b" <a@b> (c)\n",
            b" Name <a@b> (c d)\n",
            b" \"Q N\" <a@b>\n (c)\n",
            b" a@b (c) d\n",
            b" a (c)\n",
            b" a@b (c (d))\n",
            b" a@b (c\n d)\n",
            b" Mail Delivery System <MAILER-DAEMON@x.y>\n",
            b" undisclosed-recipients:;\n",
            b" undisclosed recipients\n",
            b" John a@b\n",
            b" <>\n",
            b" \"\" <a@b>\n",
            b" a@b,,c@d\n",
            b" a@b,\n",
            b" =?utf-8?q?a?= <a@b>\n",
            b" John\n Smith <a@b>\n",
            b" a@b\n c@d\n",
            b" <a@b>\n , c@d\n",
            b" a@b",
            b" \"x\\\"y\" <a@b>\n",
            b" Jos\xc3\xa9 <a@b>\n",
        ];
        for v in fixed {
            check(v, address, slow_addr);
        }
        let pieces: &[&[u8]] = &[
            b" ",
            b"\t",
            b"\n ",
            b"\r\n\t",
            b"\n",
            b"\r",
            b"<",
            b">",
            b"a",
            b"@",
            b"b.c",
            b"\"",
            b"(",
            b")",
            b",",
            b":",
            b";",
            b"\\",
            b"John",
            b"=?",
            b"?=",
            b"\xc3\xa9",
            b"\xff",
            b"<a@b>",
            b"\"N M\"",
            b"x@y",
            b"!#",
        ];
        let hits = fuzz(pieces, 300_000, 0x0F1E_2D3C_4B5A_6978, |v| check(v, address, slow_addr));
        assert!(hits > 1000, "{hits}");

        let entries: &[&[u8]] = &[
            b"a@b",
            b"<a@b>",
            b"John Smith <a@b>",
            b"\"Q, N\" <a@b>",
            b"John",
            b"John a@b",
            b"<>",
            b"\"\" <a@b>",
            b"(c) a@b",
            b"a@b (c)",
            b"g: a@b;",
            b"=?x?q?y?= <a@b>",
            b"Jo\\hn <a@b>",
            b"< a@b >",
            b"<a@b> x",
            b"John\tSmith  <a@b>",
            b"\"N\"<a@b>",
            b"A.B <a@b>",
            b"Jos\xc3\xa9 <a@b>",
            b"<a@b@c>",
            b"<a,b@c>",
            b"a@b@c",
            b"\"a\tb\" <x@y>",
            b"",
            b"x <\"a\"@b>",
        ];
        let hits = compose(
            [
                &[&[b" ", b"", b"\n ", b"\r\n\t", b"\r"], entries],
                &[&[b", ", b",", b",\n ", b"\n ", b" ", b",,", b" , ", b",\r\n\t"], entries],
                &[&[b"\n", b"\r\n", b"", b" \n", b",\n", b"\n x\n", b"\nX: y\n"]],
            ],
            300_000,
            0xDEAD_BEEF_0000_0003,
            |v| check(v, address, slow_addr),
        );
        assert!(hits > 10_000, "{hits}");
    }

    #[test]
    fn unstructured_matches_mail_parser() {
        let fixed: &[&[u8]] = &[
            b" Undelivered Mail Returned to Sender\n",
            b"  a  b \t\r\n",
            b" a\n b\n",
            b" a\r\n\tb\r\n  \r\n c\n",
            b" \n",
            b"\n",
            b" 7bit\n",
            b" caf\xc3\xa9\n",
            b" =?utf-8?q?x?=\n",
            b" a",
            b" a\nb\n",
        ];
        for v in fixed {
            check(v, unstructured, slow_text);
        }
        let pieces: &[&[u8]] = &[
            b" ",
            b"\t",
            b"\n ",
            b"\r\n\t",
            b"\n",
            b"\r",
            b"a",
            b"Bc",
            b"=",
            b"?",
            b"=?",
            b"\"",
            b"\xc3\xa9",
            b"\xff",
            b"\xe3\x81",
        ];
        let hits =
            fuzz(pieces, 200_000, 0x5555_AAAA_3333_CCCC, |v| check(v, unstructured, slow_text));
        assert!(hits > 1000, "{hits}");
    }
}
