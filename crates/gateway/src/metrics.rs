//! Prometheus metrics: one process-wide registry with typed handles, one-line hooks at the call
//! sites, and `GET /metrics` (also at OpenClaw's `/api/diagnostics/prometheus`).
//!
//! Event counters and histograms are updated where things happen (connections, handshakes,
//! RPCs, config reloads, and through [`openclaw_rs_sessions::observe`] run endings and journal
//! fsyncs). Levels (open connections, lane depths, the lease pool, cooldowns, process RSS and
//! fds) are read from their owners when scraped. Labels are bounded: method names come from the
//! method table (anything else is `unknown`), outcomes and classes are closed sets, and nothing
//! carries a session, run or connection id. The registry is per process (one gateway per
//! process in production; gateways sharing a test process share the event counters).
//!
//! Auth follows OpenClaw's rule for its Prometheus route: the gateway's own credential as
//! `Authorization: Bearer <token or password>`; with `gateway.auth.mode = "none"` (loopback
//! only) it is open like every other surface.

use crate::state::GatewayState;
use openclaw_rs_reload::ReloadOutcome;
use openclaw_rs_sessions::{FailureClass, RunState};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The paths served: ours and OpenClaw's plugin route.
pub(crate) const PATHS: &[&str] = &["/metrics", "/api/diagnostics/prometheus"];

/// Carries the in-place restart count into the re-executed image (same pid, fresh memory).
pub const RESTARTS_ENV: &str = "OPENCLAW_GATEWAY_RESTARTS";

const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];
const RUN_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
const FSYNC_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Every metric the gateway exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connections: IntCounterVec,
    connections_open: IntGauge,
    preauth_open: IntGauge,
    handshakes: IntCounterVec,
    handshake_seconds: Histogram,
    rpc_requests: IntCounterVec,
    rpc_seconds: HistogramVec,
    runs_completed: IntCounterVec,
    run_seconds: HistogramVec,
    lane_queued: IntGaugeVec,
    lane_running: IntGaugeVec,
    pool_processes: IntGaugeVec,
    pool_leases: IntGauge,
    pool_waiters: IntGauge,
    pool_spawned: IntCounter,
    pool_retirements: IntCounterVec,
    cooldowns_active: IntGaugeVec,
    config_reloads: IntCounterVec,
    restarts: IntCounter,
    journal_fsync_seconds: Histogram,
    rss_bytes: IntGauge,
    open_fds: IntGauge,
    start_time: IntGauge,
    build_info: IntGaugeVec,
    /// One scrape at a time (counters mirrored from other crates' atomics are advanced by delta).
    scrape: Mutex<()>,
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let m = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.register(Box::new(m.clone()))
        .expect("metric names are unique");
    m
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let m = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.register(Box::new(m.clone()))
        .expect("metric names are unique");
    m
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let m = IntGauge::new(name, help).expect("valid metric definition");
    r.register(Box::new(m.clone()))
        .expect("metric names are unique");
    m
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let m = IntCounter::new(name, help).expect("valid metric definition");
    r.register(Box::new(m.clone()))
        .expect("metric names are unique");
    m
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
    let m = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        .expect("valid metric definition");
    r.register(Box::new(m.clone()))
        .expect("metric names are unique");
    m
}

fn histogram_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> HistogramVec {
    let m = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
    .expect("valid metric definition");
    r.register(Box::new(m.clone()))
        .expect("metric names are unique");
    m
}

