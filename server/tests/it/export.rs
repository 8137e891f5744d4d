//! `GET /api/v1/events/export`: the streamed CSV and NDJSON of a view are exactly the events the
//! list returns for that view, in its order, with formulas neutralised; limits are 400s naming the
//! limit that change nothing; every export is recorded as an event. Real server, both stores.

use crate::common;

use app::events::model::Event;
use app::events::query::{Dir, Sort, SortKey};
use app::export::ExportLimits;
use app::export::csv::{BOM, COLUMNS, record};
use app::filters::testgen::{Rng, event_json, filter};
use app::store::testing::TestDatabase;
use common::{TestApp, event, get_events, spawn_app, spawn_app_configured};
use serde_json::{Value, json};

const EXPORT: &str = "/api/v1/events/export";

async fn export(app: &TestApp, pairs: &[(String, String)]) -> reqwest::Response {
    app.client
        .get(app.url(EXPORT))
        .query(pairs)
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every event of a view through the list API, page by page, in the view's order.
async fn list_all(app: &TestApp, view: &[(String, String)]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = view.to_vec();
        q.push(("limit".into(), "2000".into()));
        if let Some(c) = &cursor {
            q.push(("cursor".into(), c.clone()));
        }
        let borrowed: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, body) = get_events(app, &borrowed).await;
        assert_eq!(status, 200, "{q:?}: {body}");
        let page: app::events::query::EventPage = serde_json::from_value(body).unwrap();
        out.extend(page.events);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
        .collect()
}

