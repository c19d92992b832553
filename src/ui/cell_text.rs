//! The text of the review table's rows, made into glyph quads without egui's shaping where
//! that gives exactly what egui's shaping would (see [`TextCache`]).

use egui::emath::GuiRounding;
use egui::epaint::text::{PlacedRow, Row, RowVisuals};
use egui::epaint::{self, Galley, Mesh};
use egui::text::{LayoutJob, TextWrapping};
use egui::{pos2, vec2, Color32, FontId, Pos2, Rect, Ui};
use std::collections::HashMap;
use std::sync::Arc;

/// The text of the visible rows, turned into glyph quads once and kept while nothing it depends
/// on changes: the font, the column positions and widths (text is cut with "…" to fit), the text
/// colour, the data (the owner calls [`TextCache::clear`]), and egui's font atlas.
///
/// Shaping a cell's text through egui costs about as much as the rest of a frame, and a row that
/// scrolls into view has six. So for text in scripts without contextual shaping (Latin, Greek,
/// Cyrillic, CJK, common symbols) the table places the glyphs itself, exactly as egui's layout
/// would (a unit test compares the two):
/// - each character's glyph is taken once from a one-character galley egui laid out, at each of
///   the four sub-pixel offsets egui renders glyphs at;
/// - how far a character advances before the next one (kerning) is learnt from egui's layouts:
///   once per font for every pair of printable ASCII characters, and for other pairs from the
///   first text egui lays out with them;
/// - a word in which shaping makes a ligature is laid out by egui once and then placed glyph by
///   glyph like any other text.
///
/// Any other text (Arabic, Indic, combining marks, emoji, control characters), and text with a
/// pair not met yet, is laid out by egui and its galley's mesh is used.
///
/// A row's text is kept as an egui text row ([`Row`]) whose mesh has the font texture's
/// coordinates in texels, as egui's own layout makes them: it stays valid when egui's font atlas
/// grows, and the visible rows are painted as one galley of such rows ([`Self::galley`]), which
/// egui's tessellator moves into place as it copies them.
pub(super) struct TextCache {
    /// A tiny text laid out through egui's own galley cache every frame. egui clears that cache
    /// whenever galleys become invalid (the font atlas filled up and was rebuilt, the fonts, the
    /// pixels per point or the text options changed); then it hands out a new `Arc`, and
    /// everything here is made again.
    witness: Option<Arc<Galley>>,
    font: Option<FontId>,
    /// A text row with nothing in it, made from the witness: what [`Self::mesh_row`] fills.
    blank: Option<Row>,
    columns: Vec<(f32, f32)>,
    color: Option<Color32>,
    pixels_per_point: f32,
    /// Height of a line of text in the font (a one-line galley's height).
    line_height: f32,
    /// The glyphs harvested so far.
    faces: Vec<GlyphFace>,
    /// Characters below 128 → index into `faces`, or [`UNKNOWN`], or [`NEEDS_SHAPING`].
    ascii: [u32; 128],
    /// The same for all other characters met so far.
    glyphs: HashMap<char, u32, FastHash>,
    /// Words with a ligature met so far → index into `words`, or [`NEEDS_SHAPING`].
    word_index: HashMap<Box<str>, u32, FastHash>,
    /// Their glyphs: a face (index into `faces`) and how far each advances in the word.
    words: Vec<Vec<(u32, f32)>>,
    /// Pairs of characters met so far → how far the first advances when the second follows, in
    /// physical pixels, or NaN (see [`TextCache::learn_pairs`]).
    pairs: HashMap<(char, char), f32, FastHash>,
    /// The same for pairs of characters below 128, by `a * 128 + b`; infinity: not met yet.
    ascii_pairs: Vec<f32>,
    /// Row (index into the list's rows) → the glyph quads of its text columns, positioned at
    /// their columns and with the top of the text at y = 0.
    rows: HashMap<usize, Arc<Row>, FastHash>,
    /// Other text (headers), by what it says and how wide it may be.
    other: HashMap<(&'static str, u32), Arc<Galley>, FastHash>,
    /// Changes whenever meshes handed out before may differ from those handed out now.
    generation: u64,
    /// How many cells egui laid out (tests check that text it has seen takes the fast way).
    by_egui: usize,
}

impl Default for TextCache {
    fn default() -> Self {
        TextCache {
            witness: None,
            font: None,
            blank: None,
            columns: Vec::new(),
            color: None,
            pixels_per_point: 1.0,
            line_height: 0.0,
            faces: Vec::new(),
            ascii: [UNKNOWN; 128],
            glyphs: HashMap::default(),
            pairs: HashMap::default(),
            ascii_pairs: vec![f32::INFINITY; 128 * 128],
            word_index: HashMap::default(),
            words: Vec::new(),
            rows: HashMap::default(),
            other: HashMap::default(),
            generation: 0,
            by_egui: 0,
        }
    }
}

impl std::fmt::Debug for TextCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextCache")
            .field("rows", &self.rows.len())
            .field("glyphs", &self.faces.len())
            .finish_non_exhaustive()
    }
}

/// Not looked at yet, in [`TextCache::ascii`] and [`TextCache::glyphs`].
const UNKNOWN: u32 = u32::MAX;
/// Text with this character must be laid out by egui.
const NEEDS_SHAPING: u32 = u32::MAX - 1;

/// Marks a face of a word's own while the word is harvested.
const WORD: u32 = 1 << 31;

