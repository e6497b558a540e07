//! The readiness summary as a one-to-two page PDF for case notes, made in
//! Rust with krilla: tagged (PDF/UA-1, checked by krilla's validator while
//! writing), PDF/A-2a, with XMP metadata and the document language, and
//! DejaVu Sans Condensed embedded as a subset (data/fonts/, licence beside it) so Latin,
//! Greek and Cyrillic text prints as written.
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

/// Width of `text` (already printable) in points.
fn width(text: &str, face: Face, size: f32) -> f32 {
    text.chars()
        .filter_map(|c| glyph(face, c))
        .map(|(_, advance)| advance)
        .sum::<f32>()
        * size
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

    /// Draw a line's segments as content of the open structure element.
    fn draw_line(&mut self, x: f32, segments: &Segments, size: f32) {
        let baseline = self.y + size * 0.9;
        let mut cursor = x;
        for (text, face) in segments {
            let leaf = self.leaves;
            self.leaves += 1;
            self.current().push(StructNode::Leaf(leaf));
            self.push(Op::Text {
                x: cursor,
                baseline,
                size,
                face: *face,
                text: text.clone(),
                leaf: Some(leaf),
            });
            cursor += width(text, *face, size);
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
            artifacts.push((ArtifactType::Header, text_op(50.0, 34.0, 8.5, header)));
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
        artifacts.push((
            ArtifactType::Footer,
            text_op(50.0, baseline, small, &footer_left),
        ));
        artifacts.push((
            ArtifactType::Footer,
            text_op(label_x, baseline, small, &page_label),
        ));
        for (kind, op) in &artifacts {
            surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(*kind)));
            draw(&mut surface, op, &fonts);
            surface.end_tagged();
        }
        for op in ops {
            match op {
                Op::Text {
                    leaf: Some(leaf), ..
                } => {
                    let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
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

fn text_op(x: f32, baseline: f32, size: f32, text: &str) -> Op {
    Op::Text {
        x,
        baseline,
        size,
        face: Face::Regular,
        text: text.to_string(),
        leaf: None,
    }
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
            ..
        } => {
            let font = match face {
                Face::Regular => fonts.0.clone(),
                Face::Bold => fonts.1.clone(),
            };
            let text = printable(text);
            let glyphs: Vec<KrillaGlyph> = text
                .char_indices()
                .map(|(at, c)| {
                    let (id, advance) = glyph(*face, c)
                        .or_else(|| glyph(*face, MISSING))
                        .unwrap_or((GlyphId::new(0), 0.5));
                    KrillaGlyph::new(id, advance, 0.0, 0.0, 0.0, at..at + c.len_utf8(), None)
                })
                .collect();
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
