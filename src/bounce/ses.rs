//! Amazon SES / SNS JSON notifications (Bounce, Complaint, Delivery) sent as
//! the text body of an email.

use serde_json::Value;

use super::headers::{bare_message_id, OrigHeaders};
use super::Kind;

pub struct Ses {
    pub kind: Kind,
    pub notification_type: String,
    pub orig: OrigHeaders,
    pub recipients: Vec<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

fn first_json(s: &str) -> Option<Value> {
    let start = s.find('{')?;
    let body = s.get(start..)?;
    let mut it = serde_json::Deserializer::from_str(body).into_iter::<Value>();
    match it.next() {
        Some(Ok(v)) => Some(v),
        _ => None,
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str()
}

pub fn parse(text: &str) -> Option<Ses> {
    if text.len() > 1024 * 1024 || !text.contains("notificationType") && !text.contains("eventType")
    {
        return None;
    }
    let mut v = first_json(text).or_else(|| {
        // long lines are sometimes wrapped by MTAs ("!\n " or plain newlines)
        let joined: String =
            text.replace("!\r\n ", "").replace("!\n ", "").replace(['\r', '\n'], "");
        first_json(&joined)
    })?;
    // SNS envelope: {"Type":"Notification","Message":"{...}"}
    if let Some(inner) = v.get("Message").and_then(|m| m.as_str()).and_then(first_json) {
        v = inner;
    }
    let nt = str_at(&v, &["notificationType"]).or_else(|| str_at(&v, &["eventType"]))?.to_string();
    let (kind, list_key, obj) = match nt.to_ascii_lowercase().as_str() {
        "bounce" => (Kind::DeliveryFailure, "bouncedRecipients", "bounce"),
        "complaint" => (Kind::FeedbackReport, "complainedRecipients", "complaint"),
        "delivery" => (Kind::DeliverySuccess, "recipients", "delivery"),
        "deliverydelay" => (Kind::DeliveryDelay, "delayedRecipients", "deliveryDelay"),
        _ => return None,
    };
    let mut recipients = Vec::new();
    let mut status = None;
    let mut diagnostic = None;
    if let Some(list) = v.get(obj).and_then(|o| o.get(list_key)).and_then(|l| l.as_array()) {
        for r in list.iter().take(100) {
            if let Some(a) = r.as_str().or_else(|| r.get("emailAddress").and_then(|x| x.as_str())) {
                recipients.push(a.to_string());
            }
            if status.is_none() {
                status = r.get("status").and_then(|x| x.as_str()).map(|s| s.to_string());
            }
            if diagnostic.is_none() {
                diagnostic =
                    r.get("diagnosticCode").and_then(|x| x.as_str()).map(|s| s.to_string());
            }
        }
    }
    if diagnostic.is_none() {
        diagnostic = v
            .get(obj)
            .and_then(|o| o.get("smtpResponse"))
            .and_then(|x| x.as_str())
            .map(|s| s.to_string());
    }
    let mail = v.get("mail");
    let mut orig = OrigHeaders::default();
    if let Some(m) = mail {
        orig.message_id = str_at(m, &["commonHeaders", "messageId"])
            .and_then(bare_message_id)
            .or_else(|| str_at(m, &["messageId"]).map(|s| s.trim().to_string()));
        orig.subject = str_at(m, &["commonHeaders", "subject"]).map(|s| s.to_string());
        orig.from = m
            .get("commonHeaders")
            .and_then(|c| c.get("from"))
            .and_then(|f| f.get(0))
            .and_then(|x| x.as_str())
            .map(|s| s.to_string())
            .or_else(|| str_at(m, &["source"]).map(|s| s.to_string()));
        orig.date = str_at(m, &["commonHeaders", "date"])
            .or_else(|| str_at(m, &["timestamp"]))
            .map(|s| s.to_string());
        if let Some(d) = m.get("destination").and_then(|d| d.as_array()) {
            orig.to = d
                .iter()
                .filter_map(|x| x.as_str())
                .filter_map(super::text::normalize_address)
                .take(50)
                .collect();
        }
    }
    Some(Ses {
        kind,
        notification_type: nt,
        orig,
        recipients,
        status: status.filter(|s| super::text::find_enhanced_status(s).is_some()),
        diagnostic,
    })
}
