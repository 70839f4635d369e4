//! The `openclaw-app-server` binary over real pipes: handshake errors like the real app-server,
//! `exec` streaming, output cap, interrupt, and exit 0 on stdin EOF.
//! Needs `cargo build -p openclaw-app-server-bin` first.
#![allow(clippy::disallowed_methods)] // the test starts the binary under test directly (the spawn rule is for library code)

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap().to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let p = dir.join("openclaw-app-server");
    assert!(
        p.is_file(),
        "{} missing: run `cargo build -p openclaw-app-server-bin`",
        p.display()
    );
    p
}

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Server {
    fn start(env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(binary());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self {
            child,
            stdin,
            lines,
        }
    }

    async fn send(&mut self, v: Value) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{v}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
            .await
            .expect("hang guard")
            .unwrap()
            .expect("a line");
        serde_json::from_str(&line).unwrap()
    }

    /// Reads until the reply to `id`, returning it and the notifications seen before it.
    async fn reply(&mut self, id: i64) -> (Value, Vec<Value>) {
        let mut seen = Vec::new();
        loop {
            let v = self.next().await;
            if v.get("id") == Some(&json!(id)) && v.get("method").is_none() {
                return (v, seen);
            }
            seen.push(v);
        }
    }

    /// Reads notifications until `turn/completed`; returns (deltas joined, completed params).
    async fn turn(&mut self) -> (String, Value) {
        let mut text = String::new();
        loop {
            let v = self.next().await;
            match v["method"].as_str() {
                Some("item/agentMessage/delta") => {
                    text.push_str(v["params"]["delta"].as_str().unwrap())
                }
                Some("turn/completed") => return (text, v["params"].clone()),
                _ => {}
            }
        }
    }

    async fn init(&mut self) {
        self.send(json!({"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "1"}}}))
            .await;
        let (r, _) = self.reply(0).await;
        assert!(r["result"]["userAgent"].as_str().unwrap().starts_with("t/"));
        self.send(json!({"method": "initialized"})).await;
    }

    async fn thread(&mut self, id: i64, cwd: &std::path::Path) -> String {
        self.send(json!({"id": id, "method": "thread/start", "params": {"cwd": cwd}}))
            .await;
        let (r, _) = self.reply(id).await;
        r["result"]["thread"]["id"].as_str().unwrap().to_string()
    }

    async fn turn_start(&mut self, id: i64, thread: &str, text: &str) -> String {
        self.send(
            json!({"id": id, "method": "turn/start", "params": {"threadId": thread,
            "input": [{"type": "text", "text": text, "text_elements": []}]}}),
        )
        .await;
        let (r, _) = self.reply(id).await;
        r["result"]["turn"]["id"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn handshake_errors_match_the_real_server() {
    let mut s = Server::start(&[]);
    s.send(json!({"id": 1, "method": "thread/start", "params": {}}))
        .await;
    assert_eq!(
        s.reply(1).await.0["error"],
        json!({"code": -32600, "message": "Not initialized"})
    );
    s.init().await;
    s.send(json!({"id": 2, "method": "initialize", "params": {}}))
        .await;
    assert_eq!(
        s.reply(2).await.0["error"]["message"],
        "Already initialized"
    );
    s.send(json!({"id": 3, "method": "no/such/method", "params": {}}))
        .await;
    assert_eq!(s.reply(3).await.0["error"]["code"], -32600);
    s.send(json!({"id": 4, "method": "turn/start"})).await;
    assert_eq!(
        s.reply(4).await.0["error"]["message"],
        "Invalid request: missing field `params`"
    );
    s.send(json!({"id": 5, "method": "turn/start", "params": {"threadId": "nope", "input": []}}))
        .await;
    assert_eq!(
        s.reply(5).await.0["error"]["message"],
        "thread not found: nope"
    );
    s.send(
        json!({"id": 6, "method": "turn/interrupt", "params": {"threadId": "x", "turnId": "y"}}),
    )
    .await;
    assert_eq!(
        s.reply(6).await.0["error"]["message"],
        "no active turn to interrupt"
    );
    // stdin EOF: exit 0.
    drop(s.stdin.take());
    let status = tokio::time::timeout(Duration::from_secs(20), s.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn exec_streams_caps_and_interrupts() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(&[("OPENCLAW_EXEC_OUTPUT_CAP", "1000")]);
    s.init().await;
    let thread = s.thread(1, dir.path()).await;
    s.turn_start(2, &thread, "echo test").await;
    let (text, done) = s.turn().await;
    assert_eq!(text, "test\n");
    assert_eq!(done["turn"]["status"], "completed");

    // Runs in the thread's cwd.
    std::fs::write(dir.path().join("marker.txt"), "here").unwrap();
    s.turn_start(3, &thread, "cat marker.txt").await;
    assert_eq!(s.turn().await.0, "here");

    // Output cap: the command is stopped and the turn says why.
    s.turn_start(4, &thread, "yes | head -c 100000").await;
    let (text, _) = s.turn().await;
    assert!(
        text.contains("[output truncated at 1000 bytes"),
        "{}",
        &text[text.len().saturating_sub(80)..]
    );
    assert!(text.len() < 1200);

    // Interrupt kills the command's process group.
    let turn = s.turn_start(5, &thread, "sleep 60; echo never").await;
    s.send(json!({"id": 6, "method": "turn/interrupt", "params": {"threadId": thread, "turnId": turn}})).await;
    let (text, done) = s.turn().await;
    assert_eq!(done["turn"]["status"], "interrupted");
    assert!(!text.contains("never"));

    // A background process holding the output open does not keep the turn alive.
    s.turn_start(8, &thread, "sleep 60 & echo started").await;
    let (text, done) = s.turn().await;
    assert_eq!(text, "started\n");
    assert_eq!(done["turn"]["status"], "completed");

    // Non-zero exit fails with the exit code.
    s.turn_start(7, &thread, "exit 4").await;
    let (_, done) = s.turn().await;
    assert_eq!(done["turn"]["status"], "failed");
    assert!(done["turn"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("exit code 4"));
    drop(s.stdin.take());
    assert!(s.child.wait().await.unwrap().success());
}

/// A task calls a declared tool through `openclaw-app-server tool`: the call reaches the client
/// as `item/tool/call`, the answer is printed, the socket is private and gone after the turn.
#[tokio::test]
async fn tasks_call_dynamic_tools_through_the_turn_socket() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Left by a server that was killed (its pid cannot exist): swept on first use.
    let stale = tmp.path().join("openclaw-tools-999999999-abc");
    std::fs::create_dir(&stale).unwrap();
    let mut s = Server::start(&[("TMPDIR", tmp.path().to_str().unwrap())]);
    s.init().await;
    s.send(json!({"id": 1, "method": "thread/start", "params": {"cwd": dir.path(),
        "dynamicTools": [{"name": "lookup", "description": "d", "inputSchema": {"type": "object"}}]}}))
        .await;
    let (r, _) = s.reply(1).await;
    let thread = r["result"]["thread"]["id"].as_str().unwrap().to_string();
    let task = r#"echo "sock=$(stat -c %a "$OPENCLAW_TOOL_SOCKET") dir=$(stat -c %a "$(dirname "$OPENCLAW_TOOL_SOCKET")")"
echo "$OPENCLAW_TOOL_SOCKET" > socket-path.txt
"$OPENCLAW_APP_SERVER_BIN" tool lookup '{"key":"answer"}'; echo "rc=$?"
"$OPENCLAW_APP_SERVER_BIN" tool lookup '{"key":"bad"}' 2>&1; echo "rc=$?"
"$OPENCLAW_APP_SERVER_BIN" tool lookup '{"key":"refused"}' 2>&1; echo "rc=$?""#;
    let turn = s.turn_start(2, &thread, task).await;
    let mut text = String::new();
    let mut calls = Vec::new();
    let done = loop {
        let v = s.next().await;
        match v["method"].as_str() {
            Some("item/tool/call") => {
                let p = &v["params"];
                assert_eq!(p["threadId"], thread.as_str());
                assert_eq!(p["turnId"], turn.as_str());
                assert_eq!(p["tool"], "lookup");
                assert!(p["callId"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
                let reply = match p["arguments"]["key"].as_str().unwrap() {
                    "answer" => {
                        json!({"id": v["id"], "result": {"contentItems": [{"type": "inputText", "text": "42"}], "success": true}})
                    }
                    "bad" => {
                        json!({"id": v["id"], "result": {"contentItems": [{"type": "inputText", "text": "no such key"}], "success": false}})
                    }
                    _ => {
                        json!({"id": v["id"], "error": {"code": -32601, "message": "unknown tool \"lookup\""}})
                    }
                };
                calls.push(v["id"].clone());
                s.send(reply).await;
            }
            Some("item/agentMessage/delta") => {
                text.push_str(v["params"]["delta"].as_str().unwrap())
            }
            Some("turn/completed") => break v["params"].clone(),
            _ => {}
        }
    };
    assert_eq!(done["turn"]["status"], "completed", "{text}");
    assert_eq!(calls.len(), 3);
    // Server-request ids come from the server's own counter, starting at 0.
    assert_eq!(calls[0], json!(0));
    assert!(text.contains("sock=600 dir=700"), "{text}");
    assert!(text.contains("42\nrc=0\n"), "{text}");
    assert!(text.contains("failed: no such key\nrc=1\n"), "{text}");
    assert!(
        text.contains("refused: unknown tool \"lookup\"\nrc=4\n"),
        "{text}"
    );
    let path = std::fs::read_to_string(dir.path().join("socket-path.txt")).unwrap();
    let path = std::path::Path::new(path.trim());
    assert!(!path.exists(), "{} outlived its turn", path.display());
    assert!(!path.parent().unwrap().exists());
    assert!(
        path.starts_with(tmp.path()),
        "{} is not in TMPDIR",
        path.display()
    );
    assert!(!stale.exists(), "stale tool dir was not swept");

    // A thread without dynamicTools gets no socket.
    let plain = s.thread(3, dir.path()).await;
    s.turn_start(
        4,
        &plain,
        r#""$OPENCLAW_APP_SERVER_BIN" tool lookup '{}' 2>&1; echo "rc=$?""#,
    )
    .await;
    let (text, _) = s.turn().await;
    assert!(text.contains("OPENCLAW_TOOL_SOCKET is not set"), "{text}");
    assert!(text.contains("rc=3"), "{text}");
    drop(s.stdin.take());
    assert!(s.child.wait().await.unwrap().success());
}
