//! Server exports with a history (`/api/v1/exports`): a job runs to Completed with the file's
//! size and SHA-256, and its file is exactly the streamed export of the same view; bad requests are
//! 400s that record nothing; a job interrupted by a restart or failing part way is Failed and
//! leaves no file; expired files are deleted. Real server, both stores.

use crate::common;

use std::time::Duration;

use app::export::jobs::{ExportFormat, ExportStatus, NewExport};
use app::store::ExportUpdate;
use app::store::testing::TestDatabase;
use common::{TestApp, event, spawn_app_configured};
use serde_json::{Value, json};
use server::exports::ExportJobs;
use sha2::{Digest, Sha256};

async fn app_in(dir: &std::path::Path) -> TestApp {
    let dir = dir.to_path_buf();
    spawn_app_configured(TestDatabase::from_env().await, move |s| {
        s.with_exports(dir, Duration::from_secs(3600))
    })
    .await
}

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/api/v1/exports"))
        .bearer_auth(&app.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap()
}

/// Waits until export `id` is no longer Queued or Running; returns it.
async fn finished(app: &TestApp, id: i64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let job: Value = get(app, &format!("/api/v1/exports/{id}"))
            .await
            .json()
            .await
            .unwrap();
        let status = job["status"].as_str().unwrap().to_string();
        if status != "queued" && status != "running" {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "export {id} never finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_job_completes_and_its_file_is_the_views_export_with_its_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path()).await;
    let batch: Vec<Value> = (0..2500)
        .map(|i| event(if i % 3 == 0 { "Login Failed" } else { "Login" }, i % 500))
        .collect();
    for chunk in batch.chunks(1000) {
        assert_eq!(app.post(&Value::Array(chunk.to_vec())).await.status(), 201);
    }
    let start = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let view = format!("start={start}&sort=user&f=event:any_of:Login%7CLogin%20Failed");
    for format in ["csv", "ndjson"] {
        let (status, job) = post(
            &app,
            json!({"name": "Quarterly review", "format": format, "view": view}),
        )
        .await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(job["name"], "Quarterly review");
        assert_eq!(job["requested_by"], "test");
        assert!(["queued", "running"].contains(&job["status"].as_str().unwrap()));
        let id = job["id"].as_i64().unwrap();
        let job = finished(&app, id).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["rows"], 2500);
        assert!(
            job["summary"].as_str().unwrap().contains("is any of"),
            "{job}"
        );
        assert!(job["expires_at"].as_i64().unwrap() > job["finished_at"].as_i64().unwrap());

        let resp = get(&app, &format!("/api/v1/exports/{id}/file")).await;
        assert_eq!(resp.status(), 200);
        let disposition = resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"Quarterly_review_{id}.{format}\"")
        );
        let header_sha = resp.headers()["x-export-sha256"]
            .to_str()
            .unwrap()
            .to_string();
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(sha256(&bytes), header_sha);
        assert_eq!(job["sha256"], header_sha);
        assert_eq!(job["bytes"], bytes.len());

        // The same view streamed: the same bytes.
        let streamed = get(
            &app,
            &format!("/api/v1/events/export?format={format}&{view}"),
        )
        .await
        .bytes()
        .await
        .unwrap();
        assert_eq!(bytes, streamed, "{format}");
    }
    // Compressed: a .csv.gz whose content is the same CSV, and smaller.
    let (status, job) = post(
        &app,
        json!({"name": "Packed", "format": "csv", "view": view, "gzip": true}),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_i64().unwrap();
    let job = finished(&app, id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["gzip"], true);
    let resp = get(&app, &format!("/api/v1/exports/{id}/file")).await;
    assert_eq!(resp.headers()["content-type"], "application/gzip");
    assert_eq!(
        resp.headers()["content-disposition"],
        format!("attachment; filename=\"Packed_{id}.csv.gz\"").as_str()
    );
    let packed = resp.bytes().await.unwrap();
    assert_eq!(
        job["sha256"],
        sha256(&packed),
        "the SHA-256 of the file as stored"
    );
    let mut csv = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut csv).unwrap();
    let streamed = get(&app, &format!("/api/v1/events/export?format=csv&{view}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(csv, streamed);
    assert!(
        packed.len() * 3 < csv.len(),
        "{} → {}",
        csv.len(),
        packed.len()
    );

    let history: Value = get(&app, "/api/v1/exports").await.json().await.unwrap();
    let formats: Vec<&str> = history["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["csv", "ndjson", "csv"], "newest first");
    // Each download is an audit event naming the export and who took it.
    let (_, downloads) = common::get_events(
        &app,
        &[("event", "Audit Logs Export Downloaded"), ("start", "0")],
    )
    .await;
    let downloads = downloads["events"].as_array().unwrap();
    assert!(downloads.len() >= 3, "{downloads:?}");
    assert_eq!(downloads[0]["target"]["name"], "Packed");
    assert_eq!(downloads[0]["actor"]["type"], "app");
    assert_eq!(downloads[0]["source"], "auditlog");
    app.stop().await;
}

/// How many times `needle` occurs in `hay`.
fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[tokio::test]
async fn a_pdf_report_holds_the_views_events_and_its_description() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path()).await;
    let mut batch: Vec<Value> = (0..60)
        .map(|i| event(&format!("Pdf Event {i}"), i))
        .collect();
    batch.extend((0..5).map(|i| event("Other", i)));
    assert_eq!(app.post(&Value::Array(batch)).await.status(), 201);
    let start = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let view = format!("start={start}&f=event:starts_with:Pdf");

    let (status, job) = post(
        &app,
        json!({"name": "Monthly report", "format": "pdf", "view": view}),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_i64().unwrap();
    let job = finished(&app, id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["rows"], 60);
    let resp = get(&app, &format!("/api/v1/exports/{id}/file")).await;
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(&format!("Monthly_report_{id}.pdf\""))
    );
    let pdf = resp.bytes().await.unwrap();
    assert_eq!(job["sha256"], sha256(&pdf));
    assert!(pdf.starts_with(b"%PDF-1.4\n") && pdf.ends_with(b"%%EOF\n"));
    assert_eq!(occurrences(&pdf, b"(Monthly report)"), 2, "title and info");
    assert_eq!(occurrences(&pdf, b"(View: Event starts with Pdf; "), 1);
    assert_eq!(occurrences(&pdf, b"(Pdf Event "), 60, "each event once");
    assert_eq!(occurrences(&pdf, b"(Other)"), 0, "only the view's events");
    assert_eq!(occurrences(&pdf, b"(End of report: 60 events.)"), 1);

    // The same report streamed.
    let resp = get(&app, &format!("/api/v1/events/export?format=pdf&{view}")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let streamed = resp.bytes().await.unwrap();
    assert_eq!(occurrences(&streamed, b"(Pdf Event "), 60);
    assert!(streamed.ends_with(b"%%EOF\n"));
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_are_400s_naming_the_problem_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path()).await;
    assert_eq!(app.post(&json!([event("Thing", 1)])).await.status(), 201);
    let start = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let old = (chrono::Utc::now() - chrono::Duration::days(200)).timestamp_millis();
    let cases = [
        (
            json!({"format": "csv", "view": format!("start={start}")}),
            "name",
        ),
        (
            json!({"name": " ", "view": format!("start={start}")}),
            "name",
        ),
        (
            json!({"name": "x".repeat(201), "view": format!("start={start}")}),
            "name",
        ),
        (
            json!({"name": "a", "format": "xlsx", "view": format!("start={start}")}),
            "format",
        ),
        (
            json!({"name": "a", "format": "pdf", "gzip": true, "view": format!("start={start}")}),
            "gzip",
        ),
        (json!({"name": "a", "view": ""}), "start"),
        (json!({"name": "a", "view": format!("start={old}")}), "end"),
        (
            json!({"name": "a", "view": format!("start={start}&f=nope")}),
            "f",
        ),
        (
            json!({"name": "a", "view": format!("start={start}&bom=1")}),
            "view",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = post(&app, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let resp = app
        .client
        .post(app.url("/api/v1/exports"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let history: Value = get(&app, "/api/v1/exports").await.json().await.unwrap();
    assert_eq!(history["exports"], json!([]));
    assert_eq!(get(&app, "/api/v1/exports/99").await.status(), 404);
    assert_eq!(get(&app, "/api/v1/exports/abc").await.status(), 400);
    let anonymous = app
        .client
        .get(app.url("/api/v1/exports"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn an_export_interrupted_by_a_restart_is_failed_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::from_env().await;
    let store = app::store::Store::open(&db.url).await.unwrap();
    let job = store
        .create_export(&NewExport {
            name: "Cut short".into(),
            requested_by: "test".into(),
            format: ExportFormat::Csv,
            view: "start=0".into(),
            summary: "every event".into(),
            range_start: Some(0),
            range_end: None,
            gzip: false,
        })
        .await
        .unwrap();
    store
        .update_export(job.id, &ExportUpdate::Running)
        .await
        .unwrap();
    let part = dir.path().join(format!("export-{}.csv.part", job.id));
    std::fs::write(&part, "Seq,Date and Time (UTC)\r\n1,").unwrap();

    // What `auditlog serve` does when it starts.
    let jobs = ExportJobs::new(store.clone(), dir.path(), Duration::from_secs(3600));
    assert_eq!(jobs.recover().await.unwrap(), 1);
    let after = store.get_export(job.id).await.unwrap().unwrap();
    assert_eq!(after.status, ExportStatus::Failed);
    assert!(after.error.unwrap().contains("stopped"));
    assert!(!part.exists(), "the half-written file is gone");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    store.close().await;
    drop(db);
}

#[tokio::test]
async fn a_failing_export_is_marked_failed_and_offers_no_file() {
    // The exports folder cannot be created: a file is in its way.
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("exports");
    std::fs::write(&blocked, "not a folder").unwrap();
    let app = app_in(&blocked).await;
    assert_eq!(app.post(&json!([event("Thing", 1)])).await.status(), 201);
    let start = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let (status, job) = post(
        &app,
        json!({"name": "Doomed", "view": format!("start={start}")}),
    )
    .await;
    assert_eq!(status, 202);
    let id = job["id"].as_i64().unwrap();
    let job = finished(&app, id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("writing the file"),
        "{job}"
    );
    let resp = get(&app, &format!("/api/v1/exports/{id}/file")).await;
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("Failed"), "{body}");
    // The failure is recorded like any export.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, list) =
            common::get_events(&app, &[("event", "Audit Logs Exported"), ("start", "0")]).await;
        if let Some(e) = list["events"].as_array().unwrap().first() {
            assert_eq!(e["outcome"], "failure");
            assert_eq!(e["metadata"]["written_by"], "server");
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn expired_files_are_deleted_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let app = {
        let dir = dir.path().to_path_buf();
        spawn_app_configured(TestDatabase::from_env().await, move |s| {
            s.with_exports(dir, Duration::ZERO)
        })
        .await
    };
    assert_eq!(app.post(&json!([event("Thing", 1)])).await.status(), 201);
    let start = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let (_, job) = post(
        &app,
        json!({"name": "Short lived", "view": format!("start={start}")}),
    )
    .await;
    let id = job["id"].as_i64().unwrap();
    assert_eq!(finished(&app, id).await["status"], "completed");
    let file = dir.path().join(format!("export-{id}.csv"));
    assert!(file.exists());

    let jobs = ExportJobs::new(app.store.clone(), dir.path(), Duration::ZERO);
    assert_eq!(jobs.sweep().await.unwrap(), 1);
    assert!(!file.exists());
    let job: Value = get(&app, &format!("/api/v1/exports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "expired");
    assert_eq!(
        get(&app, &format!("/api/v1/exports/{id}/file"))
            .await
            .status(),
        410
    );
    app.stop().await;
}
