//! Pool and run behaviour against real child processes (the fault-injecting fake app-server and
//! the embedded app-server). Needs the binaries built: `cargo build -p openclaw-rs-test-support -p openclaw-app-server-bin --bins`.

mod common;

use std::time::Duration;

use common::*;
use openclaw_rs_app_server::client::ApprovalPolicy;
use openclaw_rs_app_server::{FailureClass, Pool, PoolConfig, PoolError, RunEvent};
use tokio::time::Instant;

const LONG: Duration = Duration::from_secs(30);

fn pool() -> Pool {
    Pool::new(PoolConfig::default())
}

async fn guard<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test hang guard (60 s) hit");
}

/// The seed scenario: a parent run is in flight on the shared process; a helper run with a bad
/// credential fails with `Auth`; the parent completes; the process keeps its PID; a sibling
/// spawned right after succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_auth_failure_fails_only_that_run() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let gate = dir.path().join("gate");
        let key = fake_key(&[
            "--gate-model",
            "parent",
            "--gate-file",
            gate.to_str().unwrap(),
            "--auth-fail-thread-model",
            "bad-thread",
            "--auth-fail-turn-model",
            "bad-turn",
        ]);
        let pool = pool();
        let mut parent = start(&pool, &key, spec("work", Some("parent"), dir.path(), LONG));
        parent.wait_delta("wait").await;
        let pid = pool.live_pids()[0];

        // Helper whose thread/start fails with 401.
        let (res, _) = run(
            &pool,
            &key,
            spec("help", Some("bad-thread"), dir.path(), LONG),
        )
        .await;
        let err = res.expect_err("helper must fail");
        assert_eq!(err.class, FailureClass::Auth, "{err}");
        assert_eq!(err.http_status, Some(401));
        assert!(!err.retryable);

        // Helper whose turn fails with 401 (the shape Codex reports for a bad key).
        let (res, events) = run(
            &pool,
            &key,
            spec("help", Some("bad-turn"), dir.path(), LONG),
        )
        .await;
        let err = res.expect_err("helper must fail");
        assert_eq!(err.class, FailureClass::Auth, "{err}");
        assert!(err.message.contains("401"), "{err}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, RunEvent::Retrying { .. })),
            "willRetry errors are progress: {events:?}"
        );

        assert!(
            !parent.handle.is_finished(),
            "the parent run is still in flight"
        );
        // Sibling right after: same process.
        let (res, events) = run(&pool, &key, spec("hi", None, dir.path(), LONG)).await;
        let out = res.expect("sibling succeeds");
        assert_eq!(out.final_text, "Hello");
        assert_eq!(out.pid, pid);
        let deltas: String = events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Delta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(deltas, "Hello");

        std::fs::write(&gate, b"open").unwrap();
        let out = parent.handle.await.unwrap().expect("parent completes");
        assert_eq!(out.final_text, "wait done");
        assert_eq!(out.pid, pid, "the parent finished on the same process");
        let procs = pool.processes();
        assert_eq!(procs.len(), 1, "{procs:?}");
        assert_eq!(procs[0].pid, Some(pid));
        assert_eq!(procs[0].version.as_deref(), Some("0.169.0-fake"));
        assert!(!procs[0].retired && !procs[0].poisoned);
        let stats = pool.stats();
        assert_eq!(stats.spawned_total, 1, "one shared process for everything");
        assert_eq!(stats.ledger.leases, 0);
        assert_eq!(pool.live_pids(), vec![pid]);
        pool.shutdown().await;
        assert!(!pid_alive(pid));
    })
    .await;
}

