//! Offline verification, as a reviewer who holds only files does it: every event as NDJSON
//! (`auditlog export`), the checkpoints file of `auditlog checkpoints export` and the public key,
//! checked by
//! `scripts/verify-export.py`, an implementation of the documented chain encoding that shares
//! no code with the server. It passes on what the server exported, values that are awkward to
//! re-encode included, and fails, naming the place, once any byte of an event, a missing event,
//! a forged checkpoint or a wrong key is in the files. A filtered export checks as a subset.

use crate::common;

use serde_json::{Value, json};

fn run_script(args: &[&std::path::Path], extra: &[&str]) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/verify-export.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .args(extra)
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn export(app: &common::TestApp, view: &str) -> String {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/events/export?format=ndjson&{view}")))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

// Two worker threads: the command line runs as a blocking child process while the server, in
// this runtime, may be committing its record of the export (on PostgreSQL the command line then
// waits for the writers' lock, which a blocked single-threaded runtime would never release).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_verifies_offline_against_the_signed_checkpoints_and_tampering_fails() {
    let app = common::spawn_app().await;
    let mut batch: Vec<Value> = (0..30)
        .map(|i| common::event(if i % 3 == 0 { "Role Deleted" } else { "Login" }, i))
        .collect();
    // Values whose re-encoding is easy to get wrong: floats, big and negative numbers, nested
    // and unsorted keys, non-ASCII and control characters, a change record, an early date.
    batch[1]["metadata"] = json!({"z": 1.5e300, "a": -0.000125, "big": 9007199254740993u64,
        "nested": {"é": ["x\u{1}y", null, true, {"b": 2, "a": 1}]}, "line": "a\nb\u{2028}"});
    batch[2]["changes"] = json!({"role": {"old": "viewer", "new": "admin"}});
    batch[3]["description"] = json!("Ünïcödé \"quoted\" \\ back\tslash 🚀");
    batch[4]["occurred_at"] = json!("1970-01-01T00:00:00.001Z");
    let res = app.post(&Value::Array(batch)).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing.key");
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
            .arg("--database-url")
            .arg(&app.db.url)
            .arg("--signing-key")
            .arg(&key_file)
            .args(args)
            .output()
            .expect("run auditlog");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["checkpoints", "create"]);
    let all_file = dir.path().join("all.ndjson");
    cli(&["export", "--out", all_file.to_str().unwrap()]);
    let all = std::fs::read_to_string(&all_file).unwrap();
    let day_ago = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let filtered = export(&app, &format!("start={day_ago}&f=event:is:Role%20Deleted")).await;
    let doc = cli(&["checkpoints", "export"]);
    let doc: Value = serde_json::from_str(&doc[doc.find('{').unwrap()..]).unwrap();
    let public = doc["public_key"].as_str().unwrap().to_string();
    // The checkpoint signs the chain through the 30 events and what the command line recorded.
    let signed = doc["checkpoints"][0]["event_id"].as_i64().unwrap();
    assert!(signed >= 30, "{doc}");

    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let checkpoints = write("checkpoints.json", &doc.to_string());
    let subset = write("filtered.ndjson", &filtered);

    let (ok, out) = run_script(&[&all_file, &checkpoints], &["--public-key", &public]);
    assert!(ok, "{out}");
    let verified = format!("Verified events #1 to #{signed} from the first event against 1 signed");
    assert!(out.contains(&verified), "{out}");
    let (ok, out) = run_script(
        &[&all_file, &checkpoints],
        &["--subset", subset.to_str().unwrap()],
    );
    assert!(
        ok && out.contains("every event is in the verified range, unchanged"),
        "{out}"
    );

    // The command line's export is itself on record.
    let (_, names) = app.list("event=Audit%20Logs%20Exported").await;
    assert!(
        names.to_string().contains("from the command line"),
        "{names}"
    );

    // One character of one event's description, in the full export and in the filtered one.
    let lines: Vec<&str> = all.lines().collect();
    let victim = lines
        .iter()
        .position(|l| l.contains("Role Deleted") && l.contains("\"id\":4,"))
        .expect("event #4 is exported");
    let changed = lines[victim].replace("Ünïcödé", "Unicode");
    let mut tampered = lines.clone();
    tampered[victim] = &changed;
    let bad = write("changed.ndjson", &tampered.join("\n"));
    let (ok, out) = run_script(&[&bad, &checkpoints], &[]);
    let broken = format!("after event #{signed}: an event from #1 to #{signed} was changed");
    assert!(!ok && out.contains(&broken), "{out}");
    let bad_subset = write(
        "changed-subset.ndjson",
        &filtered.replace("Ünïcödé", "Unicode"),
    );
    let (ok, out) = run_script(
        &[&all_file, &checkpoints],
        &["--subset", bad_subset.to_str().unwrap()],
    );
    assert!(
        !ok && out.contains("event #4 differs from the verified export"),
        "{out}"
    );

    // One event left out.
    let mut missing = lines.clone();
    missing.remove(lines.iter().position(|l| l.contains("\"id\":7,")).unwrap());
    let gap = write("missing.ndjson", &missing.join("\n"));
    let (ok, out) = run_script(&[&gap, &checkpoints], &[]);
    assert!(!ok && out.contains("event #7 is missing"), "{out}");

    // A checkpoint moved to another chain value, and a key other than the owner's.
    let mut forged = doc.clone();
    forged["checkpoints"][0]["chain"] = json!("00".repeat(32));
    let forged = write("forged.json", &forged.to_string());
    let (ok, out) = run_script(&[&all_file, &forged], &[]);
    assert!(!ok && out.contains("bad signature"), "{out}");
    let (ok, out) = run_script(
        &[&all_file, &checkpoints],
        &["--public-key", &"ab".repeat(32)],
    );
    assert!(!ok && out.contains("signed by another key"), "{out}");
    app.stop().await;
}
