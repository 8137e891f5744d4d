//! The PDF report of a server export: a title, the view in words, when it was generated, and a
//! table of the events (time, event, outcome, user, target, IP address, source, description) on
//! A4 landscape pages numbered at the foot.
//!
//! Written as it goes, one page of events at a time: every object is appended to the output as
//! soon as it is complete, and only the objects' offsets (a few bytes per page) are kept until the
//! cross-reference table at the end. The text uses the standard Helvetica fonts with
//! WinAnsiEncoding, so no font is embedded; characters outside it are shown as `?`. A cell's text
//! is shortened with "…" to its column's width (Helvetica's metrics), and each cell is clipped to
//! its column as well.

use chrono::{DateTime, Utc};

use crate::events::model::Event;

/// A4 landscape, in points.
const WIDTH: f32 = 842.0;
const HEIGHT: f32 = 595.0;
const MARGIN: f32 = 36.0;
const TEXT_SIZE: f32 = 7.5;
const ROW_HEIGHT: f32 = 11.0;
/// The lowest baseline of a table row; the page number sits below it.
const BOTTOM: f32 = MARGIN + 18.0;

/// The table's columns and their widths in points (together the width between the margins).
pub const COLUMNS: [(&str, f32); 8] = [
    ("Date and Time (UTC)", 92.0),
    ("Event", 118.0),
    ("Outcome", 42.0),
    ("User", 104.0),
    ("Target", 112.0),
    ("IP Address", 74.0),
    ("Source", 70.0),
    ("Description", 158.0),
];

/// Object numbers fixed in advance: the pages' parent is named by every page before it is written.
const CATALOG: usize = 1;
const PAGES: usize = 2;
const FONT: usize = 3;
const FONT_BOLD: usize = 4;
const INFO: usize = 5;
const FIRST_FREE: usize = 6;

/// What the report says about itself.
#[derive(Clone, Debug)]
pub struct Report {
    pub title: String,
    /// The view in words (filter, search, range).
    pub view: String,
    pub generated_at: DateTime<Utc>,
}

impl Report {
    /// A report titled `title` of the view `summary` over `start`..`end` (open ends as "…").
    pub fn new(
        title: &str,
        summary: &str,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        generated_at: DateTime<Utc>,
    ) -> Self {
        let at = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "…".into())
        };
        Self {
            title: title.to_string(),
            view: format!("{summary}; {} to {} UTC", at(start), at(end)),
            generated_at,
        }
    }
}

/// A PDF report being written: [`PdfWriter::start`], then [`PdfWriter::rows`] for each page of
/// events, then [`PdfWriter::finish`]. Each call appends to `out` the bytes that follow the ones
/// appended before.
pub struct PdfWriter {
    report: Report,
    /// Bytes appended so far: the offset of the next object.
    written: u64,
    /// Offsets of the objects by number (index 0 unused); 0 while not yet written.
    offsets: Vec<u64>,
    pages: Vec<usize>,
    /// The content of the page being filled, and the baseline of its next row.
    page: Vec<u8>,
    y: f32,
    rows: u64,
}

