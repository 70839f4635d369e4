//! What the real Control UI and TUI need of the chat view, session views, commands, agents and
//! models, on a real gateway with the real embedded runtime (and the fake app-server as a Codex
//! runtime), and what the real OpenClaw CLI (`openclaw models list`) needs.

use crate::util::{call, client, fake_runtime, start_with_config, wait_run, RUN_GUARD as GUARD};
use openclaw_rs_client::Client;
use openclaw_rs_config::{Config, RuntimeConfig};
use openclaw_rs_protocol::EventFrame;
use openclaw_rs_test_support::gateway::{bin_path, TestGateway};
use serde_json::{json, Value};
use tokio::sync::broadcast::Receiver;

/// The next event named `name` whose payload satisfies `pred` (bounded by the run guard).
async fn next_event(
    rx: &mut Receiver<EventFrame>,
    name: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    tokio::time::timeout(GUARD, async {
        loop {
            let ev = rx.recv().await.expect("event stream");
            let p = ev.payload.unwrap_or_default();
            if ev.event == name && pred(&p) {
                return p;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {name} event within {GUARD:?}"))
}

async fn refused(c: &Client, method: &str, params: Value) -> String {
    match c.request(method, params).await {
        Ok(v) => panic!("{method} unexpectedly succeeded: {v}"),
        Err(e) => e.to_string(),
    }
}

/// A chat turn `echo hello` streams and ends with a final `chat` event carrying `hello` (what
/// the Control UI and TUI render before leaving their busy state); a `sessions.messages`
/// subscriber gets the user's message and the reply as `session.message` events;
/// `chat.startup` then has both messages, the defaults and the commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_turn_ends_in_final_and_subscribers_get_the_messages() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let sender = client(&gw).await;
    let watcher = client(&gw).await;
    let mut sender_ev = sender.events();
    let mut watcher_ev = watcher.events();
    let key = "agent:main:main";
    // Before any message: the chat view's first read answers, with an empty history.
    let startup = call(&sender, "chat.startup", json!({"sessionKey": key})).await;
    assert_eq!(startup["messages"], json!([]), "{startup}");
    assert_eq!(startup["defaults"]["modelSelectionTarget"], "session");
    assert!(startup["metadata"]["commands"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    let sub = call(
        &watcher,
        "sessions.messages.subscribe",
        json!({"key": "main"}),
    )
    .await;
    assert_eq!(sub, json!({"subscribed": true, "key": key}));

    let r = call(
        &sender,
        "chat.send",
        json!({"sessionKey": key, "message": "echo hello", "idempotencyKey": "ui-1"}),
    )
    .await;
    assert_eq!(r["runId"], "ui-1");
    let fin = next_event(&mut sender_ev, "chat", |p| {
        p["runId"] == "ui-1" && p["state"] == "final"
    })
    .await;
    assert_eq!(fin["message"]["role"], "assistant");
    assert_eq!(fin["message"]["content"][0]["text"], "hello\n");
    assert_eq!(fin["sessionKey"], key);
    assert_eq!(fin["agentId"], "main");
    assert_eq!(wait_run(&sender, "ui-1").await["runStatus"], "completed");

    let user = next_event(&mut watcher_ev, "session.message", |p| {
        p["message"]["role"] == "user"
    })
    .await;
    assert_eq!(user["sessionKey"], key);
    assert_eq!(user["message"]["content"][0]["text"], "echo hello");
    let reply = next_event(&mut watcher_ev, "session.message", |p| {
        p["message"]["role"] == "assistant"
    })
    .await;
    assert_eq!(reply["message"]["content"][0]["text"], "hello\n");
    assert_eq!(reply["message"]["runId"], "ui-1");
    // The transcript identity the Control UI reconciles copies by (its optimistic message,
    // the streamed final, `session.message`, `chat.history`): position and idempotency key.
    assert_eq!(user["messageSeq"], 1, "{user}");
    assert_eq!(
        user["messageId"], user["message"]["__openclaw"]["id"],
        "{user}"
    );
    assert_eq!(user["runId"], "ui-1");
    assert_eq!(
        user["message"]["__openclaw"],
        json!({"id": "ui-1#1", "seq": 1, "idempotencyKey": "ui-1:user"})
    );
    assert_eq!(reply["messageSeq"], 2, "{reply}");
    assert_eq!(
        reply["message"]["__openclaw"],
        json!({"id": "ui-1#2", "seq": 2, "idempotencyKey": "ui-1"})
    );
    assert_eq!(fin["message"]["idempotencyKey"], "ui-1", "{fin}");

    let startup = call(&sender, "chat.startup", json!({"sessionKey": key})).await;
    assert_eq!(startup["totalMessages"], 2, "{startup}");
    assert_eq!(
        startup["messages"][0]["__openclaw"],
        user["message"]["__openclaw"]
    );
    assert_eq!(
        startup["messages"][1]["__openclaw"],
        reply["message"]["__openclaw"]
    );
    assert_eq!(startup["sessionInfo"]["key"], key);
    let describe = call(&sender, "sessions.describe", json!({"key": key})).await;
    assert_eq!(describe["session"]["status"], "done");

    // Unsubscribed: the next turn's messages are not delivered to the watcher.
    call(
        &watcher,
        "sessions.messages.unsubscribe",
        json!({"key": key}),
    )
    .await;
    call(
        &sender,
        "chat.send",
        json!({"sessionKey": key, "message": "echo again", "idempotencyKey": "ui-2"}),
    )
    .await;
    wait_run(&sender, "ui-2").await;
    let late = next_event(&mut sender_ev, "chat", |p| {
        p["runId"] == "ui-2" && p["state"] == "final"
    })
    .await;
    assert_eq!(late["message"]["content"][0]["text"], "again\n");
    // Positions continue across turns and stay put when the history is paged.
    let page = call(
        &sender,
        "chat.history",
        json!({"sessionKey": key, "limit": 1}),
    )
    .await;
    assert_eq!(page["totalMessages"], 4, "{page}");
    assert_eq!(page["hasMore"], true);
    assert_eq!(
        page["messages"][0]["__openclaw"],
        json!({"id": "ui-2#4", "seq": 4, "idempotencyKey": "ui-2"})
    );
    while let Ok(ev) = watcher_ev.try_recv() {
        assert_ne!(
            ev.event, "session.message",
            "delivered after unsubscribe: {ev:?}"
        );
    }
    for c in [sender, watcher] {
        c.close().await;
    }
    gw.stop().await.unwrap();
}

/// `/status` sent as chat text (as the TUI and the Control UI send it) is answered by the
/// gateway as a command: a final `chat` event marked `command: true` with the status card, no
/// run, nothing in the transcript; `commands.list` lists it. Unknown `/x` stays chat text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_a_command_not_a_shell_run() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let c = client(&gw).await;
    let mut ev = c.events();
    let cmds = call(
        &c,
        "commands.list",
        json!({"scope": "text", "includeArgs": false}),
    )
    .await;
    let names: Vec<&str> = cmds["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"status"), "{cmds}");
    assert!(cmds["commands"][0]["textAliases"][0]
        .as_str()
        .unwrap()
        .starts_with('/'));

    let key = "agent:main:main";
    let r = call(
        &c,
        "chat.send",
        json!({"sessionKey": key, "message": "/status", "idempotencyKey": "st-1"}),
    )
    .await;
    assert_eq!(r["runId"], "st-1");
    let fin = next_event(&mut ev, "chat", |p| p["runId"] == "st-1").await;
    assert_eq!(fin["state"], "final", "{fin}");
    assert_eq!(fin["message"]["command"], true);
    let text = fin["message"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Session: agent:main:main"), "{text}");
    assert!(text.contains("Runtime: embedded"), "{text}");
    assert!(!text.contains("exit code"), "{text}");
    let h = call(&c, "chat.history", json!({"sessionKey": key})).await;
    assert_eq!(h["messages"], json!([]), "a command is not a run: {h}");

    // `/nosuchcommand` is chat text: the embedded runtime runs it (and fails: no such program).
    call(
        &c,
        "chat.send",
        json!({"sessionKey": key, "message": "/nosuchcommand", "idempotencyKey": "st-2"}),
    )
    .await;
    assert_eq!(wait_run(&c, "st-2").await["runStatus"], "failed");
    // Interpretation can be suppressed: `/status` then runs as text.
    call(
        &c,
        "chat.send",
        json!({"sessionKey": key, "message": "/status", "idempotencyKey": "st-3",
               "suppressCommandInterpretation": true}),
    )
    .await;
    assert_eq!(wait_run(&c, "st-3").await["runStatus"], "failed");
    // The TUI's `/reset` calls sessions.reset: refused, saying why, and the transcript stays.
    let before =
        call(&c, "chat.history", json!({"sessionKey": key})).await["totalMessages"].clone();
    let e = refused(&c, "sessions.reset", json!({"key": key, "reason": "reset"})).await;
    assert!(
        e.contains("UNAVAILABLE") || e.contains("unavailable"),
        "{e}"
    );
    assert!(e.contains("new session"), "{e}");
    let after = call(&c, "chat.history", json!({"sessionKey": key})).await["totalMessages"].clone();
    assert_eq!(before, after);
    assert_eq!(after, 4);
    c.close().await;
    gw.stop().await.unwrap();
}

/// Session keys as OpenClaw's clients type them: `my-work` is `agent:main:my-work`, with
/// `agentId` `agent:<id>:my-work`; agent-prefixed keys are taken as they are; malformed ones
/// are refused naming the expected shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_session_keys_map_like_openclaw() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let c = client(&gw).await;
    call(
        &c,
        "chat.send",
        json!({"sessionKey": "My-Work", "message": "echo mine", "idempotencyKey": "ck-1"}),
    )
    .await;
    assert_eq!(
        wait_run(&c, "ck-1").await["sessionKey"],
        "agent:main:my-work"
    );
    let h = call(&c, "chat.history", json!({"sessionKey": "my-work"})).await;
    assert_eq!(h["sessionKey"], "agent:main:my-work");
    assert_eq!(h["messages"][1]["content"][0]["text"], "mine\n", "{h}");
    let list = call(&c, "sessions.list", json!({})).await;
    let row = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "agent:main:my-work")
        .cloned()
        .unwrap_or_else(|| panic!("no my-work row: {list}"));
    assert_eq!(row["isMain"], false);

    let out = c
        .request_final(
            "agent",
            json!({"message": "echo ops", "idempotencyKey": "ck-2", "agentId": "ops",
                   "sessionKey": "incident-42"}),
            GUARD,
        )
        .await
        .expect("agent turn");
    assert_eq!(out["sessionKey"], "agent:ops:incident-42", "{out}");
    assert_eq!(out["result"]["payloads"][0]["text"], "ops\n", "{out}");

    for bad in ["agent:main", "agent::x", "a/b", "agent:main:subagent:nope"] {
        let e = refused(
            &c,
            "chat.send",
            json!({"sessionKey": bad, "message": "echo x", "idempotencyKey": "ck-bad"}),
        )
        .await;
        assert!(e.contains("malformed session key"), "{bad}: {e}");
    }
    let e = refused(
        &c,
        "chat.history",
        json!({"sessionKey": "agent:ops:x", "agentId": "main"}),
    )
    .await;
    assert!(e.contains("does not match"), "{e}");
    c.close().await;
    gw.stop().await.unwrap();
}

/// The real `openclaw` CLI with a private HOME whose config points at `gw`.
async fn real_cli(gw: &TestGateway, args: &[&str]) -> Option<(i32, String, String)> {
    let token = gw.token.clone().expect("token auth");
    // Remote mode: in local mode `models list` reads a local catalog unless it finds the Node
    // gateway's own lock file.
    let config = json!({"gateway": {"mode": "remote",
        "remote": {"url": gw.url, "token": token}}});
    crate::util::real_cli_with_config(&config, args, GUARD).await
}

/// `models.list` lists the embedded runtime's `exec` and a Codex-style runtime's `model/list`
/// (the fake app-server, two pages); a runtime that cannot start lists nothing and does not
/// fail the call; `models.authStatus` says what each runtime reports; `agents.list` comes from
/// the config. The real `openclaw models list` and `gateway call models.list` exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_and_agents_come_from_the_runtimes_and_config() {
    bin_path("openclaw-app-server");
    let mut config = Config::default();
    config.runtimes.insert("fake".into(), fake_runtime(&[]));
    config.runtimes.insert(
        "broken".into(),
        RuntimeConfig {
            kind: "app-server".into(),
            command: vec!["/nonexistent/app-server".into()],
            ..Default::default()
        },
    );
    config.agents.entries.insert(
        "coder".into(),
        openclaw_rs_config::AgentSettings {
            runtime: Some("fake".into()),
            ..Default::default()
        },
    );
    let gw = start_with_config(config).await;
    let c = client(&gw).await;
    assert!(c
        .hello()
        .features
        .capabilities
        .iter()
        .any(|x| x == "published-model-catalog"));
    let models = call(&c, "models.list", json!({})).await;
    let ids: Vec<(String, String)> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["provider"].as_str().unwrap().to_owned(),
                m["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = |p: &str, id: &str| (p.to_owned(), id.to_owned());
    assert!(ids.contains(&want("embedded", "exec")), "{models}");
    assert!(ids.contains(&want("fake", "fake-model-a")), "{models}");
    assert!(ids.contains(&want("fake", "fake-model-b")), "{models}");
    assert!(!ids.iter().any(|(p, _)| p == "broken"), "{models}");
    let coder = call(&c, "models.list", json!({"agentId": "coder"})).await;
    assert_eq!(coder["models"].as_array().unwrap().len(), 2, "{coder}");

    let auth = call(&c, "models.authStatus", json!({})).await;
    let status = |p: &str| {
        auth["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["provider"] == p)
            .map(|r| r["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("embedded").as_deref(), Some("ok"), "{auth}");
    assert_eq!(status("fake").as_deref(), Some("ok"), "{auth}");
    assert_eq!(status("broken").as_deref(), Some("unknown"), "{auth}");

    let agents = call(&c, "agents.list", json!({})).await;
    assert_eq!(agents["defaultId"], "main");
    let coder_row = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "coder")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        coder_row["agentRuntime"],
        json!({"id": "fake", "source": "agent"})
    );
    // No model configured for coder: its runtime's default model (the Control UI blocks Send
    // for an agent without one).
    assert_eq!(coder_row["model"]["primary"], "fake-model-a", "{agents}");
    let main_row = &agents["agents"][0];
    assert_eq!(main_row["model"]["primary"], "exec", "{agents}");

    if let Some((code, out, err)) = real_cli(&gw, &["models", "list", "--json"]).await {
        assert_eq!(
            code, 0,
            "openclaw models list\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(out.contains("fake-model-a"), "{out}");
        let (code, out, err) = real_cli(&gw, &["gateway", "call", "models.list", "--json"])
            .await
            .expect("cli");
        assert_eq!(
            code, 0,
            "gateway call models.list\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(out.contains("exec"), "{out}");
    }
    c.close().await;
    gw.stop().await.unwrap();
}