/// kill -9 of a shared process mid-turn: only the runs on it fail (retryable), runs on another
/// process continue, and the next run gets a fresh process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_turn_fails_only_runs_on_that_process() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let gate = dir.path().join("gate");
        let args = [
            "--gate-model",
            "slow",
            "--gate-file",
            gate.to_str().unwrap(),
        ];
        let key_a = fake_key(&args);
        let mut key_b = fake_key(&args);
        key_b.auth_identity = Some("other-profile".into());
        let pool = pool();
        let mut a1 = start(&pool, &key_a, spec("a1", Some("slow"), dir.path(), LONG));
        a1.wait_delta("wait").await;
        let mut a2 = start(&pool, &key_a, spec("a2", Some("slow"), dir.path(), LONG));
        a2.wait_delta("wait").await;
        let mut b1 = start(&pool, &key_b, spec("b1", Some("slow"), dir.path(), LONG));
        b1.wait_delta("wait").await;
        assert_eq!(pool.live_pids().len(), 2);
        let (res, _) = run(&pool, &key_a, spec("probe", None, dir.path(), LONG)).await;
        let pid_a = res.unwrap().pid;

        kill9(pid_a);
        for r in [a1.handle.await.unwrap(), a2.handle.await.unwrap()] {
            let err = r.expect_err("runs on the killed process fail");
            assert_eq!(err.class, FailureClass::Transport, "{err}");
            assert!(err.retryable);
        }
        assert!(
            !b1.handle.is_finished(),
            "the run on the other process is unaffected"
        );
        let (res, _) = run(&pool, &key_a, spec("again", None, dir.path(), LONG)).await;
        let fresh = res.expect("next run succeeds on a fresh process");
        assert_ne!(fresh.pid, pid_a);
        eventually("killed child reaped", || !pid_alive(pid_a)).await;
        std::fs::write(&gate, b"open").unwrap();
        assert_eq!(
            b1.handle.await.unwrap().expect("b1 completes").final_text,
            "wait done"
        );
        assert_eq!(pool.stats().ledger.leases, 0);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_and_garbage_retire_the_process() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key(&["--crash-model", "crash", "--garbage-model", "garbage"]);
        let pool = pool();
        for model in ["crash", "garbage"] {
            let (res, _) = run(&pool, &key, spec("x", None, dir.path(), LONG)).await;
            let before = res.unwrap().pid;
            let (res, _) = run(&pool, &key, spec("x", Some(model), dir.path(), LONG)).await;
            let err = res.expect_err("fault fails the run");
            assert_eq!(err.class, FailureClass::Transport, "{model}: {err}");
            assert!(err.retryable);
            let (res, _) = run(&pool, &key, spec("x", None, dir.path(), LONG)).await;
            assert_ne!(res.expect("fresh process works").pid, before, "{model}");
            eventually("old child reaped", || !pid_alive(before)).await;
        }
        pool.shutdown().await;
        assert!(pool.live_pids().is_empty());
    })
    .await;
}

/// A run deadline interrupts the turn; the process stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_interrupts_and_keeps_the_process() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key(&["--hang-model", "hang"]);
        let pool = pool();
        let (res, _) = run(
            &pool,
            &key,
            spec("x", Some("hang"), dir.path(), Duration::from_millis(300)),
        )
        .await;
        let err = res.expect_err("deadline");
        assert_eq!(err.class, FailureClass::Timeout, "{err}");
        let pid = pool.live_pids()[0];
        let (res, _) = run(&pool, &key, spec("x", None, dir.path(), LONG)).await;
        assert_eq!(res.unwrap().pid, pid);

        // Cancellation interrupts too.
        let mut bg = start(&pool, &key, spec("x", Some("hang"), dir.path(), LONG));
        while let Some(e) = bg.events.recv().await {
            if matches!(e, RunEvent::TurnStarted { .. }) {
                break;
            }
        }
        bg.cancel.cancel();
        let err = bg.handle.await.unwrap().expect_err("cancelled");
        assert_eq!(err.class, FailureClass::Interrupted);
        assert_eq!(pool.live_pids(), vec![pid]);
        pool.shutdown().await;
    })
    .await;
}

/// An unanswered `turn/interrupt` marks the process wedged: it is retired hard, sibling runs on
/// it fail fast (retryable), and the next run gets a fresh process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_interrupt_retires_hard() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let gate = dir.path().join("gate-never");
        let key = fake_key(&[
            "--hang-model",
            "hang",
            "--hang-interrupt",
            "--gate-model",
            "slow",
            "--gate-file",
            gate.to_str().unwrap(),
        ]);
        let pool = Pool::new(PoolConfig {
            interrupt_timeout: Duration::from_millis(200),
            ..PoolConfig::default()
        });
        let mut sibling = start(&pool, &key, spec("s", Some("slow"), dir.path(), LONG));
        sibling.wait_delta("wait").await;
        let pid = pool.live_pids()[0];
        let (res, _) = run(
            &pool,
            &key,
            spec("x", Some("hang"), dir.path(), Duration::from_millis(200)),
        )
        .await;
        let err = res.expect_err("deadline");
        assert_eq!(err.class, FailureClass::Timeout);
        assert!(err.message.contains("retired"), "{err}");
        let err = sibling
            .handle
            .await
            .unwrap()
            .expect_err("sibling on the wedged process fails");
        assert_eq!(err.class, FailureClass::Transport);
        assert!(err.retryable);
        let (res, _) = run(&pool, &key, spec("x", None, dir.path(), LONG)).await;
        assert_ne!(res.unwrap().pid, pid);
        eventually("wedged child reaped", || !pid_alive(pid)).await;
        pool.shutdown().await;
    })
    .await;
}

