//! The review list: every bounce the scan found, by verdict, in a virtualised table that stays
//! smooth at 100,000 rows. The filtered and sorted view is an index vector rebuilt only when the
//! data, the tab, the search or the sort change — never every frame.

use super::cell_text::TextCache;
use super::format;
use super::table::{self, MeshCache, StateMeshes};
use crate::mailstore::Uid;
use crate::scan::{ScanItem, ScanReport};
use crate::triage::Verdict;
use egui::emath::GuiRounding as _;
use egui::epaint::text::{PlacedRow, Row as TextRow};
use egui::{pos2, vec2, Color32, Key, Modifiers, Pos2, Rect, RichText, Sense, Shape, Ui};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// While results stream in, the view is rebuilt at most this often.
const STREAM_REBUILD: Duration = Duration::from_millis(250);

/// The review tabs, one per verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Backscatter,
    Genuine,
    Unverified,
    Suspicious,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Backscatter, Tab::Genuine, Tab::Unverified, Tab::Suspicious];

    pub fn verdict(self) -> Verdict {
        match self {
            Tab::Backscatter => Verdict::Backscatter,
            Tab::Genuine => Verdict::Genuine,
            Tab::Unverified => Verdict::Unverified,
            Tab::Suspicious => Verdict::Suspicious,
        }
    }

    pub fn title(self) -> &'static str {
        format::verdict(Some(self.verdict()))
    }

    /// One sentence on what the tab holds.
    pub fn blurb(self) -> &'static str {
        match self {
            Tab::Backscatter => "Bounces of messages that are not in your Sent folder: your address was forged. Safe to move to Trash.",
            Tab::Genuine => "Bounces of messages you really sent (they are in your Sent folder). Worth reading: that mail did not arrive.",
            Tab::Unverified => "Nothing in these bounces identifies the original message, so NeverSent cannot tell. Look before you delete.",
            Tab::Suspicious => "Not in your Sent folder, yet they left through your own provider. Read the explanation before deleting.",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The columns one can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Date,
    Claims,
    Subject,
    Kind,
    Verdict,
    Reason,
}

impl SortKey {
    fn title(self) -> &'static str {
        match self {
            SortKey::Date => "Date (UTC)",
            SortKey::Claims => "Claims you wrote to",
            SortKey::Subject => "Subject",
            SortKey::Kind => "Kind",
            SortKey::Verdict => "Verdict",
            SortKey::Reason => "Why",
        }
    }
}

/// One bounce, with its display strings made once.
#[derive(Debug, Clone)]
pub struct Row {
    pub uid: Uid,
    pub verdict: Option<Verdict>,
    pub date: Option<i64>,
    pub date_text: String,
    /// The original's recipients: who "you" supposedly wrote to.
    pub claims: String,
    pub subject: String,
    pub kind: &'static str,
    pub reason: String,
    pub checked: bool,
    /// Moved to Trash in this session: out of the list.
    pub moved: bool,
    /// Everything searchable, lower case.
    haystack: String,
}

impl Row {
    pub fn from_item(item: &ScanItem) -> Row {
        let a = &item.analysis;
        let mut recipients: Vec<&str> = a.original.recipients.iter().map(String::as_str).collect();
        if recipients.is_empty() {
            recipients = a
                .recipients_detail
                .iter()
                .filter_map(|r| r.final_recipient.as_deref().or(r.original_recipient.as_deref()))
                .collect();
        }
        let claims = if recipients.is_empty() { "—".to_string() } else { recipients.join(", ") };
        let subject = a
            .original
            .subject
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| item.subject.clone());
        let subject: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let reason = item.reasons.first().or(a.evidence.first()).cloned().unwrap_or_default();
        let kind = format::kind(&a.kind);
        let date_text = item.date.map(format::date_time).unwrap_or_else(|| "—".into());
        let haystack = format!(
            "{claims}\n{subject}\n{}\n{kind}\n{reason}\n{}\n{}",
            item.from,
            a.original.message_id.as_deref().unwrap_or(""),
            item.subject
        )
        .to_lowercase();
        Row {
            uid: item.uid,
            verdict: item.verdict,
            date: item.date,
            date_text,
            claims,
            subject,
            kind,
            reason,
            checked: item.verdict.is_some_and(Verdict::preselected),
            moved: false,
            haystack,
        }
    }
}

