//! Diagnostics, preferences, the config schema and the gateway's own log file, against real
//! gateways (the `gateway` binary where a restart or the log file is involved) and the real
//! OpenClaw CLI.

use crate::util::{connect_retry, gateway_command, kill_and_wait, Secret, RUN_GUARD};
use openclaw_rs_client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Writes a config with `port` and token `tok`; returns the port.
fn write_config(dir: &Path) -> u16 {
    let port = openclaw_rs_test_support::gateway::free_port();
    std::fs::write(
        dir.join("openclaw.json"),
        format!("{{ gateway: {{ port: {port}, auth: {{ mode: 'token', token: 'tok' }} }} }}"),
    )
    .unwrap();
    port
}

/// The next `users.prefs.changed` event on `c` (bounded).
fn on_prefs_changed(c: &Client) -> tokio::task::JoinHandle<Value> {
    let mut rx = c.events();
    tokio::spawn(async move {
        tokio::time::timeout(RUN_GUARD, async {
            loop {
                match rx.recv().await {
                    Ok(ev) if ev.event == "users.prefs.changed" => {
                        return serde_json::to_value(&ev.payload).unwrap();
                    }
                    Ok(_) => {}
                    Err(e) => panic!("event stream ended: {e}"),
                }
            }
        })
        .await
        .expect("no users.prefs.changed event")
    })
}