/// A request that times out marks the process wedged (hard retire).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_retires_hard() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key(&["--hang-method", "thread/start"]);
        let pool = Pool::new(PoolConfig {
            request_timeout: Duration::from_millis(200),
            ..PoolConfig::default()
        });
        let (res, _) = run(&pool, &key, spec("x", None, dir.path(), LONG)).await;
        let err = res.expect_err("thread/start never answers");
        assert_eq!(err.class, FailureClass::Timeout, "{err}");
        assert!(err.retryable);
        let stats = pool.stats();
        assert_eq!(
            stats.ledger.processes, 0,
            "the wedged process was retired: {stats:?}"
        );
        eventually("wedged child reaped", || pool.live_pids().is_empty()).await;
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_retried_and_rate_limit_is_typed() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key(&[
            "--overload-thread-start",
            "2",
            "--rate-limit-model",
            "limited",
        ]);
        let pool = pool();
        let (res, _) = run(&pool, &key, spec("x", None, dir.path(), LONG)).await;
        assert_eq!(res.expect("overload retried").final_text, "Hello");
        let (res, _) = run(&pool, &key, spec("x", Some("limited"), dir.path(), LONG)).await;
        let err = res.expect_err("429");
        assert_eq!(err.class, FailureClass::RateLimit);
        assert_eq!(err.http_status, Some(429));
        assert!(err.retryable);
        assert_eq!(pool.stats().spawned_total, 1);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_failures_are_clear() {
    guard(async {
        let pool = pool();
        let key = fake_key(&["--exit-on-start", "1"]);
        let err = pool
            .acquire(&key, Instant::now() + LONG)
            .await
            .expect_err("startup fails");
        let msg = err.to_string();
        assert!(matches!(err, PoolError::Startup { .. }), "{msg}");
        assert!(
            msg.contains("exit status: 1") && msg.contains("fake startup failure"),
            "{msg}"
        );
        let missing =
            openclaw_rs_app_server::ProcessKey::new(vec!["/nonexistent/app-server".into()]);
        let msg = pool
            .acquire(&missing, Instant::now() + LONG)
            .await
            .expect_err("missing")
            .to_string();
        assert!(msg.contains("/nonexistent/app-server"), "{msg}");
        // A child that never answers `initialize` fails the startup at the startup timeout.
        let quick = Pool::new(PoolConfig {
            startup_timeout: Duration::from_millis(300),
            ..PoolConfig::default()
        });
        let hung = fake_key(&["--hang-method", "initialize"]);
        let msg = quick
            .acquire(&hung, Instant::now() + LONG)
            .await
            .expect_err("hung init")
            .to_string();
        assert!(msg.contains("did not answer `initialize`"), "{msg}");
        eventually("hung child reaped", || quick.live_pids().is_empty()).await;
        quick.shutdown().await;
        let empty = openclaw_rs_app_server::ProcessKey::new(vec![]);
        assert!(matches!(
            pool.acquire(&empty, Instant::now() + LONG).await,
            Err(PoolError::InvalidKey(_))
        ));
        assert_eq!(pool.stats().ledger.processes, 0);
        pool.shutdown().await;
    })
    .await;
}

