//! The pieces of the review table that make it cheap to draw: column widths computed once per
//! frame, how a row looks apart from its text tessellated once per state, the whole body's
//! tessellation kept while it looks the same, and a checkbox painted without a widget layout.
//! The rows' text is in [`super::cell_text`]; the table itself (header, rows, scrolling,
//! keyboard) is in [`super::review`].

use egui::epaint::text::Row;
use egui::epaint::{self, Galley, Mesh, Tessellator};
use egui::widget_style::WidgetState;
use egui::{pos2, vec2, Color32, Rect, Response, Shape, Style, Ui};
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

/// What a row looks like apart from its text (background, checkbox), for each state a row can
/// be in, tessellated once with the row's top at y = 0, as a text row (see
/// [`super::cell_text::TextCache::galley`]) placed at each row drawn in that state. Kept while
/// the style, the scale and the row geometry stay the same.
pub(super) struct StateMeshes<K> {
    environment: Option<Environment>,
    geometry: Vec<f32>,
    meshes: Vec<(K, Arc<Row>)>,
}

impl<K> Default for StateMeshes<K> {
    fn default() -> Self {
        StateMeshes { environment: None, geometry: Vec::new(), meshes: Vec::new() }
    }
}

impl<K> std::fmt::Debug for StateMeshes<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateMeshes").field("states", &self.meshes.len()).finish()
    }
}

impl<K: PartialEq> StateMeshes<K> {
    /// Call once per frame before use: `geometry` is whatever the shapes' positions depend on.
    pub fn begin_frame(&mut self, ui: &Ui, geometry: &[f32]) {
        let environment = Environment::of(ui, Rect::EVERYTHING);
        if self.environment.as_ref() != Some(&environment) || self.geometry != geometry {
            self.meshes.clear();
            self.environment = Some(environment);
            self.geometry.clear();
            self.geometry.extend_from_slice(geometry);
        }
    }

    /// Makes the row for `key` from what `shapes` draws, if it was not made yet; `row` makes a
    /// text row of a mesh (texture coordinates in texels) and its bounds.
    pub fn prepare(
        &mut self,
        key: K,
        shapes: impl FnOnce(&K, &mut Vec<Shape>),
        row: impl FnOnce(Mesh, Rect) -> Option<Arc<Row>>,
    ) {
        if self.get(&key).is_some() {
            return;
        }
        let Some(environment) = &self.environment else { return };
        let mut list = Vec::new();
        shapes(&key, &mut list);
        let mut mesh = environment.tessellate(list);
        // The tessellator's texture coordinates are normalised; a text row's are in texels.
        // (Shapes without a texture all use the font texture's white texel at (0, 0).)
        let [w, h] = environment.font_texture;
        for v in &mut mesh.vertices {
            v.uv = pos2(v.uv.x * w as f32, v.uv.y * h as f32);
        }
        let bounds = mesh.calc_bounds();
        if let Some(row) = row(mesh, bounds) {
            self.meshes.push((key, row));
        }
    }

    /// The row [`Self::prepare`] made for `key`.
    pub fn get(&self, key: &K) -> Option<&Arc<Row>> {
        self.meshes.iter().find(|(k, _)| k == key).map(|(_, m)| m)
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

impl Environment {
    fn of(ui: &Ui, clip: Rect) -> Self {
        let ctx = ui.ctx();
        Environment {
            style: Arc::clone(ui.style()),
            clip,
            pixels_per_point: ctx.pixels_per_point(),
            options: ctx.tessellation_options(|o| *o),
            font_texture: ctx.fonts(|f| f.font_image_size()),
        }
    }

    /// `shapes` tessellated as egui would in this environment.
    fn tessellate(&self, shapes: Vec<Shape>) -> Mesh {
        let mut tessellator =
            Tessellator::new(self.pixels_per_point, self.options, self.font_texture, Vec::new());
        tessellator.set_clip_rect(self.clip);
        let mut mesh = Mesh::default();
        for shape in shapes {
            tessellator.tessellate_shape(shape, &mut mesh);
        }
        mesh
    }
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
        let environment = Environment::of(ui, ui.clip_rect());
        let same = self.key.as_ref().is_some_and(|(k, e)| *k == key && *e == environment);
        if let (true, Some(mesh)) = (same, &self.mesh) {
            ui.painter().add(Shape::Mesh(Arc::clone(mesh)));
            return;
        }
        let mut list = Vec::new();
        shapes(&key, &mut list);
        if same {
            let mesh = environment.tessellate(list);
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