impl Metrics {
    fn new() -> Metrics {
        let r = Registry::new();
        let restarts = counter(
            &r,
            "openclaw_gateway_restarts_total",
            "In-place restarts (re-exec, same pid) since this process was started.",
        );
        let carried = std::env::var(RESTARTS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        restarts.inc_by(carried);
        let m = Metrics {
            connections: counter_vec(
                &r,
                "openclaw_gateway_connections_total",
                "Accepted TCP connections by outcome (websocket, http, bad_request, closed, dropped, draining).",
                &["outcome"],
            ),
            connections_open: gauge(
                &r,
                "openclaw_gateway_connections",
                "Authenticated WebSocket connections open now.",
            ),
            preauth_open: gauge(
                &r,
                "openclaw_gateway_preauth_connections",
                "Sockets accepted and not yet authenticated now.",
            ),
            handshakes: counter_vec(
                &r,
                "openclaw_gateway_handshakes_total",
                "WebSocket handshakes by outcome (ok, refused, timeout, failed).",
                &["outcome"],
            ),
            handshake_seconds: histogram(
                &r,
                "openclaw_gateway_handshake_seconds",
                "Time from the WebSocket upgrade to hello-ok or refusal.",
                LATENCY_BUCKETS,
            ),
            rpc_requests: counter_vec(
                &r,
                "openclaw_gateway_rpc_requests_total",
                "RPC requests by method (registered names, else unknown) and outcome (ok or the error code).",
                &["method", "outcome"],
            ),
            rpc_seconds: histogram_vec(
                &r,
                "openclaw_gateway_rpc_handler_seconds",
                "RPC handling time from dispatch to response, by method.",
                &["method"],
                LATENCY_BUCKETS,
            ),
            runs_completed: counter_vec(
                &r,
                "openclaw_run_completed_total",
                "Runs that reached a terminal state, by outcome and failure class (none when not failed).",
                &["outcome", "failure_class"],
            ),
            run_seconds: histogram_vec(
                &r,
                "openclaw_run_duration_seconds",
                "Run duration from start to terminal state, by outcome.",
                &["outcome"],
                RUN_BUCKETS,
            ),
            lane_queued: gauge_vec(
                &r,
                "openclaw_queue_lane_size",
                "Runs waiting per lane (main: top-level sessions, subagent: child sessions).",
                &["lane"],
            ),
            lane_running: gauge_vec(
                &r,
                "openclaw_queue_lane_running",
                "Runs executing per lane.",
                &["lane"],
            ),
            pool_processes: gauge_vec(
                &r,
                "openclaw_app_server_processes",
                "App-server process slots by state (ready, starting, retired: detached and draining).",
                &["state"],
            ),
            pool_leases: gauge(
                &r,
                "openclaw_app_server_leases",
                "Active leases on app-server processes.",
            ),
            pool_waiters: gauge(
                &r,
                "openclaw_app_server_lease_waiters",
                "Acquirers waiting for an app-server process to start.",
            ),
            pool_spawned: counter(
                &r,
                "openclaw_app_server_spawned_total",
                "App-server processes spawned.",
            ),
            pool_retirements: counter_vec(
                &r,
                "openclaw_app_server_retirements_total",
                "App-server process retirements by class (graceful: after a failed run; wedged: killed, its leases failed).",
                &["class"],
            ),
            cooldowns_active: gauge_vec(
                &r,
                "openclaw_cooldowns_active",
                "Auth-profile cooldowns in force now, by reason.",
                &["reason"],
            ),
            config_reloads: counter_vec(
                &r,
                "openclaw_gateway_config_reloads_total",
                "Config edits by result (hot: applied live, restart: needs a restart, rejected: invalid, last good config kept).",
                &["result"],
            ),
            restarts,
            journal_fsync_seconds: histogram(
                &r,
                "openclaw_journal_fsync_seconds",
                "Session journal fsync latency (every acknowledged record waits for one).",
                FSYNC_BUCKETS,
            ),
            rss_bytes: gauge(
                &r,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
            ),
            open_fds: gauge(&r, "process_open_fds", "Number of open file descriptors."),
            start_time: gauge(
                &r,
                "process_start_time_seconds",
                "Start time of the gateway image since the Unix epoch, in seconds.",
            ),
            build_info: gauge_vec(
                &r,
                "openclaw_gateway_build_info",
                "Always 1; labels name the running build.",
                &["version"],
            ),
            scrape: Mutex::new(()),
            registry: r,
        };
        m.build_info
            .with_label_values(&[crate::base::VERSION])
            .set(1);
        // Known label values start at 0, so rates and alerts see them before the first event.
        for o in [
            "websocket",
            "http",
            "bad_request",
            "closed",
            "refused",
            "evicted",
            "draining",
        ] {
            m.connections.with_label_values(&[o]);
        }
        for o in ["ok", "refused", "timeout", "evicted", "failed"] {
            m.handshakes.with_label_values(&[o]);
        }
        for r in ["hot", "restart", "rejected"] {
            m.config_reloads.with_label_values(&[r]);
        }
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        m.start_time.set(started);
        m
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The sessions crate's events, counted here.
#[derive(Debug)]
struct SessionsObserver;

impl openclaw_rs_sessions::observe::Observer for SessionsObserver {
    fn run_finished(
        &self,
        state: RunState,
        class: Option<FailureClass>,
        duration: Option<Duration>,
    ) {
        let m = &*METRICS;
        let class = class.map_or("none", |c| c.as_str());
        m.runs_completed
            .with_label_values(&[state.as_str(), class])
            .inc();
        if let Some(d) = duration {
            m.run_seconds
                .with_label_values(&[state.as_str()])
                .observe(d.as_secs_f64());
        }
    }

    fn journal_fsync(&self, took: Duration) {
        METRICS.journal_fsync_seconds.observe(took.as_secs_f64());
    }
}

static OBSERVER: SessionsObserver = SessionsObserver;

/// Create the registry and install the sessions observer (idempotent). Called at startup.
pub fn init() {
    LazyLock::force(&METRICS);
    let _ = openclaw_rs_sessions::observe::set_observer(&OBSERVER);
}

/// Count an accepted socket by what became of it.
pub(crate) fn connection(outcome: &'static str) {
    METRICS.connections.with_label_values(&[outcome]).inc();
}

/// A WebSocket handshake in progress; counted as `failed` if dropped without an outcome.
#[derive(Debug)]
pub(crate) struct Handshake {
    began: Instant,
    outcome: &'static str,
}

impl Handshake {
    /// The upgrade was answered: the socket is a WebSocket now.
    pub(crate) fn begin() -> Handshake {
        connection("websocket");
        Handshake {
            began: Instant::now(),
            outcome: "failed",
        }
    }

    /// Set the outcome recorded when this ends.
    pub(crate) fn set(&mut self, outcome: &'static str) {
        self.outcome = outcome;
    }
}

impl Drop for Handshake {
    fn drop(&mut self) {
        let m = &*METRICS;
        m.handshakes.with_label_values(&[self.outcome]).inc();
        m.handshake_seconds
            .observe(self.began.elapsed().as_secs_f64());
    }
}

/// Count one RPC: `method` is a registered name or `unknown`; `outcome` is `ok` or an error code.
pub(crate) fn rpc(method: &'static str, outcome: &'static str, began: Instant) {
    let m = &*METRICS;
    m.rpc_requests.with_label_values(&[method, outcome]).inc();
    m.rpc_seconds
        .with_label_values(&[method])
        .observe(began.elapsed().as_secs_f64());
}

/// The `outcome` label of a handler result.
pub(crate) fn outcome_of<T>(result: &Result<T, openclaw_rs_protocol::ErrorShape>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code.as_str(),
    }
}

/// Count one config edit seen by the reload loop.
pub(crate) fn config_reload(outcome: &ReloadOutcome) {
    let result = match outcome {
        ReloadOutcome::Unchanged => return,
        ReloadOutcome::Rejected(_) => "rejected",
        ReloadOutcome::Applied(a) if !a.pending_restart.is_empty() => "restart",
        ReloadOutcome::Applied(_) => "hot",
    };
    METRICS.config_reloads.with_label_values(&[result]).inc();
}

/// The value of [`RESTARTS_ENV`] for the image about to be executed for a restart.
pub fn restarts_for_next_image() -> String {
    (METRICS.restarts.get() + 1).to_string()
}

fn set_counter(c: &IntCounter, value: u64) {
    let now = c.get();
    if value > now {
        c.inc_by(value - now);
    }
}

/// Resident set size and open descriptors of this process, from `/proc/self`.
fn process_figures() -> (Option<u64>, Option<u64>) {
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
            Some(pages * page_size())
        });
    let fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count().saturating_sub(1) as u64); // minus the directory handle itself
    (rss, fds)
}

