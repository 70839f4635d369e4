//! Unit tests of the manager against a small in-crate executor (real files in tempdirs).
//!
//! The test executor understands `;`-separated steps: `sleep <ms>`, `echo <text>`,
//! `fail <class> <message>`, `spawn <task>` (through the in-process spawn handle).

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct TestExec {
    calls: Mutex<Vec<(String, u32)>>,
    running: Arc<AtomicUsize>,
    max_running: AtomicUsize,
}

impl RunExecutor for TestExec {
    fn execute(
        &self,
        req: ExecRequest,
        events: tokio::sync::mpsc::Sender<ExecEvent>,
        mut cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        self.calls
            .lock()
            .unwrap()
            .push((req.task.clone(), req.attempt));
        let n = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(n, Ordering::SeqCst);
        let running = self.running.clone();
        Box::pin(async move {
            let _done = Decrement(running);
            let mut out = String::new();
            for step in req.task.split(';').map(str::trim) {
                let (cmd, arg) = step.split_once(' ').unwrap_or((step, ""));
                match cmd {
                    "sleep" => {
                        let ms: u64 = arg.parse().unwrap();
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                            _ = cancel.cancelled() => return Err(ExecError {
                                class: FailureClass::Interrupted,
                                message: "cancelled".into(),
                                retryable: false,
                            }),
                        }
                    }
                    // Wait for the cancel (a shutdown or crash) on the first attempt only:
                    // the first attempt is still in flight whenever the test crashes it, however
                    // slow the machine; a re-run (attempt 2+) goes straight on.
                    "hold1" if req.attempt <= 1 => {
                        tokio::select! {
                            _ = tokio::time::sleep(HOLD_GUARD) => return Err(ExecError {
                                class: FailureClass::Runtime,
                                message: format!("hold1: not cancelled within {HOLD_GUARD:?}"),
                                retryable: false,
                            }),
                            _ = cancel.cancelled() => return Err(ExecError {
                                class: FailureClass::Interrupted,
                                message: "cancelled".into(),
                                retryable: false,
                            }),
                        }
                    }
                    "thread" => {
                        out.push_str(req.resume_thread_id.as_deref().unwrap_or("none"));
                    }
                    "model" => {
                        out.push_str(req.model.as_deref().unwrap_or("none"));
                    }
                    "echo" => {
                        let line = format!("{arg}\n");
                        out.push_str(&line);
                        let _ = events.send(ExecEvent::Delta { text: line }).await;
                    }
                    "fail" => {
                        let (class, msg) = arg.split_once(' ').unwrap_or((arg, "failed"));
                        return Err(ExecError {
                            class: FailureClass::parse_lenient(class),
                            message: msg.into(),
                            retryable: false,
                        });
                    }
                    "spawn" | "spawnwait" => {
                        let runtime_err = |e: SessionError| ExecError {
                            class: FailureClass::Runtime,
                            message: e.to_string(),
                            retryable: false,
                        };
                        let acc = req
                            .spawner
                            .spawn(spawn_of(arg))
                            .await
                            .map_err(runtime_err)?;
                        if cmd == "spawn" {
                            out.push_str(&acc.child_session_key);
                            continue;
                        }
                        let snap = req
                            .spawner
                            .wait(&acc.run_id, Duration::from_secs(30))
                            .await
                            .map_err(runtime_err)?;
                        out.push_str(&format!(
                            "child {}: {}",
                            snap.state.as_str(),
                            snap.text.unwrap_or_default()
                        ));
                    }
                    _ => {}
                }
            }
            Ok(ExecOutcome {
                final_text: out,
                thread_id: Some(format!("thread-{}", req.run_id)),
            })
        })
    }
}

/// Decrements the running count when the run future ends or is dropped.
struct Decrement(Arc<AtomicUsize>);
impl Drop for Decrement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn open(
    dir: &std::path::Path,
    exec: Arc<TestExec>,
    cfg: openclaw_rs_config::Config,
) -> SessionManager {
    let opts = ManagerOptions::new(openclaw_rs_state::StateDir::new(dir));
    SessionManager::open(opts, Arc::new(cfg), exec).unwrap()
}

fn cfg_with(f: impl FnOnce(&mut openclaw_rs_config::Config)) -> openclaw_rs_config::Config {
    let mut c = openclaw_rs_config::Config::default();
    f(&mut c);
    c
}

/// A manager with `cfg` on a fresh state dir, and its executor.
fn setup(cfg: openclaw_rs_config::Config) -> (tempfile::TempDir, Arc<TestExec>, SessionManager) {
    let d = tempfile::tempdir().unwrap();
    let exec = Arc::new(TestExec::default());
    let m = open(d.path(), exec.clone(), cfg);
    (d, exec, m)
}

