//! Prometheus metrics, one set per gateway: [`Metrics`] (typed handles in a
//! [`prometheus::Registry`]) is created by [`crate::GatewayBuilder::build`], owned by the
//! gateway's state ([`crate::GatewayState::metrics`]) and served by that gateway's
//! `GET /metrics` (also at OpenClaw's `/api/diagnostics/prometheus`). Two gateways in one
//! process count separately.
//!
//! Event counters and histograms are updated where things happen, through the state or
//! connection the call site already holds (connections, handshakes, RPCs, config reloads, and
//! through the [`openclaw_rs_sessions::observe::Observer`] given to the sessions manager: run
//! endings and journal fsyncs). Levels (open connections, lane depths, the lease pool,
//! cooldowns) are read from their owners whenever the registry is gathered, so a registry an
//! embedder gathers is as fresh as our own route. Labels are bounded: method names come from the
//! method table (anything else is `unknown`), outcomes and classes are closed sets, and nothing
//! carries a session, run or connection id.
//!
//! **Process-level figures** (`process_resident_memory_bytes`, `process_open_fds`,
//! `process_start_time_seconds`) describe the whole process, not one gateway. They are in the
//! gateway's own registry only; a registry given with
//! [`crate::GatewayBuilder::metrics_registry`] gets none (its owner runs the process: register
//! prometheus's process collector there if wanted).
//!
//! Auth follows OpenClaw's rule for its Prometheus route: the gateway's own credential as
//! `Authorization: Bearer <token or password>`; with `gateway.auth.mode = "none"` (loopback
//! only) it is open like every other surface.

use crate::error::GatewayError;
use openclaw_rs_reload::ReloadOutcome;
use openclaw_rs_sessions::observe::Observer;
use openclaw_rs_sessions::{FailureClass, RunState};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

mod levels;
pub(crate) mod route;

/// Carries the in-place restart count into the re-executed image (same pid, fresh memory).
/// Read by [`crate::launch::resolve`] into [`crate::GatewayOptions::restarts`].
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

/// Every metric one gateway exports, registered in one [`Registry`] (the gateway's own, or the
/// one given to [`crate::GatewayBuilder::metrics_registry`]). Dropping it (with the gateway's
/// state) unregisters them, so a registry can outlive a gateway and take the next one.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connections: IntCounterVec,
    handshakes: IntCounterVec,
    handshake_seconds: Histogram,
    rpc_requests: IntCounterVec,
    rpc_seconds: HistogramVec,
    runs_completed: IntCounterVec,
    run_seconds: HistogramVec,
    config_reloads: IntCounterVec,
    restarts: IntCounter,
    journal_fsync_seconds: Histogram,
    build_info: IntGaugeVec,
    /// Read from the state's owners at gather time.
    levels: Levels,
    /// In the gateway's own registry only.
    process: Option<ProcessFigures>,
    /// How many of [`Metrics::collectors`] are registered (unregistered on drop).
    registered: usize,
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition")
}

fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition")
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).expect("valid metric definition")
}

fn counter(name: &str, help: &str) -> IntCounter {
    IntCounter::new(name, help).expect("valid metric definition")
}

fn histogram(name: &str, help: &str, buckets: &[f64]) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        .expect("valid metric definition")
}

fn histogram_vec(name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
    .expect("valid metric definition")
}