/// The Control UI's preferences are stored for real: other operator connections hear
/// `users.prefs.changed`, conditional writes conflict, `null` deletes, limits are OpenClaw's, the
/// file is 0600, and the entries survive a restart of the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_prefs_are_stored_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = write_config(dir.path());
    let url = format!("ws://127.0.0.1:{port}");
    let mut child = gateway_command(dir.path()).spawn().expect("spawn gateway");
    let a = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    let b = connect_retry(&url, Secret::Token("tok"), dir.path()).await;

    let empty = a.request("users.prefs.get", json!({})).await.unwrap();
    assert_eq!(empty, json!({"status": "ok", "entries": {}}));
    let heard = on_prefs_changed(&b);
    let set = a
        .request(
            "users.prefs.set",
            json!({"entries": {"ui.theme": "dark", "ui.pane": {"width": 320}}}),
        )
        .await
        .unwrap();
    assert_eq!(set, json!({"status": "ok"}));
    let ev = heard.await.unwrap();
    assert_eq!(ev["profileId"], "operator", "{ev}");
    let mut keys: Vec<&str> = ev["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["ui.pane", "ui.theme"]);

    // A write conditional on a stale value changes nothing.
    let stale = a
        .request(
            "users.prefs.set",
            json!({"entries": {"ui.theme": "light"}, "expectedEntries": {"ui.theme": "solarized"}}),
        )
        .await
        .unwrap();
    assert_eq!(stale, json!({"status": "conflict"}));
    // A matching one applies; `null` deletes.
    let cas = a
        .request(
            "users.prefs.set",
            json!({"entries": {"ui.theme": "light", "ui.pane": null}, "expectedEntries": {"ui.theme": "dark"}}),
        )
        .await
        .unwrap();
    assert_eq!(cas, json!({"status": "ok"}));
    // Refusals: OpenClaw's value size limit and its params schema.
    let big = "x".repeat(5000);
    let err = a
        .request("users.prefs.set", json!({"entries": {"ui.big": big}}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("value-too-large"), "{err}");
    let err = a
        .request("users.prefs.set", json!({"entries": {}, "bogus": 1}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unexpected property 'bogus'"), "{err}");

    let file = dir.path().join("user-prefs.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "prefs file mode {mode:o}");
    }
    a.close().await;
    b.close().await;

    // Restart the binary: the entries are still there.
    kill_and_wait(&mut child).await;
    let mut child = gateway_command(dir.path())
        .spawn()
        .expect("respawn gateway");
    let c = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    let got = c
        .request("users.prefs.get", json!({"keys": ["ui.theme", "ui.pane"]}))
        .await
        .unwrap();
    assert_eq!(
        got,
        json!({"status": "ok", "entries": {"ui.theme": "light"}})
    );
    c.close().await;
    kill_and_wait(&mut child).await;
}

/// `config.schema` is generated from the config table: a hot key found in it, edited through
/// `config.patch`, is applied hot and shows in `config.get`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_schema_round_trip_edits_a_hot_key() {
    let gw = openclaw_rs_test_support::gateway::TestGateway::start_default().await;
    let c = crate::util::client(&gw).await;
    let schema = c.request("config.schema", json!({})).await.unwrap();
    let key = "gateway.handshakeTimeoutMs";
    let prop = &schema["schema"]["properties"]["gateway"]["properties"]["handshakeTimeoutMs"];
    assert_eq!(prop["type"], "integer", "{prop}");
    let hint = &schema["uiHints"][key];
    assert_eq!(hint["label"], "Handshake Timeout Ms", "{hint}");
    assert!(hint["help"].as_str().unwrap().contains("connect"), "{hint}");
    // Every table row is in the schema (rows another change adds appear automatically).
    for f in openclaw_rs_config::schema::SCHEMA {
        assert!(
            schema["uiHints"].get(f.path).is_some(),
            "{} missing",
            f.path
        );
    }

    // The editor's per-path lookup says what an edit needs (the reload classifier).
    let node = c
        .request("config.schema.lookup", json!({"path": "gateway"}))
        .await
        .unwrap();
    let kid = |p: &str| {
        node["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["path"] == p)
            .cloned()
            .unwrap_or_else(|| panic!("{p} not among the children: {node}"))
    };
    assert_eq!(kid(key)["reloadKind"], "hot");
    assert_eq!(kid("gateway.port")["reloadKind"], "restart");
    let err = c
        .request("config.schema.lookup", json!({"path": "nosuch.key"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("config schema path not found"), "{err}");

    let got = c.request("config.get", json!({})).await.unwrap();
    let res = c
        .request(
            "config.patch",
            json!({"raw": "{ gateway: { handshakeTimeoutMs: 4321 } }", "baseHash": got["hash"]}),
        )
        .await
        .unwrap();
    assert_eq!(res["requiresRestart"], false, "a hot key: {res}");
    let after = c.request("config.get", json!({})).await.unwrap();
    assert_eq!(
        after["config"]["gateway"]["handshakeTimeoutMs"], 4321,
        "{after}"
    );
    let status = c.request("status", json!({})).await.unwrap();
    assert_eq!(status["reload"]["restart"], Value::Null, "{status}");
    c.close().await;
    gw.stop().await.unwrap();
}

/// The binary keeps `$STATE/logs/gateway.jsonl` in OpenClaw's JSONL format (stderr keeps its
/// own text log); `logs.tail` serves it and the real `openclaw logs` prints its lines with time
/// and level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_log_file_is_openclaw_jsonl_and_openclaw_logs_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = write_config(dir.path());
    let url = format!("ws://127.0.0.1:{port}");
    let mut child = gateway_command(dir.path())
        .env("OPENCLAW_LOG", "info")
        .spawn()
        .expect("spawn gateway");
    let c = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    // Lines reach the file through a background writer: wait (bounded) for "gateway ready".
    let deadline = tokio::time::Instant::now() + RUN_GUARD;
    let tail = loop {
        let t = c.request("logs.tail", json!({})).await.unwrap();
        if t["lines"].to_string().contains("gateway ready") {
            break t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `gateway ready` line in logs.tail: {t}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let file = dir.path().join("logs/gateway.jsonl");
    assert_eq!(tail["file"], file.display().to_string());
    for line in tail["lines"].as_array().unwrap() {
        let v: Value = serde_json::from_str(line.as_str().unwrap()).expect("a JSON line");
        assert!(v["time"].as_str().unwrap().ends_with("+00:00"), "{v}");
        assert!(v["_meta"]["logLevelName"].is_string(), "{v}");
        assert!(v["0"].as_str().unwrap().contains("subsystem"), "{v}");
    }
    // stderr still gets the human-readable log.
    let stderr = std::fs::read_to_string(crate::util::gateway_log(dir.path())).unwrap();
    assert!(stderr.contains("gateway ready"), "{stderr}");

    let home = tempfile::tempdir().unwrap();
    if let Some(cmd) = openclaw_rs_test_support::node::openclaw_js_cli(home.path()) {
        std::fs::create_dir_all(home.path().join(".openclaw")).unwrap();
        std::fs::write(
            home.path().join(".openclaw/openclaw.json"),
            json!({"gateway": {"mode": "remote", "remote": {"url": url, "token": "tok"}}})
                .to_string(),
        )
        .unwrap();
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.args(["logs", "--limit", "50"]).kill_on_drop(true);
        let out = tokio::time::timeout(RUN_GUARD, cmd.output())
            .await
            .expect("openclaw logs hung")
            .expect("run openclaw logs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "openclaw logs: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let ready = stdout
            .lines()
            .find(|l| l.contains("gateway ready"))
            .unwrap_or_else(|| panic!("openclaw logs did not print the ready line:\n{stdout}"));
        // `2026-12-03T14:04:55.463+00:00 info gateway gateway ready …`
        let mut cols = ready.split_whitespace();
        assert!(
            cols.next().is_some_and(|t| t.ends_with("+00:00")),
            "{ready}"
        );
        assert_eq!(cols.next(), Some("info"), "{ready}");
    } else {
        eprintln!("\n!!! SKIPPED openclaw logs check: node/openclaw not installed (cargo xtask install-deps)\n");
    }
    c.close().await;
    kill_and_wait(&mut child).await;
}
