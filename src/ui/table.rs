//! The pieces of the review table that make it cheap to draw: column widths computed once per
//! frame, the visible rows' text laid out once and kept, the rows tessellated once and kept while
//! they look the same, and a checkbox painted without a widget layout. The table itself (header,
//! rows, scrolling, keyboard) is in [`super::review`].

use egui::epaint::{self, Galley, Mesh, Tessellator};
use egui::text::{LayoutJob, TextWrapping};
use egui::widget_style::WidgetState;
use egui::{pos2, vec2, Color32, FontId, Rect, Response, Shape, Style, Ui};
use std::collections::HashMap;
use std::sync::Arc;

/// How a column gets its width.
#[derive(Debug, Clone, Copy)]
pub(super) enum Width {
    /// Always this wide.
    Fixed(f32),
    /// The user can drag its right edge; `slot` indexes the stored widths.
    Resizable { slot: usize, initial: f32, min: f32 },
    /// Shares what the others leave, equally, but never narrower than `min`.
    Share { min: f32 },
}

/// Column widths, left to right, for a table `available` wide with `spacing` between columns:
/// the fixed and resizable columns take their width, the sharing columns split the rest.
pub(super) fn widths<const N: usize>(
    spec: &[Width; N],
    resized: &[f32],
    available: f32,
    spacing: f32,
) -> [f32; N] {
    let mut out = [0.0; N];
    let mut taken = spacing * N.saturating_sub(1) as f32;
    let mut shares = 0;
    for (w, s) in out.iter_mut().zip(spec) {
        match *s {
            Width::Fixed(x) => *w = x,
            Width::Resizable { slot, initial, min } => {
                *w = resized.get(slot).copied().unwrap_or(initial).max(min)
            }
            Width::Share { .. } => shares += 1,
        }
        taken += *w;
    }
    if shares > 0 {
        let each = ((available - taken) / shares as f32).max(0.0);
        for (w, s) in out.iter_mut().zip(spec) {
            if let Width::Share { min } = *s {
                *w = each.max(min);
            }
        }
    }
    out
}

/// Text laid out once per visible row and column, and reused frame after frame while nothing
/// it depends on changes: the font, the column widths (text is cut with "…" to fit), the data
/// (the owner calls [`TextCache::clear`]), and egui's font atlas. Colours are applied when
/// painting, so the theme and the selection never need a new layout.
#[derive(Default)]
pub(super) struct TextCache {
    /// A tiny text laid out through egui's own galley cache every frame. egui clears that cache
    /// whenever galleys become invalid (the font atlas filled up and was rebuilt, the fonts, the
    /// pixels per point or the text options changed); then it hands out a new `Arc`, and
    /// everything here is laid out again.
    witness: Option<Arc<Galley>>,
    font: Option<FontId>,
    widths: Vec<f32>,
    /// Row (index into the list's rows) → one galley per text column.
    rows: HashMap<usize, Vec<Arc<Galley>>>,
    /// Other text (headers), by what it says and how wide it may be.
    other: HashMap<(&'static str, u32), Arc<Galley>>,
    /// Changes whenever galleys handed out before may differ from those handed out now.
    generation: u64,
}

impl std::fmt::Debug for TextCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextCache").field("rows", &self.rows.len()).finish_non_exhaustive()
    }
}

/// Rows kept beyond those on screen before the cache is trimmed.
const KEEP_ROWS: usize = 256;