/// What the user did in the list this frame.
#[derive(Debug, Default)]
pub struct ListResponse {
    /// A different row is selected now.
    pub selection_changed: bool,
    /// Delete was pressed: ask to move the checked rows.
    pub delete_pressed: bool,
}

/// The rows, the current tab, search and sort, and the view they make.
#[derive(Debug)]
pub struct ReviewList {
    rows: Vec<Row>,
    by_uid: HashMap<Uid, usize>,
    /// True once the scan has judged every row.
    judged: bool,
    pub tab: Tab,
    sort: SortKey,
    ascending: bool,
    pub search: String,
    /// Indices into `rows`, filtered and sorted.
    view: Vec<usize>,
    counts: [usize; 4],
    /// Checked rows not yet moved: (backscatter, others).
    checked: (usize, usize),
    dirty: bool,
    last_rebuild: Option<Instant>,
    selected: Option<usize>,
    scroll_to: Option<usize>,
    /// Ask the search field for focus next frame (Ctrl+F).
    pub focus_search: bool,
    /// The widths of the resizable columns (date, kind, verdict).
    resized: [f32; 3],
    /// The visible rows' text, laid out.
    texts: TextCache,
    /// The visible rows, tessellated.
    body: MeshCache<BodyKey>,
    /// How a row looks apart from its text, per state.
    looks: StateMeshes<RowLook>,
}

impl Default for ReviewList {
    fn default() -> Self {
        ReviewList {
            rows: Vec::new(),
            by_uid: HashMap::new(),
            judged: false,
            tab: Tab::Backscatter,
            sort: SortKey::Date,
            ascending: false,
            search: String::new(),
            view: Vec::new(),
            counts: [0; 4],
            checked: (0, 0),
            dirty: false,
            last_rebuild: None,
            selected: None,
            scroll_to: None,
            focus_search: false,
            resized: INITIAL_WIDTHS,
            texts: TextCache::default(),
            body: MeshCache::default(),
            looks: StateMeshes::default(),
        }
    }
}

impl ReviewList {
    /// Forgets everything (a new scan of another mailbox).
    pub fn clear(&mut self) {
        *self = ReviewList {
            tab: self.tab,
            sort: self.sort,
            ascending: self.ascending,
            resized: self.resized,
            ..Default::default()
        };
    }

    /// Adds bounces as the scan finds them (not judged yet).
    pub fn add_found(&mut self, items: &[ScanItem]) {
        self.texts.clear();
        for item in items {
            match self.by_uid.get(&item.uid) {
                Some(&i) => self.rows[i] = Row::from_item(item),
                None => {
                    self.by_uid.insert(item.uid, self.rows.len());
                    self.rows.push(Row::from_item(item));
                }
            }
        }
        self.dirty = true;
    }

    /// Replaces the rows with the scan's judged results; backscatter is checked.
    pub fn set_report(&mut self, report: &ScanReport) {
        self.set_rows(report.items.iter().map(Row::from_item).collect());
        self.judged = true;
        if self.counts[self.tab.index()] == 0 {
            if let Some(t) = Tab::ALL.into_iter().find(|t| self.counts[t.index()] > 0) {
                self.tab = t;
                self.rebuild();
            }
        }
    }

    /// Replaces all rows (used by `set_report` and by benchmarks).
    pub fn set_rows(&mut self, rows: Vec<Row>) {
        let selected_uid = self.selected_row().map(|r| r.uid);
        self.by_uid = rows.iter().enumerate().map(|(i, r)| (r.uid, i)).collect();
        self.rows = rows;
        self.texts.clear();
        self.judged = self.rows.iter().all(|r| r.verdict.is_some());
        self.selected = selected_uid.and_then(|u| self.by_uid.get(&u).copied());
        self.rebuild();
    }

