//! "Why am I getting these?": how backscatter happens, drawn and told with the user's own
//! numbers, what it does and does not mean, and what can be done about it.

use super::format;
use crate::scan::ScanReport;
use crate::triage::Verdict;
use egui::{pos2, vec2, Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Shape, Stroke, Ui};
use std::collections::HashMap;

/// The user's numbers, made once per scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub mailbox: String,
    pub scanned: usize,
    pub bounces: usize,
    pub backscatter: usize,
    pub genuine: usize,
    pub unverified: usize,
    pub suspicious: usize,
    pub sent_mailbox: Option<String>,
    pub sent_messages: usize,
    /// The address the forged mail claimed to come from (the user's), if the bounces say.
    pub address: Option<String>,
    /// One real backscatter bounce: who "you" wrote to, when, and about what.
    pub example: Option<Example>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub recipient: String,
    pub date: Option<String>,
    pub subject: Option<String>,
}

impl Facts {
    pub fn from_report(r: &ScanReport) -> Facts {
        let mut from_counts: HashMap<String, usize> = HashMap::new();
        let mut example = None;
        for item in r.items.iter().filter(|i| i.verdict == Some(Verdict::Backscatter)) {
            if let Some(f) = &item.analysis.original.from {
                let addr = bare_address(f);
                if !addr.is_empty() {
                    *from_counts.entry(addr).or_insert(0) += 1;
                }
            }
            if example.is_none() {
                if let Some(to) = item.analysis.original.recipients.first() {
                    example = Some(Example {
                        recipient: to.clone(),
                        date: item.date.map(format::long_date),
                        subject: item
                            .analysis
                            .original
                            .subject
                            .clone()
                            .filter(|s| !s.trim().is_empty()),
                    });
                }
            }
        }
        let address = from_counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(a, _)| a);
        Facts {
            mailbox: r.mailbox.clone(),
            scanned: r.scanned,
            bounces: r.items.len(),
            backscatter: r.count(Verdict::Backscatter),
            genuine: r.count(Verdict::Genuine),
            unverified: r.count(Verdict::Unverified),
            suspicious: r.count(Verdict::Suspicious),
            sent_mailbox: r.sent_mailbox.clone(),
            sent_messages: r.sent_messages,
            address,
            example,
        }
    }
}

/// "Alex <alex@example.org>" → "alex@example.org".
fn bare_address(s: &str) -> String {
    let s = s.trim();
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].trim().to_string(),
        _ => s.trim_matches(|c| c == '<' || c == '>' || c == '"').to_string(),
    }
}

