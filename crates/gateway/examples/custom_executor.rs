//! Run the gateway with your own run executor (no app-server process) and run a task through
//! it from the typed client, streaming its events.
//!
//! The executor "types" the task back word by word: each word is a streamed delta (`chat`
//! events with `state: "delta"`), the whole text is the run's final answer.
//!
//! `cargo run -p openclaw-rs-gateway --example custom_executor`

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_gateway::{Gateway, SharedAuth};
use openclaw_rs_protocol::methods::sessions::{
    AgentWaitParams, ChatBody, ChatEvent, SessionsSpawnParams,
};
use openclaw_rs_protocol::methods::NonEmpty;
use openclaw_rs_sessions::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, FailureClass, RunExecutor,
};
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Echoes the task, one word per delta. Honours cancellation (abort, timeout, shutdown).
struct EchoExecutor;

impl RunExecutor for EchoExecutor {
    fn execute(
        &self,
        req: ExecRequest,
        events: mpsc::Sender<ExecEvent>,
        cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        Box::pin(async move {
            let mut text = String::new();
            for word in req.task.split_whitespace() {
                if cancel.is_cancelled() {
                    return Err(ExecError {
                        class: FailureClass::Interrupted,
                        message: "cancelled".into(),
                        retryable: false,
                    });
                }
                let piece = if text.is_empty() {
                    word.to_owned()
                } else {
                    format!(" {word}")
                };
                text.push_str(&piece);
                // A closed channel means nobody listens any more; the run still completes.
                let _ = events.send(ExecEvent::Delta { text: piece }).await;
            }
            Ok(ExecOutcome {
                final_text: text,
                thread_id: None,
            })
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let state_dir = tempfile::tempdir()?;
    let token = openclaw_rs_gateway::launch::random_token()?;
    let gateway = Gateway::builder(state_dir.path())
        .fixed_config(openclaw_rs_config::Config::default())
        .auth(SharedAuth::token(token.clone()))
        .configure(|o| o.control_ui_env = openclaw_rs_gateway::control_ui::DiscoveryEnv::default())
        // Every runtime runs on this executor instead of the app-server pool.
        .run_executor(Arc::new(EchoExecutor))
        .bind("127.0.0.1:0")?
        .build()?;
    let url = format!("ws://{}", gateway.local_addrs()[0]);
    let state = gateway.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(gateway.run_until(async move {
        let _ = stopped.await;
    }));

    let mut opts = ClientOptions::new(url);
    opts.token = Some(token);
    let client = Client::connect(opts).await?;

    // Subscribe before the call whose events we want; the run's events go to the connection
    // that started it.
    let mut chat = client.subscribe::<ChatEvent>();
    let task = "hello from a custom executor";
    let accepted = client
        .call(SessionsSpawnParams {
            task: NonEmpty::new(task).ok_or("empty task")?,
            label: Some("example".into()),
            ..SessionsSpawnParams::default()
        })
        .await?;
    println!(
        "spawned run {} in {}",
        accepted.run_id, accepted.child_session_key
    );

    let mut streamed = String::new();
    let final_text = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let ev = chat.recv().await?;
            if ev.run_id != accepted.run_id {
                continue;
            }
            match ev.body {
                ChatBody::Delta { delta_text } => {
                    println!("delta: {delta_text:?}");
                    streamed.push_str(&delta_text);
                }
                ChatBody::Final { message, .. } => return Ok(message),
                other => println!("event: {other:?}"),
            }
        }
    })
    .await
    .map_err(|_| "no final chat event within 30 s")?
    .map_err(|e: openclaw_rs_client::ClientError| e)?;
    println!("final message: {final_text:?}");

    let run = client
        .call(AgentWaitParams {
            run_id: NonEmpty::new(accepted.run_id.clone()).ok_or("empty run id")?,
            timeout_ms: Some(10_000),
        })
        .await?;
    println!(
        "agent.wait: status={} runStatus={} text={:?}",
        run.status, run.run_status, run.text
    );
    if run.text.as_deref() != Some(task) || streamed != task {
        return Err(
            format!("the run did not echo the task: {run:?} / streamed {streamed:?}").into(),
        );
    }
    let pids = state
        .sessions()
        .map(|s| s.pool().live_pids())
        .unwrap_or_default();
    println!("app-server processes started: {}", pids.len());
    if !pids.is_empty() {
        return Err("a custom executor must not start app-server processes".into());
    }

    client.close().await;
    let _ = stop.send(());
    serving.await??;
    println!("gateway stopped");
    Ok(())
}
