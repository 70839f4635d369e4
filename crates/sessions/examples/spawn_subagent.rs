//! Spawn a subagent from Rust through the sessions manager, with no gateway: a parent run's
//! executor spawns a child through its [`SpawnHandle`](openclaw_rs_sessions::SpawnHandle) and
//! waits for it, while this program streams every session event.
//!
//! The executor here is a small in-process one (`reverse <text>` answers the text reversed,
//! `delegate <text>` spawns a child for it); a real embedder plugs in its runtime instead,
//! e.g. `openclaw_rs_app_server::execute` on a lease pool.
//!
//! ```text
//! cargo run -p openclaw-rs-sessions --example spawn_subagent
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use openclaw_rs_sessions::{
    main_key, BoxFuture, Cancel, ChatState, ExecError, ExecEvent, ExecOutcome, ExecRequest,
    FailureClass, ManagerOptions, RunExecutor, RunState, SendRequest, SessionEvent, SessionManager,
    SpawnRequest,
};

struct Demo;

impl RunExecutor for Demo {
    fn execute(
        &self,
        req: ExecRequest,
        events: tokio::sync::mpsc::Sender<ExecEvent>,
        _cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        Box::pin(async move {
            let fail = |message: String| ExecError {
                class: FailureClass::Runtime,
                message,
                retryable: false,
            };
            let (cmd, arg) = req.task.split_once(' ').unwrap_or((req.task.as_str(), ""));
            let text = match cmd {
                "reverse" => arg.chars().rev().collect::<String>(),
                "delegate" => {
                    // The child is a session of its own, under this run's session.
                    let child = req
                        .spawner
                        .spawn(SpawnRequest {
                            task: format!("reverse {arg}"),
                            label: Some("helper".into()),
                            ..SpawnRequest::default()
                        })
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    let done = req
                        .spawner
                        .wait(&child.run_id, Duration::from_secs(10))
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    format!("my helper said: {}", done.text.unwrap_or_default())
                }
                other => return Err(fail(format!("unknown command {other:?}"))),
            };
            let _ = events.send(ExecEvent::Delta { text: text.clone() }).await;
            Ok(ExecOutcome {
                final_text: text,
                thread_id: None,
            })
        })
    }
}

async fn demo(state: openclaw_rs_state::StateDir) -> Result<(), String> {
    let config = Arc::new(openclaw_rs_config::Config::default());
    let manager = SessionManager::open(ManagerOptions::new(state), config, Arc::new(Demo))
        .map_err(|e| e.to_string())?;
    let mut events = manager.subscribe();
    let printer = tokio::spawn(async move {
        let mut deltas = Vec::new();
        while let Ok(ev) = events.recv().await {
            match ev {
                SessionEvent::Chat(c) => {
                    println!("chat  {:<44} {:?} {}", c.session_key, c.state, {
                        c.delta_text
                            .clone()
                            .or(c.message.clone())
                            .unwrap_or_default()
                    });
                    if c.state == ChatState::Delta {
                        deltas.push((c.session_key, c.delta_text.unwrap_or_default()));
                    }
                }
                SessionEvent::Changed(c) => println!("changed {}", c.session_key),
                SessionEvent::Agent(a) => println!("agent {} {}", a.session_key, a.stream),
            }
        }
        deltas
    });

    // A message to the agent's main session; its run delegates to a subagent (depth 1, the
    // default `session.maxSpawnDepth`).
    let parent = manager
        .send(SendRequest {
            session_key: main_key("main"),
            message: "delegate stnega-bus morf olleh".into(),
            ..SendRequest::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let done = manager
        .wait(&parent.run_id, Duration::from_secs(20))
        .await
        .map_err(|e| e.to_string())?;
    manager.shutdown().await;
    drop(manager);
    let deltas = tokio::time::timeout(Duration::from_secs(5), printer)
        .await
        .map_err(|_| "the event stream did not end after shutdown".to_string())?
        .map_err(|e| e.to_string())?;

    let want = "my helper said: hello from sub-agents";
    if done.state != RunState::Completed || done.text.as_deref() != Some(want) {
        return Err(format!(
            "parent run ended as {:?}: {:?} {:?}",
            done.state, done.text, done.error
        ));
    }
    let child_delta = deltas
        .iter()
        .any(|(key, text)| key.contains(":subagent:") && text == "hello from sub-agents");
    if !child_delta {
        return Err(format!("no streamed delta from the child: {deltas:?}"));
    }
    println!("ok: {want}");
    Ok(())
}

fn main() -> ExitCode {
    let root = std::env::temp_dir().join(format!("spawn-subagent-{}", std::process::id()));
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(demo(openclaw_rs_state::StateDir::new(&root)));
    let _ = std::fs::remove_dir_all(&root);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
