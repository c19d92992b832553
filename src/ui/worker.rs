//! The one thread that talks to the mailbox. The UI sends [`Command`]s over a bounded channel;
//! the worker owns the mail store, runs each command in order and sends [`Event`]s back, waking
//! the UI with `request_repaint`. Long commands stop between steps when the cancel flag is set.

use super::demo;
use super::text::{readable_text, source_text, RawView};
use crate::clean::{self, CleanError, CleanOutcome, CleanPlan};
use crate::config::secrets;
use crate::mailstore::imap::{Credentials, ImapConfig, ImapStore, Secret};
use crate::mailstore::maildir::MaildirStore;
use crate::mailstore::{MailStore, RoleOverrides, StoreError, Uid};
use crate::scan::{self, ScanConfig, ScanError, ScanEvent, ScanItem, ScanReport};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many commands may wait; the UI never queues more than a handful.
const COMMAND_QUEUE: usize = 32;
/// How many events may wait for the UI before the worker waits for it.
const EVENT_QUEUE: usize = 1024;
/// Scan results are sent in batches at most this often (or when a batch is full).
const FLUSH_EVERY: Duration = Duration::from_millis(40);
const FOUND_BATCH: usize = 500;
/// The most of one message the detail pane fetches.
pub const RAW_CAP: u32 = 1 << 20;

/// How to sign in to an IMAP account.
#[derive(Clone)]
pub enum Login {
    /// This password; with `remember`, save it in the keyring once it worked.
    Password { secret: Secret, remember: bool },
    /// The password saved in the keyring.
    Keyring,
    /// A command that prints an OAuth2 access token.
    OAuth2Command(String),
}

/// What to connect to.
#[derive(Clone)]
pub enum Target {
    /// `config.credentials` is replaced by what `login` says.
    Imap { config: Box<ImapConfig>, login: Login, keyring_key: String, roles: RoleOverrides },
    /// A local Maildir.
    Maildir(PathBuf),
    /// A fresh temporary copy of the bundled demo mailbox.
    Demo,
}

/// What the UI asks the worker to do.
pub enum Command {
    /// Connects. With `test_only` the connection is checked and closed again, and the current
    /// mailbox stays as it was; otherwise it becomes the current one (generation `generation`).
    Connect { target: Target, test_only: bool, generation: u64 },
    /// Scans the current mailbox.
    Scan { config: ScanConfig, generation: u64 },
    /// Moves the planned messages to Trash.
    Clean { plan: CleanPlan, generation: u64 },
    /// Moves them back.
    Undo { plan: CleanPlan, outcome: CleanOutcome, generation: u64 },
    /// One message's text for the detail pane.
    FetchRaw { folder: String, uid: Uid, generation: u64 },
    /// Forgets the password saved for this keyring key.
    ForgetSecret { keyring_key: String },
}

impl Command {
    /// The connection generation the command belongs to (0: none in particular).
    fn generation(&self) -> u64 {
        match self {
            Command::Connect { generation, .. }
            | Command::Scan { generation, .. }
            | Command::Clean { generation, .. }
            | Command::Undo { generation, .. }
            | Command::FetchRaw { generation, .. } => *generation,
            Command::ForgetSecret { .. } => 0,
        }
    }
}