async fn exported_events(app: &TestApp) -> Vec<Value> {
    let (status, body) = get_events(
        app,
        &[
            ("event", "Audit Logs Exported"),
            ("start", "0"),
            ("limit", "100"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    body["events"].as_array().unwrap().clone()
}

/// Waits until `n` exports are recorded (each is, when its response ends); returns them.
async fn recorded(app: &TestApp, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = exported_events(app).await;
        if got.len() >= n || std::time::Instant::now() > deadline {
            assert_eq!(got.len(), n, "{got:?}");
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn exports_of_random_views_are_exactly_the_lists_events_in_order() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    let mut rng = Rng::new(7);
    // 2,600 events over the last 100 days: more than one page of the export, some outside 90 days.
    for _ in 0..3 {
        let batch: Vec<Value> = (0..870)
            .map(|_| {
                let at = now - (rng.next() % (100 * day as u64)) as i64;
                event_json(&mut rng, at)
            })
            .collect();
        let resp = app.post(&Value::Array(batch)).await;
        assert_eq!(resp.status(), 201);
    }
    let start = (now - 89 * day).to_string();
    let end = (now + 60_000).to_string();
    let mut exports = 0;
    for seed in 0..16u64 {
        // Each export records itself when it ends: wait, so the next view does not change under it.
        recorded(&app, exports).await;
        let mut rng = Rng::new(1000 + seed);
        let sort = Sort::new(
            *rng.pick(&SortKey::ALL),
            if rng.chance(50) { Dir::Asc } else { Dir::Desc },
        );
        let f = if seed == 0 {
            Default::default()
        } else {
            filter(&mut rng)
        };
        let mut view = pairs(&[("start", &start), ("end", &end)]);
        view.push(("sort".into(), sort.to_param()));
        view.extend(f.to_query());
        let expected = list_all(&app, &view).await;
        recorded(&app, exports).await;
        if seed == 0 {
            assert!(
                expected.len() > 2000,
                "the plain view spans pages: {}",
                expected.len()
            );
        }

        let mut q = view.clone();
        q.push(("format".into(), "csv".into()));
        // Before the export: its own record is written as its response ends.
        let (head, value) = app.store.chain_head().await.unwrap().unwrap();
        let resp = export(&app, &q).await;
        assert_eq!(resp.status(), 200, "{q:?}");
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(
            resp.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment; filename=\"Audit_Logs_"),
        );
        assert_eq!(
            resp.headers()["x-export-rows"],
            expected.len().to_string().as_str()
        );
        // It names the chain it covers: the newest event's chain value when it began.
        assert_eq!(resp.headers()["x-chain-through"], head.to_string().as_str());
        assert_eq!(
            resp.headers()["x-chain-value"],
            app::store::chain::hex(&value).as_str()
        );
        let rows = parse_csv(&resp.bytes().await.unwrap());
        exports += 1;
        assert_eq!(rows[0], COLUMNS, "seed {seed}");
        let want: Vec<Vec<String>> = expected.iter().map(|e| record(e).to_vec()).collect();
        assert_eq!(rows[1..], want[..], "seed {seed}: {q:?}");

        if seed % 4 == 0 {
            let mut q = view.clone();
            q.push(("format".into(), "ndjson".into()));
            recorded(&app, exports).await;
            // The CSV export's own record may be in this view now.
            let expected = list_all(&app, &view).await;
            let text = export(&app, &q).await.text().await.unwrap();
            exports += 1;
            let got: Vec<Event> = text
                .lines()
                .map(|l| serde_json::from_str(l).expect("one event per line"))
                .collect();
            assert_eq!(got, expected, "seed {seed}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn dangerous_cells_come_out_neutralised_and_the_bom_is_optional() {
    let app = spawn_app().await;
    let mut e = event("=HYPERLINK(\"http://evil\",\"x\")", 1);
    e["description"] = json!("+1+cmd|' /C calc'!A0");
    e["actor"]["name"] = json!("@SUM(A1:A9)");
    e["target"]["name"] = json!("-2+3");
    e["source"] = json!("=1");
    assert_eq!(app.post(&json!([e])).await.status(), 201);
    let now = chrono::Utc::now().timestamp_millis();
    let view = pairs(&[("start", &(now - 3_600_000).to_string()), ("bom", "1")]);
    let resp = export(&app, &view).await;
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(BOM.as_bytes()));
    let rows = parse_csv(&bytes[BOM.len()..]);
    let row = &rows[1];
    assert_eq!(row[2], "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(row[6], "'+1+cmd|' /C calc'!A0");
    assert_eq!(row[7], "'@SUM(A1:A9)");
    assert_eq!(row[11], "'-2+3");
    assert_eq!(row[14], "'=1");
    app.stop().await;
}

#[tokio::test]
async fn each_export_is_recorded_as_an_event() {
    let app = spawn_app().await;
    for i in 0..3 {
        assert_eq!(
            app.post(&json!([event("Exported Thing", i)]))
                .await
                .status(),
            201
        );
    }
    let now = chrono::Utc::now().timestamp_millis();
    let view = pairs(&[
        ("start", &(now - 3_600_000).to_string()),
        ("event", "Exported Thing"),
        ("format", "ndjson"),
    ]);
    let resp = export(&app, &view).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap().lines().count(), 3);
    let got = recorded(&app, 1).await;
    let r = &got[0];
    assert_eq!(r["outcome"], "success");
    assert_eq!(r["source"], "auditlog");
    assert_eq!(r["actor"]["name"], "test", "the API key's name");
    assert_eq!(r["metadata"]["format"], "ndjson");
    assert_eq!(r["metadata"]["rows"], 3);
    assert!(
        r["metadata"]["view"]
            .as_str()
            .unwrap()
            .contains("event=Exported Thing")
    );
    app.stop().await;
}

#[tokio::test]
async fn limits_and_bad_parameters_are_400s_naming_them_and_record_nothing() {
    let db = TestDatabase::from_env().await;
    let app = spawn_app_configured(db, |s| {
        s.with_export(ExportLimits {
            max_days: 30,
            max_rows: 3,
            pdf_rows: 2,
            ..Default::default()
        })
    })
    .await;
    for i in 0..4 {
        assert_eq!(app.post(&json!([event("Many", i)])).await.status(), 201);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let recent = (now - 3_600_000).to_string();
    let old = (now - 31 * 86_400_000).to_string();
    // (query, the field named, a part of the message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], "start", "at most 30 days"),
        (vec![("start", &old)], "end", "at most 30 days"),
        (vec![("start", &recent)], "limit", "more than 3 events"),
        (
            vec![("start", &recent), ("format", "xlsx")],
            "format",
            "csv, ndjson or pdf",
        ),
        (
            vec![
                ("start", &recent),
                ("format", "pdf"),
                ("f", "event:is:Many"),
            ],
            "limit",
            "more than 2 events, the most one PDF report may hold",
        ),
        (
            vec![("start", &recent), ("limit", "10")],
            "limit",
            "does not apply",
        ),
        (
            vec![("start", &recent), ("cursor", "abc")],
            "cursor",
            "does not apply",
        ),
        (vec![("start", &recent), ("bom", "yes")], "bom", "1 or 0"),
        (vec![("start", &recent), ("sort", "nope")], "sort", ""),
        (vec![("start", &recent), ("f", "nope")], "f", ""),
    ];
    for (q, field, text) in cases {
        let resp = export(&app, &pairs(&q)).await;
        assert_eq!(resp.status(), 400, "{q:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["field"], field, "{q:?}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(text),
            "{q:?}: {body}"
        );
    }
    // Within the limits it works.
    let ok = pairs(&[("start", &recent), ("event", "Many"), ("quiet", "1")]);
    // 4 events are more than 3: still refused; a narrower view passes.
    assert_eq!(export(&app, &ok).await.status(), 400);
    let mut narrow = ok.clone();
    narrow.push(("f".into(), "metadata.n:is:1".into()));
    let resp = export(&app, &narrow).await;
    assert_eq!(resp.status(), 200, "{narrow:?}");
    assert_eq!(parse_csv(&resp.bytes().await.unwrap()).len(), 2);
    // Only the export that ran is recorded.
    recorded(&app, 1).await;

    let anonymous = app
        .client
        .get(app.url(EXPORT))
        .query(&[("start", &recent)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}
