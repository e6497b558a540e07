//! The readiness summary as a one-to-two page PDF for case notes, made in
//! Rust with krilla: tagged (PDF/UA-1, checked by krilla's validator while
//! writing), PDF/A-2a, with XMP metadata and the document language, and
//! DejaVu Sans Condensed embedded as a subset (data/fonts/, licence beside it) so Latin,
//! Greek, Cyrillic, Hebrew and Arabic text prints as written. Right-to-left
//! text is ordered by the Unicode bidi algorithm (unicode-bidi) and shaped
//! by rustybuzz (Arabic joining forms, mirrored brackets); spans not in
//! Latin letters carry their language (`/Lang`).
//!
//! Design for print: black text on white only, so it reads the same on a
//! black-and-white printer; meaning is always in the words (status words,
//! "skipped"), never in colour. Subset fonts keep files to tens of kilobytes
//! (practice-management systems often cap uploads at 5 MB), and the font's
//! own advance widths let lines wrap exactly. Headings are kept with what
//! follows them and the crisis box is never split across pages. If the
//! content would run past two pages the type is tightened a little, up to a
//! limit; content is never dropped to make it fit.
//!
//! Structure: every block becomes a structure element in reading order
//! (H1 title, H2/H3 headings, P, L/LI/Lbl/LBody lists, a Sect for the crisis
//! box); rules, frames, the page header and footer are artifacts.
use std::sync::Arc;

use krilla::configure::{Accessibility, Archival, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, ListNumbering, Node, SpanTag, Tag, TagGroup,
    TagKind, TagTree,
};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

use super::Report;
use super::document::{self, Block, Inline, Span};

/// DejaVu Sans Condensed (data/fonts/LICENSE): Latin, Greek and Cyrillic,
/// and the arrows, dashes and symbols our own texts use; condensed, it sets
/// about as wide as Helvetica, so a full summary still fits two pages.
static REGULAR_TTF: &[u8] = include_bytes!("../../data/fonts/DejaVuSansCondensed.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../data/fonts/DejaVuSansCondensed-Bold.ttf");

/// Shown in place of a character the font lacks (an emoji, a rare script).
const MISSING: char = '\u{FFFD}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

impl Face {
    fn data(self) -> &'static [u8] {
        match self {
            Face::Regular => REGULAR_TTF,
            Face::Bold => BOLD_TTF,
        }
    }
}

/// The page sizes clinics print on: US Letter in North America, A4 elsewhere.
fn page_size(region: &str) -> (f32, f32) {
    match region {
        "US" | "CA" => (612.0, 792.0),
        _ => (595.28, 841.89),
    }
}

/// A glyph of `face` for `c` and its advance in ems, or `None` when the
/// font has no glyph for it.
fn glyph(face: Face, c: char) -> Option<(GlyphId, f32)> {
    let font = skrifa::FontRef::new(face.data()).ok()?;
    let id = font.charmap().map(c)?;
    let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
    let units = font
        .metrics(Size::unscaled(), LocationRef::default())
        .units_per_em;
    let advance = metrics.advance_width(id)?;
    Some((GlyphId::new(id.to_u32()), advance / f32::from(units)))
}

/// Text the embedded font can show: line breaks and tabs become spaces, and
/// a character the font lacks becomes U+FFFD (a visible replacement mark),
/// never a silent gap.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            // Never text in a PDF/A or PDF/UA file: controls, byte-order
            // marks, private-use characters (their meaning is unknown).
            c if c.is_control()
                || matches!(u32::from(c), 0xFEFF | 0xFFFE | 0xE000..=0xF8FF | 0xF0000..) =>
            {
                MISSING
            }
            c if glyph(Face::Regular, c).is_some() && glyph(Face::Bold, c).is_some() => c,
            _ => MISSING,
        })
        .collect()
}

/// Width of `text` (already printable) in points. Right-to-left text is
/// measured as it is drawn, shaped (Arabic letters join, so they are
/// narrower than their separate forms).
fn width(text: &str, face: Face, size: f32) -> f32 {
    if has_rtl(text) {
        return shape(face, text, true)
            .iter()
            .map(|g| g.x_advance)
            .sum::<f32>()
            * size;
    }
    text.chars()
        .filter_map(|c| glyph(face, c))
        .map(|(_, advance)| advance)
        .sum::<f32>()
        * size
}

/// Whether `text` has right-to-left letters (Hebrew, Arabic, Syriac…): such
/// text is ordered by the Unicode bidi algorithm and shaped.
fn has_rtl(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(
            unicode_bidi::bidi_class(c),
            unicode_bidi::BidiClass::R | unicode_bidi::BidiClass::AL
        )
    })
}

/// `text` shaped with the font's own rules (rustybuzz, HarfBuzz's shaper in
/// Rust): Arabic letters take their joining forms, marks sit on their
/// letters, and with `rtl` the glyphs come out in drawing order (right to
/// left text drawn from its left end), brackets mirrored. Each glyph keeps
/// the range of `text` it shows, so the text read back is the text written.
fn shape(face: Face, text: &str, rtl: bool) -> Vec<KrillaGlyph> {
    let Some(font) = rustybuzz::Face::from_slice(face.data(), 0) else {
        return Vec::new();
    };
    let units = font.units_per_em() as f32;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer.set_direction(if rtl {
        rustybuzz::Direction::RightToLeft
    } else {
        rustybuzz::Direction::LeftToRight
    });
    let output = rustybuzz::shape(&font, &[], buffer);
    let infos = output.glyph_infos();
    let positions = output.glyph_positions();
    // A glyph's text runs from its cluster to the next cluster in text order.
    let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    infos
        .iter()
        .zip(positions)
        .map(|(info, pos)| {
            let start = info.cluster as usize;
            let end = starts
                .iter()
                .copied()
                .find(|&s| s > start)
                .unwrap_or(text.len());
            KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                pos.x_advance as f32 / units,
                pos.x_offset as f32 / units,
                pos.y_offset as f32 / units,
                pos.y_advance as f32 / units,
                start..end,
                None,
            )
        })
        .collect()
}