impl PdfWriter {
    pub fn start(report: Report, out: &mut Vec<u8>) -> Self {
        let mut w = Self {
            report,
            written: 0,
            offsets: vec![0; FIRST_FREE],
            pages: Vec::new(),
            page: Vec::new(),
            y: 0.0,
            rows: 0,
        };
        // The binary comment tells transfer programs the file is not plain text.
        w.emit(out, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
        w.object(
            out,
            FONT,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        );
        w.object(
            out,
            FONT_BOLD,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        );
        w.new_page(out);
        w
    }

    /// Adds `events` to the table, starting new pages as they fill.
    pub fn rows(&mut self, events: &[Event], out: &mut Vec<u8>) {
        for e in events {
            if self.y < BOTTOM {
                self.new_page(out);
            }
            let user = if e.body.actor.name.is_empty() {
                e.body.actor.id.as_str()
            } else {
                e.body.actor.name.as_str()
            };
            let target = e
                .body
                .target
                .as_ref()
                .and_then(|t| t.name.as_deref().or(t.id.as_deref()).or(t.kind.as_deref()))
                .unwrap_or("");
            let time = e.body.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string();
            let cells = [
                time.as_str(),
                e.body.event.as_str(),
                e.body.outcome.as_str(),
                user,
                target,
                e.body.ip.as_deref().unwrap_or(""),
                e.body.source.as_deref().unwrap_or(""),
                e.body.description.as_deref().unwrap_or(""),
            ];
            self.row(&cells, false);
            self.rows += 1;
        }
    }

    /// Ends the table with the number of events, and writes the page tree, the catalog and the
    /// cross-reference table.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        if self.y < BOTTOM + ROW_HEIGHT {
            self.new_page(out);
        }
        self.y -= 6.0;
        let end = match self.rows {
            0 => "No events match this view.".to_string(),
            1 => "End of report: 1 event.".to_string(),
            n => format!("End of report: {n} events."),
        };
        self.text(MARGIN, self.y, 9.0, true, &end);
        self.end_page(out);

        let kids: Vec<String> = self.pages.iter().map(|p| format!("{p} 0 R")).collect();
        let pages = format!(
            "<< /Type /Pages /Count {} /Kids [{}] >>",
            self.pages.len(),
            kids.join(" ")
        );
        self.object(out, PAGES, pages.as_bytes());
        let catalog = format!("<< /Type /Catalog /Pages {PAGES} 0 R >>");
        self.object(out, CATALOG, catalog.as_bytes());
        let mut info = b"<< /Title ".to_vec();
        literal(&mut info, &self.report.title);
        info.extend_from_slice(b" /Producer (Audit Logs) /CreationDate ");
        literal(
            &mut info,
            &self
                .report
                .generated_at
                .format("D:%Y%m%d%H%M%SZ")
                .to_string(),
        );
        info.extend_from_slice(b" >>");
        self.object(out, INFO, &info);

        let xref = self.written;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len());
        for offset in &self.offsets[1..] {
            table.push_str(&format!("{offset:010} 00000 n \n"));
        }
        table.push_str(&format!(
            "trailer\n<< /Size {} /Root {CATALOG} 0 R /Info {INFO} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len()
        ));
        self.emit(out, table.as_bytes());
    }

    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
    }

    fn reserve(&mut self) -> usize {
        self.offsets.push(0);
        self.offsets.len() - 1
    }

    fn object(&mut self, out: &mut Vec<u8>, id: usize, body: &[u8]) {
        self.offsets[id] = self.written;
        self.emit(out, format!("{id} 0 obj\n").as_bytes());
        self.emit(out, body);
        self.emit(out, b"\nendobj\n");
    }

    /// Writes the page being filled (if any) and starts the next one: the report's heading on the
    /// first, the table's header row on every one.
    fn new_page(&mut self, out: &mut Vec<u8>) {
        if !self.page.is_empty() {
            self.end_page(out);
        }
        let mut top = HEIGHT - MARGIN;
        if self.pages.is_empty() {
            let title = self.report.title.clone();
            self.text(MARGIN, top - 14.0, 16.0, true, &title);
            let generated = format!(
                "Generated {} UTC",
                self.report.generated_at.format("%Y-%m-%d %H:%M:%S")
            );
            self.text(MARGIN, top - 30.0, 9.0, false, &generated);
            let view = format!("View: {}", self.report.view);
            self.cell(MARGIN, top - 43.0, WIDTH - 2.0 * MARGIN, 9.0, false, &view);
            top -= 60.0;
        }
        self.y = top - 10.0;
        let headings = COLUMNS.map(|(name, _)| name);
        self.row(&headings, true);
        // A rule under the header row.
        let rule = format!(
            "0.5 w {MARGIN} {:.1} m {:.1} {:.1} l S\n",
            self.y + ROW_HEIGHT - 3.0,
            WIDTH - MARGIN,
            self.y + ROW_HEIGHT - 3.0
        );
        self.page.extend_from_slice(rule.as_bytes());
    }

    fn end_page(&mut self, out: &mut Vec<u8>) {
        let number = format!("Page {}", self.pages.len() + 1);
        self.text(WIDTH - MARGIN - 40.0, MARGIN, 8.0, false, &number);
        let content = std::mem::take(&mut self.page);
        let stream_id = self.reserve();
        let mut body = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\nendstream");
        self.object(out, stream_id, &body);
        let page_id = self.reserve();
        let page = format!(
            "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] \
             /Resources << /Font << /F1 {FONT} 0 R /F2 {FONT_BOLD} 0 R >> >> /Contents {stream_id} 0 R >>"
        );
        self.object(out, page_id, page.as_bytes());
        self.pages.push(page_id);
    }

    fn row(&mut self, cells: &[&str], bold: bool) {
        let mut x = MARGIN;
        for ((_, width), text) in COLUMNS.iter().zip(cells) {
            self.cell(x, self.y, *width - 4.0, TEXT_SIZE, bold, text);
            x += width;
        }
        self.y -= ROW_HEIGHT;
    }

    /// `text` at (`x`, `y`), shortened to `width` and clipped to it.
    fn cell(&mut self, x: f32, y: f32, width: f32, size: f32, bold: bool, text: &str) {
        let clip = format!(
            "q {x:.1} {:.1} {width:.1} {:.1} re W n\n",
            y - 3.0,
            size + 5.0
        );
        self.page.extend_from_slice(clip.as_bytes());
        let fitted = fit(text, width, size);
        self.text_bytes(x, y, size, bold, &fitted);
        self.page.extend_from_slice(b"Q\n");
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let encoded = win_ansi(text);
        self.text_bytes(x, y, size, bold, &encoded);
    }

    fn text_bytes(&mut self, x: f32, y: f32, size: f32, bold: bool, encoded: &[u8]) {
        let font = if bold { "F2" } else { "F1" };
        self.page
            .extend_from_slice(format!("BT /{font} {size} Tf {x:.1} {y:.1} Td ").as_bytes());
        string(&mut self.page, encoded);
        self.page.extend_from_slice(b" Tj ET\n");
    }
}

