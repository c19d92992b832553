//! The egui front end: welcome, account, scan, review, explainer and timeline.
//!
//! The UI thread never does mailbox I/O: one worker thread ([`worker`]) owns the mail store and
//! runs the [`worker::Command`]s the UI sends; its events are drained each frame within a few
//! milliseconds, so a flood of results never blocks a frame.

pub mod account;
mod cell_text;
pub mod demo;
pub mod explainer;
pub mod format;
pub mod review;
mod table;
pub mod text;
pub mod timeline;
pub mod worker;

use account::{AccountAction, AccountForm, Status};
use explainer::Facts;
use review::ReviewList;
use text::RawView;
use timeline::Timeline;
use worker::{Command, Event, Target, Worker};

use crate::clean::{self, CleanError, CleanOutcome, CleanPlan};
use crate::config::{AccountSettings, Settings};
use crate::mailstore::Uid;
use crate::scan::{cache::CacheLocation, Phase, ScanConfig, ScanError, ScanItem, ScanReport};
use crate::triage::Verdict;
use egui::{Align, Key, Layout, RichText, Ui};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The window title; tests look for it.
pub const APP_NAME: &str = "NeverSent";
/// How long one frame may spend taking in the worker's events.
const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// The detail pane fetches a message once the selection has rested this long.
const DETAIL_DELAY: Duration = Duration::from_millis(120);

/// The screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Welcome,
    Account,
    Scan,
    Review,
    Explainer,
}

/// The mailbox being looked at.
#[derive(Debug, Clone)]
struct Mailbox {
    label: String,
    is_demo: bool,
    /// The Maildir's directory (the demo's temporary copy).
    path: Option<PathBuf>,
    scan_config: ScanConfig,
    sent: Option<String>,
    trash: Option<String>,
    connected: bool,
}

/// Where the scan is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ScanState {
    Idle,
    Connecting,
    Running,
    Done,
    Cancelled,
    Failed(String),
}

#[derive(Debug, Clone)]
struct ScanProgress {
    state: ScanState,
    phase: Option<Phase>,
    inbox: (u64, u64),
    bounces: (u64, u64),
    sent: (u64, u64),
    started: Option<Instant>,
    elapsed: Duration,
    warnings: Vec<String>,
}

impl Default for ScanProgress {
    fn default() -> Self {
        ScanProgress {
            state: ScanState::Idle,
            phase: None,
            inbox: (0, 0),
            bounces: (0, 0),
            sent: (0, 0),
            started: None,
            elapsed: Duration::ZERO,
            warnings: Vec::new(),
        }
    }
}

/// A move or an undo in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    No,
    Cleaning { done: usize, total: usize },
    Undoing { done: usize, total: usize },
}

/// The question before anything moves.
#[derive(Debug, Clone)]
struct Confirm {
    uids: Vec<Uid>,
    per: HashMap<Verdict, usize>,
}

/// A message to the user above the action bar.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Notice {
    text: String,
    error: bool,
}

#[derive(Debug, Clone)]
enum DetailState {
    Waiting,
    Loading,
    Ready(Box<RawView>),
    Failed(String),
}

#[derive(Debug, Clone)]
struct Detail {
    uid: Uid,
    since: Instant,
    state: DetailState,
}

/// The desktop app.
pub struct NeverSentApp {
    settings: Settings,
    settings_note: Option<String>,
    settings_results: (mpsc::Sender<String>, mpsc::Receiver<String>),
    theme_applied: Option<String>,
    window_size: Option<[f32; 2]>,
    worker: Option<Worker>,
    worker_error: Option<String>,
    screen: Screen,
    explainer_from: Screen,
    pending_demo: bool,
    generation: u64,
    mailbox: Option<Mailbox>,
    /// Settings to save once the connection they describe works.
    pending_account: Option<AccountSettings>,
    form: AccountForm,
    scan: ScanProgress,
    report: Option<ScanReport>,
    items: Vec<ScanItem>,
    item_index: HashMap<Uid, usize>,
    list: ReviewList,
    timeline: Timeline,
    facts: Option<Facts>,
    busy: Busy,
    confirm: Option<Confirm>,
    last_clean: Option<(CleanPlan, CleanOutcome)>,
    notice: Option<Notice>,
    detail: Option<Detail>,
    show_source: bool,
    rescan_after_undo: bool,
}

/// How the app starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Open the demo mailbox right away and scan it.
    pub demo: bool,
}

impl NeverSentApp {
    /// The app with the saved settings (or the defaults, with a note if they could not be read).
    pub fn new(options: Options) -> NeverSentApp {
        let (settings, settings_note) = match Settings::load() {
            Ok(s) => (s, None),
            Err(e) => (
                Settings::default(),
                Some(format!("Your settings could not be read, so the defaults are used: {e}")),
            ),
        };
        NeverSentApp::with_settings(options, settings, settings_note)
    }

    fn with_settings(
        options: Options,
        settings: Settings,
        settings_note: Option<String>,
    ) -> NeverSentApp {
        let form = match settings.accounts.first() {
            Some(a) => AccountForm::from_saved(a, 0),
            None => AccountForm::default(),
        };
        NeverSentApp {
            window_size: settings.window_size,
            settings,
            settings_note,
            settings_results: mpsc::channel(),
            theme_applied: None,
            worker: None,
            worker_error: None,
            screen: Screen::Welcome,
            explainer_from: Screen::Welcome,
            pending_demo: options.demo,
            generation: 0,
            mailbox: None,
            pending_account: None,
            form,
            scan: ScanProgress::default(),
            report: None,
            items: Vec::new(),
            item_index: HashMap::new(),
            list: ReviewList::default(),
            timeline: Timeline::default(),
            facts: None,
            busy: Busy::No,
            confirm: None,
            last_clean: None,
            notice: None,
            detail: None,
            show_source: false,
            rescan_after_undo: false,
        }
    }