    pub fn is_judged(&self) -> bool {
        self.judged
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Rows still in the inbox.
    pub fn live_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.moved)
    }

    /// How many rows a tab holds (not counting moved ones).
    pub fn count(&self, tab: Tab) -> usize {
        self.counts[tab.index()]
    }

    /// All rows found, judged or not, not moved.
    pub fn total(&self) -> usize {
        self.rows.iter().filter(|r| !r.moved).count()
    }

    /// Checked backscatter rows.
    pub fn checked_backscatter(&self) -> usize {
        self.checked.0
    }

    /// Checked rows that are not backscatter.
    pub fn checked_other(&self) -> usize {
        self.checked.1
    }

    /// The UIDs of the checked backscatter rows: the only ones the primary button moves.
    pub fn checked_backscatter_uids(&self) -> Vec<Uid> {
        self.live_rows()
            .filter(|r| r.checked && r.verdict == Some(Verdict::Backscatter))
            .map(|r| r.uid)
            .collect()
    }

    /// The UIDs of every checked row, with how many of each verdict.
    pub fn checked_uids(&self) -> (Vec<Uid>, HashMap<Verdict, usize>) {
        let mut per = HashMap::new();
        let uids = self
            .live_rows()
            .filter(|r| r.checked)
            .inspect(|r| {
                if let Some(v) = r.verdict {
                    *per.entry(v).or_insert(0) += 1;
                }
            })
            .map(|r| r.uid)
            .collect();
        (uids, per)
    }

    /// Takes moved messages out of the list.
    pub fn mark_moved(&mut self, uids: &[Uid]) {
        let set: HashSet<Uid> = uids.iter().copied().collect();
        for r in &mut self.rows {
            if set.contains(&r.uid) {
                r.moved = true;
            }
        }
        if self.selected_row().is_some_and(|r| r.moved) {
            self.selected = None;
        }
        self.rebuild();
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.selected.and_then(|i| self.rows.get(i))
    }

    /// Checks or unchecks every row in the current view.
    pub fn check_all_in_view(&mut self, checked: bool) {
        self.ensure_view();
        for &i in &self.view {
            self.rows[i].checked = checked;
        }
        self.recount_checked();
    }

    /// How many rows the current view shows.
    pub fn view_len(&mut self) -> usize {
        self.ensure_view();
        self.view.len()
    }

    fn recount_checked(&mut self) {
        let mut c = (0, 0);
        for r in self.rows.iter().filter(|r| r.checked && !r.moved) {
            if r.verdict == Some(Verdict::Backscatter) {
                c.0 += 1;
            } else if r.verdict.is_some() {
                c.1 += 1;
            }
        }
        self.checked = c;
    }

    /// Rebuilds the view now.
    fn rebuild(&mut self) {
        self.counts = [0; 4];
        for r in self.rows.iter().filter(|r| !r.moved) {
            if let Some(v) = r.verdict {
                let t = match v {
                    Verdict::Backscatter => Tab::Backscatter,
                    Verdict::Genuine => Tab::Genuine,
                    Verdict::Unverified => Tab::Unverified,
                    Verdict::Suspicious => Tab::Suspicious,
                };
                self.counts[t.index()] += 1;
            }
        }
        self.recount_checked();
        let needle = self.search.trim().to_lowercase();
        let tab_verdict = self.tab.verdict();
        let judged = self.judged;
        let rows = &self.rows;
        let mut view: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                let r = &rows[i];
                !r.moved
                    && (!judged || r.verdict == Some(tab_verdict))
                    && (needle.is_empty() || r.haystack.contains(&needle))
            })
            .collect();
        let key = self.sort;
        view.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a], &rows[b]);
            let ord = match key {
                SortKey::Date => ra.date.cmp(&rb.date),
                SortKey::Claims => ra.claims.cmp(&rb.claims),
                SortKey::Subject => ra.subject.cmp(&rb.subject),
                SortKey::Kind => ra.kind.cmp(rb.kind),
                SortKey::Verdict => ra.verdict.cmp(&rb.verdict),
                SortKey::Reason => ra.reason.cmp(&rb.reason),
            };
            ord.then(ra.uid.cmp(&rb.uid))
        });
        if !self.ascending {
            view.reverse();
        }
        self.view = view;
        self.dirty = false;
        self.last_rebuild = Some(Instant::now());
    }

    /// Rebuilds the view if something changed (while streaming, not more often than every
    /// quarter second).
    fn ensure_view(&mut self) {
        if !self.dirty {
            return;
        }
        let streaming = !self.judged;
        if streaming && self.last_rebuild.is_some_and(|t| t.elapsed() < STREAM_REBUILD) {
            return;
        }
        self.rebuild();
    }

    /// True when a rebuild is waiting (the UI should repaint soon).
    pub fn needs_refresh(&self) -> bool {
        self.dirty
    }

    /// Sets the search text (as typing it would) and rebuilds the view.
    pub fn set_search(&mut self, text: &str) {
        self.search = text.to_string();
        self.rebuild();
    }

    pub fn set_tab(&mut self, tab: Tab) {
        if self.tab != tab {
            self.tab = tab;
            self.rebuild();
        }
    }

    fn set_sort(&mut self, key: SortKey) {
        if self.sort == key {
            self.ascending = !self.ascending;
        } else {
            self.sort = key;
            self.ascending = key != SortKey::Date;
        }
        self.rebuild();
    }

    fn move_selection(&mut self, delta: isize) {
        self.ensure_view();
        if self.view.is_empty() {
            return;
        }
        let pos = self.selected.and_then(|s| self.view.iter().position(|&i| i == s));
        let next = match pos {
            None => 0,
            Some(p) => (p as isize + delta).clamp(0, self.view.len() as isize - 1) as usize,
        };
        self.selected = Some(self.view[next]);
        self.scroll_to = Some(next);
    }

    /// Keyboard: Up/Down move the selection, Space toggles its check, Delete asks to move the
    /// checked rows, Ctrl+F goes to the search field. Not while typing in a text field.
    fn keyboard(&mut self, ui: &Ui, out: &mut ListResponse) {
        if ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
            self.focus_search = true;
        }
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let before = self.selected;
        let (down, up, space, delete) = ui.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::ArrowDown),
                i.consume_key(Modifiers::NONE, Key::ArrowUp),
                i.consume_key(Modifiers::NONE, Key::Space),
                i.consume_key(Modifiers::NONE, Key::Delete),
            )
        });
        if down {
            self.move_selection(1);
        }
        if up {
            self.move_selection(-1);
        }
        if space {
            if let Some(i) = self.selected {
                if self.judged {
                    self.rows[i].checked = !self.rows[i].checked;
                    self.recount_checked();
                }
            }
        }
        out.delete_pressed |= delete;
        out.selection_changed |= before != self.selected;
    }

    /// The tab bar with counts (or, while scanning, how many were found so far).
    pub fn tabs_ui(&mut self, ui: &mut Ui) {
        self.ensure_view();
        ui.horizontal(|ui| {
            if !self.judged {
                ui.label(
                    RichText::new(format!(
                        "Found so far: {}",
                        format::plural(self.rows.len(), "bounce", "bounces")
                    ))
                    .strong(),
                );
                return;
            }
            for tab in Tab::ALL {
                let label = format!("{} ({})", tab.title(), format::count(self.count(tab)));
                let r = ui.selectable_label(self.tab == tab, label).on_hover_text(tab.blurb());
                if r.clicked() {
                    self.set_tab(tab);
                }
            }
        });
    }

    /// The search field and the check-all buttons.
    pub fn filter_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Search:");
            let edit = egui::TextEdit::singleline(&mut self.search)
                .hint_text("address, subject, Message-ID… (Ctrl+F)")
                .desired_width(280.0);
            let r = ui.add(edit).labelled_by(label.id);
            if self.focus_search {
                r.request_focus();
                self.focus_search = false;
            }
            if r.changed() {
                self.rebuild();
            }
            if !self.search.is_empty() && ui.button("Clear search").clicked() {
                self.search.clear();
                self.rebuild();
            }
            if self.judged {
                ui.separator();
                if ui.button("Check all shown").clicked() {
                    self.check_all_in_view(true);
                }
                if ui.button("Uncheck all shown").clicked() {
                    self.check_all_in_view(false);
                }
            }
        });
    }

    /// The table: a header that sorts, then the rows in a scroll area. Only the visible rows
    /// are drawn, and they are painted rather than built from widgets: per row one widget for
    /// the row (click selects; it carries the row's text for screen readers) and one for its
    /// checkbox, and text laid out once and kept (see [`TextCache`]).
    pub fn table_ui(&mut self, ui: &mut Ui) -> ListResponse {
        let mut out = ListResponse::default();
        self.keyboard(ui, &mut out);
        self.ensure_view();
        if self.view.is_empty() {
            ui.add_space(12.0);
            let text = if !self.search.trim().is_empty() {
                "No bounce matches the search."
            } else if !self.judged {
                "No bounces found yet."
            } else {
                match self.tab {
                    Tab::Backscatter => "No backscatter here. Nothing to clean up.",
                    Tab::Genuine => "No genuine bounces: none of the mail you sent came back.",
                    Tab::Unverified => "No unverified bounces.",
                    Tab::Suspicious => "Nothing suspicious.",
                }
            };
            ui.label(text);
            return out;
        }
        let spacing = ui.spacing().item_spacing;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
        let font = egui::TextStyle::Body.resolve(ui.style());
        let available =
            ui.available_rect_before_wrap().width() - ui.spacing().scroll.allocated_width();
        let widths = table::widths(&COLUMNS, &self.resized, available, spacing.x);
        let table_id = ui.scope_id().with("review-table");
        let top_left = ui.available_rect_before_wrap().left_top();
        // Left edges of the columns.
        let mut xs = [0.0; COLUMNS.len()];
        let mut x = top_left.x;
        for (c, w) in widths.iter().enumerate() {
            xs[c] = x;
            x += w + spacing.x;
        }
        let text_color = ui.visuals().text_color();
        // The text columns: all but the checkbox.
        let text_columns: [(f32, f32); COLUMNS.len() - 1] =
            std::array::from_fn(|c| (xs[c + 1], widths[c + 1]));
        self.texts.begin_frame(ui, &font, &text_columns, text_color);
        let total_width = x - spacing.x - top_left.x;
        let cell =
            |c: usize, top: f32| Rect::from_min_size(pos2(xs[c], top), vec2(widths[c], row_height));
        let row_rect =
            |top: f32| Rect::from_min_max(pos2(xs[0], top), pos2(x - spacing.x, top + row_height));
        // The checkbox: a square as high as a widget, centred vertically.
        let check_side = ui.spacing().interact_size.y;
        let check_rect = |top: f32| {
            Rect::from_min_size(
                pos2(xs[0], top + 0.5 * (row_height - check_side)),
                vec2(check_side, check_side),
            )
            .round_ui()
        };

        // The header: one widget per column; click to sort.
        let clicked_sort = self.header_ui(ui, table_id, &|c| cell(c, top_left.y));
        ui.advance_cursor_after_rect(Rect::from_min_size(top_left, vec2(total_width, row_height)));

        // The rows.
        let pitch = row_height + spacing.y;
        let scroll_to = self.scroll_to.take();
        let judged = self.judged;
        let mut toggled = false;
        egui::ScrollArea::vertical()
            .id_salt(table_id.with("body"))
            .min_scrolled_height(80.0)
            .show_viewport(ui, |ui, viewport| {
                let n = self.view.len();
                let top = ui.max_rect().top();
                ui.set_min_size(vec2(total_width, n as f32 * pitch - spacing.y));
                if let Some(pos) = scroll_to {
                    let y = top + pos as f32 * pitch;
                    ui.scroll_to_rect(Rect::from_x_y_ranges(xs[0]..=xs[0], y..=y + pitch), None);
                }
                let first = ((viewport.min.y / pitch).floor().max(0.0) as usize).min(n);
                let last = (((viewport.max.y / pitch).ceil() as usize) + 1).min(n);
                let mut shown = Vec::with_capacity(last - first);
                for pos in first..last {
                    let i = self.view[pos];
                    let y = top + pos as f32 * pitch;
                    let row_id = table_id.with(i);
                    let row = ui.interact(row_rect(y), row_id, Sense::click());
                    let check_sense = if judged { Sense::click() } else { Sense::hover() };
                    let check = ui.interact(check_rect(y), row_id.with("check"), check_sense);
                    if judged && check.clicked() {
                        self.rows[i].checked = !self.rows[i].checked;
                        toggled = true;
                    }
                    if row.clicked() {
                        self.selected = Some(i);
                        out.selection_changed = true;
                    }
                    let r = &self.rows[i];
                    row.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::Row,
                            true,
                            format!(
                                "{}, {}: {} to {}, {}. {}",
                                format::verdict(r.verdict),
                                r.date_text,
                                r.kind,
                                r.claims,
                                r.subject,
                                r.reason
                            ),
                        )
                    });
                    check.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::Role::CheckBox,
                            judged,
                            r.checked,
                            format!("Move to Trash: bounce about “{}” to {}", r.subject, r.claims),
                        )
                    });
                    shown.push(ShownRow {
                        pos,
                        index: i,
                        checked: r.checked,
                        selected: false,
                        hovered: row.hovered() || check.hovered(),
                        check: table::checkbox_state(&check, judged),
                    });
                }
                // After the clicks: a row clicked is the only one drawn selected.
                for s in &mut shown {
                    s.selected = self.selected == Some(s.index);
                }
                // Paint the rows (only if they look different from the last frame).
                let key = BodyKey {
                    top,
                    xs,
                    widths,
                    texts: self.texts.generation(),
                    text_color,
                    rows: shown,
                };
                let rows = &self.rows;
                let texts = &mut self.texts;
                let looks = &mut self.looks;
                let geometry: Vec<f32> =
                    xs.iter().chain(&widths).copied().chain([row_height, spacing.y]).collect();
                looks.begin_frame(ui, &geometry);
                self.body.paint(ui, key, |key, shapes| {
                    let visuals = ui.visuals();
                    for s in &key.rows {
                        let r = &rows[s.index];
                        texts.row(ui, s.index, || {
                            [
                                (r.date_text.as_str(), None),
                                (r.claims.as_str(), None),
                                (r.subject.as_str(), None),
                                (r.kind, None),
                                (
                                    format::verdict(r.verdict),
                                    Some(verdict_color(r.verdict, text_color)),
                                ),
                                (r.reason.as_str(), None),
                            ]
                        });
                    }
                    for s in &key.rows {
                        // How the row looks apart from its text, drawn at y = 0 once per state.
                        let look_shapes = |look: &RowLook, shapes: &mut Vec<Shape>| {
                            // Backgrounds: stripes, selection, hover, without gaps between rows.
                            let background = row_rect(0.0).expand2(0.5 * spacing).round_ui();
                            let fill = if look.selected {
                                Some(visuals.selection.bg_fill)
                            } else if look.hovered {
                                Some(visuals.widgets.hovered.bg_fill)
                            } else {
                                None
                            };
                            if look.stripe {
                                shapes.push(Shape::rect_filled(
                                    background,
                                    0.0,
                                    visuals.faint_bg_color,
                                ));
                            }
                            if let Some(fill) = fill {
                                shapes.push(Shape::rect_filled(background, 0.0, fill));
                            }
                            table::checkbox(
                                ui.style(),
                                check_rect(0.0),
                                look.check,
                                look.checked,
                                shapes,
                            );
                        };
                        looks.prepare(s.look(), look_shapes, |mesh, bounds| {
                            texts.mesh_row(mesh, bounds)
                        });
                    }
                    // One galley of all the rows, each on a whole pixel (as egui's tessellator
                    // puts text): backgrounds first, then the text, centred.
                    let ppp = ui.ctx().pixels_per_point();
                    let text_offset =
                        (0.5 * (row_height - texts.line_height())).round_to_pixels(ppp);
                    let row_top = |s: &ShownRow| (top + s.pos as f32 * pitch).round_to_pixels(ppp);
                    let place = |row: &Arc<TextRow>, y: f32| PlacedRow {
                        pos: pos2(0.0, y),
                        row: Arc::clone(row),
                        ends_with_newline: false,
                    };
                    let placed: Vec<PlacedRow> = (key.rows.iter())
                        .filter_map(|s| Some(place(looks.get(&s.look())?, row_top(s))))
                        .chain(key.rows.iter().filter_map(|s| {
                            Some(place(texts.cached_row(s.index)?, row_top(s) + text_offset))
                        }))
                        .collect();
                    if let Some(galley) = texts.galley(placed) {
                        shapes.push(Shape::galley(Pos2::ZERO, galley, text_color));
                    }
                });
            });
        let bottom = ui.min_rect().bottom();
        self.resize_ui(ui, table_id, &xs, &widths, top_left.y..=bottom);
        if toggled {
            self.recount_checked();
        }
        if let Some(key) = clicked_sort {
            self.set_sort(key);
        }
        out
    }

    /// The column headers: the title, and an arrow on the column the list is sorted by. Returns
    /// the column clicked.
    fn header_ui(
        &mut self,
        ui: &Ui,
        table_id: egui::Id,
        cell: &dyn Fn(usize) -> Rect,
    ) -> Option<SortKey> {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let arrow_font = egui::TextStyle::Monospace.resolve(ui.style());
        let gap = ui.spacing().icon_spacing;
        let mut clicked = None;
        for (c, key) in SORT_COLUMNS.into_iter().enumerate() {
            let rect = cell(c + 1);
            let arrow = match (self.sort == key, self.ascending) {
                (false, _) => "",
                (true, true) => "▲",
                (true, false) => "▼",
            };
            let mut response = ui.interact(rect, table_id.with("sort").with(c), Sense::click());
            // The tooltip's machinery only for the header the pointer or focus is on.
            if response.contains_pointer() || response.has_focus() {
                response = response.on_hover_text("Sort by this column; click again to reverse");
            }
            // The arrow is in the monospace font, which has it.
            let arrow_galley = self.texts.text(ui, arrow, &arrow_font, f32::INFINITY);
            let room = rect.width() - arrow_galley.size().x - gap;
            let title = self.texts.text(ui, key.title(), &font, room);
            let visuals = ui.style().interact(&response);
            ui.painter().add(table::text(rect, &title, ui.visuals().strong_text_color()));
            let arrow_rect = rect.with_min_x(rect.left() + title.size().x + gap);
            ui.painter().add(table::text(arrow_rect, &arrow_galley, visuals.text_color()));
            response.widget_info(|| {
                egui::WidgetInfo::labeled(
                    egui::Role::Button,
                    true,
                    format!("{}{arrow}", key.title()),
                )
            });
            if response.clicked() {
                clicked = Some(key);
            }
        }
        clicked
    }

    /// The handles between columns that can be resized: a line from the header to the bottom
    /// of the table; drag it to resize the column on its left.
    fn resize_ui(
        &mut self,
        ui: &Ui,
        table_id: egui::Id,
        xs: &[f32],
        widths: &[f32],
        y: std::ops::RangeInclusive<f32>,
    ) {
        let spacing = ui.spacing().item_spacing.x;
        for (c, spec) in COLUMNS.iter().enumerate() {
            let table::Width::Resizable { slot, min, .. } = *spec else { continue };
            let x = xs[c] + widths[c] + 0.5 * spacing;
            let rect = Rect::from_x_y_ranges(x..=x, y.clone())
                .expand(ui.style().interaction.resize_grab_radius_side);
            let response = ui.interact(rect, table_id.with("resize_column").with(c), Sense::drag());
            let mut line_x = x;
            if response.dragged() {
                if let Some(pointer) = ui.ctx().pointer_latest_pos() {
                    let width = (widths[c] + pointer.x - x).max(min);
                    self.resized[slot] = width;
                    line_x = xs[c] + width + 0.5 * spacing;
                }
            }
            let dragging_something_else =
                ui.input(|i| i.pointer.any_down() || i.pointer.any_pressed());
            let hover = response.hovered() && !dragging_something_else;
            if hover || response.dragged() {
                ui.set_cursor_icon(egui::CursorIcon::ResizeColumn);
            }
            let stroke = if response.dragged() {
                ui.visuals().widgets.active.bg_stroke
            } else if hover {
                ui.visuals().widgets.hovered.bg_stroke
            } else {
                ui.visuals().widgets.noninteractive.bg_stroke
            };
            ui.painter().vline(line_x, y.clone(), stroke);
        }
    }
}