/// Helvetica's advance widths (thousandths of the font size) of ASCII 32 to 126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // space../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0..9
    278, 278, 584, 584, 584, 556, 1015, // :..@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // A..Z
    278, 278, 278, 469, 556, 333, // [..`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, // a..z
    334, 260, 334, 584, // {..~
];
/// The width of the WinAnsi ellipsis, and of any character beyond ASCII.
const ELLIPSIS_WIDTH: u16 = 1000;
const OTHER_WIDTH: u16 = 556;
const ELLIPSIS: u8 = 0x85;

fn width_of(b: u8) -> u16 {
    match b {
        32..=126 => HELVETICA[usize::from(b - 32)],
        ELLIPSIS => ELLIPSIS_WIDTH,
        _ => OTHER_WIDTH,
    }
}

/// `text` in WinAnsiEncoding, cut with an ellipsis so that it is at most `width` points wide at
/// `size`.
pub fn fit(text: &str, width: f32, size: f32) -> Vec<u8> {
    let encoded = win_ansi(text);
    let limit = (width / size * 1000.0) as u32;
    let total: u32 = encoded.iter().map(|b| u32::from(width_of(*b))).sum();
    if total <= limit {
        return encoded;
    }
    let mut used = u32::from(ELLIPSIS_WIDTH);
    let mut cut = Vec::new();
    for b in encoded {
        used += u32::from(width_of(b));
        if used > limit {
            break;
        }
        cut.push(b);
    }
    cut.push(ELLIPSIS);
    cut
}

/// `text` as WinAnsiEncoding bytes: Latin-1 letters as they are, control characters as spaces,
/// anything else as `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '…' => ELLIPSIS,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '€' => 0x80,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Appends `bytes` as a PDF literal string, escaping what would end it.
fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'(');
    for &b in bytes {
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
}

fn literal(out: &mut Vec<u8>, text: &str) {
    string(out, &win_ansi(text));
}

#[cfg(test)]
#[path = "pdf_tests.rs"]
mod tests;
