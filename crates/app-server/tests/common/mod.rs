//! Shared helpers for the pool tests: locating the built binaries and building run specs.
#![allow(clippy::disallowed_methods)] // test helpers start fake app-servers and binaries directly (the spawn rule is for library code)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use openclaw_rs_app_server::{
    CancelToken, Pool, ProcessKey, RunError, RunEvent, RunOutcome, RunSpec,
};
use tokio::sync::mpsc;

/// `target/<profile>/<name>`, next to the test executable's `deps/` dir.
pub fn bin(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p {package} --bins` (or `cargo build --workspace --bins`) before these tests",
        path.display()
    );
    path
}

pub fn fake_key(args: &[&str]) -> ProcessKey {
    let mut command = vec![bin("fake-app-server", "openclaw-rs-test-support")
        .to_string_lossy()
        .into_owned()];
    command.extend(args.iter().map(|s| s.to_string()));
    ProcessKey::new(command)
}

pub fn embedded_key() -> ProcessKey {
    ProcessKey::new(vec![bin("openclaw-app-server", "openclaw-app-server-bin")
        .to_string_lossy()
        .into_owned()])
}

pub fn spec(task: &str, model: Option<&str>, cwd: &Path, timeout: Duration) -> RunSpec {
    RunSpec {
        task: task.to_string(),
        model: model.map(str::to_string),
        cwd: cwd.to_path_buf(),
        timeout,
        thread_id: None,
        ..Default::default()
    }
}

/// Runs to the end, collecting events.
pub async fn run(
    pool: &Pool,
    key: &ProcessKey,
    spec: RunSpec,
) -> (Result<RunOutcome, RunError>, Vec<RunEvent>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let pool = pool.clone();
    let key = key.clone();
    let handle = tokio::spawn(async move {
        openclaw_rs_app_server::execute(&pool, &key, spec, tx, CancelToken::new()).await
    });
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    (handle.await.expect("run task"), events)
}

/// A run in flight in the background: its events arrive on `events`.
pub struct Background {
    pub events: mpsc::Receiver<RunEvent>,
    pub handle: tokio::task::JoinHandle<Result<RunOutcome, RunError>>,
    pub cancel: CancelToken,
}

pub fn start(pool: &Pool, key: &ProcessKey, spec: RunSpec) -> Background {
    let (tx, events) = mpsc::channel(1024);
    let pool = pool.clone();
    let key = key.clone();
    let cancel = CancelToken::new();
    let c = cancel.clone();
    let handle =
        tokio::spawn(
            async move { openclaw_rs_app_server::execute(&pool, &key, spec, tx, c).await },
        );
    Background {
        events,
        handle,
        cancel,
    }
}

impl Background {
    /// Waits for a delta whose text is `text` (the run is provably in its turn).
    pub async fn wait_delta(&mut self, text: &str) {
        while let Some(e) = self.events.recv().await {
            if let RunEvent::Delta { text: t } = &e {
                if t == text {
                    return;
                }
            }
        }
        panic!("run ended before the delta {text:?}");
    }
}

pub fn pid_alive(pid: u32) -> bool {
    // A reaped child has no /proc entry (or it belongs to an unrelated process that is not our child).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            ppid == Some(std::process::id())
        }
        Err(_) => false,
    }
}

/// Children of this test process, from /proc.
pub fn our_children() -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if pid != me && pid_alive(pid) {
                out.push(pid);
            }
        }
    }
    out
}

pub fn kill9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {pid} failed");
}

/// Polls `cond` until true (hang guard 20 s).
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
