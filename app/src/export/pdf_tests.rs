//! The PDF report, read back with a small reader of what the writer produces: the
//! cross-reference table points at every object, the page tree counts the pages, and the text
//! drawn is the report's.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::events::model::parse_event;

fn event(id: i64, name: &str, description: &str) -> Event {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 15).unwrap();
    let v = json!({"event": name, "category": "Roles", "action": "updated",
        "actor": {"id": "usr_1", "name": "Grace", "type": "user"},
        "target": {"type": "role", "id": "role_9", "name": "Billing Admin"},
        "ip": "203.0.113.7", "source": "console", "description": description});
    Event {
        id,
        received_at: at,
        body: parse_event(&v, at).expect("valid").body,
    }
}

fn report() -> Report {
    Report {
        title: "Quarterly review (Q4)".into(),
        view: "event is Role Updated; 2026-10-01 to 2026-11-01".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
    }
}

/// The whole file, written with the events given in chunks of `chunk`.
fn write(events: &[Event], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = PdfWriter::start(report(), &mut out);
    for part in events.chunks(chunk.max(1)) {
        w.rows(part, &mut out);
    }
    w.finish(&mut out);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Checks the file's structure; returns the number of pages and the strings shown, in order
/// (as WinAnsi bytes), per page.
fn read(pdf: &[u8]) -> Vec<Vec<Vec<u8>>> {
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let tail = String::from_utf8_lossy(&pdf[pdf.len() - 40..]).to_string();
    let xref: usize = tail
        .split("startxref\n")
        .nth(1)
        .and_then(|t| t.lines().next())
        .and_then(|n| n.parse().ok())
        .expect("startxref");
    assert!(
        pdf[xref..].starts_with(b"xref\n0 "),
        "startxref points at the table"
    );
    let table = String::from_utf8_lossy(&pdf[xref..]).to_string();
    let mut lines = table.lines().skip(1);
    let size: usize = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|n| n.parse().ok())
        .expect("xref size");
    let entries: Vec<&str> = lines.take(size).collect();
    assert_eq!(entries[0], "0000000000 65535 f ");
    for (id, entry) in entries.iter().enumerate().skip(1) {
        assert_eq!(entry.len(), 19, "{entry:?}");
        let offset: usize = entry[..10].parse().expect("offset");
        let head = format!("{id} 0 obj\n");
        assert!(
            pdf[offset..].starts_with(head.as_bytes()),
            "object {id} is where the table says"
        );
    }
    assert!(table.contains(&format!("/Size {size} /Root 1 0 R")));

    // The page tree, and each page's content in the order of the tree.
    let tree_at = find(pdf, b"/Type /Pages /Count ").expect("page tree");
    let tree = String::from_utf8_lossy(&pdf[tree_at..tree_at + 40_000.min(pdf.len() - tree_at)])
        .to_string();
    let count: usize = tree["/Type /Pages /Count ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count");
    let kids: Vec<usize> = tree
        .split("/Kids [")
        .nth(1)
        .and_then(|k| k.split(']').next())
        .expect("kids")
        .split(" 0 R")
        .filter_map(|k| k.trim().parse().ok())
        .collect();
    assert_eq!(kids.len(), count);
    kids.iter()
        .map(|page| {
            let offset: usize = entries[*page][..10].parse().unwrap();
            let page_obj = String::from_utf8_lossy(&pdf[offset..offset + 400]).to_string();
            let contents: usize = page_obj
                .split("/Contents ")
                .nth(1)
                .and_then(|c| c.split(' ').next())
                .and_then(|n| n.parse().ok())
                .expect("contents");
            let at: usize = entries[contents][..10].parse().unwrap();
            let obj = &pdf[at..];
            let length: usize = String::from_utf8_lossy(&obj[..80])
                .split("/Length ")
                .nth(1)
                .and_then(|l| l.split(' ').next())
                .and_then(|n| n.parse().ok())
                .expect("length");
            let start = find(obj, b"stream\n").unwrap() + "stream\n".len();
            let stream = &obj[start..start + length];
            assert!(obj[start + length..].starts_with(b"\nendstream"));
            strings(stream)
        })
        .collect()
}

/// The strings of the `(...) Tj` operators of a content stream, unescaped.
fn strings(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < stream.len() {
        if stream[i] == b'(' {
            let mut s = Vec::new();
            i += 1;
            while stream[i] != b')' {
                if stream[i] == b'\\' {
                    i += 1;
                }
                s.push(stream[i]);
                i += 1;
            }
            found.push(s);
        }
        i += 1;
    }
    found
}