/// The table's columns: the checkbox, then one per [`SORT_COLUMNS`]. Date, kind and verdict
/// can be resized and keep their width; the three texts share the rest, so every column fits
/// whatever the window's width.
const COLUMNS: [table::Width; 7] = [
    table::Width::Fixed(22.0),
    table::Width::Resizable { slot: 0, initial: 120.0, min: 80.0 },
    table::Width::Share { min: 90.0 },
    table::Width::Share { min: 90.0 },
    table::Width::Resizable { slot: 1, initial: 100.0, min: 60.0 },
    table::Width::Resizable { slot: 2, initial: 86.0, min: 60.0 },
    table::Width::Share { min: 90.0 },
];

/// The columns after the checkbox, in order.
const SORT_COLUMNS: [SortKey; 6] = [
    SortKey::Date,
    SortKey::Claims,
    SortKey::Subject,
    SortKey::Kind,
    SortKey::Verdict,
    SortKey::Reason,
];

/// What the table body's pixels depend on, besides the style and the like (see [`MeshCache`]).
#[derive(Debug, PartialEq)]
struct BodyKey {
    /// Where row 0 is (it moves as the table scrolls).
    top: f32,
    xs: [f32; COLUMNS.len()],
    widths: [f32; COLUMNS.len()],
    /// Changes when the text of rows changed.
    texts: u64,
    text_color: Color32,
    rows: Vec<ShownRow>,
}