/// The language to tag a span with when its letters are not Latin, from
/// its script: where a script is written for one language above all
/// (Hebrew, Greek), that language; otherwise "undetermined" with the script
/// (BCP 47 `und-Arab`, `und-Cyrl`), since Arabic letters may be Persian or
/// Urdu, and Cyrillic Russian, Ukrainian or Bulgarian. `None` for Latin
/// text, which the document's `en` covers.
fn script_lang(text: &str) -> Option<&'static str> {
    text.chars().find_map(|c| match u32::from(c) {
        0x0590..=0x05FF | 0xFB1D..=0xFB4F => Some("he"),
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
            Some("und-Arab")
        }
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Some("el"),
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Some("und-Cyrl"),
        _ => None,
    })
}

/// Type sizes and spacing, scaled together when content must be tightened.
#[derive(Debug, Clone, Copy)]
struct Type {
    title: f32,
    heading: f32,
    subheading: f32,
    body: f32,
    small: f32,
}

impl Type {
    fn scaled(k: f32) -> Self {
        Type {
            title: 17.0 * k,
            heading: 12.5 * k,
            subheading: 10.5 * k,
            body: 10.0 * k,
            small: 8.5 * k,
        }
    }
}

fn leading(size: f32) -> f32 {
    size * 1.3
}

/// One drawing instruction, in points from the page's top-left corner.
#[derive(Debug, Clone)]
enum Op {
    /// Text; `leaf` is its place in the structure tree, `None` for the page
    /// header and footer (artifacts).
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        face: Face,
        text: String,
        /// Right-to-left text (an odd bidi level): shaped right to left and
        /// drawn from its left end; `text` stays in reading order.
        rtl: bool,
        leaf: Option<usize>,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        thickness: f32,
    },
    Frame {
        x: f32,
        top: f32,
        w: f32,
        h: f32,
        thickness: f32,
    },
}

/// A line of text as segments in different faces.
type Segments = Vec<(String, Face)>;

/// One wrapped line; `mid_word` when it was broken inside a long word (an
/// address), so no word space belongs at its end.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    segments: Segments,
    mid_word: bool,
}

/// Where a word too long for a line may break: after these, as addresses
/// are broken in print, never by inserting a hyphen.
fn breaks_after(c: char) -> bool {
    matches!(
        c,
        '/' | '?' | '&' | '=' | '-' | '_' | '.' | ',' | ';' | '#' | '@'
    )
}

/// Break spans into lines no wider than `max` points. Lines break only at
/// spaces, so "**yes**." never leaves the full stop alone on the next line;
/// a word wider than the line (an address) breaks after `/`, `.`, `-` and
/// the like, and only by characters when it has no such place.
fn wrap(spans: &[Span], size: f32, max: f32) -> Vec<Line> {
    // Units are runs between spaces; a unit may change face part-way.
    let mut units: Vec<Segments> = Vec::new();
    let mut open = false; // the last unit can still grow (no space since)
    for span in spans {
        let face = if span.strong {
            Face::Bold
        } else {
            Face::Regular
        };
        for (i, piece) in printable(&span.text).split(' ').enumerate() {
            if i > 0 {
                open = false;
            }
            if piece.is_empty() {
                continue;
            }
            match units.last_mut() {
                Some(unit) if open => match unit.last_mut() {
                    Some((text, f)) if *f == face => text.push_str(piece),
                    _ => unit.push((piece.to_string(), face)),
                },
                _ => units.push(vec![(piece.to_string(), face)]),
            }
            open = true;
        }
    }

    let unit_width = |u: &Segments| u.iter().map(|(t, f)| width(t, *f, size)).sum::<f32>();
    let mut lines: Vec<Line> = Vec::new();
    let mut line: Segments = Vec::new();
    let mut line_width = 0.0;
    let finish = |lines: &mut Vec<Line>, line: &mut Segments, mid_word: bool| {
        lines.push(Line {
            segments: std::mem::take(line),
            mid_word,
        });
    };
    for unit in units {
        let w = unit_width(&unit);
        let space = width(" ", unit[0].1, size);
        if !line.is_empty() && line_width + space + w > max {
            finish(&mut lines, &mut line, false);
            line_width = 0.0;
        }
        if line.is_empty() && w > max {
            // Pieces that end at a break point, each placed whole if it fits.
            let mut pieces: Vec<(String, Face)> = Vec::new();
            for (text, face) in unit {
                let mut piece = String::new();
                for c in text.chars() {
                    piece.push(c);
                    if breaks_after(c) {
                        pieces.push((std::mem::take(&mut piece), face));
                    }
                }
                if !piece.is_empty() {
                    pieces.push((piece, face));
                }
            }
            for (piece, face) in pieces {
                let pw = width(&piece, face, size);
                if line_width + pw > max && !line.is_empty() {
                    finish(&mut lines, &mut line, true);
                    line_width = 0.0;
                }
                if pw <= max {
                    append(&mut line, &piece, face);
                    line_width += pw;
                    continue;
                }
                // No break point in a line's width: by characters, as a last resort.
                for c in piece.chars() {
                    let cw = width(&c.to_string(), face, size);
                    if line_width + cw > max && !line.is_empty() {
                        finish(&mut lines, &mut line, true);
                        line_width = 0.0;
                    }
                    append(&mut line, &c.to_string(), face);
                    line_width += cw;
                }
            }
            continue;
        }
        if !line.is_empty() {
            append(&mut line, " ", unit[0].1);
            line_width += space;
        }
        for (text, face) in unit {
            append(&mut line, &text, face);
        }
        line_width += w;
    }
    if !line.is_empty() {
        finish(&mut lines, &mut line, false);
    }
    lines
}

