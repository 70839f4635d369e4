//! The stdio JSON-RPC client against scripted `sh` children: out-of-order replies, server
//! requests whose ids collide with ours, notifications buffered before a subscription, and one
//! shared failure for every waiter on garbage, exit or EOF.

use std::sync::Arc;
use std::time::Duration;

use openclaw_rs_app_server::client::{Client, ClientConfig};
use openclaw_rs_app_server::error::TransportFailureKind;
use openclaw_rs_app_server::spawn::SpawnSpec;
use openclaw_rs_app_server::ClientError;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(20);

fn script(body: &str) -> Client {
    script_with(body, ClientConfig::default())
}

fn script_with(body: &str, config: ClientConfig) -> Client {
    let spec = SpawnSpec {
        command: vec!["sh".into(), "-c".into(), body.into()],
        ..SpawnSpec::default()
    };
    Client::spawn(&spec, config).expect("spawn sh")
}

#[tokio::test]
async fn out_of_order_replies_collisions_and_buffering() {
    let client = script(
        r#"read a; read b
echo '{"method":"item/agentMessage/delta","params":{"threadId":"t1","delta":"early"}}'
echo '{"id":1,"method":"item/commandExecution/requestApproval","params":{"threadId":"t1"}}'
read reply
echo "{\"method\":\"echo\",\"params\":{\"threadId\":\"t1\",\"reply\":$reply}}"
echo '{"id":2,"result":"two"}'
echo '{"id":1,"result":"one"}'
cat >/dev/null"#,
    );
    let (a, b) = tokio::join!(
        client.request("a", json!({}), T),
        client.request("b", json!({}), T)
    );
    assert_eq!(a.unwrap(), json!("one"));
    assert_eq!(b.unwrap(), json!("two"));
    let mut sub = client.subscribe("t1");
    let methods: Vec<(String, Value)> = vec![
        sub.recv().await.unwrap(),
        sub.recv().await.unwrap(),
        sub.recv().await.unwrap(),
    ]
    .into_iter()
    .map(|n| (n.method, n.params))
    .collect();
    assert_eq!(methods[0].0, "item/agentMessage/delta");
    assert_eq!(methods[1].0, "item/commandExecution/requestApproval");
    // The server request (id 1, same as ours) was answered by the default policy: decline.
    assert_eq!(
        methods[2].1["reply"],
        json!({"id": 1, "result": {"decision": "decline"}})
    );
    drop(client);
}

#[tokio::test]
async fn garbage_poisons_and_every_waiter_sees_one_failure() {
    let client = Arc::new(script(
        "read a; read b; read c; echo 'this is {not json'; sleep 30",
    ));
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.request(&format!("m{i}"), json!({}), T).await })
        })
        .collect();
    let mut errors = Vec::new();
    for c in calls {
        match c.await.unwrap() {
            Err(ClientError::Transport(t)) => errors.push(t),
            other => panic!("expected a transport error, got {other:?}"),
        }
    }
    assert_eq!(errors[0].kind(), &TransportFailureKind::Malformed);
    assert!(
        errors.iter().all(|e| Arc::ptr_eq(&e.0, &errors[0].0)),
        "one shared failure"
    );
    // Later requests fail at once with the same error; the child is closed and reaped.
    match client.request("late", json!({}), T).await {
        Err(ClientError::Transport(t)) => assert!(Arc::ptr_eq(&t.0, &errors[0].0)),
        other => panic!("{other:?}"),
    }
    let status = tokio::time::timeout(T, client.close_and_wait())
        .await
        .expect("reaped");
    assert!(!status.is_empty());
}

#[tokio::test]
async fn exit_fails_pending_with_the_exit_status() {
    let client = script("read a; echo oops >&2; exit 7");
    match client.request("a", json!({}), T).await {
        Err(ClientError::Transport(t)) => {
            assert_eq!(t.kind(), &TransportFailureKind::Exited, "{t}");
            assert!(t.to_string().contains("exit status: 7"), "{t}");
        }
        other => panic!("{other:?}"),
    }
    assert!(client.is_poisoned());
    assert!(client.stderr_tail().contains("oops"));
}

#[tokio::test]
async fn timeout_is_reported_and_does_not_poison_by_itself() {
    let client = script("cat >/dev/null");
    let err = client
        .request("never", json!({}), Duration::from_millis(100))
        .await
        .expect_err("no reply");
    assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
    assert!(!client.is_poisoned(), "the pool decides to retire");
    assert_eq!(client.pending_requests(), 0);
}

#[tokio::test]
async fn initialize_parses_the_version() {
    let client = script(
        r#"read init
echo '{"id":1,"result":{"userAgent":"openclaw/0.169.0 (Debian 12.0.0; x86_64) xterm (openclaw; 0.0.0)"}}'
read initialized
echo "{\"method\":\"seen\",\"params\":{\"threadId\":\"x\",\"line\":$initialized}}"
cat >/dev/null"#,
    );
    let info = client.initialize(T).await.unwrap();
    assert_eq!(info.version.as_deref(), Some("0.169.0"));
    let mut sub = client.subscribe("x");
    let n = sub.recv().await.unwrap();
    assert_eq!(n.params["line"], json!({"method": "initialized"}));
}