/// Concurrent acquirers share one startup; a waiter whose deadline passes leaves without
/// tearing the startup down for the others; the last waiter leaving cancels it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_startup_and_per_waiter_deadlines() {
    guard(async {
        let key = fake_key(&["--slow-start-ms", "400"]);
        let pool = pool();
        let impatient = {
            let (p, k) = (pool.clone(), key.clone());
            tokio::spawn(async move {
                p.acquire(&k, Instant::now() + Duration::from_millis(50))
                    .await
            })
        };
        let patient: Vec<_> = (0..3)
            .map(|_| {
                let (p, k) = (pool.clone(), key.clone());
                tokio::spawn(async move { p.acquire(&k, Instant::now() + LONG).await })
            })
            .collect();
        assert!(matches!(
            impatient.await.unwrap(),
            Err(PoolError::AcquireTimeout { .. })
        ));
        let mut pids = Vec::new();
        for p in patient {
            pids.push(
                p.await
                    .unwrap()
                    .expect("patient waiters get the shared process")
                    .pid(),
            );
        }
        pids.dedup();
        assert_eq!(pids.len(), 1);
        assert_eq!(pool.stats().spawned_total, 1);
        assert_eq!(pool.stats().ledger.leases, 0, "leases released on drop");

        // Alone and impatient: the last waiter cancels the stalled startup, and the child is reaped.
        let other = fake_key(&["--slow-start-ms", "5000"]);
        let err = pool
            .acquire(&other, Instant::now() + Duration::from_millis(50))
            .await;
        assert!(matches!(err, Err(PoolError::AcquireTimeout { .. })));
        eventually("abandoned startup reaped", || pool.live_pids().len() == 1).await;
        assert_eq!(pool.stats().ledger.processes, 1);
        pool.shutdown().await;
        assert!(pool.live_pids().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_grace_and_graceful_retire() {
    guard(async {
        let key = fake_key(&[]);
        let pool = Pool::new(PoolConfig {
            idle_grace: Duration::from_millis(100),
            ..PoolConfig::default()
        });
        let lease = pool.acquire(&key, Instant::now() + LONG).await.unwrap();
        let first = lease.pid();
        lease.retire();
        let lease2 = pool.acquire(&key, Instant::now() + LONG).await.unwrap();
        assert_ne!(lease2.pid(), first, "retired process is detached");
        assert!(pid_alive(first), "a retired process lives while leased");
        drop(lease);
        eventually("retired process closed after its last lease", || {
            !pid_alive(first)
        })
        .await;
        let second = lease2.pid();
        drop(lease2);
        eventually("idle process closed after the grace", || !pid_alive(second)).await;
        assert_eq!(pool.stats().ledger.processes, 0);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_give_a_clear_error() {
    guard(async {
        let pool = Pool::new(PoolConfig {
            max_processes_total: 1,
            ..PoolConfig::default()
        });
        let _a = pool
            .acquire(&fake_key(&[]), Instant::now() + LONG)
            .await
            .unwrap();
        let err = pool
            .acquire(&fake_key(&["--slow-start-ms", "1"]), Instant::now() + LONG)
            .await
            .expect_err("cap");
        assert!(err.to_string().contains("maxProcessesTotal"), "{err}");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_are_answered_by_policy() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let key = fake_key(&["--approval-model", "ask"]);
        for (policy, expected) in [(ApprovalPolicy::Decline, "decline"), (ApprovalPolicy::Accept, "accept")] {
            let mut config = PoolConfig::default();
            config.client.approval_policy = policy;
            let pool = Pool::new(config);
            let (res, events) = run(&pool, &key, spec("x", Some("ask"), dir.path(), LONG)).await;
            assert_eq!(res.unwrap().final_text, expected);
            assert!(events.iter().any(|e| matches!(e, RunEvent::Item { kind, .. } if kind == "item/commandExecution/requestApproval")));
            pool.shutdown().await;
        }
    })
    .await;
}

/// The embedded app-server: `echo test` streams `test\n` and completes; failures are typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_exec_model() {
    guard(async {
        let dir = tempfile::tempdir().unwrap();
        let key = embedded_key();
        let pool = pool();
        let (res, events) = run(&pool, &key, spec("echo test", None, dir.path(), LONG)).await;
        let out = res.expect("echo test completes");
        assert_eq!(out.final_text, "test\n");
        assert!(
            events.contains(&RunEvent::Delta {
                text: "test\n".into()
            }),
            "{events:?}"
        );
        let (res, _) = run(
            &pool,
            &key,
            spec("pwd; echo oops >&2; exit 3", Some("exec"), dir.path(), LONG),
        )
        .await;
        let err = res.expect_err("non-zero exit fails");
        assert!(err.message.contains("exit code 3"), "{err}");
        assert!(!err.retryable);
        let (res, _) = run(&pool, &key, spec("echo", Some("gpt-9"), dir.path(), LONG)).await;
        let err = res.expect_err("unknown model");
        assert_eq!(err.class, FailureClass::Config, "{err}");
        assert!(err.message.contains("`exec`"), "{err}");
        // A long command is interrupted at the run deadline; the process stays.
        let (res, _) = run(
            &pool,
            &key,
            spec("sleep 30", None, dir.path(), Duration::from_millis(300)),
        )
        .await;
        assert_eq!(res.expect_err("deadline").class, FailureClass::Timeout);
        // Resume keeps the thread.
        let (res, _) = run(&pool, &key, spec("echo one", None, dir.path(), LONG)).await;
        let first = res.unwrap();
        let mut again = spec("echo two", None, dir.path(), LONG);
        again.thread_id = Some(first.thread_id.clone());
        let (res, _) = run(&pool, &key, again).await;
        let second = res.unwrap();
        assert_eq!(second.thread_id, first.thread_id);
        assert_eq!(second.final_text, "two\n");
        assert_eq!(pool.stats().spawned_total, 1);
        pool.shutdown().await;
        assert!(pool.live_pids().is_empty());
    })
    .await;
}