/// A run of one line as it is drawn: one face, one script, one direction.
#[derive(Debug, Clone, PartialEq)]
struct Piece {
    /// Where it starts in the line's text (reading order).
    start: usize,
    text: String,
    face: Face,
    rtl: bool,
}

/// A line's segments as pieces in drawing order, left to right. Lines are
/// laid out left to right (the document is English), so the Unicode bidi
/// algorithm (unicode-bidi, UAX #9) runs with a left-to-right paragraph
/// level: Hebrew or Arabic text, and numbers and punctuation among it, is
/// reversed into right-to-left runs, and Latin text around it stays as it
/// is. Pieces also break where the script changes, so each can carry its
/// language.
fn visual_pieces(segments: &Segments) -> Vec<Piece> {
    let mut line = String::new();
    let mut faces: Vec<(std::ops::Range<usize>, Face)> = Vec::new();
    for (text, face) in segments {
        let start = line.len();
        line.push_str(text);
        faces.push((start..line.len(), *face));
    }
    // Runs in drawing order, each with its direction.
    let runs: Vec<(std::ops::Range<usize>, bool)> = if has_rtl(&line) {
        let info = unicode_bidi::BidiInfo::new(&line, Some(unicode_bidi::Level::ltr()));
        info.paragraphs
            .iter()
            .flat_map(|para| {
                let (levels, runs) = info.visual_runs(para, para.range.clone());
                runs.into_iter()
                    .map(|run| {
                        let rtl = levels[run.start].is_rtl();
                        (run, rtl)
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        vec![(0..line.len(), false)]
    };
    let mut pieces = Vec::new();
    for (run, rtl) in runs {
        let mut within: Vec<Piece> = Vec::new();
        for (range, face) in &faces {
            let start = range.start.max(run.start);
            let end = range.end.min(run.end);
            if start >= end {
                continue;
            }
            for (offset, text) in script_runs(&line[start..end]) {
                within.push(Piece {
                    start: start + offset,
                    text: text.to_string(),
                    face: *face,
                    rtl,
                });
            }
        }
        if rtl {
            within.reverse();
        }
        pieces.extend(within);
    }
    pieces
}

/// `text` cut where its letters change script (spaces, digits and marks go
/// with the letters before them): (offset, piece) in reading order.
fn script_runs(text: &str) -> Vec<(usize, &str)> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<Option<&'static str>> = None;
    for (at, c) in text.char_indices() {
        if !c.is_alphabetic() {
            continue;
        }
        let script = script_lang(c.encode_utf8(&mut [0; 4]));
        match current {
            Some(s) if s != script => {
                runs.push((start, &text[start..at]));
                start = at;
                current = Some(script);
            }
            Some(_) => {}
            None => current = Some(script),
        }
    }
    runs.push((start, &text[start..]));
    runs
}

/// Add text to a line, merging with the last segment when the face matches.
fn append(line: &mut Segments, text: &str, face: Face) {
    match line.last_mut() {
        Some((last, f)) if *f == face => last.push_str(text),
        _ => line.push((text.to_string(), face)),
    }
}

/// Structure elements the layout opens, in the tag tree's terms.
#[derive(Debug, Clone, PartialEq)]
enum Element {
    Heading(u16, String),
    Paragraph,
    List,
    ListItem,
    Label,
    ListBody,
    Section,
}

impl Element {
    fn tag(&self) -> TagKind {
        match self {
            Element::Heading(level, title) => Tag::Hn(
                std::num::NonZeroU16::new(*level).unwrap_or(std::num::NonZeroU16::MIN),
                Some(title.clone()),
            )
            .into(),
            Element::Paragraph => Tag::P.into(),
            Element::List => Tag::L(ListNumbering::Disc).into(),
            Element::ListItem => Tag::LI.into(),
            Element::Label => Tag::Lbl.into(),
            Element::ListBody => Tag::LBody.into(),
            Element::Section => Tag::Section.into(),
        }
    }
}

/// The structure tree as the layout builds it: leaves are text ops.
#[derive(Debug, Clone, PartialEq)]
enum StructNode {
    Group(Element, Vec<StructNode>),
    Leaf(usize),
}

struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
    page_h: f32,
    margin: f32,
    /// Space kept free at the bottom for the footer.
    footer: f32,
    content_w: f32,
    t: Type,
    /// Open structure elements, innermost last; the first is the document.
    open: Vec<(Option<Element>, Vec<StructNode>)>,
    leaves: usize,
    /// Headings for the bookmarks: level, page index, top, text.
    headings: Vec<(u16, usize, f32, String)>,
}

impl Layout {
    fn new(page_w: f32, page_h: f32, t: Type) -> Self {
        let margin = 50.0;
        Layout {
            pages: vec![Vec::new()],
            y: margin,
            page_h,
            margin,
            footer: 28.0,
            content_w: page_w - 2.0 * margin,
            t,
            open: vec![(None, Vec::new())],
            leaves: 0,
            headings: Vec::new(),
        }
    }

    fn begin(&mut self, element: Element) {
        self.open.push((Some(element), Vec::new()));
    }

    fn end(&mut self) {
        if let Some((Some(element), children)) = self.open.pop() {
            self.current().push(StructNode::Group(element, children));
        }
    }

    fn current(&mut self) -> &mut Vec<StructNode> {
        &mut self.open.last_mut().expect("the document is open").1
    }

    fn bottom(&self) -> f32 {
        self.page_h - self.margin - self.footer
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.margin;
    }

    /// Start a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > self.bottom() && self.y > self.margin {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page exists").push(op);
    }

    /// Draw a line's segments as content of the open structure element:
    /// drawn in visual order (right-to-left runs reversed), read in text
    /// order (the structure tree keeps the order they were written in).
    fn draw_line(&mut self, x: f32, segments: &Segments, size: f32) {
        let baseline = self.y + size * 0.9;
        let pieces = visual_pieces(segments);
        let first = self.leaves;
        self.leaves += pieces.len();
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_by_key(|&i| pieces[i].start);
        // Piece `order[k]` (k-th in reading order) is leaf `first + k`.
        let mut leaf_of = vec![0; pieces.len()];
        for (k, &i) in order.iter().enumerate() {
            leaf_of[i] = first + k;
            self.current().push(StructNode::Leaf(first + k));
        }
        let mut cursor = x;
        for (i, piece) in pieces.into_iter().enumerate() {
            let advance = width(&piece.text, piece.face, size);
            self.push(Op::Text {
                x: cursor,
                baseline,
                size,
                face: piece.face,
                text: piece.text,
                rtl: piece.rtl,
                leaf: Some(leaf_of[i]),
            });
            cursor += advance;
        }
    }

    /// Wrapped text at `indent`, moving down line by line across pages. A
    /// word space ends every line broken between words, so text read back
    /// (copied, or by a screen reader) keeps its words apart.
    fn text(&mut self, spans: &[Span], indent: f32, size: f32) {
        let lead = leading(size);
        let lines = wrap(spans, size, self.content_w - indent);
        let count = lines.len();
        for (i, mut line) in lines.into_iter().enumerate() {
            if i + 1 < count
                && !line.mid_word
                && let Some((last, _)) = line.segments.last_mut()
            {
                last.push(' ');
            }
            self.ensure(lead);
            let x = self.margin + indent;
            self.draw_line(x, &line.segments, size);
            self.y += lead;
        }
    }

    /// `text` as one structure element.
    fn element(&mut self, element: Element, spans: &[Span], indent: f32, size: f32) {
        if let Element::Heading(level, title) = &element {
            let page = self.pages.len() - 1;
            self.headings.push((*level, page, self.y, title.clone()));
        }
        self.begin(element);
        self.text(spans, indent, size);
        self.end();
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// Height `spans` will take when wrapped at `indent`.
    fn height_of(&self, spans: &[Span], indent: f32, size: f32) -> f32 {
        wrap(spans, size, self.content_w - indent).len() as f32 * leading(size)
    }

    /// A list item: its marker as the label, its text (and any detail lines,
    /// as a nested list) as the body.
    fn list_item(&mut self, marker: &str, x: f32, indent: f32, spans: &[Span], size: f32) {
        self.begin(Element::ListItem);
        // Keep an item's first line on the same page as its marker.
        self.ensure(leading(size));
        self.begin(Element::Label);
        self.draw_line(x, &vec![(marker.to_string(), Face::Regular)], size);
        self.end();
        self.begin(Element::ListBody);
        self.text(spans, indent, size);
    }

    fn block(&mut self, block: &Block, next: Option<&Block>) {
        let t = self.t;
        match block {
            Block::Title(title) => {
                self.ensure(leading(t.title) * 2.0);
                self.element(
                    Element::Heading(1, title.clone()),
                    &[document::strong(title)],
                    0.0,
                    t.title,
                );
                self.gap(2.0);
            }
            Block::Meta(lines) => {
                for l in lines {
                    self.element(Element::Paragraph, &[document::plain(l)], 0.0, t.small);
                }
                self.gap(t.body * 0.6);
            }
            Block::Heading(h) => {
                // Keep the heading with at least the first lines of what follows.
                let follow = next.map_or(0.0, |b| self.first_lines_height(b));
                self.ensure(leading(t.heading) + 6.0 + follow);
                self.gap(t.body * 0.4);
                self.element(
                    Element::Heading(2, h.clone()),
                    &[document::strong(h)],
                    0.0,
                    t.heading,
                );
                let y = self.y - 1.0;
                let x1 = self.margin;
                let x2 = self.margin + self.content_w;
                self.push(Op::Rule {
                    x1,
                    x2,
                    y,
                    thickness: 0.6,
                });
                self.gap(5.0);
            }
            Block::Subheading(h) => {
                let follow = next.map_or(0.0, |b| self.first_lines_height(b));
                self.ensure(leading(t.subheading) + follow);
                self.gap(2.0);
                self.element(
                    Element::Heading(3, h.clone()),
                    &[document::strong(h)],
                    0.0,
                    t.subheading,
                );
            }
            Block::Paragraph(p) => {
                self.element(Element::Paragraph, p, 0.0, t.body);
                self.gap(t.body * 0.45);
            }
            Block::Bullets(items) => {
                let bullet_w = 12.0;
                self.begin(Element::List);
                for item in items {
                    let x = self.margin + 2.0;
                    self.list_item("\u{2022}", x, bullet_w, &item.text, t.body);
                    if !item.details.is_empty() {
                        self.begin(Element::List);
                        for d in &item.details {
                            let x = self.margin + bullet_w + 2.0;
                            self.list_item(
                                "\u{2013}",
                                x,
                                bullet_w + 10.0,
                                &[document::plain(d)],
                                t.small,
                            );
                            self.end(); // LBody
                            self.end(); // LI
                        }
                        self.end(); // L
                    }
                    self.end(); // LBody
                    self.end(); // LI
                    self.gap(1.5);
                }
                self.end();
                self.gap(t.body * 0.35);
            }
            Block::Callout { title, lines } => self.callout(title, lines),
            Block::Note(n) => {
                self.element(Element::Paragraph, &[document::plain(n)], 0.0, t.small);
                self.gap(t.small * 0.6);
            }
        }
    }

    /// About two lines of `block`, for keeping headings with their content.
    fn first_lines_height(&self, block: &Block) -> f32 {
        let t = self.t;
        match block {
            Block::Callout { title, lines } => self.callout_height(title, lines),
            Block::Paragraph(p) => self.height_of(p, 0.0, t.body).min(leading(t.body) * 2.0),
            _ => leading(t.body) * 2.0,
        }
    }

    fn callout_height(&self, title: &str, lines: &[Inline]) -> f32 {
        let t = self.t;
        let pad = 9.0;
        let inner = pad * 2.0;
        let mut h = inner + self.height_of(&[document::strong(title)], inner, t.heading) + 3.0;
        for l in lines {
            h += self.height_of(l, inner, t.body);
        }
        h
    }

    /// A framed box: a heavy black border reads clearly in black and white.
    fn callout(&mut self, title: &str, lines: &[Inline]) {
        let t = self.t;
        let pad = 9.0;
        let h = self.callout_height(title, lines);
        self.gap(4.0);
        self.ensure(h);
        let top = self.y;
        self.push(Op::Frame {
            x: self.margin,
            top,
            w: self.content_w,
            h,
            thickness: 1.8,
        });
        // Text inside the frame is indented by the padding on both sides.
        let saved_w = self.content_w;
        let saved_margin = self.margin;
        self.margin += pad;
        self.content_w -= 2.0 * pad;
        self.y += pad;
        self.begin(Element::Section);
        self.element(
            Element::Heading(2, title.to_string()),
            &[document::strong(title)],
            0.0,
            t.heading,
        );
        self.gap(3.0);
        for l in lines {
            self.element(Element::Paragraph, l, 0.0, t.body);
        }
        self.end();
        self.margin = saved_margin;
        self.content_w = saved_w;
        self.y = top + h + 8.0;
    }

    fn finish(mut self) -> Laid {
        while self.open.len() > 1 {
            self.end();
        }
        let structure = self.open.pop().map(|(_, c)| c).unwrap_or_default();
        Laid {
            pages: self.pages,
            structure,
            headings: self.headings,
        }
    }
}

/// A finished layout: each page's drawing ops, the structure tree and the
/// headings for bookmarks.
struct Laid {
    pages: Vec<Vec<Op>>,
    structure: Vec<StructNode>,
    headings: Vec<(u16, usize, f32, String)>,
}

/// Bookmarks (PDF/UA asks for them): the title, with every section under it.
fn outline(headings: &[(u16, usize, f32, String)]) -> Outline {
    let node = |(_, page, top, text): &(u16, usize, f32, String)| {
        OutlineNode::new(
            text.clone(),
            XyzDestination::new(*page, Point::from_xy(0.0, *top)),
        )
    };
    let mut outline = Outline::new();
    let mut title: Option<OutlineNode> = None;
    for h in headings {
        match (h.0, title.as_mut()) {
            (1, _) => {
                if let Some(done) = title.replace(node(h)) {
                    outline.push_child(done);
                }
            }
            (2, Some(parent)) => parent.push_child(node(h)),
            (2, None) => outline.push_child(node(h)),
            _ => {}
        }
    }
    if let Some(done) = title {
        outline.push_child(done);
    }
    outline
}

/// Lay out the document at scale `k`: the pages' drawing ops and the
/// structure tree.
fn layout(doc: &document::Document, size: (f32, f32), k: f32) -> Laid {
    let mut l = Layout::new(size.0, size.1, Type::scaled(k));
    for (i, block) in doc.blocks.iter().enumerate() {
        l.block(block, doc.blocks.get(i + 1));
    }
    l.finish()
}

/// Type scales tried in turn until the summary fits on two pages.
const SCALES: [f32; 5] = [1.0, 0.95, 0.9, 0.85, 0.8];

/// The page header: whose report this is, so a loose printed page can be
/// filed. The clinician copy without a reference keeps a line to write it on.
fn header_text(report: &Report) -> Option<String> {
    match (&report.client_ref, report.view) {
        (Some(reference), _) => Some(format!("Client: {reference}")),
        (None, super::View::Clinician) => Some("Client: ______________________".into()),
        (None, super::View::Client) => None,
    }
}

/// Render `report` (already in the chosen view) as PDF bytes.
pub fn render(report: &Report) -> anyhow::Result<Vec<u8>> {
    let doc = document::build(report);
    let size = page_size(&report.region);
    let Laid {
        pages,
        structure,
        headings,
    } = SCALES
        .iter()
        .map(|&k| layout(&doc, size, k))
        .find(|laid| laid.pages.len() <= 2)
        .unwrap_or_else(|| layout(&doc, size, SCALES[SCALES.len() - 1]));

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_A)
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|e| anyhow::anyhow!("PDF settings do not fit together: {e:?}"))?;
    let mut pdf = Document::new_with(SerializeSettings {
        configuration,
        enable_tagging: true,
        xmp_metadata: true,
        compress_content_streams: true,
        ..SerializeSettings::default()
    });
    let font = |face: Face| {
        Font::new(Arc::new(face.data().to_vec()).into(), 0)
            .ok_or_else(|| anyhow::anyhow!("the embedded font could not be read"))
    };
    let fonts = (font(Face::Regular)?, font(Face::Bold)?);
    let (w, h) = size;
    let total = pages.len();
    let footer_left = printable(&format!(
        "{} · {} copy",
        doc.title,
        document::view_word(report.view)
    ));
    let header = header_text(report).map(|t| printable(&t));
    let mut identifiers: Vec<Option<Identifier>> = vec![None; count_leaves(&structure)];
    for (index, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(w, h)
            .ok_or_else(|| anyhow::anyhow!("the page size {w}×{h} is not usable"))?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        let mut artifacts = Vec::new();
        if let Some(header) = &header {
            for op in text_ops(50.0, 34.0, 8.5, header) {
                artifacts.push((ArtifactType::Header, op));
            }
        }
        // Footer: what this is and where it sits, so a loose printed page
        // still says which summary and which copy it belongs to.
        let small = 7.5;
        let baseline = h - 50.0 + 4.0;
        let page_label = format!("Page {} of {total}", index + 1);
        let label_x = w - 50.0 - width(&page_label, Face::Regular, small);
        artifacts.push((
            ArtifactType::Footer,
            Op::Rule {
                x1: 50.0,
                x2: w - 50.0,
                y: baseline - small * 1.4,
                thickness: 0.4,
            },
        ));
        for op in text_ops(50.0, baseline, small, &footer_left)
            .into_iter()
            .chain(text_ops(label_x, baseline, small, &page_label))
        {
            artifacts.push((ArtifactType::Footer, op));
        }
        for (kind, op) in &artifacts {
            surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(*kind)));
            draw(&mut surface, op, &fonts);
            surface.end_tagged();
        }
        for op in ops {
            match op {
                Op::Text {
                    leaf: Some(leaf),
                    text,
                    ..
                } => {
                    // Text that is not in Latin letters carries its own
                    // language, inside the document's `en`. Right-to-left
                    // text is read back through each glyph's Unicode map
                    // (pdftotext gives it in reading order); an ActualText
                    // here made poppler drop it.
                    let span = SpanTag::empty().with_lang(script_lang(text));
                    let id = surface.start_tagged(ContentTag::Span(span));
                    draw(&mut surface, op, &fonts);
                    surface.end_tagged();
                    if let Some(slot) = identifiers.get_mut(*leaf) {
                        *slot = Some(id);
                    }
                }
                _ => {
                    let layout = Artifact::with_kind(ArtifactType::Layout);
                    surface.start_tagged(ContentTag::Artifact(layout));
                    draw(&mut surface, op, &fonts);
                    surface.end_tagged();
                }
            }
        }
        surface.finish();
        page.finish();
    }

    let mut tree = TagTree::new().with_lang(Some("en".into()));
    for node in &structure {
        if let Some(node) = tag_node(node, &mut identifiers) {
            tree.push(node);
        }
    }
    pdf.set_tag_tree(tree);
    pdf.set_outline(outline(&headings));
    pdf.set_metadata(metadata(report, &doc.title));
    pdf.finish()
        .map_err(|e| anyhow::anyhow!("the PDF could not be made: {e:?}"))
}