#[tokio::test]
async fn close_kills_a_child_that_ignores_stdin_eof() {
    let config = ClientConfig {
        close_grace: Duration::from_millis(200),
        ..ClientConfig::default()
    };
    let client = script_with("trap '' TERM HUP; while true; do sleep 1; done", config);
    // Resolves only once the child is reaped.
    let status = tokio::time::timeout(T, client.close_and_wait())
        .await
        .expect("reaped");
    assert!(
        status.contains("signal: 9"),
        "killed after the grace: {status}"
    );
}

#[tokio::test]
async fn environment_is_scrubbed_and_explicit() {
    // A variable of ours that is not on the pass-through list must not reach the child
    // (cargo sets CARGO_MANIFEST_DIR for test processes); explicit variables must.
    let probe = std::env::vars().map(|(k, _)| k).find(|k| {
        !openclaw_rs_app_server::spawn::INHERITED_ENV.contains(&k.as_str())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    let Some(probe) = probe else {
        eprintln!("!!! SKIPPED environment_is_scrubbed_and_explicit: no non-inherited variable in the environment to probe");
        return;
    };
    let body = format!(
        r#"read a; printf '{{"id":1,"result":{{"probe":"%s","explicit":"%s","home":"%s"}}}}\n' "${{{probe}:-unset}}" "$EXPLICIT" "$CODEX_HOME"; cat >/dev/null"#
    );
    let spec = SpawnSpec {
        command: vec!["sh".into(), "-c".into(), body],
        env: [
            ("EXPLICIT".to_string(), "yes".to_string()),
            ("CODEX_HOME".to_string(), "/tmp/h".to_string()),
        ]
        .into(),
        ..SpawnSpec::default()
    };
    let client = Client::spawn(&spec, ClientConfig::default()).unwrap();
    let r = client.request("env", json!({}), T).await.unwrap();
    assert_eq!(
        r,
        json!({"probe": "unset", "explicit": "yes", "home": "/tmp/h"}),
        "{probe} leaked into the child"
    );
}

#[tokio::test]
async fn epipe_poisons_the_transport() {
    // The child closes its stdin but stays alive: our write fails with EPIPE.
    let client = script("exec 0<&-; sleep 30");
    // Give the child time to close its end; the first write may still land in the pipe buffer
    // before the close, so keep writing until the failure shows (bounded).
    let mut last = None;
    for _ in 0..200 {
        match client
            .request("x", json!({}), Duration::from_millis(50))
            .await
        {
            Err(ClientError::Transport(t)) => {
                last = Some(t);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let t = last.expect("writing to a closed stdin poisons the transport");
    assert_eq!(t.kind(), &TransportFailureKind::BrokenPipe, "{t}");
    assert!(client.is_poisoned());
}

/// `item/tool/call` goes to the run subscribed to its thread, which answers it with
/// `Client::reply`; with no run on the thread (none yet, or it ended) it gets an error reply at
/// once — never silence.
#[tokio::test]
async fn tool_calls_reach_the_thread_run_or_get_an_error_reply() {
    let client = script(
        r#"read go
echo '{"id":0,"method":"item/tool/call","params":{"threadId":"t1","turnId":"u1","callId":"c1","tool":"x","arguments":{}}}'
read -r reply0
echo "{\"method\":\"seen\",\"params\":{\"threadId\":\"obs\",\"reply\":$reply0}}"
read go2
echo '{"id":1,"method":"item/tool/call","params":{"threadId":"t1","turnId":"u1","callId":"c2","tool":"x","arguments":{}}}'
read -r reply1
echo "{\"method\":\"seen\",\"params\":{\"threadId\":\"obs\",\"reply\":$reply1}}"
cat >/dev/null"#,
    );
    let mut obs = client.subscribe("obs");
    let mut run = client.subscribe("t1");
    client.notify("go", None).await.unwrap();
    let req = tokio::time::timeout(T, run.recv()).await.unwrap().unwrap();
    assert_eq!(req.method, "item/tool/call");
    assert_eq!(req.request_id, Some(json!(0)));
    assert_eq!(req.params["callId"], "c1");
    let result = json!({"contentItems": [{"type": "inputText", "text": "ok"}], "success": true});
    client.reply(json!(0), Ok(result.clone()));
    let seen = tokio::time::timeout(T, obs.recv()).await.unwrap().unwrap();
    assert_eq!(seen.params["reply"], json!({"id": 0, "result": result}));

    // The run ends (its subscription is dropped): the next call is refused with an error.
    drop(run);
    client.notify("go", None).await.unwrap();
    let seen = tokio::time::timeout(T, obs.recv()).await.unwrap().unwrap();
    let reply = &seen.params["reply"];
    assert_eq!(reply["id"], 1);
    assert_eq!(reply["error"]["code"], -32601, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no active run on thread \"t1\""),
        "{reply}"
    );
}