/// Sessions whose running run has a durable `started` record.
fn started(m: &SessionManager) -> usize {
    m.list()
        .iter()
        .filter(|s| s.running_run_id.is_some())
        .count()
}

const LONG: Duration = Duration::from_secs(20);
/// Hang guard of the `hold1` step.
const HOLD_GUARD: Duration = Duration::from_secs(120);

/// Polls `done` every 10 ms for up to 3 s (a hang guard: callers assert the state afterwards).
async fn poll(done: impl Fn() -> bool) {
    poll_for(Duration::from_secs(3), done).await;
}

/// Polls `done` every 10 ms for up to `guard` (a hang guard: callers assert the state afterwards).
async fn poll_for(guard: Duration, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + guard;
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A spawn of `task` under the default parent.
fn spawn_of(task: impl Into<String>) -> SpawnRequest {
    SpawnRequest {
        task: task.into(),
        ..Default::default()
    }
}

/// A message to the session `key`.
fn message(key: &str, text: impl Into<String>) -> SendRequest {
    SendRequest {
        session_key: key.into(),
        message: text.into(),
        ..Default::default()
    }
}

/// The outbox entry a completed child `a` leaves for the main session: the crash window
/// between the outbox write and what follows it.
fn completed_outbox_entry(a: &SpawnAccepted, text: &str) -> journal::Announce {
    journal::Announce {
        announce_id: format!("announce:{}", a.run_id),
        parent_key: "agent:main:main".into(),
        child_key: a.child_session_key.clone(),
        run_id: a.run_id.clone(),
        status: "completed".into(),
        text: Some(text.into()),
        error: None,
        error_class: None,
        label: None,
        ts: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_runs_and_announces_once_to_parent() {
    let (_d, _exec, m) = setup(Default::default());
    let mut events = m.subscribe();
    let acc = m
        .spawn(SpawnRequest {
            task: "echo test".into(),
            label: Some("probe".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(acc.child_session_key.starts_with("agent:main:subagent:"));
    let snap = m.wait(&acc.run_id, LONG).await.unwrap();
    assert_eq!(snap.state, RunState::Completed, "{snap:?}");
    assert_eq!(snap.text.as_deref(), Some("test\n"));
    assert_eq!(snap.spawned_by.as_deref(), Some("agent:main:main"));
    // The announce reaches the parent's transcript exactly once.
    let mut announced = false;
    for _ in 0..200 {
        let h = m.history("agent:main:main", 100).await.unwrap();
        let n = h.iter().filter(|e| e.role == "system").count();
        assert!(n <= 1);
        if n == 1 {
            assert_eq!(
                h[0].child_session_key.as_deref(),
                Some(acc.child_session_key.as_str())
            );
            announced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(announced, "parent never got the announce");
    // Events: status, delta, final in seq order, all tagged with spawnedBy.
    let mut states = Vec::new();
    let mut last_seq = 0;
    while let Ok(ev) = events.try_recv() {
        if let SessionEvent::Chat(c) = ev {
            assert!(c.seq > last_seq);
            last_seq = c.seq;
            assert_eq!(c.spawned_by.as_deref(), Some("agent:main:main"));
            states.push(c.state);
        }
    }
    assert_eq!(states.first(), Some(&ChatState::Status));
    assert!(states.contains(&ChatState::Delta));
    assert_eq!(states.last(), Some(&ChatState::Final));
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_is_enforced_with_its_setting() {
    let d = tempfile::tempdir().unwrap();
    let exec = Arc::new(TestExec::default());
    let m = open(
        d.path(),
        exec,
        cfg_with(|c| c.session.max_children_per_session = Some(2)),
    );
    let slow = || SpawnRequest {
        task: "sleep 3000".into(),
        ..Default::default()
    };
    // Depth: a child (depth 1) may not spawn with maxSpawnDepth = 1.
    let a = m.spawn(slow()).await.unwrap();
    let e = m
        .spawn(SpawnRequest {
            parent_session_key: Some(a.child_session_key.clone()),
            ..slow()
        })
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("spawn depth 2 exceeds session.maxSpawnDepth = 1"),
        "{e}"
    );
    // Children: the limit counts the active children of a parent named by the spawn. `a`
    // (a shell spawn) is one of main's; one more with main named is fine, a third is not.
    let under_main = || SpawnRequest {
        parent_session_key: Some("agent:main:main".into()),
        ..slow()
    };
    let b = m.spawn(under_main()).await.unwrap();
    let e = m.spawn(under_main()).await.unwrap_err();
    assert!(
        matches!(&e, SessionError::Limit(v) if v.kind == LimitKind::ChildrenPerSession),
        "{e}"
    );
    assert!(
        e.to_string().contains("session.maxChildrenPerSession = 2"),
        "{e}"
    );
    // A shell spawn (no parent named) is not an agent's child: it is accepted all the same.
    let shell = m.spawn(slow()).await.unwrap();
    assert!(!shell.duplicate);
    // Concurrency: lower the lane to the runs already in it; another spawn is accepted and waits
    // in the lane as `queued` instead of being refused.
    let deadline = tokio::time::Instant::now() + LONG;
    for id in [&a.run_id, &b.run_id, &shell.run_id] {
        while m.run(id).await.unwrap().state != RunState::Running {
            assert!(tokio::time::Instant::now() < deadline, "{id} never started");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    m.set_config(Arc::new(cfg_with(|c| {
        c.session.max_children_per_session = Some(2);
        c.session.max_concurrent_subagent_runs = Some(3);
    })));
    let queued = m
        .spawn(SpawnRequest {
            parent_session_key: Some("agent:other:main".into()),
            ..slow()
        })
        .await
        .unwrap();
    let snap = m.run(&queued.run_id).await.unwrap();
    assert_eq!(snap.state, RunState::Queued, "{snap:?}");
    let info = m.get(&queued.child_session_key).unwrap();
    assert_eq!(info.queued, 1, "{info:?}");
    assert_eq!(info.running_run_id, None, "{info:?}");
    // A free slot starts it.
    m.set_config(Arc::new(cfg_with(|c| {
        c.session.max_children_per_session = Some(2);
        c.session.max_concurrent_subagent_runs = Some(4);
    })));
    while m.run(&queued.run_id).await.unwrap().state == RunState::Queued {
        assert!(
            tokio::time::Instant::now() < deadline + LONG,
            "the queued run never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_retry_with_same_idempotency_key_runs_once() {
    let (d, exec, m) = setup(Default::default());
    let req = SendRequest {
        session_key: "agent:main:main".into(),
        message: "echo once".into(),
        idempotency_key: Some("idem-1".into()),
        ..Default::default()
    };
    let a = m.send(req.clone()).await.unwrap();
    let b = m.send(req.clone()).await.unwrap();
    assert_eq!(a.run_id, "idem-1");
    assert_eq!(b.run_id, "idem-1");
    assert!(!a.duplicate && b.duplicate);
    m.wait("idem-1", LONG).await.unwrap();
    let c = m.send(req.clone()).await.unwrap();
    assert!(c.duplicate);
    assert_eq!(c.state, RunState::Completed);
    m.shutdown().await;
    // Still a duplicate after a restart.
    let m = open(d.path(), exec.clone(), Default::default());
    assert!(m.send(req).await.unwrap().duplicate);
    assert_eq!(exec.calls.lock().unwrap().len(), 1);
    // Same key on another session is an error naming the first session.
    let e = m
        .send(SendRequest {
            session_key: "agent:ops:main".into(),
            message: "echo x".into(),
            idempotency_key: Some("idem-1".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("agent:main:main"), "{e}");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_at_a_time_per_session_in_order() {
    let (_d, exec, m) = setup(Default::default());
    let mut ids = Vec::new();
    for i in 0..4 {
        let a = m
            .send(message("agent:main:main", format!("sleep 30; echo {i}")))
            .await
            .unwrap();
        ids.push(a.run_id);
    }
    for id in &ids {
        assert_eq!(m.wait(id, LONG).await.unwrap().state, RunState::Completed);
    }
    assert_eq!(exec.max_running.load(Ordering::SeqCst), 1);
    let order: Vec<String> = exec
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.0.clone())
        .collect();
    assert_eq!(
        order,
        (0..4)
            .map(|i| format!("sleep 30; echo {i}"))
            .collect::<Vec<_>>()
    );
    let h = m.history("agent:main:main", 3).await.unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h[2].text, "3\n");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_timeout_and_failure_states() {
    let (_d, exec, m) = setup(Default::default());
    let key = "agent:main:main";
    let send = |msg: &str, timeout: Option<Duration>| SendRequest {
        session_key: key.into(),
        message: msg.into(),
        timeout,
        ..Default::default()
    };
    let running = m.send(send("sleep 5000", None)).await.unwrap().run_id;
    let queued = m.send(send("echo never", None)).await.unwrap().run_id;
    // Wait until the first one is running, then abort everything in the session.
    poll(|| m.get(key).unwrap().running_run_id.is_some()).await;
    let aborted = m.abort(key, None).await.unwrap();
    assert_eq!(aborted.len(), 2);
    assert_eq!(
        m.wait(&running, LONG).await.unwrap().state,
        RunState::Aborted
    );
    assert_eq!(
        m.wait(&queued, LONG).await.unwrap().state,
        RunState::Aborted
    );
    let t = m
        .send(send("sleep 5000", Some(Duration::from_millis(100))))
        .await
        .unwrap()
        .run_id;
    let s = m.wait(&t, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Timeout);
    assert_eq!(s.error_class, Some(FailureClass::Timeout));
    let f = m
        .send(send("fail auth invalid bearer token", None))
        .await
        .unwrap()
        .run_id;
    let s = m.wait(&f, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Failed);
    assert_eq!(s.error_class, Some(FailureClass::Auth));
    assert_eq!(s.error.as_deref(), Some("invalid bearer token"));
    // A fine class from the executor is recorded as the class clients see.
    let f = m
        .send(send("fail transport pipe closed", None))
        .await
        .unwrap()
        .run_id;
    let s = m.wait(&f, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Failed);
    assert_eq!(s.error_class, Some(FailureClass::Runtime));
    // Only "echo never" never ran.
    assert!(!exec
        .calls
        .lock()
        .unwrap()
        .iter()
        .any(|c| c.0 == "echo never"));
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reruns_interrupted_and_queued_and_announces_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    let exec = Arc::new(TestExec::default());
    let cfg = cfg_with(|c| {
        c.session.max_concurrent_subagent_runs = Some(20);
        c.session.max_children_per_session = Some(20);
    });
    let m = open(d.path(), exec.clone(), cfg.clone());
    let mut runs = Vec::new();
    let mut children = Vec::new();
    for i in 0..3 {
        let a = m
            .spawn(spawn_of(format!("sleep 400; echo child{i}")))
            .await
            .unwrap();
        runs.push(a.run_id);
        children.push(a.child_session_key);
    }
    // 3 more messages queued behind each child's running run (9) plus one on the main session.
    for (i, c) in children.iter().enumerate() {
        for j in 0..3 {
            let a = m
                .send(message(c, format!("sleep 50; echo q{i}{j}")))
                .await
                .unwrap();
            runs.push(a.run_id);
        }
    }
    poll(|| started(&m) == 3).await;
    assert_eq!(started(&m), 3);
    // "Crash": stop without letting anything finish.
    m.shutdown().await;
    drop(m);
    let m = open(d.path(), exec.clone(), cfg);
    for r in &runs {
        let s = m.wait(r, LONG).await.unwrap();
        assert_eq!(s.state, RunState::Completed, "{s:?}");
    }
    let mut got = 0;
    for _ in 0..300 {
        let h = m.history("agent:main:main", 1000).await.unwrap();
        let ids: Vec<_> = h.iter().filter_map(|e| e.announce_id.clone()).collect();
        let uniq: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(ids.len(), uniq.len(), "duplicate announce: {ids:?}");
        got = ids.len();
        if got == runs.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(got, runs.len());
    // The three interrupted runs were attempted twice.
    let calls = exec.calls.lock().unwrap().clone();
    for i in 0..3 {
        let attempts: Vec<u32> = calls
            .iter()
            .filter(|c| c.0 == format!("sleep 400; echo child{i}"))
            .map(|c| c.1)
            .collect();
        assert_eq!(attempts, vec![1, 2]);
    }
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_interrupted_twice_ends_interrupted_and_is_announced() {
    let d = tempfile::tempdir().unwrap();
    let exec = Arc::new(TestExec::default());
    let mut run = String::new();
    for round in 0..2 {
        let m = open(d.path(), exec.clone(), Default::default());
        if round == 0 {
            run = m.spawn(spawn_of("sleep 10000")).await.unwrap().run_id;
        }
        poll(|| started(&m) == 1).await;
        assert_eq!(started(&m), 1, "round {round}");
        m.shutdown().await;
    }
    let m = open(d.path(), exec.clone(), Default::default());
    let s = m.wait(&run, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Interrupted);
    assert!(s.error.unwrap().contains("not run again"));
    for _ in 0..200 {
        let h = m.history("agent:main:main", 10).await.unwrap();
        if let Some(a) = h.iter().find(|e| e.role == "system") {
            assert_eq!(a.state, Some(RunState::Interrupted));
            m.shutdown().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("interrupted run was never announced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_entry_without_ended_record_is_completed_on_restart() {
    let (d, exec, m) = setup(Default::default());
    let a = m.spawn(spawn_of("sleep 10000")).await.unwrap();
    poll(|| started(&m) == 1).await;
    m.shutdown().await;
    // Crash between the outbox write and the child's `ended` record.
    let sessions = d.path().join("sessions");
    journal::write_outbox(&sessions, &completed_outbox_entry(&a, "from outbox")).unwrap();
    let calls_before = exec.calls.lock().unwrap().len();
    let m = open(d.path(), exec.clone(), Default::default());
    let s = m.wait(&a.run_id, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Completed);
    assert_eq!(s.text.as_deref(), Some("from outbox"));
    for _ in 0..200 {
        let h = m.history("agent:main:main", 10).await.unwrap();
        if h.iter().any(|e| e.role == "system") {
            assert_eq!(h.iter().filter(|e| e.role == "system").count(), 1);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(journal::read_outbox(&sessions).unwrap().is_empty());
    assert_eq!(
        exec.calls.lock().unwrap().len(),
        calls_before,
        "must not re-run"
    );
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_can_spawn_children_in_process() {
    let (_d, _exec, m) = setup(Default::default());
    let r = m
        .send(message("agent:main:main", "spawn echo from-child"))
        .await
        .unwrap();
    let s = m.wait(&r.run_id, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Completed, "{s:?}");
    let child = s.text.unwrap();
    let info = m.get(&child).unwrap();
    assert_eq!(info.spawned_by.as_deref(), Some("agent:main:main"));
    assert_eq!(info.depth, 1);
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_name_the_problem() {
    let (_d, _exec, m) = setup(Default::default());
    let e = m.spawn(spawn_of(" ")).await.unwrap_err();
    assert!(e.to_string().contains("task is empty"), "{e}");
    let e = m
        .spawn(SpawnRequest {
            task: "echo".into(),
            runtime: Some("nope".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("runtimes.nope"), "{e}");
    let e = m
        .send(message(
            "agent:main:subagent:6f1c0a4e-3b56-4a43-9d57-0e0c1c7f6e2a",
            "x",
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, SessionError::NotFound(_)), "{e}");
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_accepts_and_persists_but_starts_nothing_new() {
    let (_d, _exec, m) = setup(Default::default());
    let key = "agent:main:main";
    let send = |msg: &str| SendRequest {
        session_key: key.into(),
        message: msg.into(),
        ..Default::default()
    };
    let first = m.send(send("sleep 300; echo a")).await.unwrap().run_id;
    poll(|| started(&m) == 1).await;
    m.set_draining(true);
    let second = m.send(send("echo b")).await.unwrap().run_id;
    // The run in flight finishes; the new one waits.
    assert_eq!(
        m.wait(&first, LONG).await.unwrap().state,
        RunState::Completed
    );
    let s = m.wait(&second, Duration::from_millis(300)).await.unwrap();
    assert_eq!(s.state, RunState::Queued);
    assert_eq!(m.running_runs(), 0);
    m.set_draining(false);
    assert_eq!(
        m.wait(&second, LONG).await.unwrap().state,
        RunState::Completed
    );
    m.shutdown().await;
}

/// A parent that waits for the child it spawned from inside its run does not stall a restart
/// drain: children of a running parent still start; other new work stays queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_still_runs_children_of_running_parents() {
    let (_d, _exec, m) = setup(Default::default());
    let parent = m
        .send(message("agent:main:main", "sleep 300; spawnwait echo kid"))
        .await
        .unwrap()
        .run_id;
    poll(|| started(&m) == 1).await;
    m.set_draining(true);
    let other = m
        .spawn(SpawnRequest {
            task: "echo other".into(),
            parent_session_key: Some("agent:ops:main".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let p = m.wait(&parent, LONG).await.unwrap();
    assert_eq!(p.state, RunState::Completed, "{p:?}");
    assert_eq!(p.text.as_deref(), Some("child completed: kid\n"));
    // The idle agent's spawn waits for the end of the drain.
    let s = m
        .wait(&other.run_id, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(s.state, RunState::Queued);
    assert_eq!(m.running_runs(), 0);
    m.set_draining(false);
    assert_eq!(
        m.wait(&other.run_id, LONG).await.unwrap().state,
        RunState::Completed
    );
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_delete_archives_the_child_after_its_announce() {
    let (d, _exec, m) = setup(Default::default());
    let a = m
        .spawn(SpawnRequest {
            task: "echo bye".into(),
            cleanup: Cleanup::Delete,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        m.wait(&a.run_id, LONG).await.unwrap().state,
        RunState::Completed
    );
    poll(|| m.get(&a.child_session_key).is_none()).await;
    assert!(m.get(&a.child_session_key).is_none(), "child not archived");
    let archived = std::fs::read_dir(d.path().join("sessions/archive"))
        .unwrap()
        .count();
    assert_eq!(archived, 1);
    let h = m.history("agent:main:main", 10).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].text, "bye\n");
    // The result is still readable after the archive (from memory).
    assert_eq!(
        m.run(&a.run_id).await.unwrap().text.as_deref(),
        Some("bye\n")
    );
    m.shutdown().await;
    // After a restart the archived child is not loaded; its result lives on in the parent.
    let m = open(d.path(), Arc::new(TestExec::default()), Default::default());
    let s = m.run(&a.run_id).await;
    assert!(matches!(s, Err(SessionError::NotFound(_))), "{s:?}");
    assert_eq!(m.history("agent:main:main", 10).await.unwrap().len(), 1);
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_comes_from_the_run_then_the_agent_then_defaults() {
    let d = tempfile::tempdir().unwrap();
    let cfg = cfg_with(|c| {
        c.agents.defaults.model = Some("default-model".into());
        c.agents.entries.insert(
            "ops".into(),
            openclaw_rs_config::AgentSettings {
                model: Some("ops-model".into()),
                ..Default::default()
            },
        );
    });
    let m = open(d.path(), Arc::new(TestExec::default()), cfg);
    let run = |key: &str, model: Option<&str>| SendRequest {
        session_key: key.into(),
        message: "model".into(),
        model: model.map(str::to_string),
        ..Default::default()
    };
    for (key, model, want) in [
        ("agent:main:main", Some("asked"), "asked"),
        ("agent:ops:main", None, "ops-model"),
        ("agent:main:main", None, "default-model"),
    ] {
        let id = m.send(run(key, model)).await.unwrap().run_id;
        let s = m.wait(&id, LONG).await.unwrap();
        assert_eq!(s.text.as_deref(), Some(want));
    }
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_results_are_read_back_from_the_journal() {
    let (_d, _exec, m) = setup(Default::default());
    let big = "x".repeat(20_000);
    let id = m
        .send(message("agent:main:main", format!("echo {big}")))
        .await
        .unwrap()
        .run_id;
    let s = m.wait(&id, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Completed);
    assert_eq!(s.text.unwrap().len(), big.len() + 1);
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resumes_the_thread_of_its_last_completed_run() {
    let d = tempfile::tempdir().unwrap();
    let exec = Arc::new(TestExec::default());
    let send = |id: &str, msg: &str| SendRequest {
        session_key: "agent:main:main".into(),
        message: msg.into(),
        idempotency_key: Some(id.into()),
        ..Default::default()
    };
    let m = open(d.path(), exec.clone(), Default::default());
    m.send(send("r1", "thread")).await.unwrap();
    assert_eq!(
        m.wait("r1", LONG).await.unwrap().text.as_deref(),
        Some("none")
    );
    m.send(send("r2", "fail runtime boom")).await.unwrap();
    m.wait("r2", LONG).await.unwrap();
    // A failed run does not replace the thread.
    m.send(send("r3", "thread")).await.unwrap();
    assert_eq!(
        m.wait("r3", LONG).await.unwrap().text.as_deref(),
        Some("thread-r1")
    );
    m.shutdown().await;
    // Remembered across a restart (from the journal).
    let m = open(d.path(), exec, Default::default());
    m.send(send("r4", "thread")).await.unwrap();
    assert_eq!(
        m.wait("r4", LONG).await.unwrap().text.as_deref(),
        Some("thread-r3")
    );
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_recorded_but_outbox_not_yet_removed_is_not_delivered_twice() {
    let (d, exec, m) = setup(Default::default());
    let a = m.spawn(spawn_of("echo once")).await.unwrap();
    m.wait(&a.run_id, LONG).await.unwrap();
    for _ in 0..300 {
        if !m.history("agent:main:main", 10).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.shutdown().await;
    // The crash window: the parent's journal has the announce, the outbox file is still there.
    let sessions = d.path().join("sessions");
    journal::write_outbox(&sessions, &completed_outbox_entry(&a, "once\n")).unwrap();
    let m = open(d.path(), exec, Default::default());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let h = m.history("agent:main:main", 10).await.unwrap();
    assert_eq!(h.iter().filter(|e| e.role == "system").count(), 1, "{h:?}");
    assert!(journal::read_outbox(&sessions).unwrap().is_empty());
    m.shutdown().await;
}

/// A parent re-run after a crash finds the children its first attempt spawned instead of
/// spawning them twice; the same task asked for twice in one run is two children.
///
/// Re-run semantics of a crash (what this test pins down, with the children completed first):
/// - a run with a durable `started` record and no `ended` record is interrupted by the crash
///   and runs again after the restart (attempt + 1): that holds for a parent and for a child;
/// - a child whose run ended before the crash is not run again; the parent's re-run asks for
///   the same children and gets the existing ones back (same keys), so each completed child ran
///   exactly once and its announce reaches the parent once;
/// - a child interrupted by the crash runs again after the restart (at least once for its
///   executor; its result is still announced to the parent once).
///
/// The test waits on state only: the parent's first attempt holds until it is cancelled by the
/// crash (`hold1`), the children are waited for until they have completed, so a slow machine
/// changes nothing but the time it takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_rerun_after_restart_reuses_its_children() {
    let d = tempfile::tempdir().unwrap();
    let exec = Arc::new(TestExec::default());
    let m = open(d.path(), exec.clone(), Default::default());
    let task = "spawn echo kid; spawn echo kid; hold1";
    let r = m.send(message("agent:main:main", task)).await.unwrap();
    let children = |m: &SessionManager| m.get("agent:main:main").map_or(0, |s| s.children);
    poll_for(LONG, || children(&m) == 2).await;
    assert_eq!(children(&m), 2);
    // The crash comes after both children completed (see the semantics above).
    let kids_done = |m: &SessionManager| {
        m.list()
            .iter()
            .filter(|s| s.spawned_by.is_some())
            .filter(|s| s.last_run_state == Some(RunState::Completed))
            .count()
    };
    poll_for(LONG, || kids_done(&m) == 2).await;
    assert_eq!(
        kids_done(&m),
        2,
        "the children did not complete before the crash"
    );
    let parent = m.get("agent:main:main").unwrap();
    assert!(
        parent.running_run_id.is_some(),
        "the parent is still in its first attempt"
    );
    let before: Vec<String> = m
        .list()
        .into_iter()
        .filter(|s| s.spawned_by.is_some())
        .map(|s| s.key)
        .collect();
    // "Crash" while the parent holds.
    m.shutdown().await;
    drop(m);
    let m = open(d.path(), exec.clone(), Default::default());
    let s = m.wait(&r.run_id, LONG).await.unwrap();
    assert_eq!(s.state, RunState::Completed, "{s:?}");
    assert_eq!(s.attempts, 2, "{s:?}");
    assert_eq!(children(&m), 2, "the re-run spawned again");
    let mut after: Vec<String> = m
        .list()
        .into_iter()
        .filter(|s| s.spawned_by.is_some())
        .map(|s| s.key)
        .collect();
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(after, before);
    // The second attempt's output names the same two children, in the order it asked.
    let text = s.text.unwrap_or_default();
    for k in &before {
        assert!(text.contains(k.as_str()), "{text} lacks {k}");
    }
    let kid_runs = exec
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.0 == "echo kid")
        .count();
    assert_eq!(kid_runs, 2, "each child ran once");
    m.shutdown().await;
}

/// `SpawnRequest::idempotency_key`: the same key under the same parent is the same child;
/// under another parent it is refused; derived keys stay valid run ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_idempotency_key_returns_the_first_child() {
    let (_d, _exec, m) = setup(Default::default());
    let req = || SpawnRequest {
        idempotency_key: Some("spawn-key-1".into()),
        ..spawn_of("echo once")
    };
    let a = m.spawn(req()).await.unwrap();
    assert!(!a.duplicate);
    assert_eq!(a.run_id, "spawn-key-1");
    let b = m.spawn(req()).await.unwrap();
    assert!(b.duplicate);
    assert_eq!(b.child_session_key, a.child_session_key);
    assert_eq!(m.get("agent:main:main").unwrap().children, 1);
    let e = m
        .spawn(SpawnRequest {
            parent_session_key: Some("agent:ops:main".into()),
            ..req()
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already used for session"), "{e}");
    let e = m
        .spawn(SpawnRequest {
            idempotency_key: Some("bad key!".into()),
            ..spawn_of("echo x")
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("invalid idempotencyKey"), "{e}");
    for run in ["r1", &"x".repeat(128)] {
        for n in [0, 7] {
            let k = crate::spawner::derived_spawn_key(run, n, "echo once");
            crate::key::check_run_id(&k).unwrap();
            assert_eq!(k, crate::spawner::derived_spawn_key(run, n, "echo once"));
            assert_ne!(k, crate::spawner::derived_spawn_key(run, n, "echo twice"));
        }
    }
    m.shutdown().await;
}

/// `session.retention.*`: finished children are archived after `archiveAfterMinutes` and leave
/// memory; archives are pruned by count and age; active children, and children whose result
/// is not yet recorded, are never touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_archives_finished_children_then_prunes_archives() {
    let (d, _exec, m) = setup(cfg_with(|c| {
        c.session.max_children_per_session = Some(20);
        c.session.retention.archive_after_minutes = Some(1);
        c.session.retention.max_archived = Some(3);
        c.session.retention.archived_max_age_days = Some(1);
    }));
    let mut done = Vec::new();
    for i in 0..5 {
        let a = m
            .spawn(SpawnRequest {
                task: format!("echo child {i}"),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            m.wait(&a.run_id, LONG).await.unwrap().state,
            RunState::Completed
        );
        done.push(a);
    }
    let busy = m
        .spawn(SpawnRequest {
            task: "sleep 60000".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Every result is recorded in the parent before anything can be archived.
    poll(|| {
        m.get("agent:main:main")
            .is_some_and(|p| p.pending_announces == 0)
    })
    .await;
    let live = || {
        std::fs::read_dir(d.path().join("sessions"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
            .count()
    };
    let archived = || {
        std::fs::read_dir(d.path().join("sessions/archive"))
            .map(|r| r.count())
            .unwrap_or(0)
    };
    let before = live();
    let index_before = m.run_index_len();

    // Not yet due: nothing moves.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let r = m.apply_retention_at(now()).await;
    assert_eq!(r, RetentionReport::default());
    assert_eq!(live(), before);

    // Two minutes on: the five finished children go (the archive keeps 3), the busy one stays.
    let later = now() + 2 * 60_000;
    let r = m.apply_retention_at(later).await;
    assert_eq!(r.archived, 5, "{r:?}");
    assert_eq!(r.pruned, 2, "{r:?}");
    assert_eq!(live(), before - 5);
    assert_eq!(archived(), 3);
    for a in &done {
        assert!(
            m.get(&a.child_session_key).is_none(),
            "{a:?} still in memory"
        );
    }
    assert!(m.get(&busy.child_session_key).is_some());
    assert_eq!(m.run_index_len(), index_before - 5);
    let parent = m.get("agent:main:main").unwrap();
    assert_eq!(parent.children, 1, "{parent:?}");
    // The parent's transcript keeps every child's result.
    assert_eq!(m.history("agent:main:main", 10).await.unwrap().len(), 5);

    // Two days on: archives older than a day are deleted.
    let r = m.apply_retention_at(later + 2 * 86_400_000).await;
    assert_eq!(r.pruned, 3, "{r:?}");
    assert_eq!(archived(), 0);

    // A restart loads none of them and keeps the busy child.
    m.shutdown().await;
    let m = open(d.path(), Arc::new(TestExec::default()), Default::default());
    assert!(m.get(&done[0].child_session_key).is_none());
    assert!(m.get(&busy.child_session_key).is_some());
    m.shutdown().await;
}

/// A small tmpfs mounted for one test, unmounted on drop (needs root and `mount`).
struct SmallFs(std::path::PathBuf);

impl SmallFs {
    fn mount(dir: &std::path::Path, size: &str) -> Result<SmallFs, String> {
        #[allow(clippy::disallowed_methods)] // a test's own tool, not a child of the gateway
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if out.status.success() {
            Ok(SmallFs(dir.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        #[allow(clippy::disallowed_methods)]
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A spawn refused because the disk is full leaves no file behind (it used to leave an empty
/// journal) and nothing in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawn_refused_for_a_full_disk_leaves_no_file() {
    let d = tempfile::tempdir().unwrap();
    let _fs = match SmallFs::mount(d.path(), "256k") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED a_spawn_refused_for_a_full_disk_leaves_no_file: cannot mount a small tmpfs ({why}); needs root");
            return;
        }
    };
    let m = open(d.path(), Arc::new(TestExec::default()), Default::default());
    let sessions = d.path().join("sessions");
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(&sessions)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing();
    // Fill every block: creating the journal still works (an inode), writing it does not.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(d.path().join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while filler.write_all(&block).is_ok() {}
    }
    let e = m
        .spawn(SpawnRequest {
            task: "echo never".into(),
            ..Default::default()
        })
        .await;
    assert!(matches!(e, Err(SessionError::Storage(_))), "{e:?}");
    assert_eq!(listing(), before, "the refused spawn left a file");
    assert_eq!(m.active_runs(), 0);
    // Space again: the next spawn works.
    std::fs::remove_file(d.path().join("filler")).unwrap();
    let a = m
        .spawn(SpawnRequest {
            task: "echo after".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        m.wait(&a.run_id, LONG).await.unwrap().state,
        RunState::Completed
    );
    m.shutdown().await;
}

mod compaction;