    /// The screen shown now.
    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The directory of the open local mailbox (the demo's temporary copy), if any.
    pub fn mailbox_path(&self) -> Option<&std::path::Path> {
        self.mailbox.as_ref().and_then(|m| m.path.as_deref())
    }

    /// True while the worker scans, moves or puts back.
    pub fn is_busy(&self) -> bool {
        matches!(self.scan.state, ScanState::Connecting | ScanState::Running)
            || self.busy != Busy::No
    }

    /// The review list (for benchmarks and tests).
    pub fn list_mut(&mut self) -> &mut ReviewList {
        &mut self.list
    }

    /// Shows the review screen for a finished scan without a mailbox (benchmarks).
    pub fn show_report(&mut self, report: ScanReport) {
        self.take_report(report);
        self.screen = Screen::Review;
    }

    fn ensure_worker(&mut self, ctx: &egui::Context) {
        if self.worker.is_some() || self.worker_error.is_some() {
            return;
        }
        let waker = ctx.clone();
        match Worker::spawn(move || waker.request_repaint()) {
            Ok(w) => self.worker = Some(w),
            Err(e) => {
                self.worker_error =
                    Some(format!("NeverSent could not start its mailbox thread: {e}"))
            }
        }
    }

    fn send(&mut self, cmd: Command) -> bool {
        let result = match &self.worker {
            Some(w) => w.send(cmd),
            None => Err(self
                .worker_error
                .clone()
                .unwrap_or_else(|| "the mailbox thread is not running".into())),
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                self.notice = Some(Notice { text: account::capitalize(&e), error: true });
                false
            }
        }
    }

    fn apply_theme(&mut self, ctx: &egui::Context) {
        if self.theme_applied.as_deref() == Some(self.settings.theme.as_str()) {
            return;
        }
        let pref = match self.settings.theme.as_str() {
            "light" => egui::ThemePreference::Light,
            "dark" => egui::ThemePreference::Dark,
            _ => egui::ThemePreference::System,
        };
        ctx.set_theme(pref);
        self.theme_applied = Some(self.settings.theme.clone());
    }

    /// Saves the settings on a short-lived thread (the UI thread does no I/O).
    fn save_settings(&self) {
        let settings = self.settings.clone();
        let tx = self.settings_results.0.clone();
        let spawned =
            std::thread::Builder::new().name("neversent-settings".into()).spawn(move || {
                if let Err(e) = settings.save() {
                    let _ = tx.send(e);
                }
            });
        if let Err(e) = spawned {
            let _ = self.settings_results.0.send(e.to_string());
        }
    }

    // ---- starting things -------------------------------------------------------------------

    fn new_generation(&mut self) -> u64 {
        if let Some(w) = &self.worker {
            w.cancel();
        }
        // A connection test still running belongs to the old generation: its answer is dropped.
        if matches!(self.form.status, Status::Testing | Status::Connecting) {
            self.form.status = Status::Idle;
        }
        self.generation += 1;
        self.generation
    }

    fn reset_results(&mut self) {
        self.report = None;
        self.items.clear();
        self.item_index.clear();
        self.list.clear();
        self.timeline = Timeline::default();
        self.facts = None;
        self.confirm = None;
        self.last_clean = None;
        self.notice = None;
        self.detail = None;
        self.busy = Busy::No;
        self.scan = ScanProgress {
            state: ScanState::Connecting,
            started: Some(Instant::now()),
            ..Default::default()
        };
    }

    /// Opens a fresh copy of the demo mailbox and scans it.
    pub fn start_demo(&mut self) {
        let generation = self.new_generation();
        self.reset_results();
        self.mailbox = Some(Mailbox {
            label: "Demo mailbox".into(),
            is_demo: true,
            path: None,
            scan_config: ScanConfig { cache: None, ..Default::default() },
            sent: None,
            trash: None,
            connected: false,
        });
        self.pending_account = None;
        self.screen = Screen::Scan;
        self.send(Command::Connect { target: Target::Demo, test_only: false, generation });
    }

    /// Opens a local Maildir and scans it (read-only until the user moves something).
    fn start_maildir(&mut self, path: PathBuf) {
        let generation = self.new_generation();
        self.reset_results();
        self.mailbox = Some(Mailbox {
            label: path.display().to_string(),
            is_demo: false,
            path: None,
            scan_config: ScanConfig {
                cache: CacheLocation::standard(&path.display().to_string()),
                ..Default::default()
            },
            sent: None,
            trash: None,
            connected: false,
        });
        self.pending_account = None;
        self.screen = Screen::Scan;
        self.send(Command::Connect { target: Target::Maildir(path), test_only: false, generation });
    }

    fn start_account(&mut self, target: Target, account: AccountSettings) {
        let generation = self.new_generation();
        self.reset_results();
        let key = format!("{}@{}:{}", account.user, account.host, account.port);
        self.mailbox = Some(Mailbox {
            label: format!("{} on {}", account.user, account.host),
            is_demo: false,
            path: None,
            scan_config: ScanConfig {
                roles: account.roles.clone(),
                cache: CacheLocation::standard(&key),
                ..Default::default()
            },
            sent: None,
            trash: None,
            connected: false,
        });
        self.pending_account = Some(account);
        self.screen = Screen::Scan;
        self.send(Command::Connect { target, test_only: false, generation });
    }