/// Rows kept beyond those on screen before the cache is trimmed.
const KEEP_ROWS: usize = 256;

/// One character's glyph as egui's layout places it.
#[derive(Debug, Clone, Copy)]
struct GlyphFace {
    /// How far the next character goes, in physical pixels.
    advance_px: f32,
    /// Whether egui draws this glyph at a sub-pixel offset (one of four), or at the nearest whole
    /// pixel (CJK).
    binned: bool,
    /// The glyph's quad for each sub-pixel offset, relative to the whole pixel the glyph starts
    /// at; `None` when there is nothing to draw (a space).
    quads: [Option<Quad>; 4],
}

impl Quad {
    /// The quad of a glyph's four vertices in egui's row mesh, moved by `shift`.
    fn of(v: &[epaint::Vertex], shift: egui::Vec2) -> Quad {
        let p = |i: usize| v[i].pos + shift;
        Quad {
            rect: Rect::from_points(&[p(0), p(1), p(2), p(3)]),
            uv: Rect::from_points(&[v[0].uv, v[1].uv, v[2].uv, v[3].uv]),
        }
    }
}

impl GlyphFace {
    /// The whole pixel a glyph placed at `at` (physical pixels) is drawn from, and at which of
    /// the four sub-pixel offsets.
    fn start(&self, at: f32) -> (i32, usize) {
        if self.binned {
            subpixel_bin(at)
        } else {
            (at.round() as i32, 0)
        }
    }
}

/// A textured rectangle: position in points, texture coordinates in texels (they stay valid
/// when egui's font atlas grows).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quad {
    rect: Rect,
    uv: Rect,
}

/// A sequence of `0..k` in which every ordered pair occurs exactly once as neighbours (a de
/// Bruijn sequence of order 2, made linear): k² + 1 long.
fn de_bruijn_pairs(k: usize) -> Vec<usize> {
    // Fredricksen–Kessler–Maiorana: concatenate the Lyndon words of length 1 and 2 in
    // lexicographic order ([i] and [i, j] with i < j), then close the cycle.
    let mut out = Vec::with_capacity(k * k + 1);
    for i in 0..k {
        out.push(i);
        for j in i + 1..k {
            out.push(i);
            out.push(j);
        }
    }
    if let Some(&first) = out.first() {
        out.push(first);
    }
    out
}

/// Adds `item` to `list` and gives its index, or [`NEEDS_SHAPING`] if there is none.
fn push_index<T>(list: &mut Vec<T>, item: Option<T>) -> u32 {
    match item {
        Some(item) => {
            list.push(item);
            list.len() as u32 - 1
        }
        None => NEEDS_SHAPING,
    }
}

/// egui's sub-pixel binning (`epaint::text::glyph_atlas::SubpixelBin::new`): the whole pixel a
/// glyph at `pos` (physical pixels, not negative) starts at, and which of four offsets it is
/// drawn at.
fn subpixel_bin(pos: f32) -> (i32, usize) {
    let whole = pos as i32;
    let fract = pos - whole as f32;
    match fract {
        f if f < 0.125 => (whole, 0),
        f if f < 0.375 => (whole, 1),
        f if f < 0.625 => (whole, 2),
        f if f < 0.875 => (whole, 3),
        _ => (whole + 1, 0),
    }
}

