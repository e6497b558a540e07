//! The readiness summary as a one-to-two page PDF for case notes, made in
//! Rust with printpdf: no external programs, no embedded font files.
//!
//! Design for print: black text on white only, so it reads the same on a
//! black-and-white printer; meaning is always in the words (status words,
//! "skipped"), never in colour. The built-in Helvetica fonts keep files to a
//! few kilobytes (practice-management systems often cap uploads at 5 MB), and
//! their exact widths (`metrics`) let lines wrap properly. Headings are kept
//! with what follows them and the crisis box is never split across pages.
//! If the content would run past two pages the type is tightened a little, up
//! to a limit; content is never dropped to make it fit.
mod metrics;

use printpdf::{
    Color, Greyscale, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point,
};

use super::Report;
use super::document::{self, Block, Inline, Span};

/// Points to millimetres.
const MM_PER_PT: f32 = 25.4 / 72.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

/// The page sizes clinics print on: US Letter in North America, A4 elsewhere.
fn page_size(region: &str) -> (f32, f32) {
    match region {
        "US" | "CA" => (612.0, 792.0),
        _ => (595.28, 841.89),
    }
}

/// The WinAnsiEncoding byte for `c`, as printpdf will write it; `None` when
/// the built-in fonts cannot show it.
fn win_ansi(c: char) -> Option<u8> {
    let mut buf = [0u8; 4];
    let bytes =
        printpdf::lopdf::Document::encode_text(Some("WinAnsiEncoding"), c.encode_utf8(&mut buf));
    match bytes.as_slice() {
        [b] if *b >= 32 => Some(*b),
        _ => None,
    }
}

/// Text the built-in fonts can show. printpdf silently drops characters
/// outside WinAnsiEncoding, so common ones are spelled out first (arrows,
/// letters with macrons, …) and anything else becomes "?", visibly.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if win_ansi(c).is_some() {
            out.push(c);
            continue;
        }
        let replacement = match c {
            '\n' | '\r' | '\t' | '\u{2009}' | '\u{202F}' | '\u{2007}' => " ",
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2212}' => "-",
            '\u{2192}' => "->",
            '\u{2190}' => "<-",
            '\u{2265}' => ">=",
            '\u{2264}' => "<=",
            '\u{2248}' => "~",
            '\u{2032}' => "'",
            '\u{2033}' => "\"",
            'ā' | 'ă' | 'ą' => "a",
            'Ā' | 'Ă' | 'Ą' => "A",
            'ē' | 'ė' | 'ę' | 'ě' => "e",
            'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
            'ī' | 'į' | 'ı' => "i",
            'Ī' | 'Į' | 'İ' => "I",
            'ō' | 'ő' => "o",
            'Ō' | 'Ő' => "O",
            'ū' | 'ů' | 'ű' | 'ų' => "u",
            'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
            'ć' | 'č' => "c",
            'Ć' | 'Č' => "C",
            'ď' => "d",
            'Ď' => "D",
            'ğ' => "g",
            'Ğ' => "G",
            'ł' | 'ľ' | 'ĺ' => "l",
            'Ł' | 'Ľ' | 'Ĺ' => "L",
            'ń' | 'ň' => "n",
            'Ń' | 'Ň' => "N",
            'ř' => "r",
            'Ř' => "R",
            'ś' | 'ş' | 'ș' => "s",
            'Ś' | 'Ş' | 'Ș' => "S",
            'ť' | 'ţ' | 'ț' => "t",
            'Ť' | 'Ţ' | 'Ț' => "T",
            'ź' | 'ż' => "z",
            'Ź' | 'Ż' => "Z",
            _ => "?",
        };
        out.push_str(replacement);
    }
    out
}