/// What the worker tells the UI.
#[derive(Debug)]
pub enum Event {
    /// A connection works. `roles` names Sent and Trash as found.
    Connected {
        test_only: bool,
        generation: u64,
        description: String,
        sent: Option<String>,
        trash: Option<String>,
        /// The Maildir's directory, for local mailboxes.
        path: Option<PathBuf>,
    },
    ConnectFailed {
        test_only: bool,
        error: StoreError,
    },
    /// The keyring has no password for this account (or no keyring): ask for it.
    NeedPassword {
        test_only: bool,
        reason: String,
    },
    /// Something about the keyring the user should know (e.g. that it is not available).
    KeyringNotice(String),
    Phase(scan::Phase),
    Progress {
        phase: scan::Phase,
        done: u64,
        total: u64,
    },
    Found(Vec<ScanItem>),
    Warning(String),
    ScanDone(Result<Box<ScanReport>, ScanError>),
    CleanProgress {
        done: usize,
        total: usize,
    },
    CleanDone(Result<CleanOutcome, CleanError>),
    UndoProgress {
        done: usize,
        total: usize,
    },
    UndoDone(Result<usize, CleanError>),
    Raw {
        uid: Uid,
        result: Result<Box<RawView>, String>,
    },
    /// A command came for a mailbox that is no longer the current one, or none is open.
    Refused(String),
}

/// The UI's handle on the worker thread.
pub struct Worker {
    commands: SyncSender<Command>,
    events: Receiver<(u64, Event)>,
    cancel: Arc<AtomicBool>,
}

impl Worker {
    /// Starts the worker thread; `wake` is called after every event (the UI's
    /// `request_repaint`).
    pub fn spawn(wake: impl Fn() + Send + 'static) -> std::io::Result<Worker> {
        let (cmd_tx, cmd_rx) = sync_channel::<Command>(COMMAND_QUEUE);
        let (ev_tx, ev_rx) = sync_channel::<(u64, Event)>(EVENT_QUEUE);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        std::thread::Builder::new().name("neversent-mailbox".into()).spawn(move || {
            let mut state = State { store: None, generation: 0, demo: None };
            let out = Out { tx: ev_tx, wake: Box::new(wake), tag: Cell::new(0) };
            while let Ok(cmd) = cmd_rx.recv() {
                out.tag.set(cmd.generation());
                if state.run(cmd, &out, &flag).is_err() {
                    break; // the UI is gone
                }
            }
        })?;
        Ok(Worker { commands: cmd_tx, events: ev_rx, cancel })
    }

    /// Queues a command. A scan, move, undo or connection clears the cancel flag first, so a
    /// cancel meant for an earlier command does not stop it.
    pub fn send(&self, cmd: Command) -> Result<(), String> {
        // Only a new long command resets the flag: fetching a message for the detail pane
        // while a move runs must not undo a "Stop".
        if matches!(
            cmd,
            Command::Connect { test_only: false, .. }
                | Command::Scan { .. }
                | Command::Clean { .. }
                | Command::Undo { .. }
        ) {
            self.cancel.store(false, Ordering::Relaxed);
        }
        match self.commands.try_send(cmd) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err("NeverSent is still busy with earlier requests; try again in a moment".into())
            }
            Err(TrySendError::Disconnected(_)) => {
                Err("the mailbox worker stopped unexpectedly; restart NeverSent".into())
            }
        }
    }

    /// Asks the running command to stop at its next step.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The next event, if one is waiting, with the generation of the command that made it.
    pub fn try_recv(&self) -> Option<(u64, Event)> {
        self.events.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Stop whatever runs; the thread ends when it sees the channel closed.
        self.cancel.store(true, Ordering::Relaxed);
    }
}

struct Out {
    tx: SyncSender<(u64, Event)>,
    wake: Box<dyn Fn() + Send>,
    /// The generation of the command being run.
    tag: Cell<u64>,
}

/// The UI hung up.
struct Gone;

impl Out {
    fn send(&self, ev: Event) -> Result<(), Gone> {
        self.tx.send((self.tag.get(), ev)).map_err(|_| Gone)?;
        (self.wake)();
        Ok(())
    }
}

/// An open store, the Maildir's directory (local mailboxes), and the folder overrides.
type Opened = (Box<dyn MailStore + Send>, Option<PathBuf>, RoleOverrides);

struct State {
    store: Option<Box<dyn MailStore + Send>>,
    generation: u64,
    /// Keeps the demo copy alive while it is the current mailbox.
    demo: Option<tempfile::TempDir>,
}

