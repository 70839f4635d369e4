//! Run two tasks on the embedded app-server through the lease pool: both runs lease the same
//! shared process, stream their output, and the pool shuts the process down at the end.
//!
//! Needs the `openclaw-app-server` binary: `$OPENCLAW_APP_SERVER_BIN`, else next to this
//! example's executable (`target/<profile>/`). Build it first:
//!
//! ```text
//! cargo build -p openclaw-app-server-bin
//! cargo run -p openclaw-rs-app-server --example lease_pool
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use openclaw_rs_app_server::{
    execute, CancelToken, Pool, PoolConfig, ProcessKey, RunEvent, RunOutcome, RunSpec,
};

/// `$OPENCLAW_APP_SERVER_BIN`, else `openclaw-app-server` in this executable's directory or the
/// one above it (examples live in `target/<profile>/examples/`).
fn app_server_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OPENCLAW_APP_SERVER_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [
        dir.join("openclaw-app-server"),
        dir.parent()?.join("openclaw-app-server"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// One run: streams deltas to stdout while it runs, returns the outcome.
async fn run(pool: &Pool, key: &ProcessKey, task: &str) -> Result<RunOutcome, String> {
    let spec = RunSpec {
        task: task.into(),
        model: None,
        cwd: std::env::temp_dir(),
        timeout: Duration::from_secs(30),
        thread_id: None,
        sandbox: None,
    };
    let (events, mut rx) = tokio::sync::mpsc::channel(64);
    let printer = tokio::spawn(async move {
        let mut streamed = String::new();
        while let Some(ev) = rx.recv().await {
            if let RunEvent::Delta { text } = ev {
                print!("  delta: {text}");
                streamed.push_str(&text);
            }
        }
        streamed
    });
    let outcome = execute(pool, key, spec, events, CancelToken::new())
        .await
        .map_err(|e| format!("run `{task}` failed: {e}"))?;
    let streamed = printer.await.map_err(|e| e.to_string())?;
    if streamed != outcome.final_text {
        return Err(format!(
            "streamed {streamed:?} but the final text is {:?}",
            outcome.final_text
        ));
    }
    Ok(outcome)
}

async fn demo(binary: PathBuf) -> Result<(), String> {
    let pool = Pool::new(PoolConfig::default());
    let key = ProcessKey::new(vec![binary.to_string_lossy().into_owned()]);
    let first = run(&pool, &key, "echo hello from the pool").await?;
    let second = run(&pool, &key, "echo second run").await?;
    let stats = pool.stats();
    pool.shutdown().await;
    if first.final_text != "hello from the pool\n" || second.final_text != "second run\n" {
        return Err(format!("unexpected output: {first:?} {second:?}"));
    }
    if first.pid != second.pid || stats.spawned_total != 1 {
        return Err(format!(
            "both runs should share one process: pids {} and {}, {} spawned",
            first.pid, second.pid, stats.spawned_total
        ));
    }
    println!(
        "ok: two runs on one shared app-server process (pid {})",
        first.pid
    );
    Ok(())
}

fn main() -> ExitCode {
    let Some(binary) = app_server_binary() else {
        eprintln!(
            "error: the openclaw-app-server binary was not found next to this example; \
             build it with `cargo build -p openclaw-app-server-bin` or set OPENCLAW_APP_SERVER_BIN"
        );
        return ExitCode::FAILURE;
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(demo(binary)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