/// Width of `text` in points.
fn width(text: &str, face: Face, size: f32) -> f32 {
    let table = match face {
        Face::Regular => &metrics::REGULAR,
        Face::Bold => &metrics::BOLD,
    };
    let units: u32 = text
        .chars()
        .filter_map(win_ansi)
        .map(|b| u32::from(table[usize::from(b - 32)]))
        .sum();
    units as f32 * size / 1000.0
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
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        face: Face,
        text: String,
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

/// Break spans into lines no wider than `max` points. Lines break only at
/// spaces, so "**yes**." never leaves the full stop alone on the next line.
fn wrap(spans: &[Span], size: f32, max: f32) -> Vec<Segments> {
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
    let mut lines: Vec<Segments> = Vec::new();
    let mut line: Segments = Vec::new();
    let mut line_width = 0.0;
    for unit in units {
        let w = unit_width(&unit);
        let space = width(" ", unit[0].1, size);
        if !line.is_empty() && line_width + space + w > max {
            lines.push(std::mem::take(&mut line));
            line_width = 0.0;
        }
        if line.is_empty() && w > max {
            // A single word wider than the line (a long address) is cut by characters.
            for (text, face) in unit {
                for c in text.chars() {
                    let cw = width(&c.to_string(), face, size);
                    if line_width + cw > max && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
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
        lines.push(line);
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

struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
    page_h: f32,
    margin: f32,
    /// Space kept free at the bottom for the footer.
    footer: f32,
    content_w: f32,
    t: Type,
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
        }
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

    fn draw_line(&mut self, x: f32, segments: &Segments, size: f32) {
        let baseline = self.y + size * 0.9;
        let mut cursor = x;
        for (text, face) in segments {
            self.push(Op::Text {
                x: cursor,
                baseline,
                size,
                face: *face,
                text: text.clone(),
            });
            cursor += width(text, *face, size);
        }
    }

    /// Wrapped text at `indent`, moving down line by line across pages.
    fn text(&mut self, spans: &[Span], indent: f32, size: f32) {
        let lead = leading(size);
        for line in wrap(spans, size, self.content_w - indent) {
            self.ensure(lead);
            let x = self.margin + indent;
            self.draw_line(x, &line, size);
            self.y += lead;
        }
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// Height `spans` will take when wrapped at `indent`.
    fn height_of(&self, spans: &[Span], indent: f32, size: f32) -> f32 {
        wrap(spans, size, self.content_w - indent).len() as f32 * leading(size)
    }

    fn block(&mut self, block: &Block, next: Option<&Block>) {
        let t = self.t;
        match block {
            Block::Title(title) => {
                self.ensure(leading(t.title) * 2.0);
                self.text(&[document::strong(title)], 0.0, t.title);
                self.gap(2.0);
            }
            Block::Meta(lines) => {
                for l in lines {
                    self.text(&[document::plain(l)], 0.0, t.small);
                }
                self.gap(t.body * 0.6);
            }
            Block::Heading(h) => {
                // Keep the heading with at least the first lines of what follows.
                let follow = next.map_or(0.0, |b| self.first_lines_height(b));
                self.ensure(leading(t.heading) + 6.0 + follow);
                self.gap(t.body * 0.4);
                self.text(&[document::strong(h)], 0.0, t.heading);
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
                self.text(&[document::strong(h)], 0.0, t.subheading);
            }
            Block::Paragraph(p) => {
                self.text(p, 0.0, t.body);
                self.gap(t.body * 0.45);
            }
            Block::Bullets(items) => {
                let bullet_w = 12.0;
                for item in items {
                    // Keep a bullet's first line on the same page as its marker.
                    self.ensure(leading(t.body));
                    let marker = vec![("\u{2022}".to_string(), Face::Regular)];
                    let x = self.margin + 2.0;
                    self.draw_line(x, &marker, t.body);
                    self.text(&item.text, bullet_w, t.body);
                    for d in &item.details {
                        let dash = vec![("\u{2013}".to_string(), Face::Regular)];
                        self.ensure(leading(t.small));
                        let x = self.margin + bullet_w + 2.0;
                        self.draw_line(x, &dash, t.small);
                        self.text(&[document::plain(d)], bullet_w + 10.0, t.small);
                    }
                    self.gap(1.5);
                }
                self.gap(t.body * 0.35);
            }
            Block::Callout { title, lines } => self.callout(title, lines),
            Block::Note(n) => {
                self.text(&[document::plain(n)], 0.0, t.small);
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
        self.text(&[document::strong(title)], 0.0, t.heading);
        self.gap(3.0);
        for l in lines {
            self.text(l, 0.0, t.body);
        }
        self.margin = saved_margin;
        self.content_w = saved_w;
        self.y = top + h + 8.0;
    }
}

/// Lay out the document at scale `k`.
fn layout(doc: &document::Document, size: (f32, f32), k: f32) -> Vec<Vec<Op>> {
    let mut l = Layout::new(size.0, size.1, Type::scaled(k));
    for (i, block) in doc.blocks.iter().enumerate() {
        l.block(block, doc.blocks.get(i + 1));
    }
    l.pages
}

/// Type scales tried in turn until the summary fits on two pages.
const SCALES: [f32; 4] = [1.0, 0.95, 0.9, 0.85];

/// Render `report` (already in the chosen view) as PDF bytes.
pub fn render(report: &Report) -> anyhow::Result<Vec<u8>> {
    let doc = document::build(report);
    let size = page_size(&report.region);
    let pages = SCALES
        .iter()
        .map(|&k| layout(&doc, size, k))
        .find(|pages| pages.len() <= 2)
        .unwrap_or_else(|| layout(&doc, size, SCALES[SCALES.len() - 1]));

    // printpdf writes the title field as raw bytes; `finish` replaces it.
    let meta_title = printable(&doc.title);
    let (w, h) = size;
    let (pdf, first_page, first_layer) =
        PdfDocument::new(meta_title, Mm(w * MM_PER_PT), Mm(h * MM_PER_PT), "Summary");
    let pdf = pdf
        .with_creator(format!("session-ready {}", report.tool_version))
        .with_producer("session-ready (printpdf)")
        .with_subject(format!("{} copy", document::view_word(report.view)));
    let regular = pdf.add_builtin_font(printpdf::BuiltinFont::Helvetica)?;
    let bold = pdf.add_builtin_font(printpdf::BuiltinFont::HelveticaBold)?;
    let total = pages.len();
    let footer_left = printable(&format!(
        "{} · {} copy",
        doc.title,
        document::view_word(report.view)
    ));
    for (index, ops) in pages.iter().enumerate() {
        let layer = if index == 0 {
            pdf.get_page(first_page).get_layer(first_layer)
        } else {
            let (page, layer) = pdf.add_page(Mm(w * MM_PER_PT), Mm(h * MM_PER_PT), "Summary");
            pdf.get_page(page).get_layer(layer)
        };
        let black = Color::Greyscale(Greyscale::new(0.0, None));
        layer.set_fill_color(black.clone());
        layer.set_outline_color(black);
        let fonts = Fonts {
            regular: &regular,
            bold: &bold,
        };
        for op in ops {
            draw(&layer, op, h, &fonts);
        }
        // Footer: what this is and where it sits, so a loose printed page
        // still says which summary and which copy it belongs to.
        let size = 7.5;
        let baseline = h - 50.0 + 4.0;
        draw(
            &layer,
            &Op::Rule {
                x1: 50.0,
                x2: w - 50.0,
                y: baseline - size * 1.4,
                thickness: 0.4,
            },
            h,
            &fonts,
        );
        draw(
            &layer,
            &Op::Text {
                x: 50.0,
                baseline,
                size,
                face: Face::Regular,
                text: footer_left.clone(),
            },
            h,
            &fonts,
        );
        let page_label = format!("Page {} of {total}", index + 1);
        let x = w - 50.0 - width(&page_label, Face::Regular, size);
        draw(
            &layer,
            &Op::Text {
                x,
                baseline,
                size,
                face: Face::Regular,
                text: page_label,
            },
            h,
            &fonts,
        );
    }
    finish(pdf.save_to_bytes()?, &doc.title)
}

/// Tidy what printpdf writes into the document catalogue and info:
/// - the real title, em dash included (PDF text strings in UTF-16BE), shown
///   by viewers in place of the file name;
/// - the document language, for screen readers;
/// - no PDF/X claim: printpdf always writes a `GTS_PDFXVersion` key, and this
///   file does not follow PDF/X.
fn finish(bytes: Vec<u8>, title: &str) -> anyhow::Result<Vec<u8>> {
    use printpdf::lopdf::{Dictionary, Document, Object, StringFormat};
    let mut doc = Document::load_mem(&bytes)?;
    let mut utf16 = vec![0xFE, 0xFF];
    utf16.extend(title.encode_utf16().flat_map(|u| u.to_be_bytes()));
    if let Ok(info_id) = doc.trailer.get(b"Info").and_then(Object::as_reference)
        && let Ok(info) = doc.get_object_mut(info_id).and_then(Object::as_dict_mut)
    {
        info.remove(b"GTS_PDFXVersion");
        info.set("Title", Object::String(utf16, StringFormat::Hexadecimal));
    }
    let catalog = doc.catalog_mut()?;
    catalog.set("Lang", Object::string_literal("en"));
    let mut prefs = Dictionary::new();
    prefs.set("DisplayDocTitle", true);
    catalog.set("ViewerPreferences", prefs);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

struct Fonts<'a> {
    regular: &'a IndirectFontRef,
    bold: &'a IndirectFontRef,
}

fn pt(v: f32) -> Mm {
    Mm(v * MM_PER_PT)
}

/// Draw one op; `page_h` turns top-down layout into PDF's bottom-up space.
fn draw(layer: &PdfLayerReference, op: &Op, page_h: f32, fonts: &Fonts) {
    match op {
        Op::Text {
            x,
            baseline,
            size,
            face,
            text,
        } => {
            let font = match face {
                Face::Regular => fonts.regular,
                Face::Bold => fonts.bold,
            };
            layer.use_text(printable(text), *size, pt(*x), pt(page_h - baseline), font);
        }
        Op::Rule {
            x1,
            x2,
            y,
            thickness,
        } => {
            layer.set_outline_thickness(*thickness);
            layer.add_line(Line {
                points: vec![
                    (Point::new(pt(*x1), pt(page_h - y)), false),
                    (Point::new(pt(*x2), pt(page_h - y)), false),
                ],
                is_closed: false,
            });
        }
        Op::Frame {
            x,
            top,
            w,
            h,
            thickness,
        } => {
            layer.set_outline_thickness(*thickness);
            let (l, r, t, b) = (*x, x + w, page_h - top, page_h - top - h);
            layer.add_line(Line {
                points: vec![
                    (Point::new(pt(l), pt(t)), false),
                    (Point::new(pt(r), pt(t)), false),
                    (Point::new(pt(r), pt(b)), false),
                    (Point::new(pt(l), pt(b)), false),
                ],
                is_closed: true,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_match_known_helvetica_metrics() {
        // Helvetica: space 278, digits 556, "m" 833; bold "m" 889.
        assert_eq!(width(" ", Face::Regular, 1000.0), 278.0);
        assert_eq!(width("0123456789", Face::Regular, 1.0), 5.56);
        assert_eq!(width("m", Face::Regular, 1000.0), 833.0);
        assert_eq!(width("m", Face::Bold, 1000.0), 889.0);
        assert_eq!(width("\u{2014}", Face::Regular, 1000.0), 1000.0);
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
            let w: f32 = line.iter().map(|(t, f)| width(t, *f, 10.0)).sum();
            assert!(w <= 200.5, "{line:?} is {w} wide");
        }
        let joined: String = lines
            .iter()
            .flat_map(|l| l.iter().map(|(t, _)| t.trim().to_string()))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(joined.contains("skipped") && joined.contains("(privacy.space),"));
        let bold: Vec<&String> = lines
            .iter()
            .flatten()
            .filter(|(_, f)| *f == Face::Bold)
            .map(|(t, _)| t)
            .collect();
        assert_eq!(bold.len(), 1);
        assert_eq!(bold[0].trim(), "skipped");
    }

    #[test]
    fn characters_the_fonts_lack_are_spelled_out_not_dropped() {
        assert_eq!(printable("Tāmaki → café — “ok”"), "Tamaki -> café — “ok”");
        assert_eq!(printable("🙂"), "?");
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