    /// Scans the open mailbox again.
    fn rescan(&mut self) {
        let Some(mb) = &self.mailbox else { return };
        let config = mb.scan_config.clone();
        let generation = self.generation;
        // What was moved can still be put back after a rescan (undo finds the messages in
        // Trash by the UIDs the server reported, else by Message-ID).
        let keep_notice = self.notice.clone();
        let keep_clean = self.last_clean.take();
        self.reset_results();
        self.notice = keep_notice;
        self.last_clean = keep_clean;
        self.scan.state = ScanState::Running;
        self.screen = Screen::Scan;
        self.send(Command::Scan { config, generation });
    }

    fn take_report(&mut self, report: ScanReport) {
        self.list.set_report(&report);
        // From now on the report's own items are the ones shown (no copy of 100,000 items).
        self.items.clear();
        self.item_index = report.items.iter().enumerate().map(|(i, it)| (it.uid, i)).collect();
        self.timeline = Timeline::from_list(&self.list);
        self.facts = Some(Facts::from_report(&report));
        if let Some(mb) = &mut self.mailbox {
            mb.trash = report.trash_mailbox.clone().or(mb.trash.take());
        }
        self.report = Some(report);
    }

    // ---- events ----------------------------------------------------------------------------

    fn drain_events(&mut self, ctx: &egui::Context) {
        let start = Instant::now();
        while start.elapsed() < EVENT_BUDGET {
            let Some((generation, event)) = self.worker.as_ref().and_then(Worker::try_recv) else {
                return;
            };
            if generation != self.generation && generation != 0 {
                continue; // about a mailbox that is no longer shown
            }
            self.handle(event);
        }
        // Out of time: the rest next frame.
        ctx.request_repaint();
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Connected { test_only: true, sent, trash, .. } => {
                self.form.status = Status::Works { sent, trash };
            }
            Event::Connected { test_only: false, description, sent, trash, path, .. } => {
                if let Some(mb) = &mut self.mailbox {
                    if !mb.is_demo {
                        mb.label = description;
                    }
                    mb.path = path;
                    mb.sent = sent;
                    mb.trash = trash;
                    mb.connected = true;
                    let config = mb.scan_config.clone();
                    self.scan.state = ScanState::Running;
                    self.scan.started = Some(Instant::now());
                    let generation = self.generation;
                    self.send(Command::Scan { config, generation });
                }
                if let Some(account) = self.pending_account.take() {
                    self.remember_account(account);
                    self.form.status = Status::Idle;
                }
            }
            Event::ConnectFailed { test_only, error } => {
                self.form.status = Status::Failed(error.clone());
                if !test_only {
                    self.scan.state = ScanState::Failed(account::capitalize(&error.to_string()));
                    if self.pending_account.is_some() {
                        // Back to the form, where the error and its remedy are shown.
                        self.screen = Screen::Account;
                    }
                }
            }
            Event::NeedPassword { test_only, reason } => {
                self.form.status = Status::NeedPassword(reason.clone());
                if !test_only {
                    self.scan.state = ScanState::Failed(reason);
                    self.screen = Screen::Account;
                }
            }
            Event::KeyringNotice(text) => {
                self.notice = Some(Notice { text, error: true });
            }
            Event::Phase(p) => {
                self.scan.phase = Some(p);
            }
            Event::Progress { phase, done, total } => {
                self.scan.phase = Some(phase);
                match phase {
                    Phase::Inbox => self.scan.inbox = (done, total),
                    Phase::Bounces => self.scan.bounces = (done, total),
                    Phase::Sent => self.scan.sent = (done, total),
                    _ => {}
                }
            }
            Event::Found(items) => {
                self.list.add_found(&items);
                for it in items {
                    match self.item_index.get(&it.uid) {
                        Some(&i) => self.items[i] = it,
                        None => {
                            self.item_index.insert(it.uid, self.items.len());
                            self.items.push(it);
                        }
                    }
                }
            }
            Event::Warning(w) => self.scan.warnings.push(w),
            Event::ScanDone(result) => {
                if let Some(t) = self.scan.started {
                    self.scan.elapsed = t.elapsed();
                }
                match result {
                    Ok(report) => {
                        self.scan.state = ScanState::Done;
                        self.take_report(*report);
                        if self.screen == Screen::Scan {
                            self.screen = Screen::Review;
                        }
                    }
                    Err(ScanError::Cancelled) => self.scan.state = ScanState::Cancelled,
                    Err(e) => {
                        self.scan.state = ScanState::Failed(account::capitalize(&e.to_string()))
                    }
                }
            }
            Event::CleanProgress { done, total } => self.busy = Busy::Cleaning { done, total },
            Event::UndoProgress { done, total } => self.busy = Busy::Undoing { done, total },
            Event::CleanDone(result) => {
                self.busy = Busy::No;
                let plan = self.last_clean.take().map(|(p, _)| p);
                match (result, plan) {
                    (Ok(outcome), Some(plan)) => {
                        let gone: Vec<Uid> =
                            outcome.moved.iter().chain(&outcome.missing).copied().collect();
                        self.list.mark_moved(&gone);
                        self.timeline = Timeline::from_list(&self.list);
                        let mut text = format!(
                            "Moved {} to Trash ({}).",
                            format::plural(outcome.moved.len(), "message", "messages"),
                            outcome.to
                        );
                        if !outcome.missing.is_empty() {
                            text.push_str(&format!(
                                " {} had already gone from the inbox.",
                                format::plural(outcome.missing.len(), "message", "messages")
                            ));
                        }
                        if !outcome.left_flagged.is_empty() {
                            text.push_str(&format!(
                                " {} are safely copied to Trash and marked deleted, but your server cannot remove single messages from the inbox; your mail app removes them when it compacts the inbox.",
                                format::count(outcome.left_flagged.len())
                            ));
                        }
                        self.notice = Some(Notice { text, error: false });
                        self.last_clean = Some((plan, outcome));
                    }
                    (Err(CleanError::Cancelled { done }), Some(plan)) => {
                        let gone: Vec<Uid> =
                            done.moved.iter().chain(&done.missing).copied().collect();
                        self.list.mark_moved(&gone);
                        self.timeline = Timeline::from_list(&self.list);
                        self.notice = Some(Notice {
                            text: format!(
                                "Stopped after moving {} to Trash. The others are still in your inbox; nothing is lost.",
                                format::plural(done.moved.len(), "message", "messages")
                            ),
                            error: false,
                        });
                        self.last_clean = Some((plan, *done));
                    }
                    (Err(e), _) => {
                        self.notice = Some(Notice {
                            text: format!(
                                "Moving to Trash stopped: {}. Nothing is lost: each message is either still in your inbox or in Trash. Scan again to see where things stand.",
                                e
                            ),
                            error: true,
                        });
                    }
                    (Ok(_), None) => {}
                }
            }
            Event::UndoDone(result) => {
                self.busy = Busy::No;
                match result {
                    Ok(n) => {
                        self.last_clean = None;
                        self.notice = Some(Notice {
                            text: format!(
                                "Put {} back in your inbox.",
                                format::plural(n, "message", "messages")
                            ),
                            error: false,
                        });
                        // Their UIDs changed on the way back: read the inbox again.
                        self.rescan_after_undo = true;
                    }
                    Err(e) => {
                        self.notice = Some(Notice {
                            text: format!(
                                "Undo stopped: {e}. The messages not yet back are still in Trash."
                            ),
                            error: true,
                        });
                    }
                }
            }
            Event::Raw { uid, result } => {
                if let Some(d) = &mut self.detail {
                    if d.uid == uid {
                        d.state = match result {
                            Ok(view) => DetailState::Ready(view),
                            Err(e) => DetailState::Failed(e),
                        };
                    }
                }
            }
            Event::Refused(text) => {
                self.busy = Busy::No;
                self.notice = Some(Notice { text: account::capitalize(&text), error: true });
            }
        }
    }

    fn remember_account(&mut self, account: AccountSettings) {
        let existing =
            self.form.editing.filter(|&i| i < self.settings.accounts.len()).or_else(|| {
                self.settings
                    .accounts
                    .iter()
                    .position(|a| a.user == account.user && a.host == account.host)
            });
        let index = match existing {
            Some(i) => {
                self.settings.accounts[i] = account.clone();
                i
            }
            None => {
                self.settings.accounts.push(account.clone());
                self.settings.accounts.len() - 1
            }
        };
        self.form = AccountForm::from_saved(&account, index);
        self.save_settings();
    }

    // ---- the frame -------------------------------------------------------------------------

    /// Draws the whole app into `ui` (the window's root).
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.ensure_worker(&ctx);
        self.apply_theme(&ctx);
        self.drain_events(&ctx);
        while let Ok(e) = self.settings_results.1.try_recv() {
            self.notice = Some(Notice {
                text: format!("Your settings could not be saved: {e}"),
                error: true,
            });
        }
        if self.pending_demo {
            self.pending_demo = false;
            self.start_demo();
        }
        if self.rescan_after_undo && self.busy == Busy::No {
            self.rescan_after_undo = false;
            self.rescan();
        }
        if let Some(rect) = ctx.input(|i| i.viewport().inner_rect) {
            self.window_size = Some([rect.width(), rect.height()]);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::F1)) {
            self.open_explainer();
        }

        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| match self.screen {
            Screen::Welcome => self.welcome_ui(ui),
            Screen::Account => self.account_ui(ui),
            Screen::Scan => self.scan_ui(ui),
            Screen::Review => self.review_ui(ui),
            Screen::Explainer => self.explainer_ui(ui),
        });
        self.confirm_ui(&ctx);

        if self.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        if self.list.needs_refresh() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn open_explainer(&mut self) {
        if self.screen != Screen::Explainer {
            self.explainer_from = self.screen;
            self.screen = Screen::Explainer;
        }
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new(APP_NAME).strong().size(16.0));
            if let Some(mb) = &self.mailbox {
                ui.separator();
                ui.label(&mb.label);
            }
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if ui
                    .button("Why am I getting these?")
                    .on_hover_text("How backscatter happens and what can be done (F1)")
                    .clicked()
                {
                    self.open_explainer();
                }
                let before = self.settings.theme.clone();
                let combo = egui::ComboBox::from_id_salt("theme")
                    .selected_text(match self.settings.theme.as_str() {
                        "light" => "Light",
                        "dark" => "Dark",
                        _ => "System",
                    })
                    .width(80.0)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(
                            &mut self.settings.theme,
                            "system".to_string(),
                            "System",
                        );
                        ui.selectable_value(&mut self.settings.theme, "light".to_string(), "Light");
                        ui.selectable_value(&mut self.settings.theme, "dark".to_string(), "Dark");
                    })
                    .response;
                let l = ui.label("Theme:");
                let _ = combo.labelled_by(l.id);
                if before != self.settings.theme {
                    self.save_settings();
                }
                let idle = !self.is_busy();
                if ui.add_enabled(idle, egui::Button::new("Accounts")).clicked() {
                    self.screen = Screen::Account;
                }
                if self.screen == Screen::Review
                    && ui
                        .add_enabled(
                            idle && self.mailbox.as_ref().is_some_and(|m| m.connected),
                            egui::Button::new("Scan again"),
                        )
                        .clicked()
                {
                    self.notice = None;
                    self.rescan();
                }
            });
        });
        if let Some(note) = self.settings_note.clone() {
            ui.horizontal(|ui| {
                ui.label(RichText::new(note).color(ui.visuals().warn_fg_color));
                if ui.small_button("Dismiss").clicked() {
                    self.settings_note = None;
                }
            });
        }
        if let Some(e) = &self.worker_error {
            ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
        }
    }

    fn welcome_ui(&mut self, ui: &mut Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.12);
            ui.heading(RichText::new("NeverSent").size(30.0));
            ui.add_space(10.0);
            ui.set_max_width(620.0);
            ui.label(
                RichText::new(
                    "Bounces for mail you never sent mean that spammers forged your address as the sender. \
                     NeverSent finds those bounces, proves against your Sent folder that you never sent the \
                     originals, and moves them to Trash in one click — keeping the bounces of mail you really sent.",
                )
                .size(15.0),
            );
            ui.add_space(18.0);
            let big = egui::vec2(260.0, 36.0);
            if ui.add_sized(big, egui::Button::new(RichText::new("Connect a mailbox").size(16.0).strong())).clicked() {
                if self.form.editing.is_none() && self.settings.accounts.is_empty() {
                    self.form = AccountForm::default();
                }
                self.screen = Screen::Account;
            }
            ui.add_space(8.0);
            if ui.add_sized(big, egui::Button::new(RichText::new("Try the demo mailbox").size(16.0))).clicked() {
                self.start_demo();
            }
            if !self.settings.accounts.is_empty() {
                ui.add_space(18.0);
                ui.label("Or scan a saved account:");
                let accounts = self.settings.accounts.clone();
                for (i, a) in accounts.iter().enumerate() {
                    if ui.button(format!("Scan {}", a.name)).clicked() {
                        self.form = AccountForm::from_saved(a, i);
                        match self.form.validate() {
                            Some((account, login)) => {
                                let target = AccountForm::target(&account, login);
                                self.start_account(target, account);
                            }
                            None => self.screen = Screen::Account,
                        }
                    }
                }
            }
            ui.add_space(18.0);
            ui.label(
                RichText::new("Scanning only reads. Nothing changes in your mailbox until you choose to move bounces to Trash, and that can be undone.")
                    .small(),
            );
        });
    }

    fn account_ui(&mut self, ui: &mut Ui) {
        let busy =
            self.is_busy() || matches!(self.form.status, Status::Testing | Status::Connecting);
        egui::ScrollArea::vertical().show(ui, |ui| {
            if ui.button("Back").clicked() {
                self.screen = if self.report.is_some() { Screen::Review } else { Screen::Welcome };
            }
            ui.add_space(4.0);
            let saved = self.settings.accounts.clone();
            match self.form.ui(ui, &saved, busy) {
                Some(AccountAction::Test(target)) => {
                    let generation = self.generation;
                    if !self.send(Command::Connect { target, test_only: true, generation }) {
                        self.form.status = Status::Idle;
                    }
                }
                Some(AccountAction::Connect { target, account }) => {
                    self.start_account(target, *account)
                }
                Some(AccountAction::Edit(i)) => {
                    if let Some(a) = self.settings.accounts.get(i) {
                        self.form = AccountForm::from_saved(a, i);
                    }
                }
                Some(AccountAction::New) => self.form = AccountForm::default(),
                Some(AccountAction::OpenMaildir(path)) => self.start_maildir(path),
                Some(AccountAction::Forget(i)) if i < self.settings.accounts.len() => {
                    let a = self.settings.accounts.remove(i);
                    self.send(Command::ForgetSecret { keyring_key: a.keyring_key() });
                    self.save_settings();
                    self.form = AccountForm::default();
                    self.notice = Some(Notice {
                        text: format!("Forgot the account {}.", a.name),
                        error: false,
                    });
                }
                Some(AccountAction::Forget(_)) | None => {}
            }
            if let Some(n) = &self.notice {
                ui.add_space(6.0);
                notice_label(ui, n);
            }
        });
    }

    fn scan_ui(&mut self, ui: &mut Ui) {
        let label = self.mailbox.as_ref().map(|m| m.label.clone()).unwrap_or_default();
        let state = self.scan.state.clone();
        egui::Panel::top("scan-progress").show(ui, |ui| {
            match &state {
                ScanState::Connecting => {
                    ui.heading(format!("Opening {label}"));
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Connecting…");
                    });
                }
                ScanState::Running | ScanState::Idle | ScanState::Done => {
                    ui.heading(format!("Scanning {label}"));
                    let phase = self.scan.phase.unwrap_or(Phase::Folders);
                    let (done, total) = match phase {
                        Phase::Inbox => self.scan.inbox,
                        Phase::Bounces => self.scan.bounces,
                        Phase::Sent => self.scan.sent,
                        _ => (0, 0),
                    };
                    let fraction = if total > 0 { done as f32 / total as f32 } else { 0.0 };
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .text(format!("{}…", phase.describe()))
                            .desired_width(ui.available_width().min(720.0)),
                    );
                    ui.label(format!(
                        "{} of {} inbox messages checked; {} sent messages indexed.",
                        format::count(self.scan.inbox.0 as usize),
                        format::count(self.scan.inbox.1 as usize),
                        format::count(self.scan.sent.0 as usize),
                    ));
                }
                ScanState::Cancelled => {
                    ui.heading("Scan cancelled");
                    ui.label("What was read so far is kept, so the next scan continues where this one stopped.");
                }
                ScanState::Failed(e) => {
                    ui.heading("The scan could not finish");
                    ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
                }
            }
            let elapsed = match (&state, self.scan.started) {
                (ScanState::Running | ScanState::Connecting, Some(t)) => t.elapsed(),
                _ => self.scan.elapsed,
            };
            ui.horizontal(|ui| {
                ui.label(format!("Elapsed: {}", format::duration(elapsed.as_secs())));
                match &state {
                    ScanState::Running | ScanState::Connecting => {
                        if ui.button("Cancel").clicked() {
                            if let Some(w) = &self.worker {
                                w.cancel();
                            }
                            if state == ScanState::Connecting {
                                // A connection attempt cannot be interrupted; forget its result.
                                self.new_generation();
                                self.scan.state = ScanState::Cancelled;
                            }
                        }
                    }
                    _ => {
                        if self.mailbox.as_ref().is_some_and(|m| m.connected) && ui.button("Scan again").clicked() {
                            self.rescan();
                        }
                        if ui.button("Back").clicked() {
                            self.screen = if self.pending_account.is_some() || !self.mailbox.as_ref().is_some_and(|m| m.is_demo) {
                                Screen::Account
                            } else {
                                Screen::Welcome
                            };
                        }
                    }
                }
            });
            if !self.scan.warnings.is_empty() {
                warnings_ui(ui, &self.scan.warnings);
            }
            if let Some(n) = &self.notice {
                notice_label(ui, n);
            }
            ui.add_space(4.0);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            self.list.tabs_ui(ui);
            self.list.table_ui(ui);
        });
    }

    fn review_ui(&mut self, ui: &mut Ui) {
        let Some(report) = &self.report else {
            self.screen = Screen::Welcome;
            return;
        };
        let summary = format!(
            "{} checked in {}; {} in {}.",
            format::plural(report.scanned, "inbox message", "inbox messages"),
            report.mailbox,
            format::plural(report.sent_messages, "sent message", "sent messages"),
            report.sent_mailbox.as_deref().unwrap_or("no Sent folder"),
        );
        let warnings = report.warnings.clone();
        let no_sent = report.sent_messages == 0;
        egui::Panel::top("review-head").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Review");
                ui.label(summary);
            });
            if no_sent {
                ui.label(
                    RichText::new("Your Sent folder is empty, which proves nothing (some mail apps never save to Sent), so every bounce is unverified.")
                        .color(ui.visuals().warn_fg_color),
                );
            }
            if !warnings.is_empty() {
                warnings_ui(ui, &warnings);
            }
            egui::CollapsingHeader::new("Backscatter per day").default_open(true).show(ui, |ui| {
                self.timeline.ui(ui);
            });
            ui.add_space(2.0);
            self.list.tabs_ui(ui);
            ui.label(RichText::new(self.list.tab.blurb()).small());
            self.list.filter_ui(ui);
            ui.add_space(2.0);
        });
        egui::Panel::bottom("review-actions").show(ui, |ui| {
            ui.add_space(4.0);
            self.actions_ui(ui);
            ui.add_space(4.0);
        });
        egui::Panel::right("detail").resizable(true).default_size(340.0).min_size(240.0).show(
            ui,
            |ui| {
                self.detail_ui(ui);
            },
        );
        egui::CentralPanel::default().show(ui, |ui| {
            let r = self.list.table_ui(ui);
            if r.selection_changed {
                self.select_current();
            }
            if r.delete_pressed {
                self.ask_to_move_checked();
            }
        });
        self.request_detail(ui.ctx());
    }

    fn select_current(&mut self) {
        let Some(uid) = self.list.selected_row().map(|r| r.uid) else {
            self.detail = None;
            return;
        };
        if self.detail.as_ref().is_some_and(|d| d.uid == uid) {
            return;
        }
        self.detail = Some(Detail { uid, since: Instant::now(), state: DetailState::Waiting });
    }

    /// Fetches the selected message once the selection rests.
    fn request_detail(&mut self, ctx: &egui::Context) {
        let Some(d) = &self.detail else { return };
        if !matches!(d.state, DetailState::Waiting) {
            return;
        }
        if d.since.elapsed() < DETAIL_DELAY {
            ctx.request_repaint_after(DETAIL_DELAY);
            return;
        }
        let uid = d.uid;
        let Some(mb) = &self.mailbox else {
            if let Some(d) = &mut self.detail {
                d.state = DetailState::Failed("No mailbox is open.".into());
            }
            return;
        };
        let folder = mb.scan_config.inbox.clone();
        let generation = self.generation;
        let sent = self.send(Command::FetchRaw { folder, uid, generation });
        if let Some(d) = &mut self.detail {
            d.state = if sent {
                DetailState::Loading
            } else {
                DetailState::Failed("Busy; select the row again.".into())
            };
        }
    }

    fn ask_to_move_checked(&mut self) {
        if self.busy != Busy::No || !self.list.is_judged() {
            return;
        }
        let (uids, per) = self.list.checked_uids();
        if !uids.is_empty() {
            self.confirm = Some(Confirm { uids, per });
        }
    }

    fn actions_ui(&mut self, ui: &mut Ui) {
        if let Some(n) = self.notice.clone() {
            ui.horizontal(|ui| {
                notice_label(ui, &n);
                if self.busy == Busy::No && self.last_clean.is_some() && ui.button("Undo").clicked()
                {
                    if let Some((plan, outcome)) = self.last_clean.clone() {
                        let generation = self.generation;
                        if self.send(Command::Undo { plan, outcome, generation }) {
                            self.busy = Busy::Undoing { done: 0, total: 0 };
                            self.notice = None;
                        }
                    }
                }
            });
        }
        match self.busy {
            Busy::Cleaning { done, total } | Busy::Undoing { done, total } => {
                let moving = matches!(self.busy, Busy::Cleaning { .. });
                ui.horizontal(|ui| {
                    let what = if moving { "Moving to Trash" } else { "Putting back" };
                    let fraction = if total > 0 { done as f32 / total as f32 } else { 0.0 };
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .text(format!(
                                "{what}: {} of {}",
                                format::count(done),
                                format::count(total)
                            ))
                            .desired_width(360.0),
                    );
                    if moving && ui.button("Stop").clicked() {
                        if let Some(w) = &self.worker {
                            w.cancel();
                        }
                    }
                });
                return;
            }
            Busy::No => {}
        }
        let trash_known = self.report.as_ref().is_some_and(|r| r.trash_mailbox.is_some());
        if !trash_known {
            ui.label(
                RichText::new("No Trash folder was found in this mailbox, so NeverSent will not move anything. Choose the Trash folder in the account settings.")
                    .color(ui.visuals().warn_fg_color),
            );
        }
        ui.horizontal(|ui| {
            let n = self.list.checked_backscatter();
            let label = if n == 1 {
                "Move 1 backscatter message to Trash".to_string()
            } else {
                format!("Move {} backscatter messages to Trash", format::count(n))
            };
            let primary = ui
                .add_enabled(
                    n > 0 && trash_known,
                    egui::Button::new(
                        RichText::new(label).strong().size(15.0).color(ui.visuals().selection.stroke.color),
                    )
                    .fill(ui.visuals().selection.bg_fill)
                    .min_size(egui::vec2(0.0, 30.0)),
                )
                .on_hover_text("Only checked backscatter: bounces of mail that is not in your Sent folder. Genuine bounces are never moved by this button.");
            if primary.clicked() {
                let uids = self.list.checked_backscatter_uids();
                let mut per = HashMap::new();
                per.insert(Verdict::Backscatter, uids.len());
                self.confirm = Some(Confirm { uids, per });
            }
            let other = self.list.checked_other();
            if other > 0 {
                let total = n + other;
                let label = format!(
                    "Move all {} checked to Trash, including {} not backscatter…",
                    format::count(total),
                    format::count(other)
                );
                if ui.add_enabled(trash_known, egui::Button::new(label)).clicked() {
                    self.ask_to_move_checked();
                }
            }
        });
        ui.label(
            RichText::new(
                "Keys: Up/Down select, Space check, Delete move checked, Ctrl+F search, F1 explainer.",
            )
            .small()
            .weak(),
        );
    }

    fn confirm_ui(&mut self, ctx: &egui::Context) {
        let Some(c) = self.confirm.clone() else { return };
        let trash = self
            .report
            .as_ref()
            .and_then(|r| r.trash_mailbox.clone())
            .unwrap_or_else(|| "Trash".into());
        let n = c.uids.len();
        let mut decision = None;
        let modal = egui::Modal::new(egui::Id::unique("confirm-move")).show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.heading(format!("Move {} to Trash?", format::plural(n, "message", "messages")));
            ui.add_space(6.0);
            let others: Vec<String> = [Verdict::Genuine, Verdict::Unverified, Verdict::Suspicious]
                .into_iter()
                .filter_map(|v| {
                    c.per.get(&v).filter(|&&k| k > 0).map(|&k| match v {
                        Verdict::Genuine => format!("{} of mail you really sent (genuine)", format::plural(k, "bounce", "bounces")),
                        Verdict::Unverified => format!("{} NeverSent could not verify", format::plural(k, "bounce", "bounces")),
                        _ => format!("{} marked suspicious", format::plural(k, "bounce", "bounces")),
                    })
                })
                .collect();
            if others.is_empty() {
                ui.label(format!(
                    "These are backscatter: bounces of messages that are not in your Sent folder. They go to your Trash folder ({trash}); you can undo this right after, and they stay in Trash until you empty it."
                ));
            } else {
                ui.label(
                    RichText::new(format!("This includes {}. Make sure you have read them.", others.join(", ")))
                        .strong()
                        .color(ui.visuals().warn_fg_color),
                );
                ui.label(format!("They go to your Trash folder ({trash}); you can undo this right after."));
            }
            ui.add_space(10.0);
            ui.horizontal(|ui| {
                if ui.button(RichText::new("Move to Trash").strong()).clicked() {
                    decision = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    decision = Some(false);
                }
            });
        });
        if modal.should_close() && decision.is_none() {
            decision = Some(false);
        }
        match decision {
            Some(true) => {
                self.confirm = None;
                self.start_clean(c.uids);
            }
            Some(false) => self.confirm = None,
            None => {}
        }
    }

    fn start_clean(&mut self, uids: Vec<Uid>) {
        let Some(report) = &self.report else { return };
        match clean::plan(report, Some(&uids)) {
            Ok(plan) => {
                let generation = self.generation;
                self.last_clean = Some((plan.clone(), CleanOutcome::default()));
                if self.send(Command::Clean { plan, generation }) {
                    self.busy = Busy::Cleaning { done: 0, total: uids.len() };
                    self.notice = None;
                } else {
                    self.last_clean = None;
                }
            }
            Err(e) => {
                self.notice =
                    Some(Notice { text: account::capitalize(&e.to_string()), error: true })
            }
        }
    }

    fn detail_ui(&mut self, ui: &mut Ui) {
        let Some(row) = self.list.selected_row() else {
            ui.add_space(8.0);
            ui.label("Select a bounce to see why NeverSent judged it so, and the message itself as plain text.");
            return;
        };
        let items = self.report.as_ref().map(|r| &r.items).unwrap_or(&self.items);
        let Some(item) = self.item_index.get(&row.uid).and_then(|&i| items.get(i)) else {
            return;
        };
        let a = &item.analysis;
        egui::ScrollArea::vertical().id_salt("detail-scroll").show(ui, |ui| {
            ui.heading(format!("{} — {}", format::verdict(item.verdict), format::kind(&a.kind)));
            if !item.reasons.is_empty() {
                ui.label(RichText::new("Why").strong());
                for r in &item.reasons {
                    ui.horizontal_wrapped(|ui| {
                        ui.label("•");
                        ui.label(r);
                    });
                }
            }
            if !a.evidence.is_empty() {
                ui.label(RichText::new("What the bounce says").strong());
                for r in &a.evidence {
                    ui.horizontal_wrapped(|ui| {
                        ui.label("•");
                        ui.label(r);
                    });
                }
            }
            ui.add_space(4.0);
            egui::Grid::new("detail-facts").num_columns(2).striped(true).show(ui, |ui| {
                let mut fact = |name: &str, value: String| {
                    ui.label(RichText::new(name).weak());
                    ui.add(egui::Label::new(value).wrap());
                    ui.end_row();
                };
                fact(
                    "Original Message-ID",
                    a.original.message_id.clone().unwrap_or_else(|| "none found".into()),
                );
                fact("Claims you wrote to", row.claims.clone());
                if let Some(s) = &a.original.subject {
                    fact("Original subject", s.clone());
                }
                if let Some(d) = &a.original.date {
                    fact("Original date", d.clone());
                }
                if let Some(f) = &a.original.from {
                    fact("Original sender", f.clone());
                }
                fact("Status", a.status.clone().unwrap_or_else(|| "—".into()));
                if let Some(d) = &a.diagnostic {
                    fact("Diagnostic", d.clone());
                }
                if let Some(m) = &a.reporting_mta {
                    fact("Reported by", m.clone());
                }
                fact("Bounce from", item.from.clone());
                fact("Bounce subject", item.subject.clone());
                fact("Bounce date (UTC)", row.date_text.clone());
                fact("Size", format!("{} bytes", format::count(item.size as usize)));
            });
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                ui.label(RichText::new("The message").strong());
                ui.selectable_value(&mut self.show_source, false, "Text");
                ui.selectable_value(&mut self.show_source, true, "Source");
            });
            ui.label(
                RichText::new(
                    "Shown as plain text: no HTML, no images, nothing is loaded from the message.",
                )
                .small()
                .weak(),
            );
            match self.detail.as_ref().map(|d| &d.state) {
                Some(DetailState::Ready(view)) => {
                    if view.truncated {
                        ui.label(
                            RichText::new(format!(
                                "Only the first part of this {}-byte message was read.",
                                format::count(view.size as usize)
                            ))
                            .small(),
                        );
                    }
                    let mut text: &str = if self.show_source { &view.source } else { &view.text };
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .font(egui::TextStyle::Monospace)
                            .desired_width(f32::INFINITY)
                            .desired_rows(12),
                    )
                    .on_hover_text("The bounce as plain text");
                }
                Some(DetailState::Failed(e)) => {
                    ui.label(
                        RichText::new(format!("The message could not be read: {e}"))
                            .color(ui.visuals().error_fg_color),
                    );
                }
                _ => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Loading the message…");
                    });
                }
            }
        });
    }

    fn explainer_ui(&mut self, ui: &mut Ui) {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.set_max_width(880.0);
            if ui.button("Back").clicked() {
                self.screen = self.explainer_from;
            }
            ui.add_space(6.0);
            explainer::ui(ui, self.facts.as_ref());
            ui.add_space(12.0);
            if self.screen == Screen::Explainer
                && self.report.is_some()
                && ui.button("Back to the review").clicked()
            {
                self.screen = Screen::Review;
            }
        });
    }

    /// Saves the window size (at exit).
    pub fn save_now(&mut self) {
        self.settings.window_size = self.window_size;
        if let Err(e) = self.settings.save() {
            eprintln!("neversent: {e}");
        }
    }
}