impl State {
    fn run(&mut self, cmd: Command, out: &Out, cancel: &AtomicBool) -> Result<(), Gone> {
        match cmd {
            Command::Connect { target, test_only, generation } => {
                self.connect(target, test_only, generation, out)
            }
            Command::Scan { config, generation } => {
                let Some(store) = self.current(generation, out)? else { return Ok(()) };
                run_scan(store.as_mut(), &config, out, cancel)
            }
            Command::Clean { plan, generation } => {
                let Some(store) = self.current(generation, out)? else { return Ok(()) };
                let mut last = Instant::now();
                let mut progress = |done: usize, total: usize| {
                    if done == total || last.elapsed() >= FLUSH_EVERY {
                        last = Instant::now();
                        let _ = out.send(Event::CleanProgress { done, total });
                    }
                };
                let result = clean::execute(store.as_mut(), &plan, &mut progress, cancel);
                out.send(Event::CleanDone(result))
            }
            Command::Undo { plan, outcome, generation } => {
                let Some(store) = self.current(generation, out)? else { return Ok(()) };
                let mut progress = |done: usize, total: usize| {
                    let _ = out.send(Event::UndoProgress { done, total });
                };
                let result = clean::undo(store.as_mut(), &plan, &outcome, &mut progress);
                out.send(Event::UndoDone(result))
            }
            Command::FetchRaw { folder, uid, generation } => {
                let Some(store) = self.current(generation, out)? else { return Ok(()) };
                let result = match store.fetch_bodies(&folder, &[uid], RAW_CAP) {
                    Ok(records) => match records.into_iter().next() {
                        Some(rec) => Ok(Box::new(RawView {
                            text: readable_text(&rec.raw),
                            source: source_text(&rec.raw),
                            size: rec.size,
                            truncated: rec.truncated,
                        })),
                        None => Err("this message is no longer in the folder".to_string()),
                    },
                    Err(e) => Err(e.to_string()),
                };
                out.send(Event::Raw { uid, result })
            }
            Command::ForgetSecret { keyring_key } => {
                if let Err(e) = secrets::delete(&keyring_key) {
                    out.send(Event::KeyringNotice(format!(
                        "The saved password could not be removed: {e}."
                    )))?;
                }
                Ok(())
            }
        }
    }

    /// The current store, if `generation` is still the current connection.
    fn current(
        &mut self,
        generation: u64,
        out: &Out,
    ) -> Result<Option<&mut Box<dyn MailStore + Send>>, Gone> {
        if generation != self.generation || self.store.is_none() {
            out.send(Event::Refused(
                "that mailbox is no longer open, so nothing was done; connect again".into(),
            ))?;
            return Ok(None);
        }
        Ok(self.store.as_mut())
    }