/// A visible row and the state it is drawn in.
#[derive(Debug, PartialEq)]
struct ShownRow {
    /// Position in the view.
    pos: usize,
    /// Index into the rows.
    index: usize,
    checked: bool,
    selected: bool,
    hovered: bool,
    check: egui::widget_style::WidgetState,
}

impl ShownRow {
    fn look(&self) -> RowLook {
        RowLook {
            stripe: self.pos.is_multiple_of(2),
            checked: self.checked,
            selected: self.selected,
            hovered: self.hovered,
            check: self.check,
        }
    }
}

/// How a row looks apart from its text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RowLook {
    stripe: bool,
    checked: bool,
    selected: bool,
    hovered: bool,
    check: egui::widget_style::WidgetState,
}

/// The widths the resizable columns start with (their `initial` in [`COLUMNS`]).
const INITIAL_WIDTHS: [f32; 3] = {
    let mut out = [0.0; 3];
    let mut c = 0;
    while c < COLUMNS.len() {
        if let table::Width::Resizable { slot, initial, .. } = COLUMNS[c] {
            out[slot] = initial;
        }
        c += 1;
    }
    out
};

fn verdict_color(v: Option<Verdict>, text: egui::Color32) -> egui::Color32 {
    match v {
        Some(Verdict::Backscatter) => egui::Color32::from_rgb(0xd0, 0x5a, 0x20),
        Some(Verdict::Genuine) => egui::Color32::from_rgb(0x20, 0x98, 0x40),
        Some(Verdict::Suspicious) => egui::Color32::from_rgb(0xc0, 0x30, 0x90),
        _ => text,
    }
}