fn all_text(pages: &[Vec<Vec<u8>>]) -> Vec<Vec<u8>> {
    pages.iter().flatten().cloned().collect()
}

#[test]
fn a_report_has_its_heading_the_table_and_the_count() {
    let events: Vec<Event> = (1..=3)
        .map(|i| event(i, &format!("Role Updated {i}"), "Changed (a) role \\ ok"))
        .collect();
    let pages = read(&write(&events, 2));
    assert_eq!(pages.len(), 1);
    let text = all_text(&pages);
    assert_eq!(text[0], b"Quarterly review (Q4)");
    assert_eq!(text[1], b"Generated 2026-11-26 10:00:00 UTC");
    assert_eq!(
        text[2],
        b"View: event is Role Updated; 2026-10-01 to 2026-11-01"
    );
    let headings: Vec<&[u8]> = COLUMNS.iter().map(|(n, _)| n.as_bytes()).collect();
    assert_eq!(&text[3..11], &headings[..]);
    // Row by row, every column; parentheses and backslashes survive the escaping.
    for (i, row) in text[11..35].chunks(8).enumerate() {
        assert_eq!(row[0], b"2026-11-26 09:30:15");
        assert_eq!(row[1], format!("Role Updated {}", i + 1).as_bytes());
        assert_eq!(row[2], b"success");
        assert_eq!(row[3], b"Grace");
        assert_eq!(row[4], b"Billing Admin");
        assert_eq!(row[5], b"203.0.113.7");
        assert_eq!(row[6], b"console");
        assert_eq!(row[7], b"Changed (a) role \\ ok");
    }
    assert_eq!(text[35], b"End of report: 3 events.");
    assert_eq!(text[36], b"Page 1");
    assert_eq!(text.len(), 37);
}

#[test]
fn long_reports_run_over_numbered_pages_with_the_header_row_on_each() {
    let events: Vec<Event> = (1..=500).map(|i| event(i, &format!("E{i}"), "")).collect();
    let pages = read(&write(&events, 200));
    assert!(pages.len() > 5, "{} pages", pages.len());
    let mut seen = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        let header = page.iter().position(|s| s == b"Date and Time (UTC)");
        assert!(header.is_some(), "page {} has the header row", n + 1);
        assert_eq!(
            page.last().unwrap(),
            format!("Page {}", n + 1).as_bytes(),
            "numbered"
        );
        seen.extend(
            page.iter()
                .filter(|s| s.starts_with(b"E") && s[1..].iter().all(u8::is_ascii_digit))
                .cloned(),
        );
    }
    let expected: Vec<Vec<u8>> = (1..=500).map(|i| format!("E{i}").into_bytes()).collect();
    assert_eq!(seen, expected, "every event once, in order");
}

#[test]
fn the_bytes_do_not_depend_on_how_the_events_are_split() {
    let events: Vec<Event> = (1..=130).map(|i| event(i, "Key Created", "x")).collect();
    let whole = write(&events, 130);
    assert_eq!(write(&events, 1), whole);
    assert_eq!(write(&events, 37), whole);
}

#[test]
fn an_empty_view_says_so() {
    let pages = read(&write(&[], 10));
    let text = all_text(&pages);
    assert!(text.contains(&b"No events match this view.".to_vec()));
}

#[test]
fn text_outside_win_ansi_is_replaced_and_long_text_is_cut_to_its_column() {
    assert_eq!(win_ansi("Zoë 日本\u{7}x…"), b"Zo\xeb ?? x\x85");
    let long = "W".repeat(300);
    let cut = fit(&long, 100.0, TEXT_SIZE);
    assert_eq!(*cut.last().unwrap(), ELLIPSIS);
    let width: u32 = cut.iter().map(|b| u32::from(width_of(*b))).sum();
    assert!(width as f32 * TEXT_SIZE / 1000.0 <= 100.0);
    assert!(cut.len() > 10, "as much as fits is kept");
    assert_eq!(fit("short", 100.0, TEXT_SIZE), b"short");

    let pages = read(&write(&[event(1, "Login", &long)], 1));
    let text = all_text(&pages);
    let description = &text[18];
    assert_eq!(*description.last().unwrap(), ELLIPSIS, "cut in the table");
}