/// The explainer page.
pub fn ui(ui: &mut Ui, facts: Option<&Facts>) {
    let address = facts.and_then(|f| f.address.clone()).unwrap_or_else(|| "you@your-domain".into());
    ui.heading("Why am I getting these?");
    ui.add_space(4.0);
    ui.label(
        "You are getting bounces (\"Undeliverable\", \"Mail delivery failed\", \"Returned mail\") for \
         messages you never wrote. This is called backscatter, and here is how it happens.",
    );
    ui.add_space(8.0);
    diagram(ui, &address);
    ui.add_space(8.0);
    numbered(ui, 1, "A spammer's machine sends junk mail to thousands of addresses. Anyone can write any sender address on an email, just like on a paper envelope — so it writes yours.");
    numbered(ui, 2, "A receiving server accepts the message, then finds it cannot deliver it (the mailbox does not exist, it is full, or the spam filter refuses it).");
    numbered(ui, 3, "So it sends a bounce back to the address it believes sent the message: yours. You get bounces for mail you never sent. Auto-replies (\"I'm on holiday\") and \"confirm you are human\" challenges arrive the same way.");
    ui.add_space(8.0);

    ui.label(RichText::new("Does this mean my account was hacked?").strong());
    match facts {
        Some(f) if f.suspicious > 0 => {
            ui.label(format!(
                "Usually not — the forged messages came from the spammer's machines, not from your account. \
                 But {} {} not in your Sent folder and yet seem to have left through your own provider's servers. \
                 That can be a phone, printer or website form that sends as you without saving to Sent — or someone \
                 who knows your password. To be safe: change your password, look at your account's recent sign-in \
                 activity and app passwords, remove what you do not recognise, and turn on 2-step verification.",
                format::plural(f.suspicious, "bounce", "bounces"),
                if f.suspicious == 1 { "is about a message that is" } else { "are about messages that are" }
            ));
        }
        _ => {
            ui.label(
                "No. The messages were sent by the spammer's machines; they only carry your address. Nobody logged \
                 in to your account to send them. (If NeverSent finds bounces that look like they left through your \
                 own provider, it marks them \"suspicious\" and tells you what to check.)",
            );
        }
    }
    ui.add_space(8.0);

    ui.label(RichText::new("In your mailbox").strong());
    match facts {
        Some(f) => your_numbers(ui, f),
        None => {
            ui.label("Scan a mailbox (or try the demo) to see your own numbers here.");
        }
    }
    ui.add_space(8.0);

    ui.label(RichText::new("What you can do").strong());
    bullet(ui, "Move the backscatter to Trash — NeverSent does that in one click, keeps the real bounces, and can undo it.");
    bullet(ui, "Nobody can stop the spammer from here: the mail never passed through your account. Changing your address does not help either.");
    bullet(ui, "Waves like this usually fade within days, when the spammer moves on to another address. Scan again later to clean up what came since.");
    ui.add_space(8.0);

    ui.label(RichText::new("What your domain's administrator can do").strong());
    bullet(ui, "SPF: publish which servers may send mail for your domain, so receiving servers can refuse forged mail at the door instead of bouncing it later.");
    bullet(
        ui,
        "DKIM: sign your real outgoing mail, so receivers can tell it apart from forgeries.",
    );
    bullet(ui, "DMARC with p=reject: tell receivers to reject mail that fails SPF and DKIM. Most large providers then refuse the forgeries outright, and send no bounce.");
    bullet(ui, "BATV (bounce address tag validation): tag the sender address of your real outgoing mail, and have your incoming server refuse bounces to untagged addresses — a bounce of mail you really sent always carries the tag.");
    ui.label(RichText::new("If your address is at a big provider (Gmail, Outlook, Yahoo…), they already do the first three; the bounces come from badly run servers elsewhere.").small());
}

fn your_numbers(ui: &mut Ui, f: &Facts) {
    ui.label(format!(
        "NeverSent checked {} in {} and found {}. {} {} about messages that are not among the {} in your Sent folder{} — backscatter.",
        format::plural(f.scanned, "message", "messages"),
        f.mailbox,
        format::plural(f.bounces, "bounce or auto-reply", "bounces and auto-replies"),
        format::count(f.backscatter),
        if f.backscatter == 1 { "is" } else { "are" },
        format::plural(f.sent_messages, "message", "messages"),
        f.sent_mailbox.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
    ));
    if let Some(ex) = &f.example {
        let when = ex.date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default();
        let about = ex.subject.as_deref().map(|s| format!(" (\"{s}\")")).unwrap_or_default();
        ui.label(format!(
            "For example, one bounce says you wrote to {}{when}{about}. That message is not among the {} in your Sent folder: you never sent it.",
            ex.recipient,
            format::plural(f.sent_messages, "message", "messages"),
        ));
    }
    if f.genuine > 0 {
        ui.label(format!(
            "{} {} about mail you really sent (it is in your Sent folder): those are kept and never moved in one click. Read them — that mail did not arrive.",
            format::count(f.genuine),
            if f.genuine == 1 { "bounce is" } else { "bounces are" },
        ));
    }
    if f.unverified > 0 {
        ui.label(format!(
            "{} {} nothing that identifies the original message, so NeverSent leaves the decision to you.",
            format::count(f.unverified),
            if f.unverified == 1 { "bounce has" } else { "bounces have" },
        ));
    }
    if f.sent_messages == 0 {
        ui.label("Your Sent folder is empty, which proves nothing: some mail apps never save to Sent. So every bounce is unverified.");
    }
}

fn numbered(ui: &mut Ui, n: usize, text: &str) {
    hanging(ui, RichText::new(format!("{n}.")).strong(), text);
}

fn bullet(ui: &mut Ui, text: &str) {
    hanging(ui, RichText::new("•"), text);
}

/// `marker`, then `text` wrapped in a column of its own (lines after the first start under the
/// first, not under the marker).
fn hanging(ui: &mut Ui, marker: RichText, text: &str) {
    ui.horizontal_top(|ui| {
        ui.add_sized(
            vec2(14.0, ui.text_style_height(&egui::TextStyle::Body)),
            egui::Label::new(marker),
        );
        ui.add(egui::Label::new(text).wrap());
    });
}

