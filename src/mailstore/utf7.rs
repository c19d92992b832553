//! IMAP's modified UTF-7 for mailbox names (RFC 3501 section 5.1.3).

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn b64_value(c: u8) -> Option<u32> {
    B64.iter().position(|&x| x == c).map(|p| p as u32)
}

/// Decodes a mailbox name; anything malformed is kept as it was written.
pub fn decode(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'&' {
            let start = i;
            while i < bytes.len() && bytes[i] != b'&' {
                i += 1;
            }
            out.push_str(&name[start..i]);
            continue;
        }
        let Some(rel_end) = bytes[i + 1..].iter().position(|&b| b == b'-') else {
            out.push_str(&name[i..]);
            break;
        };
        let end = i + 1 + rel_end;
        let encoded = &bytes[i + 1..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            match decode_run(encoded) {
                Some(s) => out.push_str(&s),
                None => out.push_str(&name[i..=end]),
            }
        }
        i = end + 1;
    }
    out
}

fn decode_run(encoded: &[u8]) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut units = Vec::new();
    for &c in encoded {
        bits = (bits << 6) | b64_value(c)?;
        nbits += 6;
        if nbits >= 16 {
            nbits -= 16;
            units.push(((bits >> nbits) & 0xFFFF) as u16);
        }
    }
    String::from_utf16(&units).ok()
}

/// Encodes a name for use in IMAP commands.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let mut bits: u32 = 0;
        let mut nbits = 0;
        for &u in pending.iter() {
            bits = (bits << 16) | u as u32;
            nbits += 16;
            while nbits >= 6 {
                nbits -= 6;
                out.push(B64[((bits >> nbits) & 63) as usize] as char);
            }
        }
        if nbits > 0 {
            out.push(B64[((bits << (6 - nbits)) & 63) as usize] as char);
        }
        out.push('-');
        pending.clear();
    };
    for ch in name.chars() {
        if ch == '&' {
            flush(&mut pending, &mut out);
            out.push_str("&-");
        } else if (' '..='~').contains(&ch) {
            flush(&mut pending, &mut out);
            out.push(ch);
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(ch.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_localized_names() {
        for (plain, wire) in [
            ("Envoyés", "Envoy&AOk-s"),
            ("Éléments envoyés", "&AMk-l&AOk-ments envoy&AOk-s"),
            ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
            ("A&B", "A&-B"),
            ("Sent Items", "Sent Items"),
        ] {
            assert_eq!(encode(plain), wire, "encode {plain}");
            assert_eq!(decode(wire), plain, "decode {wire}");
        }
    }

    #[test]
    fn malformed_names_stay_as_written() {
        assert_eq!(decode("Broken&AOk"), "Broken&AOk");
        assert_eq!(decode("Bad&!!-x"), "Bad&!!-x");
    }
}
