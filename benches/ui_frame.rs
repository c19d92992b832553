//! Frame time of the review screen with 100,000 bounces against an empty list: the real app's
//! `show`, in a headless egui context, including tessellation. Prints the figures and the
//! ratio (goal: at most 1.5×). `cargo bench --bench ui_frame`

use egui::{pos2, vec2, Event, MouseWheelUnit, RawInput, Rect};
use neversent::bounce::{analyze, Kind};
use neversent::scan::{ScanItem, ScanReport, ScanStats};
use neversent::triage::Verdict;
use neversent::ui::{NeverSentApp, Options};
use std::time::{Duration, Instant};

const WARMUP: usize = 30;
const FRAMES: usize = 300;

/// Measured frames: 300, or UI_FRAME_FRAMES (more frames give a sampling profiler more to see).
fn frames() -> usize {
    std::env::var("UI_FRAME_FRAMES").ok().and_then(|n| n.parse().ok()).unwrap_or(FRAMES)
}

/// The frames timed per case: [`frames`], rounded up to whole turns of [`BLOCK`] frames.
fn timed_frames() -> usize {
    frames().div_ceil(BLOCK - 1) * (BLOCK - 1)
}

fn item(n: usize) -> ScanItem {
    let mut analysis = analyze(b"");
    analysis.kind = Kind::DeliveryFailure;
    analysis.original.recipients = vec![format!("someone{}@host{}.example.net", n % 9_973, n % 97)];
    analysis.original.subject = Some(format!("Offer number {n}"));
    analysis.original.message_id = Some(format!("{n}.bot@spam.example.com"));
    analysis.evidence = vec!["a message/rfc822 part holds the original".into()];
    let verdict = match n % 10 {
        0 => Verdict::Genuine,
        1 => Verdict::Unverified,
        2 => Verdict::Suspicious,
        _ => Verdict::Backscatter,
    };
    ScanItem {
        uid: n as u32 + 1,
        size: 4_000,
        from: "MAILER-DAEMON@mx.example.net".into(),
        subject: "Undeliverable".into(),
        date: Some(1_794_000_000 + (n as i64 * 7_919) % 2_600_000),
        message_id: Some(format!("bounce{n}@mx.example.net")),
        analysis,
        verdict: Some(verdict),
        reasons: vec![format!("the bounced message <{n}.bot@spam.example.com> is not among the 3,212 messages in Sent")],
    }
}

fn report(rows: usize) -> ScanReport {
    ScanReport {
        mailbox: "INBOX".into(),
        uidvalidity: 1,
        sent_mailbox: Some("Sent".into()),
        sent_messages: 3_212,
        trash_mailbox: Some("Trash".into()),
        scanned: rows * 3,
        items: (0..rows).map(item).collect(),
        warnings: vec![],
        stats: ScanStats::default(),
    }
}

struct Figures {
    median: Duration,
    mean: Duration,
    p95: Duration,
    /// Paint primitives and their vertices in the last frame: how much was drawn.
    primitives: (usize, usize),
}

/// One case being measured: its own app and egui context.
struct Case {
    app: NeverSentApp,
    ctx: egui::Context,
    scroll: bool,
    frame: usize,
    times: Vec<Duration>,
    primitives: (usize, usize),
}

/// Frames measured in a row for one case before the next case's turn (the first of them is
/// not counted: it may find the caches holding the other case's data).
const BLOCK: usize = 10;

impl Case {
    /// `search`: text typed into the search box (one that matches nothing empties the list
    /// while the rest of the review screen — timeline, tabs, headers — stays the same).
    fn new(rows: usize, scroll: bool, search: Option<&str>) -> Case {
        let mut app = NeverSentApp::new(Options::default());
        let t = Instant::now();
        app.show_report(report(rows));
        if let Some(text) = search {
            app.list_mut().set_search(text);
        }
        if rows > 0 {
            eprintln!("  (building the list of {rows} rows took {:.1?}, once)", t.elapsed());
        }
        let mut case = Case {
            app,
            ctx: egui::Context::default(),
            scroll,
            frame: 0,
            times: Vec::new(),
            primitives: (0, 0),
        };
        for _ in 0..WARMUP {
            let input = case.input();
            warm_up_frame(&case.ctx, input, &mut case.app);
        }
        case
    }

    fn input(&mut self) -> RawInput {
        let screen = Rect::from_min_size(pos2(0.0, 0.0), vec2(1280.0, 800.0));
        let mut input = RawInput { screen_rect: Some(screen), ..Default::default() };
        input.time = Some(self.frame as f64 / 60.0);
        input.events.push(Event::PointerMoved(pos2(420.0, 560.0)));
        if self.scroll {
            // Scroll down through the table, and back up now and then.
            let dy = if (self.frame / 100).is_multiple_of(2) { -3.0 } else { 3.0 };
            input.events.push(Event::MouseWheel {
                unit: MouseWheelUnit::Line,
                delta: vec2(0.0, dy),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
                modifiers: egui::Modifiers::NONE,
            });
        }
        self.frame += 1;
        input
    }