impl TextCache {
    /// Forgets every row's text (the rows changed).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.generation += 1;
    }

    /// Changes whenever the text of a row may have changed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Call once per frame before using the cache: drops what is no longer valid.
    pub fn begin_frame(&mut self, ui: &Ui, font: &FontId, widths: &[f32]) {
        let witness = ui.fonts_mut(|f| {
            f.layout_job(LayoutJob::simple_singleline(
                "…".into(),
                font.clone(),
                Color32::PLACEHOLDER,
            ))
        });
        let valid = self.witness.as_ref().is_some_and(|w| Arc::ptr_eq(w, &witness))
            && self.font.as_ref() == Some(font)
            && self.widths == widths;
        if !valid {
            self.generation += 1;
            self.rows.clear();
            self.other.clear();
            self.witness = Some(witness);
            self.font = Some(font.clone());
            self.widths.clear();
            self.widths.extend_from_slice(widths);
        } else if self.rows.len() > KEEP_ROWS {
            self.rows.clear();
        }
    }

    /// The galleys of row `index`, made by `texts` (one text and width per column) if needed.
    pub fn row<'t>(
        &mut self,
        ui: &Ui,
        index: usize,
        texts: impl FnOnce() -> [(&'t str, f32); 6],
    ) -> &[Arc<Galley>] {
        let font = self.font.clone().unwrap_or_default();
        self.rows.entry(index).or_insert_with(|| {
            ui.fonts_mut(|f| {
                texts()
                    .into_iter()
                    .map(|(text, width)| f.layout_job(job(text, font.clone(), width)))
                    .collect()
            })
        })
    }

    /// Other text (headers): `font`, at most `width` wide.
    pub fn text(&mut self, ui: &Ui, text: &'static str, font: &FontId, width: f32) -> Arc<Galley> {
        let key = (text, width.round() as u32);
        self.other
            .entry(key)
            .or_insert_with(|| ui.fonts_mut(|f| f.layout_job(job(text, font.clone(), width))))
            .clone()
    }
}

/// The last tessellation of some shapes, painted again as long as `K` (what the caller draws)
/// and everything else tessellation depends on (style, clip rectangle, pixels per point, the
/// tessellation options, the font texture's size) stay the same. For a table body, where an idle
/// frame draws exactly what the last one did, this turns thousands of glyphs' tessellation into
/// one copy of a mesh. The shapes are tessellated (exactly as egui would) only once they were the
/// same two frames in a row: while the body changes every frame (scrolling), they are painted
/// as usual, at no extra cost.
pub(super) struct MeshCache<K> {
    key: Option<(K, Environment)>,
    mesh: Option<Arc<Mesh>>,
}

impl<K> Default for MeshCache<K> {
    fn default() -> Self {
        MeshCache { key: None, mesh: None }
    }
}

impl<K> std::fmt::Debug for MeshCache<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vertices = self.mesh.as_ref().map(|m| m.vertices.len());
        f.debug_struct("MeshCache").field("vertices", &vertices).finish()
    }
}

#[derive(Debug, Clone)]
struct Environment {
    style: Arc<Style>,
    clip: Rect,
    pixels_per_point: f32,
    options: epaint::TessellationOptions,
    font_texture: [usize; 2],
}

impl PartialEq for Environment {
    fn eq(&self, other: &Self) -> bool {
        (Arc::ptr_eq(&self.style, &other.style) || self.style == other.style)
            && self.clip == other.clip
            && self.pixels_per_point == other.pixels_per_point
            && self.options == other.options
            && self.font_texture == other.font_texture
    }
}

impl<K: PartialEq> MeshCache<K> {
    /// Paints what `shapes` makes for `key`; calls it only if needed.
    pub fn paint(&mut self, ui: &Ui, key: K, shapes: impl FnOnce(&K, &mut Vec<Shape>)) {
        let ctx = ui.ctx();
        let environment = Environment {
            style: Arc::clone(ui.style()),
            clip: ui.clip_rect(),
            pixels_per_point: ctx.pixels_per_point(),
            options: ctx.tessellation_options(|o| *o),
            font_texture: ctx.fonts(|f| f.font_image_size()),
        };
        let same = self.key.as_ref().is_some_and(|(k, e)| *k == key && *e == environment);
        if let (true, Some(mesh)) = (same, &self.mesh) {
            ui.painter().add(Shape::Mesh(Arc::clone(mesh)));
            return;
        }
        let mut list = Vec::new();
        shapes(&key, &mut list);
        if same {
            let mut tessellator = Tessellator::new(
                environment.pixels_per_point,
                environment.options,
                environment.font_texture,
                Vec::new(),
            );
            tessellator.set_clip_rect(environment.clip);
            let mut mesh = Mesh::default();
            for shape in list {
                tessellator.tessellate_shape(shape, &mut mesh);
            }
            let mesh = Arc::new(mesh);
            ui.painter().add(Shape::Mesh(Arc::clone(&mesh)));
            self.mesh = Some(mesh);
        } else {
            ui.painter().extend(list);
            self.mesh = None;
            self.key = Some((key, environment));
        }
    }
}

