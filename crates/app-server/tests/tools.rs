//! Dynamic tools end to end on the real embedded app-server: a task calls
//! `openclaw-app-server tool …`, the call arrives as `item/tool/call`, and the run's handler
//! answers it. Unknown tools and runs without a handler get error replies, handler errors become
//! failed results, and calls in flight are cancelled with the run.
//! Needs `cargo build -p openclaw-app-server-bin` first.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use openclaw_rs_app_server::{
    execute_with_tools, CancelToken, DynamicTool, FailureClass, Pool, PoolConfig, RunError,
    RunEvent, RunOutcome, RunSpec, RunTools, ToolCall, ToolError, ToolFuture, ToolHandler,
    ToolOutput,
};
use serde_json::json;
use tokio::sync::mpsc;

const LONG: Duration = Duration::from_secs(30);

async fn guard<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test hang guard (60 s) hit");
}

fn tool(name: &str) -> DynamicTool {
    DynamicTool::function(name, format!("test tool {name}"), json!({"type": "object"}))
}

/// `echo` answers with its `text` argument; `fail` returns a handler error; `hang` never ends
/// (it flags when its future is dropped).
#[derive(Default)]
struct Handler {
    calls: Mutex<Vec<ToolCall>>,
    hanging: AtomicUsize,
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The handler as the run sees it (shares its state with the test).
struct Shared(Arc<Handler>);

impl ToolHandler for Shared {
    fn call(&self, call: ToolCall) -> ToolFuture {
        self.0.calls.lock().unwrap().push(call.clone());
        let me = self.0.clone();
        Box::pin(async move {
            match call.tool.as_str() {
                "echo" => Ok(ToolOutput::ok(
                    call.arguments["text"].as_str().unwrap_or_default(),
                )),
                "fail" => Err(ToolError("boom: the handler failed".into())),
                _ => {
                    let _flag = DropFlag(me.dropped.clone());
                    me.hanging.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                    Ok(ToolOutput::ok("never"))
                }
            }
        })
    }
}

fn tools(handler: &Arc<Handler>) -> RunTools {
    RunTools::new(
        vec![tool("echo"), tool("fail"), tool("hang")],
        Arc::new(Shared(handler.clone())),
    )
}

async fn run_with(
    pool: &Pool,
    spec: RunSpec,
    tools: RunTools,
    cancel: CancelToken,
) -> (Result<RunOutcome, RunError>, String) {
    let (tx, mut rx) = mpsc::channel(1024);
    let pool = pool.clone();
    let key = embedded_key();
    let handle =
        tokio::spawn(async move { execute_with_tools(&pool, &key, spec, tools, tx, cancel).await });
    let mut text = String::new();
    while let Some(e) = rx.recv().await {
        if let RunEvent::Delta { text: t } = e {
            text.push_str(&t);
        }
    }
    (handle.await.expect("run task"), text)
}

/// [`run_with`] of `task` with the test tools answered by `handler`, within [`LONG`].
async fn run_tool_task(
    pool: &Pool,
    task: &str,
    dir: &std::path::Path,
    handler: &Arc<Handler>,
) -> (Result<RunOutcome, RunError>, String) {
    run_with(
        pool,
        spec(task, None, dir, LONG),
        tools(handler),
        CancelToken::new(),
    )
    .await
}

const CLI: &str = r#""$OPENCLAW_APP_SERVER_BIN" tool"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_are_routed_to_the_runs_handler() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::new(PoolConfig::default());
        let handler = Arc::new(Handler::default());
        let task = format!(
            r#"{CLI} echo '{{"text":"hello from the tool"}}'; echo "rc=$?"
{CLI} fail '{{}}' 2>&1; echo "rc=$?"
{CLI} nope '{{}}' 2>&1; echo "rc=$?""#
        );
        let (res, text) = run_tool_task(&pool, &task, dir.path(), &handler).await;
        let out = res.expect("the task completes");
        assert!(text.contains("hello from the tool\nrc=0\n"), "{text}");
        // A handler error is a failed result: the tool ran and said why.
        assert!(
            text.contains("failed: boom: the handler failed\nrc=1\n"),
            "{text}"
        );
        // An undeclared tool gets an error reply naming what the run declared.
        assert!(
            text.contains(
                "refused: unknown tool \"nope\": this run declared echo, fail, hang\nrc=4\n"
            ),
            "{text}"
        );
        let calls = handler.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0].thread_id, out.thread_id);
        assert_eq!(calls[0].turn_id, out.turn_id);
        assert_eq!(calls[0].arguments, json!({"text": "hello from the tool"}));
        assert!(!calls[0].call_id.is_empty());

        // Tools declared but no handler: every call gets an error reply.
        let no_handler = RunTools {
            specs: vec![tool("echo")],
            handler: None,
        };
        let task = format!(r#"{CLI} echo '{{"text":"x"}}' 2>&1; echo "rc=$?""#);
        let (res, text) = run_with(
            &pool,
            spec(&task, None, dir.path(), LONG),
            no_handler,
            CancelToken::new(),
        )
        .await;
        res.expect("the task completes");
        assert!(
            text.contains("refused: no handler for tool \"echo\" in this run\nrc=4\n"),
            "{text}"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_end_with_the_run() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::new(PoolConfig::default());
        let task = format!(r#"{CLI} hang '{{}}'; echo "rc=$?""#);

        // Cancelled run: the call in flight is dropped and the run is interrupted.
        let handler = Arc::new(Handler::default());
        let cancel = CancelToken::new();
        let c = cancel.clone();
        let h = handler.clone();
        let canceller = tokio::spawn(async move {
            eventually("the tool call is in flight", || {
                h.hanging.load(Ordering::SeqCst) == 1
            })
            .await;
            c.cancel();
        });
        let (res, _) = run_with(
            &pool,
            spec(&task, None, dir.path(), LONG),
            tools(&handler),
            cancel,
        )
        .await;
        canceller.await.unwrap();
        assert_eq!(res.expect_err("cancelled").class, FailureClass::Interrupted);
        assert!(
            handler.dropped.load(Ordering::SeqCst),
            "handler future kept running"
        );

        // Deadline: same, as a timeout.
        let handler = Arc::new(Handler::default());
        let (res, _) = run_with(
            &pool,
            spec(&task, None, dir.path(), Duration::from_secs(2)),
            tools(&handler),
            CancelToken::new(),
        )
        .await;
        assert_eq!(res.expect_err("deadline").class, FailureClass::Timeout);
        assert_eq!(handler.hanging.load(Ordering::SeqCst), 1);
        assert!(
            handler.dropped.load(Ordering::SeqCst),
            "handler future kept running"
        );

        // The process survived both and serves the next run's tools.
        let handler = Arc::new(Handler::default());
        let task = format!(r#"{CLI} echo '{{"text":"still here"}}'"#);
        let (res, text) = run_tool_task(&pool, &task, dir.path(), &handler).await;
        res.expect("next run completes");
        assert_eq!(text, "still here\n");
        assert_eq!(pool.stats().spawned_total, 1);
        pool.shutdown().await;
    })
    .await;
}