    /// A block of frames, all but the first timed.
    fn block(&mut self) {
        for i in 0..BLOCK {
            let input = self.input();
            if i == 0 {
                warm_up_frame(&self.ctx, input, &mut self.app);
                continue;
            }
            let start = Instant::now();
            self.primitives = run_frame(&self.ctx, input, &mut self.app);
            self.times.push(start.elapsed());
        }
    }

    fn figures(mut self) -> Figures {
        let times = &mut self.times;
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        Figures {
            median: times[times.len() / 2],
            mean,
            p95: times[times.len() * 95 / 100],
            primitives: self.primitives,
        }
    }
}

/// The cases measured in turns, a block of frames each, until each has [`timed_frames`] timed
/// frames: a machine whose speed drifts (a busy neighbour, a virtual machine's host) slows
/// every case alike, so their ratios hold even when the times do not.
fn measure(mut cases: Vec<Case>) -> Vec<Figures> {
    let rounds = timed_frames() / (BLOCK - 1);
    for _ in 0..rounds {
        for case in &mut cases {
            case.block();
        }
    }
    cases.into_iter().map(Case::figures).collect()
}

/// A warm-up frame: the same as a measured one, under another name so that a profiler told to
/// look at measured frames only leaves out the first frames' one-time work (fonts, caches).
#[inline(never)]
fn warm_up_frame(ctx: &egui::Context, input: RawInput, app: &mut NeverSentApp) {
    std::hint::black_box(run_frame_inner(ctx, input, app));
}

/// One measured frame: the app's `show` and tessellation. Returns how many paint primitives it
/// made and how many vertices they have. Not inlined, so a profiler can be told to look at measured frames only
/// (`valgrind --tool=callgrind --toggle-collect='ui_frame::run_frame'`).
#[inline(never)]
fn run_frame(ctx: &egui::Context, input: RawInput, app: &mut NeverSentApp) -> (usize, usize) {
    run_frame_inner(ctx, input, app)
}

#[inline(always)]
fn run_frame_inner(ctx: &egui::Context, input: RawInput, app: &mut NeverSentApp) -> (usize, usize) {
    let output = ctx.run_ui(input, |ui| app.show(ui));
    let prims = ctx.tessellate(output.shapes, output.pixels_per_point);
    let vertices = prims
        .iter()
        .map(|p| match &p.primitive {
            egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
            egui::epaint::Primitive::Callback(_) => 0,
        })
        .sum();
    let n = prims.len();
    std::hint::black_box(prims);
    (n, vertices)
}

fn main() {
    // Keep the user's settings out of it.
    let tmp = std::env::temp_dir().join(format!("neversent-bench-{}", std::process::id()));
    for var in ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"] {
        std::env::set_var(var, tmp.join(var));
    }
    println!(
        "review screen frame time (1280×800, the app's whole frame: layout + tessellation; \
         {} frames after {WARMUP} warm-up, the cases in turns of {BLOCK} frames)",
        timed_frames()
    );
    let only = std::env::var("UI_FRAME_ONLY").ok();
    for scroll in [false, true] {
        let what = if scroll { "scrolling" } else { "idle" };
        let cases: [(&str, usize, Option<&str>); 4] = [
            ("no bounces at all", 0, None),
            ("100,000 bounces, search matches none", 100_000, Some("no-such-text-anywhere")),
            ("100 rows", 100, None),
            ("100,000 rows", 100_000, None),
        ];
        // UI_FRAME_ONLY=TEXT measures only the cases whose line contains TEXT (for a
        // profiler); the ratios then are not printed.
        let chosen: Vec<_> = cases
            .iter()
            .filter(|(label, ..)| {
                only.as_deref().is_none_or(|o| format!("{what}: {label}").contains(o))
            })
            .collect();
        let states =
            chosen.iter().map(|(_, rows, search)| Case::new(*rows, scroll, *search)).collect();
        let figures = measure(states);
        for ((label, ..), f) in chosen.iter().zip(&figures) {
            println!(
                "{what:>9}: {label:<38} median {:>9.3?}  mean {:>9.3?}  p95 {:>9.3?}  ({} paint primitives, {} vertices)",
                f.median, f.mean, f.p95, f.primitives.0, f.primitives.1
            );
        }
        if figures.len() < cases.len() {
            continue;
        }
        let ratio = |a: &Figures, b: &Figures| a.median.as_secs_f64() / b.median.as_secs_f64();
        println!(
            "{what:>9}: 100,000 rows vs the empty list on the same screen: {:.2}× (goal ≤ 1.5×); vs no bounces at all (no timeline, no table): {:.2}×; vs 100 rows: {:.2}×",
            ratio(&figures[3], &figures[1]),
            ratio(&figures[3], &figures[0]),
            ratio(&figures[3], &figures[2])
        );
    }
    let _ = std::fs::remove_dir_all(tmp);
}
