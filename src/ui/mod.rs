//! The egui front end.

/// The window title; tests look for it.
pub const APP_NAME: &str = "NeverSent";

/// The desktop app.
#[derive(Default)]
pub struct NeverSentApp {}

impl NeverSentApp {
    pub fn new() -> NeverSentApp {
        NeverSentApp::default()
    }
}

impl eframe::App for NeverSentApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("NeverSent");
            ui.label(
                "Bounces for mail you never sent? Spammers forged your address. NeverSent finds \
                 those bounces, proves against your Sent folder that you never sent them, and \
                 moves them to Trash.",
            );
        });
    }
}

/// Opens the desktop window.
pub fn run(_demo: bool) -> eframe::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(APP_NAME)
            .with_inner_size([1100.0, 720.0]),
        ..Default::default()
    };
    eframe::run_native(APP_NAME, options, Box::new(|_cc| Ok(Box::new(NeverSentApp::new()))))
}