/// Whether a character is drawn the same wherever it stands, so that its glyph can be placed
/// without shaping: not a control, combining mark, joiner or direction mark, and in a script
/// without contextual forms.
fn needs_no_shaping(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{A0}'..='\u{2FF}'         // Latin-1, Latin Extended, IPA, spacing modifiers
        | '\u{370}'..='\u{482}'        // Greek, Cyrillic (without its combining marks)
        | '\u{48A}'..='\u{52F}'
        | '\u{1E00}'..='\u{1FFF}'      // Latin Extended Additional, Greek Extended
        | '\u{2010}'..='\u{2027}'      // dashes, quotes, bullets, "…"
        | '\u{2030}'..='\u{205E}'
        | '\u{2070}'..='\u{2BFF}'      // super/subscripts, currency, letterlike, arrows, math
        | '\u{3000}'..='\u{3029}'      // CJK symbols, kana, ideographs, Hangul
        | '\u{3030}'..='\u{3098}'
        | '\u{309B}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{FF01}'..='\u{FFEF}'      // full-width forms
    )
}

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

    /// Call once per frame before using the cache: drops what is no longer valid. `columns`:
    /// the left edge and width of each text column; `color`: the text colour.
    pub fn begin_frame(&mut self, ui: &Ui, font: &FontId, columns: &[(f32, f32)], color: Color32) {
        let witness = ui.fonts_mut(|f| {
            f.layout_job(LayoutJob::simple_singleline(
                "…".into(),
                font.clone(),
                Color32::PLACEHOLDER,
            ))
        });
        let fonts_same = self.witness.as_ref().is_some_and(|w| Arc::ptr_eq(w, &witness))
            && self.font.as_ref() == Some(font);
        let valid = fonts_same && self.columns == columns && self.color == Some(color);
        if !fonts_same {
            self.glyphs.clear();
            self.pairs.clear();
            self.ascii_pairs.iter_mut().for_each(|p| *p = f32::INFINITY);
            self.word_index.clear();
            self.words.clear();
            self.faces.clear();
            self.ascii = [UNKNOWN; 128];
            self.line_height = witness.size().y;
            self.pixels_per_point = ui.ctx().pixels_per_point();
            self.blank = witness.rows.first().map(|placed| {
                let mut blank = Row::clone(&placed.row);
                blank.glyphs.clear();
                blank.visuals = RowVisuals::default();
                blank
            });
            self.witness = Some(witness);
            self.font = Some(font.clone());
            self.other.clear();
            self.prime(ui);
        }
        if !valid {
            self.generation += 1;
            self.rows.clear();
            self.columns.clear();
            self.columns.extend_from_slice(columns);
            self.color = Some(color);
        } else if self.rows.len() > KEEP_ROWS {
            self.rows.clear();
        }
    }

    /// Learns, once per font, how every pair of printable ASCII characters is laid out: from
    /// one line in which each pair occurs once (a de Bruijn sequence), so that ordinary text never
    /// needs egui's shaping while the table scrolls.
    fn prime(&mut self, ui: &Ui) {
        let symbols: Vec<char> = (' '..='~').collect();
        let line: String = de_bruijn_pairs(symbols.len()).into_iter().map(|i| symbols[i]).collect();
        let font = self.font.clone().unwrap_or_default();
        ui.fonts_mut(|f| {
            for &c in &symbols {
                self.glyph(f, c);
            }
            let galley =
                f.layout_job(LayoutJob::simple_singleline(line, font, Color32::PLACEHOLDER));
            self.learn_pairs(f, &galley);
        });
    }

    /// Height of a line of text, for centring [`Self::row`]'s meshes in their rows.
    pub fn line_height(&self) -> f32 {
        self.line_height
    }

    /// The text of row `index`: one text per column (as given to [`Self::begin_frame`]), and the
    /// colour of each if not the text colour; made by `texts` if needed. Its mesh has the top of
    /// the text at y = 0 and the font texture's coordinates in texels.
    pub fn row<'t, const N: usize>(
        &mut self,
        ui: &Ui,
        index: usize,
        texts: impl FnOnce() -> [(&'t str, Option<Color32>); N],
    ) -> Option<&Arc<Row>> {
        if !self.rows.contains_key(&index) {
            let mut mesh = Mesh::default();
            let texts = texts();
            let chars: usize = texts.iter().map(|(t, _)| t.len()).sum();
            mesh.vertices.reserve(4 * chars);
            mesh.indices.reserve(6 * chars);
            let color = self.color.unwrap_or(Color32::PLACEHOLDER);
            let mut bounds = Rect::NOTHING;
            ui.fonts_mut(|f| {
                for (c, (text, cell_color)) in texts.into_iter().enumerate() {
                    let Some(&(x, width)) = self.columns.get(c) else { break };
                    let color = cell_color.unwrap_or(color);
                    bounds = bounds.union(self.cell(f, text, x, width, color, &mut mesh));
                }
            });
            let row = self.mesh_row(mesh, bounds)?;
            self.rows.insert(index, row);
        }
        self.rows.get(&index)
    }

    /// The text of row `index` if [`Self::row`] made it since the rows last changed.
    pub fn cached_row(&self, index: usize) -> Option<&Arc<Row>> {
        self.rows.get(&index)
    }

    /// A text row that draws `mesh` (texture coordinates in texels), which lies within `bounds`;
    /// `None` before the first [`Self::begin_frame`].
    pub fn mesh_row(&self, mesh: Mesh, bounds: Rect) -> Option<Arc<Row>> {
        let mut row = self.blank.clone()?;
        row.size = vec2(bounds.max.x.max(0.0), self.line_height);
        row.visuals = RowVisuals {
            glyph_index_start: 0,
            glyph_vertex_range: 0..mesh.vertices.len(),
            mesh_bounds: bounds,
            mesh,
        };
        Some(Arc::new(row))
    }

    /// One galley of `rows` (each placed where it says), to paint at (0, 0) with
    /// [`Shape::galley`](egui::Shape::galley): egui's tessellator adds each row's position to its
    /// vertices as it copies them, so moving rows (scrolling) costs nothing here. `None` before
    /// the first [`Self::begin_frame`].
    pub fn galley(&self, rows: Vec<PlacedRow>) -> Option<Arc<Galley>> {
        let mut galley = Galley::clone(self.witness.as_ref()?);
        let mut bounds = Rect::NOTHING;
        let mut rect = Rect::NOTHING;
        let (mut vertices, mut indices) = (0, 0);
        for placed in &rows {
            let at = placed.pos.to_vec2();
            bounds = bounds.union(placed.visuals.mesh_bounds.translate(at));
            rect = rect.union(placed.rect());
            vertices += placed.visuals.mesh.vertices.len();
            indices += placed.visuals.mesh.indices.len();
        }
        galley.rows = rows;
        galley.elided = false;
        galley.rect = rect;
        galley.mesh_bounds = bounds;
        galley.num_vertices = vertices;
        galley.num_indices = indices;
        Some(Arc::new(galley))
    }

    /// Appends the quads of `text`, starting at `x`, cut with "…" at `width`. Returns the
    /// rectangle they cover.
    fn cell(
        &mut self,
        fonts: &mut epaint::FontsView<'_>,
        text: &str,
        x: f32,
        width: f32,
        color: Color32,
        out: &mut Mesh,
    ) -> Rect {
        let ppp = self.pixels_per_point;
        let x = x.round_to_pixels(ppp);
        let mut learn = false;
        if let Some(ellipsis) = self.glyph(fonts, '…') {
            // Each glyph: its face, where it starts (physical pixels, as egui's layout adds up
            // advances), and where it ends when drawn from the whole pixel it starts at.
            let mut placed: Vec<(u32, f32, f32)> = Vec::with_capacity(text.len() + 1);
            // As egui: the width plus half a point.
            let limit = (width.max(1.0) + 0.5) * ppp;
            let mut shaped = true;
            // The first glyph placed after a pair not met yet.
            let mut unknown = None;
            let mut cut = false;
            // The character before, where its glyph started, and how far it advances when
            // nothing is known of what follows.
            let mut previous: Option<(char, f32, f32)> = None;
            // The current word: its first byte and first entry in `placed`.
            let mut word = (0, 0);
            let mut skip_to = 0;
            let mut after_word: Option<f32> = None;
            'chars: for (i, c) in text.char_indices() {
                if i < skip_to {
                    continue;
                }
                let Some(face) = self.glyph(fonts, c) else {
                    shaped = false;
                    break;
                };
                // Where this glyph starts: after the one before, moved as egui's shaping moves
                // it when this one follows (kerning).
                let mut advance = None;
                if let (Some((p, _, alone)), None) = (previous, after_word) {
                    advance = Some(match self.pair(p, c) {
                        Some(advance) => advance,
                        None => {
                            unknown.get_or_insert(placed.len());
                            alone
                        }
                    });
                }
                if advance.is_some_and(f32::is_nan) {
                    // The pair becomes another glyph (a ligature): the word is placed glyph by
                    // glyph as egui's layout of it alone has them.
                    let (start, first) = word;
                    let end =
                        text[start..].find(char::is_whitespace).map_or(text.len(), |e| start + e);
                    let Some(w) = self.word(fonts, &text[start..end]) else {
                        shaped = false;
                        break;
                    };
                    let mut at = placed.get(first).map_or(0.0, |&(_, at, _)| at);
                    placed.truncate(first);
                    if unknown.is_some_and(|u| u > first) {
                        unknown = None;
                    }
                    for &(face, advance) in &self.words[w as usize] {
                        let end = self.faces[face as usize].start(at).0 as f32 + advance;
                        placed.push((face, at, end));
                        if end > limit {
                            cut = true;
                            break 'chars;
                        }
                        at += advance;
                    }
                    // What follows a word placed so starts where it ends.
                    previous = text[..end].chars().next_back().map(|l| (l, at, 0.0));
                    after_word = Some(at);
                    skip_to = end;
                    continue;
                }
                let at = match (previous, advance) {
                    _ if after_word.is_some() => after_word.take().unwrap_or_default(),
                    (Some((_, p_at, _)), Some(advance)) => {
                        if let Some(last) = placed.last_mut() {
                            last.2 = self.faces[last.0 as usize].start(p_at).0 as f32 + advance;
                        }
                        p_at + advance
                    }
                    _ => 0.0,
                };
                if previous.is_none_or(|(p, _, _)| p.is_whitespace()) && !c.is_whitespace() {
                    word = (i, placed.len());
                }
                let f = &self.faces[face as usize];
                previous = Some((c, at, f.advance_px));
                let end = f.start(at).0 as f32 + f.advance_px;
                placed.push((face, at, end));
                if end > limit {
                    cut = true;
                    break;
                }
            }
            if shaped && cut {
                // The last glyph did not fit; drop more until "…" fits after the last one (egui
                // does the same).
                let room = limit - self.faces[ellipsis as usize].advance_px;
                placed.pop();
                while placed.last().is_some_and(|&(_, _, end)| end > room) {
                    placed.pop();
                }
                let at = placed.last().map_or(0.0, |&(_, _, end)| end);
                placed.push((ellipsis, at, at));
            }
            // A pair not met yet matters only if its second glyph is drawn. Then egui lays this
            // text out, and what it does with each pair is learnt from that.
            let drawn = placed.len() - usize::from(cut);
            if shaped && unknown.is_some_and(|u| u < drawn) {
                shaped = false;
                learn = true;
            }
            if shaped {
                let mut bounds = Rect::NOTHING;
                for (face, at, _) in placed {
                    let face = &self.faces[face as usize];
                    let (whole, bin) = face.start(at);
                    if let Some(q) = &face.quads[bin] {
                        bounds = bounds.union(add_quad(out, q, x + whole as f32 / ppp, color));
                    }
                }
                return bounds;
            }
        }
        // Anything else: egui shapes it; its mesh is taken as it would be painted.
        self.by_egui += 1;
        let galley = fonts.layout_job(job(text, self.font.clone().unwrap_or_default(), width));
        let start = out.vertices.len();
        append_galley(out, &galley, pos2(x, 0.0), color);
        if learn {
            self.learn_pairs(fonts, &galley);
        }
        out.vertices[start..].iter().fold(Rect::NOTHING, |mut r, v| {
            r.extend_with(v.pos);
            r
        })
    }

    /// Learns from egui's layout of a text how far each character advances when the next one
    /// follows (with kerning, in physical pixels), or that a pair becomes another glyph (NaN: a
    /// ligature or a contextual form; see [`Self::word`]).
    fn learn_pairs(&mut self, fonts: &mut epaint::FontsView<'_>, galley: &Galley) {
        let Some(row) = galley.rows.first() else { return };
        // An ellipsis egui put at the end was not shaped with the glyph before it.
        let shaped =
            if galley.elided { row.glyphs.len().saturating_sub(1) } else { row.glyphs.len() };
        for pair in row.glyphs[..shaped].windows(2) {
            let [first, second] = pair else { continue };
            if self.glyph(fonts, first.chr).is_none() || self.glyph(fonts, second.chr).is_none() {
                continue;
            }
            let advance = if first.chr.is_whitespace() {
                // Ligatures do not reach across spaces: the word after is placed on its own.
                first.advance_width * self.pixels_per_point
            } else if !self.same_glyph(second.chr, second) {
                // The second is part of a ligature, or in another form after the first.
                f32::NAN
            } else if self.same_glyph(first.chr, first) {
                first.advance_width * self.pixels_per_point
            } else {
                // The first is the end of a ligature: this tells nothing of the pair.
                continue;
            };
            self.set_pair(first.chr, second.chr, advance);
        }
    }

    /// A word with a ligature (or another form shaping chose): an index into `words`, or
    /// `None` if it cannot be placed glyph by glyph.
    fn word(&mut self, fonts: &mut epaint::FontsView<'_>, word: &str) -> Option<u32> {
        if let Some(&known) = self.word_index.get(word) {
            return (known != NEEDS_SHAPING).then_some(known);
        }
        let glyphs = self.harvest_word(fonts, word);
        let known = push_index(&mut self.words, glyphs);
        self.word_index.insert(word.into(), known);
        (known != NEEDS_SHAPING).then_some(known)
    }

    /// egui's layout of `word` alone, as glyphs (a face and how far it advances in the word).
    /// Glyphs that are not a character's own (a ligature, and the empty glyphs egui puts after
    /// it for the other characters it stands for) get faces of their own, taken at each
    /// sub-pixel offset by laying the word out four times, a quarter pixel further each time.
    fn harvest_word(
        &mut self,
        fonts: &mut epaint::FontsView<'_>,
        word: &str,
    ) -> Option<Vec<(u32, f32)>> {
        if word.is_empty() || !word.chars().all(needs_no_shaping) {
            return None;
        }
        let ppp = self.pixels_per_point;
        let n = word.chars().count();
        let mut glyphs: Vec<(u32, f32)> = Vec::with_capacity(n);
        let mut own: Vec<GlyphFace> = Vec::new();
        for bin in 0..4 {
            let galley = self.layout_at(fonts, word, bin);
            let [placed] = galley.rows.as_slice() else { return None };
            if placed.glyphs.len() != n
                || placed.glyphs.first().is_none_or(|g| g.pos.x != 0.0)
                || placed.glyphs.iter().zip(word.chars()).any(|(g, c)| g.chr != c || g.is_color)
            {
                return None;
            }
            let vertices = &placed.visuals.mesh.vertices;
            let mut cursor = bin as f32 * 0.25;
            for (i, g) in placed.glyphs.iter().enumerate() {
                let advance = g.advance_width * ppp;
                if bin == 0 {
                    let face = match self.known(g.chr) {
                        Some(face) if self.same_glyph(g.chr, g) => face,
                        _ => {
                            own.push(GlyphFace {
                                advance_px: advance,
                                binned: true,
                                quads: [None; 4],
                            });
                            WORD | (own.len() as u32 - 1)
                        }
                    };
                    glyphs.push((face, advance));
                }
                let (face, _) = glyphs[i];
                if face & WORD != 0 && !g.uv_rect.is_nothing() {
                    let (whole, b) = subpixel_bin(cursor);
                    let first = g.first_vertex as usize;
                    let v = vertices.get(first..first + 4)?;
                    let shift = placed.pos.to_vec2() - vec2(whole as f32 / ppp, 0.0);
                    own[(face & !WORD) as usize].quads[b] = Some(Quad::of(v, shift));
                }
                cursor += advance;
            }
        }
        // Every drawn glyph of its own must have been seen at all four offsets.
        if own
            .iter()
            .any(|f| f.quads.iter().any(Option::is_none) && f.quads.iter().any(Option::is_some))
        {
            return None;
        }
        let base = self.faces.len() as u32;
        self.faces.extend(own);
        for (face, _) in &mut glyphs {
            if *face & WORD != 0 {
                *face = base + (*face & !WORD);
            }
        }
        Some(glyphs)
    }

    /// How far `a` advances when `b` follows, if known (NaN: `b` changes its glyph).
    fn pair(&self, a: char, b: char) -> Option<f32> {
        if (a as u32) < 128 && (b as u32) < 128 {
            let p = self.ascii_pairs[a as usize * 128 + b as usize];
            return (p != f32::INFINITY).then_some(p);
        }
        self.pairs.get(&(a, b)).copied()
    }

    fn set_pair(&mut self, a: char, b: char, advance: f32) {
        if (a as u32) < 128 && (b as u32) < 128 {
            self.ascii_pairs[a as usize * 128 + b as usize] = advance;
        } else {
            self.pairs.insert((a, b), advance);
        }
    }

    /// What is known of `c`: an index into `faces`, [`UNKNOWN`] or [`NEEDS_SHAPING`].
    fn slot(&self, c: char) -> u32 {
        match self.ascii.get(c as usize) {
            Some(&k) => k,
            None => self.glyphs.get(&c).copied().unwrap_or(UNKNOWN),
        }
    }

    /// The glyph harvested for `c`, if it was.
    fn known(&self, c: char) -> Option<u32> {
        let face = self.slot(c);
        ((face as usize) < self.faces.len()).then_some(face)
    }

    /// The glyph of `c` (an index into `faces`), taken from egui's layout of it alone at each
    /// sub-pixel offset; `None` if text with `c` must be laid out by egui.
    fn glyph(&mut self, fonts: &mut epaint::FontsView<'_>, c: char) -> Option<u32> {
        match self.slot(c) {
            UNKNOWN => {}
            NEEDS_SHAPING => return None,
            face => return Some(face),
        }
        let face = self.harvest(fonts, c);
        let known = push_index(&mut self.faces, face);
        match self.ascii.get_mut(c as usize) {
            Some(k) => *k = known,
            None => {
                self.glyphs.insert(c, known);
            }
        }
        (known != NEEDS_SHAPING).then_some(known)
    }

    /// Whether `glyph` (from a layout of several characters) is the glyph harvested for `c` at one
    /// of its offsets, and not another form of it that shaping chose (a contextual alternate).
    fn same_glyph(&self, c: char, glyph: &epaint::text::Glyph) -> bool {
        let Some(face) = self.known(c).map(|f| &self.faces[f as usize]) else { return false };
        if glyph.uv_rect.is_nothing() {
            return face.quads.iter().all(Option::is_none);
        }
        let min = pos2(glyph.uv_rect.min[0] as f32, glyph.uv_rect.min[1] as f32);
        face.quads.iter().flatten().any(|q| q.uv.min == min)
    }

    /// egui's layout of `text` alone, the line starting at sub-pixel offset `bin` (a quarter
    /// pixel further each time: egui then draws the glyphs from its bitmaps for that offset).
    fn layout_at(&self, fonts: &mut epaint::FontsView<'_>, text: &str, bin: usize) -> Arc<Galley> {
        let font = self.font.clone().unwrap_or_default();
        let mut job = LayoutJob::simple_singleline(text.into(), font, Color32::PLACEHOLDER);
        job.sections[0].leading_space = bin as f32 * 0.25 / self.pixels_per_point;
        fonts.layout_job(job)
    }

    /// egui's layout of `c` alone at each of the four sub-pixel offsets.
    fn harvest(&self, fonts: &mut epaint::FontsView<'_>, c: char) -> Option<GlyphFace> {
        if !needs_no_shaping(c) {
            return None;
        }
        let ppp = self.pixels_per_point;
        let mut face = GlyphFace { advance_px: 0.0, binned: false, quads: [None; 4] };
        for bin in 0..4 {
            let galley = self.layout_at(fonts, c.encode_utf8(&mut [0; 4]), bin);
            let [placed] = galley.rows.as_slice() else { return None };
            let [glyph] = placed.glyphs.as_slice() else { return None };
            if glyph.chr != c || glyph.is_color {
                return None;
            }
            face.advance_px = glyph.advance_width * ppp;
            face.quads[bin] = match placed.visuals.mesh.vertices.as_slice() {
                [] => None,
                // Relative to the whole pixel egui started the glyph at (a quarter pixel further
                // may round to the next one when egui does not bin the glyph).
                v @ [_, _, _, _] => {
                    Some(Quad::of(v, placed.pos.to_vec2() - vec2(glyph.pos.x, 0.0)))
                }
                _ => return None,
            };
        }
        // Glyphs egui does not bin come out the same at every offset.
        face.binned = face.quads[1] != face.quads[0];
        Some(face)
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

/// Appends quad `q` moved right by `dx`; returns where it is.
fn add_quad(out: &mut Mesh, q: &Quad, dx: f32, color: Color32) -> Rect {
    let base = out.vertices.len() as u32;
    let r = q.rect;
    let uv = q.uv;
    let vertex = |x: f32, y: f32, u: f32, v: f32| epaint::Vertex {
        pos: pos2(x + dx, y),
        uv: pos2(u, v),
        color,
    };
    out.vertices.extend_from_slice(&[
        vertex(r.min.x, r.min.y, uv.min.x, uv.min.y),
        vertex(r.max.x, r.min.y, uv.max.x, uv.min.y),
        vertex(r.min.x, r.max.y, uv.min.x, uv.max.y),
        vertex(r.max.x, r.max.y, uv.max.x, uv.max.y),
    ]);
    out.indices.extend_from_slice(&[base, base + 1, base + 2, base + 2, base + 1, base + 3]);
    r.translate(vec2(dx, 0.0))
}

/// Appends what `galley` at `pos` (a whole pixel) in `color` tessellates to, as egui's
/// tessellator would, except that texture coordinates stay in texels: colour glyphs (emoji)
/// untinted, placeholder colours replaced.
fn append_galley(out: &mut Mesh, galley: &Galley, pos: Pos2, color: Color32) {
    for placed in &galley.rows {
        let base = out.vertices.len() as u32;
        let origin = pos + placed.pos.to_vec2();
        let mesh = &placed.visuals.mesh;
        out.indices.extend(mesh.indices.iter().map(|i| i + base));
        let any_colored = placed.glyphs.iter().any(|g| g.is_color);
        for (i, v) in mesh.vertices.iter().enumerate() {
            // The glyph a vertex belongs to: the last one starting at or before it.
            let colored = any_colored && {
                let g = placed.glyphs.partition_point(|g| g.first_vertex as usize <= i);
                g.checked_sub(1)
                    .and_then(|g| placed.glyphs.get(g))
                    .is_some_and(|g| g.is_color && !g.uv_rect.is_nothing())
            };
            let c = if colored {
                Color32::from_white_alpha(color.a())
            } else if v.color == Color32::PLACEHOLDER {
                color
            } else {
                v.color
            };
            out.vertices.push(egui::epaint::Vertex {
                pos: origin + v.pos.to_vec2(),
                uv: v.uv,
                color: c,
            });
        }
    }
}

/// A hasher for small keys (row indices, characters, short words): one multiplication a word, where the
/// standard library's SipHash showed up in the profile of a scrolling table.
type FastHash = std::hash::BuildHasherDefault<IntHasher>;

#[derive(Default)]
struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One line of `text`, cut with "…" at `width`; its colour is given when it is painted.
///
/// Text far longer than the column is cut before it is laid out (shaping is the cost of a row
/// scrolling into view): no glyph of a text font is narrower than 0.3 em except spaces and
/// marks, so at most `width / 0.3 em` characters can show; a cut text ends in "…" itself in
/// case what is left still fits.
pub(super) fn job(text: &str, font: FontId, width: f32) -> LayoutJob {
    let max_chars = ((width.max(1.0) / (font.size.max(1.0) * 0.3)) as usize).saturating_add(2);
    let text = match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    };
    let mut job = LayoutJob::simple_singleline(text, font, Color32::PLACEHOLDER);
    job.wrap = TextWrapping::truncate_at_width(width.max(1.0));
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's own placing of glyphs against egui's layout of the same text: the same quads
    /// in the same places, for text that needs no shaping; text that does is laid out by egui.
    #[test]
    fn table_text_is_drawn_as_egui_draws_it() {
        let ctx = egui::Context::default();
        let font = FontId::proportional(14.0);
        let texts = [
            "2026-11-21 02:03",
            "Your parcel is waiting: AVAILABLE today, 7 Nov — “final” notice #44712",
            "n.fischer@gruppe.example.de office@finance.example",
            "Недоставленное сообщение: Ошибка доставки",
            "配信不能のお知らせ (Mail Delivery Failure)",
            "رسالة غير قابلة للتسليم",
            "Zürich: Unzustellbar — café naïve",
            "Office notification: final offer, fluffy affinity (effluent)",
            "Offer number 96199 official",
        ];
        let mut checked = 0;
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let mut cache = TextCache::default();
            cache.begin_frame(ui, &font, &[(10.5, 2000.0)], Color32::WHITE);
            for (i, &text) in texts.iter().enumerate() {
                // The first time, egui lays the text out and the cache learns from it; the
                // second time, text in simple scripts is placed by the cache itself.
                let make = |cache: &mut TextCache, row: usize| {
                    let row = cache.row(ui, row, || [(text, None)]).expect("a row");
                    row.visuals.mesh.clone()
                };
                make(&mut cache, 2 * i);
                let by_egui = cache.by_egui;
                let ours = make(&mut cache, 2 * i + 1);
                let simple = text.chars().all(needs_no_shaping);
                assert_eq!(cache.by_egui == by_egui, simple, "{text}: who laid it out");
                let galley = ui.fonts_mut(|f| f.layout_job(job(text, font.clone(), 2000.0)));
                let mut egui_mesh = Mesh::default();
                append_galley(&mut egui_mesh, &galley, pos2(11.0, 0.0), Color32::WHITE);
                assert_eq!(ours.vertices.len(), egui_mesh.vertices.len(), "{text}");
                for (n, (a, b)) in ours.vertices.iter().zip(&egui_mesh.vertices).enumerate() {
                    let glyph = n / 4;
                    assert!(
                        (a.pos - b.pos).length() < 1e-3,
                        "{text}: glyph {glyph}: {:?} vs {:?}",
                        a.pos,
                        b.pos
                    );
                    assert!(
                        (a.uv - b.uv).length() < 1e-6,
                        "{text}: glyph {glyph}: {:?} vs {:?}",
                        a.uv,
                        b.uv
                    );
                    assert_eq!(a.color, b.color, "{text}");
                }
                checked += 1;
            }
            // Too long for its column: cut, ending in "…", not wider than the column.
            let mut cache = TextCache::default();
            cache.begin_frame(ui, &font, &[(0.0, 120.0)], Color32::WHITE);
            let long = texts[1];
            let cut = cache.row(ui, 1, || [(long, None)]).expect("a row").visuals.mesh.clone();
            let right = cut.vertices.iter().map(|v| v.pos.x).fold(0.0, f32::max);
            assert!(right <= 120.5, "{right}");
            let full = cache.row(ui, 2, || [(&long[..8], None)]).expect("a row");
            assert!(cut.vertices.len() > full.visuals.mesh.vertices.len(), "keeps what fits");
            let face = cache.glyphs[&'…'];
            let last = cut.vertices[cut.vertices.len() - 4].uv;
            let ellipsis = &cache.faces[face as usize];
            assert!(
                ellipsis.quads.iter().flatten().any(|q| (q.uv.min - last).length() < 0.01),
                "the cut text ends with the ellipsis glyph"
            );
        });
        // Nothing is drawn: the font texture's updates are dropped on purpose.
        output.textures_delta.clear();
        assert_eq!(checked, texts.len());
    }

    /// The visible rows, painted as one galley of the cache's rows: egui's tessellator draws
    /// each row's quads where the row is placed, with normalised texture coordinates, and culls
    /// only rows outside the clip rectangle.
    #[test]
    fn rows_are_painted_where_they_are_placed() {
        let ctx = egui::Context::default();
        let font = FontId::proportional(14.0);
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let mut cache = TextCache::default();
            cache.begin_frame(ui, &font, &[(4.0, 300.0), (320.0, 200.0)], Color32::WHITE);
            let texts = [["2026-11-21 02:03", "Undeliverable"], ["Ünïcödé", "رسالة غير"]];
            let rows: Vec<Arc<Row>> = (0..texts.len())
                .map(|i| {
                    let [a, b] = texts[i];
                    Arc::clone(cache.row(ui, i, || [(a, None), (b, None)]).expect("a row"))
                })
                .collect();
            let ys = [37.0, 60.0];
            let placed = |clip_out: bool| {
                let mut placed: Vec<PlacedRow> = rows
                    .iter()
                    .zip(ys)
                    .map(|(row, y)| PlacedRow {
                        pos: pos2(0.0, y),
                        row: Arc::clone(row),
                        ends_with_newline: false,
                    })
                    .collect();
                if clip_out {
                    // A row far below the clip rectangle: not drawn.
                    placed.push(PlacedRow { pos: pos2(0.0, 5_000.0), ..placed[0].clone() });
                }
                placed
            };
            let texture = ui.ctx().fonts(|f| f.font_image_size());
            let scale = vec2(1.0 / texture[0] as f32, 1.0 / texture[1] as f32);
            let galley = cache.galley(placed(true)).expect("a galley");
            let options = epaint::TessellationOptions::default();
            let mut tessellator = epaint::Tessellator::new(1.0, options, texture, Vec::new());
            tessellator.set_clip_rect(Rect::from_min_size(Pos2::ZERO, vec2(1000.0, 800.0)));
            let mut painted = Mesh::default();
            tessellator.tessellate_shape(
                egui::Shape::galley(Pos2::ZERO, galley, Color32::RED),
                &mut painted,
            );
            let mut expected = Vec::new();
            for (row, y) in rows.iter().zip(ys) {
                let mesh = &row.visuals.mesh;
                assert!(!mesh.vertices.is_empty());
                expected.extend(mesh.vertices.iter().map(|v| epaint::Vertex {
                    pos: v.pos + vec2(0.0, y),
                    uv: (v.uv.to_vec2() * scale).to_pos2(),
                    color: v.color,
                }));
            }
            assert_eq!(painted.vertices, expected);
            assert!(painted.is_valid());
            let bounds = cache.galley(placed(false)).expect("a galley").mesh_bounds;
            assert!(painted.vertices.iter().all(|v| bounds.expand(1e-3).contains(v.pos)));
        });
        output.textures_delta.clear();
    }

    /// Hostile subjects and addresses: drawn (or not) without a panic, never past their column.
    #[test]
    fn odd_text_is_drawn_within_its_column() {
        let ctx = egui::Context::default();
        let font = FontId::proportional(14.0);
        let long = "Ünïcödé ﬁnal offer ".repeat(2_000);
        let texts = [
            "",
            "     ",
            "\t\n\r\0",
            "\u{202E}gnp.exe\u{202C} invoice",
            "e\u{301}\u{301}\u{301}\u{301} zalgo",
            "👩‍👩‍👧‍👦 family 🏳️‍🌈",
            "\u{200B}\u{200D}\u{FEFF}",
            "ﬁ ﬂ ﬀ ffi ffl",
            long.as_str(),
            "a",
        ];
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let mut cache = TextCache::default();
            cache.begin_frame(ui, &font, &[(5.0, 150.0), (160.0, 0.0)], Color32::WHITE);
            for (i, &text) in texts.iter().enumerate() {
                for row in [i, i + 100] {
                    let row = cache.row(ui, row, || [(text, None), (text, None)]).expect("a row");
                    let mesh = &row.visuals.mesh;
                    let right = mesh.vertices.iter().map(|v| v.pos.x).fold(0.0, f32::max);
                    assert!(right <= 160.0 + 150.0, "{text:?}: {right}");
                    assert!(mesh.is_valid(), "{text:?}");
                    // What egui culls by covers every vertex.
                    let bounds = row.visuals.mesh_bounds.expand(1e-3);
                    assert!(mesh.vertices.iter().all(|v| bounds.contains(v.pos)), "{text:?}");
                }
            }
        });
        output.textures_delta.clear();
    }

    #[test]
    fn the_priming_line_has_every_pair_once() {
        for k in [1, 2, 5, 95] {
            let seq = de_bruijn_pairs(k);
            assert_eq!(seq.len(), k * k + 1);
            let mut seen = std::collections::HashSet::new();
            for w in seq.windows(2) {
                assert!(seen.insert((w[0], w[1])), "{k}: {w:?} twice");
            }
            assert_eq!(seen.len(), k * k);
        }
    }

    #[test]
    fn long_text_is_cut_before_it_is_laid_out() {
        let j = job(&"x".repeat(500), FontId::proportional(14.0), 140.0);
        assert!(j.text.chars().count() < 50 && j.text.ends_with('…'), "{}", j.text);
        // unbounded (headers) and tiny widths: nothing overflows
        assert_eq!(job("short", FontId::proportional(14.0), f32::INFINITY).text, "short");
        assert!(job("abcdef", FontId::proportional(14.0), 0.0).text.ends_with('…'));
    }
}
