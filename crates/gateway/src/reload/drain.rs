//! The reload task and the restart drain: the task owns the config file watcher, applies what
//! it reports (`hot`), and advances the restart state machine — pause new runs, wait for
//! in-flight ones until the deadline, then shut down with `shutdown {restartExpectedMs}`.
//!
//! Layer 2: uses `state`, `reload::hot` and `reload::runtime`.

use crate::base::now_ms;
use crate::reload::hot::apply_outcome;
use crate::reload::intent::RestartIntent;
use crate::reload::runtime::{lock, RESTART_EXPECTED_MS};
use crate::state::GatewayState;
use openclaw_rs_reload::ConfigWatcher;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the config file is polled when it cannot be watched.
const POLL_FALLBACK: Duration = Duration::from_secs(2);
/// How often a drain re-checks in-flight work.
const DRAIN_POLL: Duration = Duration::from_millis(100);

/// The reload background task (one per serving gateway, in the server's shutdown tree):
/// owns the file watcher, applies what it reports, and drives restarts.
pub(crate) async fn run_loop(state: Arc<GatewayState>) {
    let rt = state.reload();
    let (tx, mut rx) = mpsc::channel(16);
    let watcher = if rt.watch_file {
        match ConfigWatcher::spawn(rt.store.clone(), rt.debounce, tx) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::error!("{e}; polling the config file every {POLL_FALLBACK:?} instead");
                None
            }
        }
    } else {
        // A fixed config: nothing to watch (`tx` is dropped, `rx` then yields nothing).
        drop(tx);
        None
    };
    // Without a file watch (e.g. inotify limits), poll the file instead.
    let mut poll =
        (rt.watch_file && watcher.is_none()).then(|| tokio::time::interval(POLL_FALLBACK));
    let mut usr2 = if rt.restart_signal.load(std::sync::atomic::Ordering::Acquire) {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined2()).ok()
    } else {
        None
    };
    loop {
        let draining = lock(&rt.restart).active.is_some();
        tokio::select! {
            Some(outcome) = rx.recv() => apply_outcome(&state, &outcome),
            _ = rt.wake.notified() => {}
            Some(()) = async { match usr2.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                rt.request_restart("SIGUSR2", "restart signal received", false);
            }
            _ = tokio::time::sleep(DRAIN_POLL), if draining => {}
            _ = async { match poll.as_mut() { Some(p) => { p.tick().await; } None => std::future::pending().await } } => {
                let outcome = rt.store.reload_from_disk();
                apply_outcome(&state, &outcome);
            }
        }
        if step_restart(&state) {
            // The gateway is shutting down to restart; nothing more to watch.
            return;
        }
    }
}

/// Advance the restart state machine. Returns `true` once shutdown-for-restart was requested.
fn step_restart(state: &GatewayState) -> bool {
    let rt = &state.reload();
    let config_paths = rt.store.pending_restart();
    let now = now_ms();
    let mut r = lock(&rt.restart);
    if let Some(req) = r.requested.take() {
        // An explicit request joins (or starts) the drain; `force` shortens it.
        r.active = Some(match r.active.take() {
            Some(mut a) => {
                a.explicit = true;
                a.force |= req.force;
                a.deadline_ms = a.deadline_ms.min(req.deadline_ms);
                a.who = format!("{}, {}", a.who, req.who);
                a
            }
            None => req,
        });
        drop(r);
        rt.pause_runs(true);
        r = lock(&rt.restart);
    }
    match r.active.as_mut() {
        None if config_paths.is_empty() => return false,
        None => {
            let deadline = now + rt.drain_timeout(false).as_millis() as u64;
            let intent = RestartIntent {
                who: "config reload".into(),
                reason: format!(
                    "config change requires restart ({})",
                    config_paths.join(", ")
                ),
                paths: config_paths,
                requested_at_ms: now,
                deadline_ms: deadline,
                force: false,
                explicit: false,
                phase: "draining",
            };
            tracing::warn!(who = %intent.who, reason = %intent.reason, deadline = %openclaw_rs_cooldowns::rfc3339(deadline),
                "restart pending: new runs wait (messages are still accepted and queued); draining in-flight runs");
            r.active = Some(intent);
            drop(r);
            rt.pause_runs(true);
            r = lock(&rt.restart);
        }
        Some(a) if !a.explicit && config_paths.is_empty() => {
            tracing::info!(reason = %a.reason, "config reverted; pending restart cancelled");
            r.active = None;
            drop(r);
            rt.pause_runs(false);
            return false;
        }
        Some(a) => {
            if !config_paths.is_empty() && a.paths != config_paths {
                a.paths = config_paths.clone();
                a.reason = format!(
                    "config change requires restart ({})",
                    config_paths.join(", ")
                );
            }
        }
    }
    let Some(active) = r.active.clone() else {
        return false;
    };
    drop(r);
    let in_flight = rt.in_flight();
    if in_flight > 0 && now < active.deadline_ms && !active.force {
        return false;
    }
    // The next image boots from the file: never restart into a config it cannot load (that
    // would turn a restart into an outage). Keep serving and say why.
    if let Err(e) = openclaw_rs_config::load(rt.store.path()) {
        tracing::error!(error = %e, who = %active.who, "restart cancelled: the config file cannot be loaded; fix it and the restart proceeds");
        lock(&rt.restart).active = None;
        rt.pause_runs(false);
        return false;
    }
    if in_flight > 0 {
        tracing::warn!(
            in_flight,
            "drain deadline reached; in-flight runs are persisted and re-run after the restart"
        );
    }
    let mut intent = active;
    intent.phase = "restarting";
    tracing::warn!(who = %intent.who, reason = %intent.reason, "restarting gateway now");
    {
        let mut r = lock(&rt.restart);
        r.active = Some(intent.clone());
        r.exec = Some(intent.clone());
    }
    state.request_shutdown(crate::state::ShutdownPlan {
        reason: format!("gateway restarting: {}", intent.reason),
        restart_expected_ms: Some(RESTART_EXPECTED_MS),
    });
    true
}
