//! Numbers and dates for people.

use crate::bounce::Kind;
use crate::triage::Verdict;

/// 12400 → "12,400".
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 message" / "2 messages".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn parts(secs: i64) -> mail_parser::DateTime {
    mail_parser::DateTime::from_timestamp(secs)
}

/// "2026-11-07 22:21" (UTC).
pub fn date_time(secs: i64) -> String {
    let d = parts(secs);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", d.year, d.month, d.day, d.hour, d.minute)
}

/// "7 Nov 2026" (UTC).
pub fn long_date(secs: i64) -> String {
    let d = parts(secs);
    let month = MONTHS.get((d.month as usize).wrapping_sub(1)).copied().unwrap_or("?");
    format!("{} {} {}", d.day, month, d.year)
}

/// "Nov 7" for a day number (days since 1970-01-01, UTC).
pub fn day_label(day: i64) -> String {
    let d = parts(day * 86_400);
    let month = MONTHS.get((d.month as usize).wrapping_sub(1)).copied().unwrap_or("?");
    format!("{month} {}", d.day)
}

/// "3 s", "2 min 05 s", "1 h 02 min".
pub fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60),
    }
}

pub fn kind(k: &Kind) -> &'static str {
    match k {
        Kind::NotBounce => "Not a bounce",
        Kind::DeliveryFailure => "Delivery failure",
        Kind::DeliveryDelay => "Delay warning",
        Kind::DeliverySuccess => "Delivery report",
        Kind::AutoReply => "Auto-reply",
        Kind::ChallengeResponse => "Challenge",
        Kind::VirusNotice => "Virus notice",
        Kind::FeedbackReport => "Abuse report",
    }
}

pub fn verdict(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Backscatter) => "Backscatter",
        Some(Verdict::Genuine) => "Genuine",
        Some(Verdict::Unverified) => "Unverified",
        Some(Verdict::Suspicious) => "Suspicious",
        None => "checking…",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_dates() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(12_400), "12,400");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(plural(1, "message", "messages"), "1 message");
        assert_eq!(date_time(0), "1970-01-01 00:00");
        assert_eq!(long_date(1_794_088_122), "7 Nov 2026");
        assert_eq!(day_label(1_794_088_122 / 86_400), "Nov 7");
        assert_eq!(duration(125), "2 min 05 s");
    }
}
