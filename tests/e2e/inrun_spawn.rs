//! Seed 004 designed out: an agent *inside a run* spawns a subagent through the gateway's
//! in-process `SpawnHandle` (the app-server dynamic tool `sessions_spawn`, called by the task as
//! `"$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{…}'`). The gateway has token auth and no
//! paired device at all; the spawn opens no WebSocket, creates no pairing request and no device.
//! Needs `cargo build --workspace --bins` (the embedded runtime binary).

use crate::util::{call, client, send_main, wait_for, wait_run, RUN_GUARD as GUARD};
use openclaw_rs_client::Client;
use openclaw_rs_test_support::gateway::{bin_path, TestGateway};
use serde_json::{json, Value};

/// Every pending request and paired device the gateway knows of.
async fn pairing_records(c: &Client) -> usize {
    let list = call(c, "device.pair.list", json!({})).await;
    let count = |k: &str| list[k].as_array().map_or(0, Vec::len);
    assert!(
        list["pending"].is_array() && list["paired"].is_array(),
        "unexpected device.pair.list shape: {list}"
    );
    count("pending") + count("paired")
}

/// The JSON object a tool call printed (the first line of `text` that parses as one and has
/// `key`).
fn tool_json(text: &str, key: &str) -> Value {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(|v| v.get(key).is_some())
        .unwrap_or_else(|| panic!("no tool result with {key:?} in: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_spawns_a_subagent_in_process_without_pairing() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    assert!(gw.token.is_some(), "the test gateway must use token auth");
    let c = client(&gw).await;
    let mut events = c.events();
    assert_eq!(pairing_records(&c).await, 0, "fresh gateway has devices");
    let connections_before = call(&c, "status", json!({})).await["connections"].clone();
    assert_eq!(connections_before, 1, "only this test's client");

    // The child waits for a gate, so the test can look at the gateway while the parent's tool
    // call is in flight.
    let gate = gw.state_dir.path().join("child-gate");
    let task = format!(
        r#""$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{{"task":"while [ ! -e {gate} ]; do sleep 0.05; done; echo from-child","wait":true,"label":"inrun"}}'"#,
        gate = gate.display()
    );
    let sent = send_main(&c, "inrun-parent", &task, None).await;
    assert_eq!(sent["status"], "started", "{sent}");
    wait_for(
        &c,
        "sessions.list",
        json!({"spawnedBy": "agent:main:main"}),
        "the child never started",
        |kids| kids["sessions"][0]["status"] == "running",
    )
    .await;
    // Parent running, its tool call waiting on the running child: still just our socket, no
    // handshake in progress, nothing in the pairing store.
    assert_eq!(gw.state.connection_count(), 1);
    assert_eq!(gw.state.preauth_count(), 0);
    assert_eq!(pairing_records(&c).await, 0);
    std::fs::write(&gate, b"go").unwrap();
    let parent = wait_run(&c, "inrun-parent").await;
    assert_eq!(parent["runStatus"], "completed", "{parent}");

    // The child's output is in the parent's streamed deltas.
    let mut deltas = String::new();
    // (runId, final text) of every run whose `final` reached this connection.
    let mut finals: Vec<(String, String)> = Vec::new();
    let _ = tokio::time::timeout(GUARD, async {
        loop {
            let ev = events.recv().await.expect("event stream");
            let p = ev.payload.unwrap_or_default();
            if ev.event == "chat" && p["state"] == "final" {
                finals.push((
                    p["runId"].as_str().unwrap_or_default().to_owned(),
                    p["message"]["content"][0]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ));
            }
            if ev.event == "chat" && p["runId"] == "inrun-parent" {
                if p["state"] == "delta" {
                    deltas.push_str(p["deltaText"].as_str().unwrap_or_default());
                }
                if p["state"] == "final" {
                    return;
                }
            }
        }
    })
    .await;
    let result = tool_json(&deltas, "childSessionKey");
    assert_eq!(result["status"], "completed", "{deltas}");
    assert_eq!(result["text"], "from-child\n", "{deltas}");
    let child_key = result["childSessionKey"].as_str().unwrap().to_owned();
    let child_run = result["runId"].as_str().unwrap().to_owned();
    assert!(child_key.starts_with("agent:main:subagent:"), "{child_key}");
    // The connection that started the parent also saw its child's run, without subscribing.
    assert!(
        finals.contains(&(child_run.clone(), "from-child\n".to_owned())),
        "{finals:?}"
    );

    // The child is a real session of the parent, and its run completed.
    let child = call(&c, "sessions.get", json!({"sessionKey": child_key})).await;
    assert_eq!(child["session"]["spawnedBy"], "agent:main:main", "{child}");
    assert_eq!(child["session"]["label"], "inrun", "{child}");
    assert_eq!(child["session"]["spawnDepth"], 1, "{child}");
    let w = wait_run(&c, &child_run).await;
    assert_eq!(w["runStatus"], "completed", "{w}");
    assert_eq!(w["text"], "from-child\n", "{w}");

    // The child's result is announced to the parent, durably, once.
    let announce = format!("announce:{child_run}");
    let announce_ids = |h: &Value| -> Vec<String> {
        h["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "system")
            .filter_map(|m| m["announceId"].as_str().map(str::to_owned))
            .collect()
    };
    let h = wait_for(
        &c,
        "chat.history",
        json!({"sessionKey": "agent:main:main", "limit": 100}),
        "no announce in the parent",
        |h| !announce_ids(h).is_empty(),
    )
    .await;
    assert_eq!(announce_ids(&h), vec![announce], "{h}");

    // The session's next run resumes the same runtime thread; the tool is still there, and
    // without `wait` the spawn answers at once.
    let task = r#""$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{"task":"echo second"}'"#;
    send_main(&c, "inrun-again", task, None).await;
    let again = wait_run(&c, "inrun-again").await;
    assert_eq!(again["runStatus"], "completed", "{again}");
    let accepted = tool_json(again["text"].as_str().unwrap_or_default(), "runId");
    assert_eq!(accepted["status"], "accepted", "{again}");
    let second = wait_run(&c, accepted["runId"].as_str().unwrap()).await;
    assert_eq!(second["text"], "second\n", "{second}");

    // Seed 004 designed out: no pairing request, no device, no extra connection.
    assert_eq!(pairing_records(&c).await, 0, "the spawn touched pairing");
    let status = call(&c, "status", json!({})).await;
    assert_eq!(status["connections"], connections_before, "{status}");
    assert_eq!(status["pairing"]["pending"], 0, "{status}");
    c.close().await;
    gw.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_run_spawns_obey_the_session_limits() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let c = client(&gw).await;
    // A child (depth 1, the default maximum) tries to spawn a grandchild (depth 2).
    let task = r#""$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{"task":"echo grandchild"}' 2>&1; echo "rc=$?""#;
    let acc = call(&c, "sessions.spawn", json!({"task": task})).await;
    let w = wait_run(&c, acc["runId"].as_str().unwrap()).await;
    assert_eq!(w["runStatus"], "completed", "{w}");
    let text = w["text"].as_str().unwrap_or_default();
    assert!(text.contains("failed: "), "{text}");
    assert!(text.contains("rc=1"), "{text}");
    let refusal = tool_json(text.split("failed: ").nth(1).unwrap_or_default(), "setting");
    assert_eq!(refusal["status"], "forbidden", "{text}");
    assert_eq!(refusal["code"], "LIMIT_EXCEEDED", "{text}");
    assert_eq!(refusal["setting"], "session.maxSpawnDepth", "{text}");
    assert!(
        refusal["error"]
            .as_str()
            .unwrap()
            .contains("session.maxSpawnDepth = 1"),
        "{text}"
    );
    // No grandchild was created.
    let kids = call(
        &c,
        "sessions.list",
        json!({"spawnedBy": acc["childSessionKey"]}),
    )
    .await;
    assert_eq!(kids["count"], 0, "{kids}");

    // Bad arguments are a failed result too, with the fix in the message.
    let task =
        r#""$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{"wait":true}' 2>&1; echo "rc=$?""#;
    let sent = send_main(&c, "bad-args", task, None).await;
    assert_eq!(sent["status"], "started");
    let w = wait_run(&c, "bad-args").await;
    let text = w["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("invalid sessions_spawn arguments: `task` (string) is required"),
        "{text}"
    );
    assert!(text.contains("rc=1"), "{text}");
    c.close().await;
    gw.stop().await.unwrap();
}