    fn connect(
        &mut self,
        target: Target,
        test_only: bool,
        generation: u64,
        out: &Out,
    ) -> Result<(), Gone> {
        let mut demo_dir = None;
        let opened: Result<Opened, StoreError> = match target {
            Target::Maildir(path) => MaildirStore::open(&path).map(|s| {
                (Box::new(s) as Box<dyn MailStore + Send>, Some(path), RoleOverrides::default())
            }),
            Target::Demo => match demo::copy_to_temp() {
                Ok(dir) => {
                    let path = dir.path().to_path_buf();
                    demo_dir = Some(dir);
                    MaildirStore::open(&path).map(|s| {
                        (
                            Box::new(s) as Box<dyn MailStore + Send>,
                            Some(path),
                            RoleOverrides::default(),
                        )
                    })
                }
                Err(e) => Err(StoreError::Io {
                    path: std::env::temp_dir().display().to_string(),
                    detail: format!("cannot copy the demo mailbox ({e})"),
                }),
            },
            Target::Imap { mut config, login, keyring_key, roles } => {
                let mut to_remember = None;
                let mut forget = false;
                config.credentials = match login {
                    Login::Password { secret, remember } => {
                        // A test connection keeps nothing; a real one does what was asked.
                        if !test_only {
                            if remember {
                                to_remember = Some(secret.clone());
                            } else {
                                forget = true;
                            }
                        }
                        Credentials::Password(secret)
                    }
                    Login::OAuth2Command(cmd) => Credentials::OAuth2Command(cmd),
                    Login::Keyring => match secrets::get(&keyring_key) {
                        Ok(Some(secret)) => Credentials::Password(secret),
                        Ok(None) => {
                            return out.send(Event::NeedPassword {
                                test_only,
                                reason: "No password is saved for this account.".into(),
                            })
                        }
                        Err(e) => {
                            return out.send(Event::NeedPassword {
                                test_only,
                                reason: format!(
                                    "The saved password cannot be read: {e}. Enter it to continue."
                                ),
                            })
                        }
                    },
                };
                match ImapStore::connect(&config) {
                    Ok(store) => {
                        if let Some(secret) = to_remember {
                            if let Err(e) = secrets::set(&keyring_key, &secret) {
                                out.send(Event::KeyringNotice(format!(
                                        "The password could not be remembered: {e}. NeverSent will ask for it each time; it is never written to a file."
                                    )))?;
                            }
                        } else if forget {
                            // "Remember" is off: make sure no old copy stays behind.
                            let _ = secrets::delete(&keyring_key);
                        }
                        Ok((Box::new(store) as Box<dyn MailStore + Send>, None, roles))
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let (mut store, path, overrides) = match opened {
            Ok(x) => x,
            Err(error) => return out.send(Event::ConnectFailed { test_only, error }),
        };
        let (sent, trash) = match store.roles(&overrides) {
            Ok(r) => (r.sent_name().map(str::to_string), r.trash_name().map(str::to_string)),
            Err(error) => return out.send(Event::ConnectFailed { test_only, error }),
        };
        let description = store.describe();
        if !test_only {
            self.store = Some(store);
            self.generation = generation;
            self.demo = demo_dir;
        }
        out.send(Event::Connected { test_only, generation, description, sent, trash, path })
    }
}

fn run_scan(
    store: &mut dyn MailStore,
    config: &ScanConfig,
    out: &Out,
    cancel: &AtomicBool,
) -> Result<(), Gone> {
    let mut found: Vec<ScanItem> = Vec::new();
    let mut pending_progress: Option<Event> = None;
    let mut last = Instant::now();
    let mut gone = false;
    let flush = |found: &mut Vec<ScanItem>, progress: &mut Option<Event>| -> bool {
        if !found.is_empty() && out.send(Event::Found(std::mem::take(found))).is_err() {
            return false;
        }
        if let Some(p) = progress.take() {
            if out.send(p).is_err() {
                return false;
            }
        }
        true
    };
    let result = scan::scan(
        store,
        config,
        &mut |ev| {
            if gone {
                return;
            }
            match ev {
                ScanEvent::Phase(p) => {
                    gone |= !flush(&mut found, &mut pending_progress);
                    gone |= out.send(Event::Phase(p)).is_err();
                }
                ScanEvent::Progress { phase, done, total } => {
                    pending_progress = Some(Event::Progress { phase, done, total });
                }
                ScanEvent::Found(item) => found.push(*item),
                ScanEvent::Warning(w) => {
                    gone |= !flush(&mut found, &mut pending_progress);
                    gone |= out.send(Event::Warning(w)).is_err();
                }
            }
            if !gone && (found.len() >= FOUND_BATCH || last.elapsed() >= FLUSH_EVERY) {
                last = Instant::now();
                gone |= !flush(&mut found, &mut pending_progress);
            }
        },
        cancel,
    );
    if gone || !flush(&mut found, &mut pending_progress) {
        return Err(Gone);
    }
    out.send(Event::ScanDone(result.map(Box::new)))
}