fn notice_label(ui: &mut Ui, n: &Notice) {
    let color = if n.error { ui.visuals().error_fg_color } else { account::ok_color(ui) };
    ui.label(RichText::new(&n.text).color(color));
}

fn warnings_ui(ui: &mut Ui, warnings: &[String]) {
    egui::CollapsingHeader::new(format::plural(warnings.len(), "warning", "warnings"))
        .id_salt("warnings")
        .show(ui, |ui| {
            for w in warnings.iter().take(200) {
                ui.label(w);
            }
            if warnings.len() > 200 {
                ui.label(format!("… and {} more.", format::count(warnings.len() - 200)));
            }
        });
}

impl eframe::App for NeverSentApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.save_now();
    }
}

/// Opens the desktop window.
pub fn run(demo: bool) -> eframe::Result<()> {
    let app = NeverSentApp::new(Options { demo });
    let size = app.window_size.unwrap_or([1180.0, 760.0]);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(APP_NAME)
        // The same id as the .desktop file (Wayland app_id / X11 WM_CLASS).
        .with_app_id("org.neversent.NeverSent")
        .with_inner_size(size)
        .with_min_inner_size([720.0, 480.0]);
    if let Ok(icon) =
        eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/256.png"))
    {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions { viewport, ..Default::default() };
    eframe::run_native(APP_NAME, options, Box::new(|_cc| Ok(Box::new(app))))
}