/// A header or footer line (an artifact, outside the structure): in visual
/// order like the body, since it may hold a client reference in Hebrew.
fn text_ops(x: f32, baseline: f32, size: f32, text: &str) -> Vec<Op> {
    let mut cursor = x;
    visual_pieces(&vec![(text.to_string(), Face::Regular)])
        .into_iter()
        .map(|piece| {
            let at = cursor;
            cursor += width(&piece.text, piece.face, size);
            Op::Text {
                x: at,
                baseline,
                size,
                face: piece.face,
                text: piece.text,
                rtl: piece.rtl,
                leaf: None,
            }
        })
        .collect()
}

fn count_leaves(nodes: &[StructNode]) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            StructNode::Leaf(_) => 1,
            StructNode::Group(_, children) => count_leaves(children),
        })
        .sum()
}

/// The layout's structure as krilla's tag tree, with the marked content
/// each text op was drawn as.
fn tag_node(node: &StructNode, ids: &mut [Option<Identifier>]) -> Option<Node> {
    match node {
        StructNode::Leaf(leaf) => ids.get_mut(*leaf)?.take().map(Node::from),
        StructNode::Group(element, children) => {
            let children: Vec<Node> = children.iter().filter_map(|c| tag_node(c, ids)).collect();
            (!children.is_empty()).then(|| TagGroup::with_children(element.tag(), children).into())
        }
    }
}