/// Spammer → recipient's server → bounce to you, with your address forged on the envelope.
fn diagram(ui: &mut Ui, address: &str) {
    let width = ui.available_width().clamp(420.0, 860.0);
    let (rect, response) = ui.allocate_exact_size(vec2(width, 200.0), Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!(
                "Diagram: a spammer's machine sends mail with {address} forged as the sender to a recipient's server; the server cannot deliver it and sends the bounce to {address}."
            ),
        )
    });
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let text = visuals.text_color();
    let fill = visuals.faint_bg_color;
    let line = visuals.widgets.noninteractive.fg_stroke.color;
    let warn = Color32::from_rgb(0xd0, 0x40, 0x30);
    let ok = Color32::from_rgb(0x30, 0x80, 0xd0);
    let font = FontId::proportional(14.0);
    let small = FontId::proportional(12.0);

    let box_w = (width * 0.22).min(180.0);
    let box_h = 58.0;
    let top = rect.top() + 14.0;
    let spam = Rect::from_min_size(pos2(rect.left() + 4.0, top), vec2(box_w, box_h));
    let server = Rect::from_min_size(pos2(rect.right() - box_w - 4.0, top), vec2(box_w, box_h));
    let you = Rect::from_min_size(
        pos2(rect.center().x - box_w / 2.0, rect.bottom() - box_h - 4.0),
        vec2(box_w, box_h),
    );

    for (r, title, sub) in [
        (spam, "Spammer's machine", "anywhere on the internet"),
        (server, "Recipient's server", "cannot deliver it"),
        (you, "Your inbox", address),
    ] {
        painter.rect(r, 8.0, fill, Stroke::new(1.5, line), egui::StrokeKind::Inside);
        painter.text(r.center() - vec2(0.0, 9.0), Align2::CENTER_CENTER, title, font.clone(), text);
        painter.text(r.center() + vec2(0.0, 11.0), Align2::CENTER_CENTER, sub, small.clone(), text);
    }

    // The spam, with the forged envelope.
    let a = pos2(spam.right() + 4.0, spam.center().y);
    let b = pos2(server.left() - 4.0, server.center().y);
    arrow(&painter, a, b, Stroke::new(2.0, warn));
    let env_center = pos2((a.x + b.x) / 2.0, a.y - 2.0);
    let env = Rect::from_center_size(env_center, vec2(((b.x - a.x) * 0.7).min(250.0), 40.0));
    painter.rect(
        env,
        3.0,
        visuals.extreme_bg_color,
        Stroke::new(1.5, warn),
        egui::StrokeKind::Inside,
    );
    painter.add(Shape::line(
        vec![env.left_top(), pos2(env.center().x, env.top() + 14.0), env.right_top()],
        Stroke::new(1.0, warn),
    ));
    painter.text(
        pos2(env.center().x, env.center().y + 6.0),
        Align2::CENTER_CENTER,
        format!("From: {address}  (forged)"),
        small.clone(),
        warn,
    );
    painter.text(
        pos2(env.center().x, env.bottom() + 10.0),
        Align2::CENTER_CENTER,
        "1. spam with your address as sender",
        small.clone(),
        text,
    );

    // The bounce, back to the forged sender.
    let c = pos2(server.center().x, server.bottom() + 4.0);
    let d = pos2(you.right() + 4.0, you.center().y);
    let elbow = pos2(c.x, d.y);
    painter.add(Shape::line(vec![c, elbow], Stroke::new(2.0, ok)));
    arrow(&painter, elbow, d, Stroke::new(2.0, ok));
    painter.text(
        pos2((elbow.x + d.x) / 2.0, d.y - 12.0),
        Align2::CENTER_CENTER,
        "2. \"Undeliverable\" bounce, to you",
        small.clone(),
        text,
    );
    painter.text(
        pos2(spam.center().x, you.center().y),
        Align2::CENTER_CENTER,
        "You never sent anything.",
        small,
        text,
    );
}

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, stroke: Stroke) {
    painter.line_segment([from, to], stroke);
    let dir = (to - from).normalized();
    let side = vec2(-dir.y, dir.x) * 6.0;
    let back = to - dir * 12.0;
    painter.add(Shape::convex_polygon(
        vec![to, back + side, back - side],
        stroke.color,
        Stroke::NONE,
    ));
}