fn page_size() -> u64 {
    // SAFETY: sysconf takes an integer name and has no memory-safety preconditions.
    #[allow(unsafe_code)]
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).ok().filter(|n| *n > 0).unwrap_or(4096)
}

/// Refresh the levels read at scrape time and render the text format.
pub fn render(state: &GatewayState) -> String {
    let m = &*METRICS;
    let _one = m.scrape.lock().unwrap_or_else(|p| p.into_inner());
    m.connections_open.set(state.connection_count() as i64);
    m.preauth_open.set(state.preauth_count() as i64);
    if let Some(s) = state.sessions() {
        let d = s.manager().lane_depths();
        for (lane, c) in [("main", d.main), ("subagent", d.subagent)] {
            m.lane_queued
                .with_label_values(&[lane])
                .set(c.queued as i64);
            m.lane_running
                .with_label_values(&[lane])
                .set(c.running as i64);
        }
        let p = s.pool().stats();
        let retired = p.ledger.detached as i64;
        let starting = p.ledger.starting as i64;
        let ready = (p.ledger.processes as i64 - retired - starting).max(0);
        m.pool_processes.with_label_values(&["ready"]).set(ready);
        m.pool_processes
            .with_label_values(&["starting"])
            .set(starting);
        m.pool_processes
            .with_label_values(&["retired"])
            .set(retired);
        m.pool_leases.set(p.ledger.leases as i64);
        m.pool_waiters.set(p.ledger.pending as i64);
        set_counter(&m.pool_spawned, p.spawned_total);
        set_counter(
            &m.pool_retirements.with_label_values(&["graceful"]),
            p.retired_graceful_total,
        );
        set_counter(
            &m.pool_retirements.with_label_values(&["wedged"]),
            p.retired_wedged_total,
        );
    }
    let now = openclaw_rs_cooldowns::now_ms();
    m.cooldowns_active.reset();
    for e in state.reload().cooldowns().snapshot().entries() {
        if e.until() > now {
            m.cooldowns_active
                .with_label_values(&[e.reason.as_str()])
                .inc();
        }
    }
    let (rss, fds) = process_figures();
    if let Some(rss) = rss {
        m.rss_bytes.set(rss as i64);
    }
    if let Some(fds) = fds {
        m.open_fds.set(fds as i64);
    }
    let mut out = Vec::with_capacity(16 * 1024);
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::error!(error = %e, "cannot encode metrics");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Whether `authorization` (the request's header) carries the gateway's credential.
fn authorized(state: &GatewayState, authorization: Option<&str>) -> bool {
    let auth = state.shared_auth();
    let secret = match auth.mode {
        openclaw_rs_config::AuthMode::None => return true,
        openclaw_rs_config::AuthMode::Token => auth.token.as_deref(),
        openclaw_rs_config::AuthMode::Password => auth.password.as_deref(),
    };
    let given = authorization.and_then(|h| {
        let (scheme, value) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
    });
    match (secret.filter(|s| !s.is_empty()), given) {
        (Some(secret), Some(given)) => crate::connect::secret_eq(secret, given),
        _ => false,
    }
}

/// Answer `GET /metrics` and close.
pub(crate) async fn respond(
    stream: &mut TcpStream,
    state: &GatewayState,
    head: &crate::http::Head,
) {
    let (status, extra, content_type, body) = if head.method != "GET" && head.method != "HEAD" {
        (
            "405 Method Not Allowed",
            "Allow: GET, HEAD\r\n",
            "text/plain; charset=utf-8",
            "use GET\n".to_owned(),
        )
    } else if !authorized(state, head.authorization.as_deref()) {
        (
            "401 Unauthorized",
            "WWW-Authenticate: Bearer realm=\"openclaw-gateway\"\r\n",
            "text/plain; charset=utf-8",
            "metrics need the gateway credential: send `Authorization: Bearer <token>` (the gateway token, or the password in password mode; the token is in $OPENCLAW_STATE_DIR/gateway.token)\n".to_owned(),
        )
    } else {
        (
            "200 OK",
            "",
            "text/plain; version=0.0.4; charset=utf-8",
            render(state),
        )
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if head.method != "HEAD" {
        out.push_str(&body);
    }
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_labels_are_closed_sets() {
        let ok: Result<(), openclaw_rs_protocol::ErrorShape> = Ok(());
        assert_eq!(outcome_of(&ok), "ok");
        let err: Result<(), _> = Err(openclaw_rs_protocol::ErrorShape::unknown_method("x"));
        assert_eq!(outcome_of(&err), "INVALID_REQUEST");
    }
}