/// Title, language, author, subject and dates for the document
/// information and its XMP metadata.
fn metadata(report: &Report, title: &str) -> Metadata {
    let mut meta = Metadata::new()
        .title(title.to_string())
        .language("en".into())
        .authors(vec![
            match report.clinic.as_ref().and_then(|c| c.name.clone()) {
                Some(clinic) => format!("session-ready for {clinic}"),
                None => "session-ready".to_string(),
            },
        ])
        .description(format!(
            "{} copy{}",
            document::view_word(report.view),
            report
                .client_ref
                .as_deref()
                .map(|r| format!(" for client {r}"))
                .unwrap_or_default()
        ))
        .creator(format!("session-ready {}", report.tool_version));
    // A report whose time cannot be read (edited by hand) is dated now:
    // PDF/A needs a date.
    let t = chrono::DateTime::parse_from_rfc3339(&report.generated_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    {
        use chrono::{Datelike, Timelike};
        if let Ok(year) = u16::try_from(t.year()) {
            meta = meta.creation_date(
                DateTime::new(year)
                    .month(t.month() as u8)
                    .day(t.day() as u8)
                    .hour(t.hour() as u8)
                    .minute(t.minute() as u8)
                    .second(t.second() as u8)
                    .utc_offset_hour(0)
                    .utc_offset_minute(0),
            );
        }
    }
    meta
}

/// Draw one op in black (layout coordinates: points from the top left).
fn draw(surface: &mut krilla::surface::Surface, op: &Op, fonts: &(Font, Font)) {
    let black = krilla::color::luma::Color::black();
    match op {
        Op::Text {
            x,
            baseline,
            size,
            face,
            text,
            rtl,
            ..
        } => {
            let font = match face {
                Face::Regular => fonts.0.clone(),
                Face::Bold => fonts.1.clone(),
            };
            let text = printable(text);
            // Latin, Greek and Cyrillic keep their glyph-per-letter drawing
            // (and widths); right-to-left text is shaped.
            let glyphs: Vec<KrillaGlyph> = if *rtl || has_rtl(&text) {
                shape(*face, &text, *rtl)
            } else {
                text.char_indices()
                    .map(|(at, c)| {
                        let (id, advance) = glyph(*face, c)
                            .or_else(|| glyph(*face, MISSING))
                            .unwrap_or((GlyphId::new(0), 0.5));
                        KrillaGlyph::new(id, advance, 0.0, 0.0, 0.0, at..at + c.len_utf8(), None)
                    })
                    .collect()
            };
            surface.set_stroke(None);
            surface.set_fill(Some(Fill {
                paint: black.into(),
                ..Fill::default()
            }));
            surface.draw_glyphs(
                Point::from_xy(*x, *baseline),
                &glyphs,
                font,
                &text,
                *size,
                false,
            );
        }
        Op::Rule {
            x1,
            x2,
            y,
            thickness,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y);
            path.line_to(*x2, *y);
            stroke(surface, path, *thickness);
        }
        Op::Frame {
            x,
            top,
            w,
            h,
            thickness,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x, *top);
            path.line_to(x + w, *top);
            path.line_to(x + w, top + h);
            path.line_to(*x, top + h);
            path.close();
            stroke(surface, path, *thickness);
        }
    }
}