/// The names a collector describes (for error messages).
fn names(c: &dyn Collector) -> String {
    c.desc()
        .iter()
        .map(|d| d.fq_name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Metrics {
    /// Create every metric and register it in `registry` (a fresh one when `None`, which also
    /// gets the process figures). `restarts` is the in-place restart count carried into this
    /// image. Fails when `registry` already has one of our names (another gateway's, or the
    /// owner's); nothing stays registered then.
    pub(crate) fn new(registry: Option<Registry>, restarts: u64) -> Result<Metrics, GatewayError> {
        let own = registry.is_none();
        let registry = registry.unwrap_or_default();
        let restarts_total = counter(
            "openclaw_gateway_restarts_total",
            "In-place restarts (re-exec, same pid) since this process was started.",
        );
        restarts_total.inc_by(restarts);
        let mut m = Metrics {
            connections: counter_vec(
                "openclaw_gateway_connections_total",
                "Accepted TCP connections by outcome (websocket, http, bad_request, closed, refused, evicted, draining).",
                &["outcome"],
            ),
            handshakes: counter_vec(
                "openclaw_gateway_handshakes_total",
                "WebSocket handshakes by outcome (ok, refused, timeout, evicted, failed).",
                &["outcome"],
            ),
            handshake_seconds: histogram(
                "openclaw_gateway_handshake_seconds",
                "Time from the WebSocket upgrade to hello-ok or refusal.",
                LATENCY_BUCKETS,
            ),
            rpc_requests: counter_vec(
                "openclaw_gateway_rpc_requests_total",
                "RPC requests by method (registered names, else unknown) and outcome (ok or the error code).",
                &["method", "outcome"],
            ),
            rpc_seconds: histogram_vec(
                "openclaw_gateway_rpc_handler_seconds",
                "RPC handling time from dispatch to response, by method.",
                &["method"],
                LATENCY_BUCKETS,
            ),
            runs_completed: counter_vec(
                "openclaw_run_completed_total",
                "Runs that reached a terminal state, by outcome and failure class (none when not failed).",
                &["outcome", "failure_class"],
            ),
            run_seconds: histogram_vec(
                "openclaw_run_duration_seconds",
                "Run duration from start to terminal state, by outcome.",
                &["outcome"],
                RUN_BUCKETS,
            ),
            config_reloads: counter_vec(
                "openclaw_gateway_config_reloads_total",
                "Config edits by result (hot: applied live, restart: needs a restart, rejected: invalid, last good config kept).",
                &["result"],
            ),
            restarts: restarts_total,
            journal_fsync_seconds: histogram(
                "openclaw_journal_fsync_seconds",
                "Session journal fsync latency (every acknowledged record waits for one).",
                FSYNC_BUCKETS,
            ),
            build_info: gauge_vec(
                "openclaw_gateway_build_info",
                "Always 1; labels name the running build.",
                &["version"],
            ),
            levels: Levels::new(),
            process: own.then(ProcessFigures::new),
            registered: 0,
            registry,
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
        for c in m.collectors() {
            let what = names(&*c);
            if let Err(e) = m.registry.register(c) {
                // `m` drops here and unregisters what it registered so far.
                return Err(GatewayError::Metrics(format!(
                    "cannot register {what} in the given registry ({e}): it already has a metric \
                     of that name (another gateway's, or your own). Give each gateway its own \
                     registry, or drop the other gateway first"
                )));
            }
            m.registered += 1;
        }
        Ok(m)
    }

    /// Every collector this value registers, in order (fresh handles on the same metrics).
    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        let mut all: Vec<Box<dyn Collector>> = vec![
            Box::new(self.connections.clone()),
            Box::new(self.handshakes.clone()),
            Box::new(self.handshake_seconds.clone()),
            Box::new(self.rpc_requests.clone()),
            Box::new(self.rpc_seconds.clone()),
            Box::new(self.runs_completed.clone()),
            Box::new(self.run_seconds.clone()),
            Box::new(self.config_reloads.clone()),
            Box::new(self.restarts.clone()),
            Box::new(self.journal_fsync_seconds.clone()),
            Box::new(self.build_info.clone()),
            Box::new(self.levels.clone()),
        ];
        if let Some(p) = &self.process {
            all.push(Box::new(p.clone()));
        }
        all
    }

    /// The registry these metrics are registered in: the gateway's own, or the one given to
    /// [`crate::GatewayBuilder::metrics_registry`].
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry in Prometheus text format 0.0.4 (what `GET /metrics` answers); the levels
    /// are read from the gateway when this is called.
    pub fn render(&self) -> String {
        let mut out = Vec::with_capacity(16 * 1024);
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    /// Read the levels from `source` (the gateway's state) at gather time. Called once, by the
    /// state's constructor; the link is weak, so a registry never keeps a gateway alive.
    pub(crate) fn attach(&self, source: Weak<dyn LevelSource>) {
        let _ = self.levels.inner.source.set(source);
    }

    /// The observer handed to the sessions manager: run endings and journal fsyncs.
    pub(crate) fn sessions_observer(&self) -> Arc<dyn Observer> {
        Arc::new(SessionsObserver {
            runs_completed: self.runs_completed.clone(),
            run_seconds: self.run_seconds.clone(),
            journal_fsync_seconds: self.journal_fsync_seconds.clone(),
        })
    }

    /// Count an accepted socket by what became of it.
    pub(crate) fn connection(&self, outcome: &'static str) {
        self.connections.with_label_values(&[outcome]).inc();
    }

    /// The upgrade was answered: the socket is a WebSocket now (counted), and its handshake is
    /// timed until the returned value drops.
    pub(crate) fn handshake(&self) -> Handshake {
        self.connection("websocket");
        Handshake {
            began: Instant::now(),
            outcome: "failed",
            handshakes: self.handshakes.clone(),
            seconds: self.handshake_seconds.clone(),
        }
    }

    /// Count one RPC: `method` is a registered name or `unknown`; `outcome` is `ok` or an error
    /// code.
    pub(crate) fn rpc(&self, method: &'static str, outcome: &'static str, began: Instant) {
        self.rpc_requests
            .with_label_values(&[method, outcome])
            .inc();
        self.rpc_seconds
            .with_label_values(&[method])
            .observe(began.elapsed().as_secs_f64());
    }

    /// Count one config edit seen by the reload loop.
    pub(crate) fn config_reload(&self, outcome: &ReloadOutcome) {
        let result = match outcome {
            ReloadOutcome::Unchanged => return,
            ReloadOutcome::Rejected(_) => "rejected",
            ReloadOutcome::Applied(a) if !a.pending_restart.is_empty() => "restart",
            ReloadOutcome::Applied(_) => "hot",
        };
        self.config_reloads.with_label_values(&[result]).inc();
    }

    /// The in-place restarts counted so far (the next image is told this plus one).
    pub(crate) fn restarts(&self) -> u64 {
        self.restarts.get()
    }
}

impl Drop for Metrics {
    fn drop(&mut self) {
        for c in self.collectors().into_iter().take(self.registered) {
            let _ = self.registry.unregister(c);
        }
    }
}

/// The sessions manager's events, counted in one gateway's metrics.
#[derive(Debug)]
struct SessionsObserver {
    runs_completed: IntCounterVec,
    run_seconds: HistogramVec,
    journal_fsync_seconds: Histogram,
}

impl Observer for SessionsObserver {
    fn run_finished(
        &self,
        state: RunState,
        class: Option<FailureClass>,
        duration: Option<Duration>,
    ) {
        let class = class.map_or("none", |c| c.as_str());
        self.runs_completed
            .with_label_values(&[state.as_str(), class])
            .inc();
        if let Some(d) = duration {
            self.run_seconds
                .with_label_values(&[state.as_str()])
                .observe(d.as_secs_f64());
        }
    }

    fn journal_fsync(&self, took: Duration) {
        self.journal_fsync_seconds.observe(took.as_secs_f64());
    }
}

/// A WebSocket handshake in progress; counted as `failed` if dropped without an outcome.
#[derive(Debug)]
pub(crate) struct Handshake {
    began: Instant,
    outcome: &'static str,
    handshakes: IntCounterVec,
    seconds: Histogram,
}

impl Handshake {
    /// Set the outcome recorded when this ends.
    pub(crate) fn set(&mut self, outcome: &'static str) {
        self.outcome = outcome;
    }
}

impl Drop for Handshake {
    fn drop(&mut self) {
        self.handshakes.with_label_values(&[self.outcome]).inc();
        self.seconds.observe(self.began.elapsed().as_secs_f64());
    }
}

/// The `outcome` label of a handler result.
pub(crate) fn outcome_of<T>(result: &Result<T, openclaw_rs_protocol::ErrorShape>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code.as_str(),
    }
}

/// The levels of one gateway, read from their owners whenever the registry is gathered.
#[derive(Debug, Clone)]
struct Levels {
    inner: Arc<LevelsInner>,
}

/// Where the levels are read from: the gateway's state (`levels.rs`).
pub(crate) trait LevelSource: Send + Sync {
    /// Set every gauge of `levels` from the owners.
    fn read_levels(&self, levels: &LevelGauges);
}

#[derive(Debug)]
struct LevelsInner {
    /// Set once the state exists; weak so a registry never keeps a gateway alive.
    source: OnceLock<Weak<dyn LevelSource>>,
    /// One refresh at a time (counters mirrored from the pool's atomics advance by delta).
    scrape: Mutex<()>,
    gauges: LevelGauges,
}

/// The gauges (and counters mirrored from the pool) a [`LevelSource`] sets.
#[derive(Debug)]
pub(crate) struct LevelGauges {
    connections_open: IntGauge,
    preauth_open: IntGauge,
    lane_queued: IntGaugeVec,
    lane_running: IntGaugeVec,
    pool_processes: IntGaugeVec,
    pool_leases: IntGauge,
    pool_waiters: IntGauge,
    pool_spawned: IntCounter,
    pool_retirements: IntCounterVec,
    cooldowns_active: IntGaugeVec,
}

impl LevelGauges {
    fn new() -> LevelGauges {
        LevelGauges {
            connections_open: gauge(
                "openclaw_gateway_connections",
                "Authenticated WebSocket connections open now.",
            ),
            preauth_open: gauge(
                "openclaw_gateway_preauth_connections",
                "Sockets accepted and not yet authenticated now.",
            ),
            lane_queued: gauge_vec(
                "openclaw_queue_lane_size",
                "Runs waiting per lane (main: top-level sessions, subagent: child sessions).",
                &["lane"],
            ),
            lane_running: gauge_vec(
                "openclaw_queue_lane_running",
                "Runs executing per lane.",
                &["lane"],
            ),
            pool_processes: gauge_vec(
                "openclaw_app_server_processes",
                "App-server process slots by state (ready, starting, retired: detached and draining).",
                &["state"],
            ),
            pool_leases: gauge(
                "openclaw_app_server_leases",
                "Active leases on app-server processes.",
            ),
            pool_waiters: gauge(
                "openclaw_app_server_lease_waiters",
                "Acquirers waiting for an app-server process to start.",
            ),
            pool_spawned: counter(
                "openclaw_app_server_spawned_total",
                "App-server processes spawned.",
            ),
            pool_retirements: counter_vec(
                "openclaw_app_server_retirements_total",
                "App-server process retirements by class (graceful: after a failed run; wedged: killed, its leases failed).",
                &["class"],
            ),
            cooldowns_active: gauge_vec(
                "openclaw_cooldowns_active",
                "Auth-profile cooldowns in force now, by reason.",
                &["reason"],
            ),
        }
    }
}

impl Levels {
    fn new() -> Levels {
        Levels {
            inner: Arc::new(LevelsInner {
                source: OnceLock::new(),
                scrape: Mutex::new(()),
                gauges: LevelGauges::new(),
            }),
        }
    }

    fn parts(&self) -> [&dyn Collector; 10] {
        let l = &self.inner.gauges;
        [
            &l.connections_open,
            &l.preauth_open,
            &l.lane_queued,
            &l.lane_running,
            &l.pool_processes,
            &l.pool_leases,
            &l.pool_waiters,
            &l.pool_spawned,
            &l.pool_retirements,
            &l.cooldowns_active,
        ]
    }
}

impl Collector for Levels {
    fn desc(&self) -> Vec<&Desc> {
        self.parts().into_iter().flat_map(|c| c.desc()).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let _one = self.inner.scrape.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(source) = self.inner.source.get().and_then(Weak::upgrade) {
            source.read_levels(&self.inner.gauges);
        }
        self.parts().into_iter().flat_map(|c| c.collect()).collect()
    }
}

fn set_counter(c: &IntCounter, value: u64) {
    let now = c.get();
    if value > now {
        c.inc_by(value - now);
    }
}

/// Figures of the whole process (not of one gateway), read from `/proc/self` at gather time.
#[derive(Debug, Clone)]
struct ProcessFigures {
    rss_bytes: IntGauge,
    open_fds: IntGauge,
    start_time: IntGauge,
}

impl ProcessFigures {
    fn new() -> ProcessFigures {
        let p = ProcessFigures {
            rss_bytes: gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
            ),
            open_fds: gauge("process_open_fds", "Number of open file descriptors."),
            start_time: gauge(
                "process_start_time_seconds",
                "Start time of the gateway image since the Unix epoch, in seconds.",
            ),
        };
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        p.start_time.set(started);
        p
    }

    fn parts(&self) -> [&dyn Collector; 3] {
        [&self.rss_bytes, &self.open_fds, &self.start_time]
    }
}

impl Collector for ProcessFigures {
    fn desc(&self) -> Vec<&Desc> {
        self.parts().into_iter().flat_map(|c| c.desc()).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (rss, fds) = process_figures();
        if let Some(rss) = rss {
            self.rss_bytes.set(rss as i64);
        }
        if let Some(fds) = fds {
            self.open_fds.set(fds as i64);
        }
        self.parts().into_iter().flat_map(|c| c.collect()).collect()
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