/// One line of `text`, cut with "…" at `width`; its colour is given when it is painted.
///
/// Text far longer than the column is cut before it is laid out (shaping is the cost of a row
/// scrolling into view): no glyph of a text font is narrower than 0.3 em except spaces and
/// marks, so at most `width / 0.3 em` characters can show; a cut text ends in "…" itself in
/// case what is left still fits.
fn job(text: &str, font: FontId, width: f32) -> LayoutJob {
    let max_chars = ((width.max(1.0) / (font.size.max(1.0) * 0.3)) as usize).saturating_add(2);
    let text = match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    };
    let mut job = LayoutJob::simple_singleline(text, font, Color32::PLACEHOLDER);
    job.wrap = TextWrapping::truncate_at_width(width.max(1.0));
    job
}

/// `galley` at the left of `rect`, centred vertically, in `color`.
pub(super) fn text(rect: Rect, galley: &Arc<Galley>, color: Color32) -> Shape {
    let pos = pos2(rect.left(), rect.center().y - galley.size().y / 2.0);
    Shape::galley(pos, Arc::clone(galley), color)
}

/// The state a checkbox is drawn in: as `response` is, or greyed out when not `enabled`.
pub(super) fn checkbox_state(response: &Response, enabled: bool) -> WidgetState {
    if enabled {
        response.widget_state()
    } else {
        WidgetState::Noninteractive
    }
}

/// A checkbox (no text) centred in `rect`, as `egui::Checkbox` draws one.
pub(super) fn checkbox(
    style: &Style,
    rect: Rect,
    state: WidgetState,
    checked: bool,
    out: &mut Vec<Shape>,
) {
    let enabled = state != WidgetState::Noninteractive;
    let visuals = style.visuals.widgets.state(state);
    let size = style.spacing.icon_width;
    let big = Rect::from_center_size(rect.center(), vec2(size, size));
    let small =
        Rect::from_center_size(big.center(), egui::Vec2::splat(style.spacing.icon_width_inner));
    let fade =
        |c: Color32| if enabled { c } else { c.gamma_multiply(style.visuals.disabled_alpha()) };
    let mut stroke = visuals.bg_stroke;
    stroke.color = fade(stroke.color);
    out.push(Shape::Rect(epaint::RectShape::new(
        big,
        visuals.corner_radius.at_most((0.3 * size).round() as u8),
        fade(visuals.bg_fill),
        stroke,
        epaint::StrokeKind::Inside,
    )));
    if checked {
        let mut check = visuals.fg_stroke;
        check.color = fade(check.color);
        out.push(Shape::line(
            vec![
                pos2(small.left(), small.center().y),
                pos2(small.center().x, small.bottom()),
                pos2(small.right(), small.top()),
            ],
            check,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: [Width; 4] = [
        Width::Fixed(22.0),
        Width::Resizable { slot: 0, initial: 120.0, min: 80.0 },
        Width::Share { min: 90.0 },
        Width::Share { min: 90.0 },
    ];

    #[test]
    fn long_text_is_cut_before_it_is_laid_out() {
        let j = job(&"x".repeat(500), FontId::proportional(14.0), 140.0);
        assert!(j.text.chars().count() < 50 && j.text.ends_with('…'), "{}", j.text);
        // unbounded (headers) and tiny widths: nothing overflows
        assert_eq!(job("short", FontId::proportional(14.0), f32::INFINITY).text, "short");
        assert!(job("abcdef", FontId::proportional(14.0), 0.0).text.ends_with('…'));
    }

    #[test]
    fn sharing_columns_split_the_rest_but_keep_their_minimum() {
        // 1001 - 22 - 120 - 3 × 8 = 835, split in two.
        assert_eq!(widths(&SPEC, &[120.0], 1001.0, 8.0), [22.0, 120.0, 417.5, 417.5]);
        // A resized column keeps its width; not narrower than its minimum.
        assert_eq!(widths(&SPEC, &[300.0], 1000.0, 8.0), [22.0, 300.0, 327.0, 327.0]);
        assert_eq!(widths(&SPEC, &[10.0], 1000.0, 8.0)[1], 80.0);
        // Too narrow a window: the sharing columns keep their minimum (the table scrolls).
        assert_eq!(widths(&SPEC, &[120.0], 200.0, 8.0), [22.0, 120.0, 90.0, 90.0]);
    }
}