fn stroke(surface: &mut krilla::surface::Surface, path: PathBuilder, thickness: f32) {
    let Some(path) = path.finish() else { return };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: krilla::color::luma::Color::black().into(),
        width: thickness,
        ..Stroke::default()
    }));
    surface.draw_path(&path);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(segments: &[(&str, Face)]) -> Vec<(String, bool)> {
        let segments: Segments = segments.iter().map(|(t, f)| (t.to_string(), *f)).collect();
        visual_pieces(&segments)
            .into_iter()
            .map(|p| (p.text, p.rtl))
            .collect()
    }

    /// UAX #9 with a left-to-right line: a Hebrew phrase is one run drawn
    /// right to left (its brackets mirrored by the shaper), a number in it
    /// stays left to right in its place, and Latin text keeps its order.
    #[test]
    fn right_to_left_runs_are_drawn_in_visual_order() {
        let pieces = drawn(&[
            ("Where — ", Face::Regular),
            ("בחדר שלי ליד החלון", Face::Bold),
        ]);
        assert_eq!(
            pieces,
            [
                ("Where — ".to_string(), false),
                ("בחדר שלי ליד החלון".to_string(), true)
            ]
        );
        let pieces = drawn(&[("בחדר (ליד החלון) 2 בערב", Face::Regular)]);
        let texts: Vec<&str> = pieces.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, [" בערב", "2", "בחדר (ליד החלון) "], "{pieces:?}");
        assert!(pieces.iter().all(|(t, rtl)| *rtl == (t != "2")));
        // Reading order is kept for the structure tree.
        let segments: Segments = vec![("a בחדר שלי b".into(), Face::Regular)];
        let mut reading = visual_pieces(&segments);
        reading.sort_by_key(|p| p.start);
        let joined: String = reading.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, "a בחדר שלי b");
    }

    #[test]
    fn pieces_break_where_the_script_changes_and_carry_its_language() {
        let pieces = drawn(&[("Place: Στο γραφείο · в моей комнате", Face::Regular)]);
        let texts: Vec<&str> = pieces.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["Place: ", "Στο γραφείο · ", "в моей комнате"]);
        let langs: Vec<Option<&str>> = texts.iter().map(|t| script_lang(t)).collect();
        assert_eq!(langs, [None, Some("el"), Some("und-Cyrl")]);
        assert_eq!(script_lang("שלום"), Some("he"));
        assert_eq!(script_lang("سلام"), Some("und-Arab"));
    }

    /// Arabic is shaped: the letters join (other glyphs than the separate
    /// forms the character map gives), so the word is narrower, and the
    /// width used for wrapping is the width drawn.
    #[test]
    fn arabic_is_shaped_into_its_joining_forms() {
        let word = "بطانية";
        let separate: Vec<u32> = word
            .chars()
            .map(|c| glyph(Face::Regular, c).unwrap().0.to_u32())
            .collect();
        let shaped: Vec<u32> = shape(Face::Regular, word, true)
            .iter()
            .map(|g| g.glyph_id.to_u32())
            .collect();
        assert_eq!(shaped.len(), separate.len());
        assert!(
            shaped.iter().all(|g| !separate.contains(g)),
            "{shaped:?} {separate:?}"
        );
        let letters: f32 = word
            .chars()
            .map(|c| glyph(Face::Regular, c).unwrap().1)
            .sum();
        assert!(width(word, Face::Regular, 1.0) < letters);
        // Drawn right to left: the last letter's glyph comes first.
        let first = shape(Face::Regular, word, true)[0].text_range.clone();
        assert_eq!(&word[first], "ة");
    }

    #[test]
    fn widths_come_from_the_embedded_font() {
        // Digits share one width (tables line up); bold is wider; every
        // script the font covers has widths.
        let digit = width("0", Face::Regular, 10.0);
        assert!(digit > 4.0 && digit < 7.0, "{digit}");
        assert!((width("0123456789", Face::Regular, 10.0) - 10.0 * digit).abs() < 0.01);
        assert!(width("m", Face::Bold, 10.0) > width("m", Face::Regular, 10.0));
        for c in ["Ω", "Ж", "ā", "→", "—"] {
            assert!(width(c, Face::Regular, 10.0) > 0.0, "{c}");
        }
    }

    #[test]
    fn wrapping_respects_the_width_and_keeps_every_word() {
        let spans = vec![
            document::plain("Is there somewhere private you could talk — "),
            document::strong("skipped"),
            document::plain(" (privacy.space), and a very long address https://example.org/"),
            document::plain("x".repeat(200)),
        ];
        let lines = wrap(&spans, 10.0, 200.0);
        assert!(lines.len() > 3);
        for line in &lines {
            let w: f32 = line.segments.iter().map(|(t, f)| width(t, *f, 10.0)).sum();
            assert!(w <= 200.5, "{line:?} is {w} wide");
        }
        let joined: String = lines
            .iter()
            .flat_map(|l| l.segments.iter().map(|(t, _)| t.trim().to_string()))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(joined.contains("skipped") && joined.contains("(privacy.space),"));
        let bold: Vec<&String> = lines
            .iter()
            .flat_map(|l| &l.segments)
            .filter(|(_, f)| *f == Face::Bold)
            .map(|(t, _)| t)
            .collect();
        assert_eq!(bold.len(), 1);
        assert_eq!(bold[0].trim(), "skipped");
    }

    /// A long address breaks after "/", "." and the like, never in the
    /// middle of a path segment, and the pieces join back without a space.
    #[test]
    fn addresses_break_only_at_their_separators() {
        let url = "https://www.ons.gov.uk/peoplepopulationandcommunity/wellbeing/methodologies/\
                   measuringlonelinessguidanceforuseofthenationalindicatorsonsurveys";
        let lines = wrap(&[document::plain(url)], 8.5, 300.0);
        assert!(lines.len() >= 2, "{lines:?}");
        let texts: Vec<String> = lines
            .iter()
            .map(|l| l.segments.iter().map(|(t, _)| t.as_str()).collect())
            .collect();
        for (line, text) in lines.iter().zip(&texts).take(lines.len() - 1) {
            assert!(line.mid_word, "{text}");
            assert!(text.ends_with(breaks_after), "{text} breaks inside a word");
        }
        assert_eq!(texts.concat(), url);
    }

    #[test]
    fn characters_the_font_lacks_are_marked_not_dropped() {
        assert_eq!(
            printable("Tāmaki → café — “ok” Ωμέγα Жук"),
            "Tāmaki → café — “ok” Ωμέγα Жук"
        );
        assert_eq!(printable("a\nb"), "a b");
        assert_eq!(printable("🙂"), "\u{FFFD}");
    }

    /// Everything the PDF shows from our own data must print as written.
    #[test]
    fn question_bank_and_crisis_data_print_without_substitution() {
        let bank = crate::questionnaire::bank();
        let mut texts: Vec<&str> = Vec::new();
        for q in &bank.questions {
            texts.push(&q.text);
            texts.extend(q.options.iter().map(|o| o.label.as_str()));
        }
        texts.extend(bank.sections.iter().map(|s| s.title.as_str()));
        texts.extend(bank.sources.iter().map(|s| s.cite.as_str()));
        texts.extend(bank.plan.prompts.iter().map(|p| p.text.as_str()));
        let data = crate::crisis::data();
        for r in data
            .regions
            .iter()
            .chain(std::iter::once(&data.fallback))
            .flat_map(|g| &g.resources)
        {
            texts.push(&r.name);
            texts.push(&r.contact);
            texts.extend(r.hours.as_deref());
        }
        for text in texts {
            assert_eq!(
                printable(text),
                text,
                "needs a character the PDF fonts lack"
            );
        }
    }
}