/// A synthetic row, for benchmarks and tests of the list itself.
pub fn synthetic_row(n: usize) -> Row {
    let verdict = match n % 10 {
        0 => Verdict::Genuine,
        1 => Verdict::Unverified,
        2 => Verdict::Suspicious,
        _ => Verdict::Backscatter,
    };
    let date = 1_794_000_000 + (n as i64 * 7_919) % 2_600_000;
    let claims = format!("someone{}@host{}.example.net", n % 9_973, n % 97);
    let subject = format!("Undeliverable: offer number {n}");
    let reason = format!(
        "the bounced message <{n}@bot.example.com> is not among the 3,212 messages in Sent"
    );
    let haystack = format!("{claims}\n{subject}\n{reason}").to_lowercase();
    Row {
        uid: n as Uid + 1,
        verdict: Some(verdict),
        date: Some(date),
        date_text: format::date_time(date),
        claims,
        subject,
        kind: "Delivery failure",
        reason,
        checked: verdict.preselected(),
        moved: false,
        haystack,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> ReviewList {
        let mut l = ReviewList::default();
        l.set_rows((0..n).map(synthetic_row).collect());
        l
    }

    #[test]
    fn counts_and_checks_follow_verdicts() {
        let mut l = list(100);
        assert_eq!(l.count(Tab::Backscatter), 70);
        assert_eq!(l.count(Tab::Genuine), 10);
        assert_eq!(l.checked_backscatter(), 70);
        assert_eq!(l.checked_other(), 0);
        l.set_tab(Tab::Genuine);
        l.check_all_in_view(true);
        assert_eq!(l.checked_other(), 10);
        // The primary action never takes a genuine bounce.
        assert_eq!(l.checked_backscatter_uids().len(), 70);
        l.mark_moved(&l.checked_backscatter_uids());
        assert_eq!(l.count(Tab::Backscatter), 0);
        assert_eq!(l.checked_backscatter(), 0);
    }

    #[test]
    fn search_and_sort() {
        let mut l = list(1000);
        l.search = "offer number 17".into();
        l.rebuild();
        // 17, 170..179 and 1700.. (not present): those in the backscatter tab.
        assert!(l.view_len() >= 1);
        assert!(l.view.iter().all(|&i| l.rows[i].subject.contains("offer number 17")));
        l.search.clear();
        l.set_sort(SortKey::Date); // now ascending
        let dates: Vec<_> = l.view.iter().map(|&i| l.rows[i].date).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]));
    }
}
