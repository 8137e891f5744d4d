//! Hostile values through the whole path (TRUST_TESTS T9 and T10, and the trust issue's list):
//! SQL fragments, strings at and over their limits, invalid UTF-8, NUL bytes, deep nesting,
//! control characters and timestamps at the edges of what is representable. Each one is either
//! refused with a 4xx that names the problem (and nothing is stored), or stored and read back
//! exactly as sent; and the chain verifies afterwards.

use crate::common;

use app::store::testing::TestDatabase;
use common::{post_raw, spawn_app};
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "event": "Hostile", "category": "Tests", "action": "sent",
        "actor": {"id": "usr_h", "name": "H", "type": "user"}
    })
}

#[tokio::test]
async fn hostile_values_are_refused_by_name_or_stored_inertly() {
    let app = spawn_app().await;

    // Stored and read back byte for byte: SQL, FTS and filter syntax, markup, control characters.
    let inert = [
        "'; DROP TABLE events; --",
        "\" OR 1=1 --",
        "x\r\nauthn_login_success:admin",
        "\u{1b}[2J\u{1b}[31mred",
        "<script>alert(1)</script><img src=x onerror=alert(2)>",
        "NEAR(a b) AND \"c\"* OR d:* & !e | (f",
        "f=event:is:x&join=any",
        "emoji 👩🏽‍💻 and RTL \u{202e}gnp.exe",
        "tab\there\u{7f}\u{85}\u{2028}end",
    ];
    let mut sent = Vec::new();
    for text in inert {
        let mut e = base();
        e["description"] = json!(text);
        e["actor"]["name"] = json!(text);
        e["target"] = json!({"type": "doc", "name": text});
        e["metadata"] = json!({ text: text, "nested": {"k": [text]} });
        let (status, body) = post_raw(&app, serde_json::to_vec(&e).unwrap()).await;
        assert_eq!(status, 201, "{text:?}: {body}");
        sent.push((body["results"][0]["id"].as_i64().unwrap(), text));
    }
    for (id, text) in &sent {
        let resp = app
            .client
            .get(app.url(&format!("/api/v1/events/{id}")))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        let e: Value = resp.json().await.unwrap();
        assert_eq!(e["description"], *text);
        assert_eq!(e["actor"]["name"], *text);
        assert_eq!(e["target"]["name"], *text);
        assert_eq!(e["metadata"][text], *text);
    }
    // As filter values and searches they match literally, or nothing; never an error.
    for text in inert {
        for (k, v) in [
            ("f", format!("description:is:{text}")),
            ("f", format!("user.name:contains:{text}")),
            ("q", text.to_string()),
        ] {
            let (status, body) = common::get_events(&app, &[(k, &v)]).await;
            assert_eq!(status, 200, "{k}={v:?}: {body}");
            if v.starts_with("description:is:") {
                assert_eq!(body["events"].as_array().unwrap().len(), 1, "{v:?}");
            }
        }
    }
    let before = app.all_ids().await.len();

    // Refused, naming the problem.
    let mut refusals: Vec<(Vec<u8>, u16, &str)> = Vec::new();
    let mut long = base();
    long["description"] = json!("d".repeat(app::events::model::MAX_DESCRIPTION_BYTES + 1));
    refusals.push((serde_json::to_vec(&long).unwrap(), 422, "description"));
    let mut long_name = base();
    long_name["event"] = json!("e".repeat(app::events::model::MAX_STRING_BYTES + 1));
    refusals.push((serde_json::to_vec(&long_name).unwrap(), 422, "event"));
    let mut mib = base();
    mib["metadata"] = json!({"blob": "m".repeat(1024 * 1024)});
    refusals.push((serde_json::to_vec(&mib).unwrap(), 413, "1048576"));
    let mut nul = base();
    nul["description"] = json!("before\u{0}after");
    refusals.push((serde_json::to_vec(&nul).unwrap(), 422, "description"));
    let mut nul_key = base();
    nul_key["metadata"] = json!({"a\u{0}b": 1});
    refusals.push((serde_json::to_vec(&nul_key).unwrap(), 422, "metadata"));
    let mut bad_utf8 = serde_json::to_vec(&base()).unwrap();
    let at = bad_utf8.len() - 2;
    bad_utf8.splice(
        at..at,
        [b',', b'"', b'x', b'"', b':', b'"', 0xff, 0xfe, b'"'],
    );
    refusals.push((bad_utf8, 400, "malformed JSON"));
    let deep = format!(
        "{{\"event\":\"x\",\"category\":\"c\",\"action\":\"a\",\"actor\":{{\"id\":\"u\",\"type\":\"user\"}},\"metadata\":{}{}}}",
        "{\"a\":".repeat(300),
        "1".to_string() + &"}".repeat(300)
    );
    refusals.push((deep.into_bytes(), 400, "malformed JSON"));
    for time in [
        json!("0000-01-01T00:00:00Z"),
        json!("+275760-09-13T00:00:00Z"),
        json!(i64::MAX),
        json!(-1),
        json!(1e300),
        json!("1969-12-31T23:59:59Z"),
        json!((chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339()),
        json!("not a time"),
    ] {
        let mut e = base();
        e["occurred_at"] = time;
        refusals.push((serde_json::to_vec(&e).unwrap(), 422, "occurred_at"));
    }
    for (body, status, names) in refusals {
        let shown = String::from_utf8_lossy(&body)
            .chars()
            .take(80)
            .collect::<String>();
        let (got, answer) = post_raw(&app, body).await;
        assert_eq!(got, status, "{shown}: {answer}");
        let text = answer.to_string();
        assert!(text.contains(names), "{shown}: {answer}");
    }
    assert_eq!(
        app.all_ids().await.len(),
        before,
        "a refusal stored something"
    );

    // The edges that are accepted: the first millisecond of 1970, and now.
    for time in [json!("1970-01-01T00:00:00Z"), json!(0)] {
        let mut e = base();
        e["occurred_at"] = time;
        let (status, body) = post_raw(&app, serde_json::to_vec(&e).unwrap()).await;
        assert_eq!(status, 201, "{body}");
    }
    let v = app
        .store
        .verify(&app::store::verify::VerifyOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(v.ok(), "{v:?}");
    app.stop().await;
}

/// T9: input with line breaks and escape codes cannot forge lines in the server's own log.
#[tokio::test]
async fn the_servers_log_holds_no_raw_line_breaks_from_input() {
    let db = app::store::testing::TestDatabase::from_env().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["--database-url", &db.url, "--signing-key"])
        .arg(dir.path().join("signing.key"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let forged = "x\r\nINFO authn_login_success: admin\u{1b}[2J";
    let mut answered = false;
    for _ in 0..200 {
        let sent = client
            .post(format!("{base}/auth/sign-in"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("name", forged), ("password", "wrong password!!")])
            .send()
            .await;
        if sent.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(answered, "the server did not come up");
    // The sign-in is answered after it was logged.
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("failed sign-in"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("INFO authn_login_success")),
        "{text}"
    );
    assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text}");
}

/// A client that trickles its request (a slowloris, T10) is cut off at the configured deadline:
/// a head sent a byte at a time loses its connection, a trickled ingest body gets 408 naming the
/// deadline, and nothing is stored; a normal request on another connection is served meanwhile.
#[tokio::test]
async fn slow_clients_are_cut_off_at_their_deadlines() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let second = Duration::from_secs(1);
    let app = common::spawn_app_configured(TestDatabase::from_env().await, |state| {
        state.with_timeouts(server::HttpTimeouts {
            header: second,
            body_idle: Duration::from_secs(5),
            body: second,
        })
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();

    // Reads until the server closes the connection (or 10 s pass); what it sent.
    async fn until_closed(stream: &mut tokio::net::TcpStream) -> (Duration, String) {
        let started = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while started.elapsed() < Duration::from_secs(10) {
            match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Err(_) => {
                    // Still open: trickle one more byte, as a slowloris does.
                    if stream.write_all(b"a").await.is_err() {
                        break;
                    }
                }
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&got).into_owned(),
        )
    }

    // The head, a byte at a time: disconnected after the 1 s deadline, long before 10 s.
    let mut head = tokio::net::TcpStream::connect(&addr).await.unwrap();
    head.write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (held, _) = until_closed(&mut head).await;
    assert!(
        held < Duration::from_secs(8),
        "a trickled request head held its connection for {held:?}"
    );

    // An ingest body, a byte at a time: 408 naming the deadline, and the connection ends.
    let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[",
        app.key
    );
    body.write_all(request.as_bytes()).await.unwrap();
    // Meanwhile a normal request is served.
    let (status, _) = post_raw(&app, serde_json::to_vec(&base()).unwrap()).await;
    assert_eq!(status, 201);
    let (held, answer) = until_closed(&mut body).await;
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "a trickled body got: {answer:?}"
    );
    assert!(
        answer.contains("did not arrive within 1 s"),
        "the 408 names the deadline: {answer:?}"
    );
    assert!(held < Duration::from_secs(8), "held for {held:?}");
    assert_eq!(
        app.all_ids().await.len(),
        1,
        "only the normal request stored"
    );
    app.stop().await;
}
