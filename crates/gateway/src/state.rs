//! Shared gateway state: live config, connection registry, event broadcast, lifecycle flags.
//!
//! Layer 1: uses `options`, `base`, `control_ui`, `event_loop`, `reload::runtime` and
//! `runs::sessions`; never a handler module. Areas that plug into the gateway add one private
//! field each to [`GatewayState`] with an accessor, and initialise it in the builder.

use crate::base::now_ms;
use crate::options::{GatewayOptions, SharedAuth};
use crate::reload::runtime::ReloadRuntime;
use crate::runs::sessions::Sessions;
use arc_swap::ArcSwap;
use dashmap::DashMap;
use openclaw_rs_config::Config;
use openclaw_rs_protocol::methods::events::StateVersion;
use openclaw_rs_protocol::{encode, ClientInfo, Event, EventPrefix, Payload};
use std::borrow::Cow;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, watch, Notify};

/// What a connection proved at `connect` (immutable for its lifetime).
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The granted role (`operator` or `node`).
    pub role: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// `hello-ok.auth.method`: `none`, `token`, `password`, `device-token`, …
    pub auth_method: String,
    /// The proven device id, when the client connected with a device identity.
    pub device_id: Option<String>,
    /// What the client said it is (`connect.client`).
    pub client: ClientInfo,
    /// The peer address of the socket.
    pub peer: SocketAddr,
    /// The negotiated protocol version.
    pub protocol: u32,
    /// When `connect` succeeded (ms since the epoch).
    pub connected_at_ms: u64,
}

/// A message for a connection's writer task.
#[derive(Debug)]
pub(crate) enum Outbound {
    Text(String),
    /// A ping frame with this payload (empty for keepalives).
    Ping(Vec<u8>),
    /// Send a close frame and stop writing.
    Close(CloseRequest),
}

/// A request to close a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    /// The WebSocket close code.
    pub code: u16,
    /// The close reason.
    pub reason: Cow<'static, str>,
}

/// One authenticated connection, shared by the registry and its own task.
#[derive(Debug)]
pub struct Connection {
    id: Arc<str>,
    info: ConnectionInfo,
    tx: mpsc::UnboundedSender<Outbound>,
    /// Bytes enqueued but not yet handed to the socket.
    queued: AtomicUsize,
    max_buffered: usize,
    /// Next broadcast `seq`; the lock also orders enqueueing so `seq` stays contiguous on the wire.
    seq: Mutex<u64>,
    close: watch::Sender<Option<CloseRequest>>,
    /// Set when the outbound buffer overflowed: the socket is dropped without a graceful close.
    overflowed: AtomicBool,
    subscriptions: Mutex<HashSet<String>>,
    /// Events held back until the peer has read an answer (see
    /// [`Connection::hold_events_until_read`]). Locked after `seq`, never before.
    hold: Mutex<Hold>,
    /// Payload of the next read-check ping.
    next_ping: AtomicU64,
}

/// Broadcast frames held back from a connection until it has read the answers to some of its
/// requests.
#[derive(Debug, Default)]
struct Hold {
    /// Requests whose answer is not enqueued yet.
    requests: HashSet<Arc<str>>,
    /// The ping sent behind the last such answer; its pong releases the frames.
    ping: Option<u64>,
    /// When holding began (a peer that never answers pings is released by the keepalive).
    since: Option<Instant>,
    frames: Vec<String>,
}

impl Hold {
    fn holding(&self) -> bool {
        self.since.is_some()
    }
}

impl Connection {
    pub(crate) fn new(
        id: Arc<str>,
        info: ConnectionInfo,
        tx: mpsc::UnboundedSender<Outbound>,
        max_buffered: usize,
    ) -> (Arc<Connection>, watch::Receiver<Option<CloseRequest>>) {
        let (close, close_rx) = watch::channel(None);
        let conn = Arc::new(Connection {
            id,
            info,
            tx,
            queued: AtomicUsize::new(0),
            max_buffered,
            seq: Mutex::new(0),
            close,
            overflowed: AtomicBool::new(false),
            subscriptions: Mutex::new(HashSet::new()),
            hold: Mutex::new(Hold::default()),
            next_ping: AtomicU64::new(1),
        });
        (conn, close_rx)
    }

    /// The connection id (`hello-ok.server.connId`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the connection proved at `connect`.
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// Ask the connection to close with `code`/`reason` (idempotent: the first request wins).
    pub fn close(&self, code: u16, reason: impl Into<Cow<'static, str>>) {
        let req = CloseRequest {
            code,
            reason: reason.into(),
        };
        self.close.send_if_modified(|cur| {
            if cur.is_none() {
                *cur = Some(req);
                true
            } else {
                false
            }
        });
    }

    /// Whether a close was requested.
    pub fn is_closing(&self) -> bool {
        self.close.borrow().is_some()
    }

    /// Subscribe this connection to a named event stream (see [`GatewayState::broadcast_where`]).
    pub fn subscribe(&self, topic: &str) {
        if let Ok(mut s) = self.subscriptions.lock() {
            s.insert(topic.to_owned());
        }
    }

    /// Undo [`Connection::subscribe`].
    pub fn unsubscribe(&self, topic: &str) {
        if let Ok(mut s) = self.subscriptions.lock() {
            s.remove(topic);
        }
    }

    /// Whether [`Connection::subscribe`] was called for `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.subscriptions
            .lock()
            .map(|s| s.contains(topic))
            .unwrap_or(false)
    }

    /// Enqueue one serialized frame. A connection whose outbound buffer would exceed
    /// `maxBufferedBytes` is closed instead (1008 "slow consumer"); memory never grows unbounded.
    pub(crate) fn send_text(&self, text: String) -> bool {
        let len = text.len();
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before.saturating_add(len) > self.max_buffered {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            tracing::warn!(conn = %self.id, queued = before, "outbound buffer full; closing slow consumer");
            self.overflowed.store(true, Ordering::Release);
            self.close(
                openclaw_rs_protocol::close::POLICY_VIOLATION,
                "slow consumer: outbound buffer exceeded maxBufferedBytes",
            );
            return false;
        }
        if self.tx.send(Outbound::Text(text)).is_err() {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Whether the connection's writer is gone (the socket closed).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    pub(crate) fn send_close(&self, req: CloseRequest) {
        let _ = self.tx.send(Outbound::Close(req));
    }

    pub(crate) fn send_ping(&self) {
        let _ = self.tx.send(Outbound::Ping(Vec::new()));
    }

    /// Hold this connection's broadcast events from now until the peer has read the answer to
    /// request `request_id`: the answer goes out first, then a ping, and the held events follow
    /// the peer's pong (in their `seq` order). A WebSocket peer answers a ping while reading it,
    /// so everything it read before — the answer included — is handled first. OpenClaw's TUI
    /// needs this for `chat.send`: a run that ends before the TUI has handled the `chat.send`
    /// answer (ours can take milliseconds; Node's take a model call) leaves its submit pending
    /// and the TUI busy for good.
    pub(crate) fn hold_events_until_read(&self, request_id: &str) {
        if let Ok(mut h) = self.hold.lock() {
            h.requests.insert(Arc::from(request_id));
            h.since.get_or_insert_with(Instant::now);
        }
    }

    /// Called once the answer to `request_id` is enqueued: sends the read-check ping if that
    /// request holds events.
    pub(crate) fn answered(&self, request_id: &str) {
        let Ok(mut h) = self.hold.lock() else {
            return;
        };
        if !h.requests.remove(request_id) {
            return;
        }
        let token = self.next_ping.fetch_add(1, Ordering::Relaxed);
        h.ping = Some(token);
        let _ = self.tx.send(Outbound::Ping(token.to_be_bytes().to_vec()));
    }

    /// A pong arrived: release the held events if it answers the last read-check ping and no
    /// other holding request is still unanswered.
    pub(crate) fn ponged(&self, payload: &[u8]) {
        let Ok(token) = <[u8; 8]>::try_from(payload).map(u64::from_be_bytes) else {
            return;
        };
        let Ok(_seq) = self.seq.lock() else {
            return;
        };
        let Ok(mut h) = self.hold.lock() else {
            return;
        };
        if h.ping == Some(token) && h.requests.is_empty() {
            self.release(&mut h);
        }
    }

    /// Release events held for longer than `limit` (a peer that does not answer pings).
    pub(crate) fn release_stale_hold(&self, limit: std::time::Duration) {
        let Ok(_seq) = self.seq.lock() else {
            return;
        };
        let Ok(mut h) = self.hold.lock() else {
            return;
        };
        if h.since.is_some_and(|t| t.elapsed() >= limit) {
            self.release(&mut h);
        }
    }

    /// Sends the held frames; the caller holds the `seq` lock (so nothing overtakes them).
    fn release(&self, h: &mut Hold) {
        let frames = std::mem::take(&mut h.frames);
        *h = Hold::default();
        for text in frames {
            if !self.send_text(text) {
                break;
            }
        }
    }

    /// Called by the writer once a frame left the queue.
    pub(crate) fn written(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::AcqRel);
    }

    /// Send an event to this connection only (no `seq`, as OpenClaw does for targeted events).
    pub fn send_event<E: Event>(&self, payload: &E) -> bool {
        match Payload::encode(payload) {
            Ok(p) => self.send_text(encode::event(E::NAME, p.as_str())),
            Err(e) => {
                tracing::warn!(event = E::NAME, error = %e, "event not sent");
                false
            }
        }
    }

    /// Send a broadcast-style event with this connection's next `seq`.
    fn send_seq(&self, prefix: &EventPrefix) -> bool {
        let Ok(mut seq) = self.seq.lock() else {
            return false;
        };
        *seq += 1;
        let text = prefix.with_seq(*seq);
        if let Ok(mut h) = self.hold.lock() {
            if h.holding() {
                h.frames.push(text);
                return true;
            }
        }
        self.send_text(text)
    }
}

/// What to tell clients when the gateway goes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownPlan {
    /// `shutdown.reason` (e.g. "gateway stopping", "config change requires restart").
    pub reason: String,
    /// `shutdown.restartExpectedMs`: set when the gateway comes back by itself.
    pub restart_expected_ms: Option<u64>,
}

impl Default for ShutdownPlan {
    fn default() -> Self {
        ShutdownPlan {
            reason: "gateway stopping".into(),
            restart_expected_ms: None,
        }
    }
}

/// State shared by every connection and method handler.
///
/// Reach it from a method handler (the first argument of every [`crate::MethodSpec`] handler) or
/// from [`crate::Gateway::state`]. Fields are private; what handlers and embedders need is a
/// method.
#[derive(Debug)]
pub struct GatewayState {
    /// Live config; the reload area's `ConfigStore` swaps it.
    config: Arc<ArcSwap<Config>>,
    /// The shared secret in force; swapped on reload.
    auth: ArcSwap<SharedAuth>,
    /// Device identity, pairing store, device tokens, failed-auth rate limit (`openclaw-rs-auth`).
    devices: Arc<openclaw_rs_auth::AuthService>,
    /// Sessions, runs and the app-server pool; set once by `serve`.
    sessions: std::sync::OnceLock<Sessions>,
    /// Options the gateway was started with (limits, paths, timeouts).
    opts: GatewayOptions,
    /// This process's boot id (`hello-ok.server.bootId`, presence `instanceId`).
    boot_id: String,
    started_at: Instant,
    started_at_ms: u64,
    /// Config reload, cooldowns and restart state (reload area).
    reload: ReloadRuntime,
    /// The Control UI build served on the HTTP side, resolved once at start.
    control_ui: crate::control_ui::ControlUi,
    connections: DashMap<Arc<str>, Arc<Connection>>,
    started: AtomicBool,
    draining: watch::Sender<bool>,
    shutdown_plan: Mutex<ShutdownPlan>,
    shutdown_requested: Notify,
    shutdown_flag: AtomicBool,
    health_version: AtomicU64,
    presence_version: AtomicU64,
    /// Sockets currently before a successful `connect` (the admission pool).
    pub(crate) admission: Arc<crate::budget::Admission>,
    /// Runtime responsiveness for `health.eventLoop` (sampled by `event_loop::monitor`).
    event_loop: Arc<Mutex<crate::event_loop::EventLoopStats>>,
    /// The serialized `health` payload, rebuilt at most every [`HEALTH_CACHE_TTL`].
    health_cache: arc_swap::ArcSwapOption<CachedText>,
    /// This gateway's Prometheus metrics (served by its `GET /metrics`).
    metrics: crate::metrics::Metrics,
    /// Serializes read-modify-write cycles of `$STATE/user-prefs.json` (`users.prefs.set`).
    prefs_lock: tokio::sync::Mutex<()>,
}

/// How long a serialized `health` payload is served before it is rebuilt (OpenClaw also
/// serves `health` from a cache).
pub const HEALTH_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug)]
struct CachedText {
    built: Instant,
    text: Arc<str>,
}

impl GatewayState {
    /// Build the state from options, with the auth service (built from the options' state
    /// dir and config when `None`); `watch_config_file` false keeps `opts.config` fixed (the
    /// file is neither read nor watched). `metrics` read their levels from the new state.
    pub(crate) fn new(
        opts: GatewayOptions,
        devices: Option<Arc<openclaw_rs_auth::AuthService>>,
        watch_config_file: bool,
        metrics: crate::metrics::Metrics,
    ) -> Arc<GatewayState> {
        let (draining, _) = watch::channel(false);
        let devices = devices.unwrap_or_else(|| Arc::new(default_auth_service(&opts)));
        // The live config is the reload area's ConfigStore: one ArcSwap for the whole gateway.
        let reload = ReloadRuntime::new(&opts, watch_config_file);
        let control_ui = crate::control_ui::ControlUi::resolve(
            &opts.config.gateway.control_ui,
            &opts.control_ui_env,
        );
        tracing::info!(
            source = control_ui.source.as_str(),
            root = ?control_ui.root,
            base_path = %control_ui.base_path,
            build_id = ?control_ui.build_id,
            detail = %control_ui.detail,
            "control UI"
        );
        let admission = crate::budget::Admission::new(crate::budget::AdmissionLimits {
            capacity: opts.max_preauth_connections,
            per_peer: opts.max_preauth_per_peer,
        });
        let state = Arc::new(GatewayState {
            metrics,
            prefs_lock: tokio::sync::Mutex::new(()),
            control_ui,
            devices,
            config: reload.store().live(),
            auth: ArcSwap::from_pointee(opts.auth.clone()),
            sessions: std::sync::OnceLock::new(),
            boot_id: uuid::Uuid::new_v4().to_string(),
            started_at: Instant::now(),
            started_at_ms: now_ms(),
            reload,
            opts,
            connections: DashMap::new(),
            started: AtomicBool::new(false),
            draining,
            shutdown_plan: Mutex::new(ShutdownPlan::default()),
            shutdown_requested: Notify::new(),
            shutdown_flag: AtomicBool::new(false),
            health_version: AtomicU64::new(1),
            presence_version: AtomicU64::new(1),
            health_cache: arc_swap::ArcSwapOption::empty(),
            admission,
            event_loop: Arc::default(),
        });
        state
            .metrics
            .attach(Arc::downgrade(&state) as std::sync::Weak<dyn crate::metrics::LevelSource>);
        state
    }

    /// The lock around read-modify-write cycles of this gateway's user-prefs file.
    pub(crate) fn prefs_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.prefs_lock
    }

    /// This gateway's Prometheus metrics: [`crate::metrics::Metrics::render`] is what its
    /// `GET /metrics` answers, [`crate::metrics::Metrics::registry`] where they are registered.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The live config (swapped on every applied edit): `state.config().load()`.
    pub fn config(&self) -> &ArcSwap<Config> {
        &self.config
    }

    /// The live config's shared cell (for components that read it on their own).
    pub(crate) fn live_config(&self) -> Arc<ArcSwap<Config>> {
        self.config.clone()
    }

    /// The shared secret in force (rotated by config edits).
    pub fn shared_auth(&self) -> Arc<SharedAuth> {
        self.auth.load_full()
    }

    /// Replace the shared secret in force (the caller closes the connections that proved the
    /// old one).
    pub(crate) fn set_shared_auth(&self, auth: SharedAuth) {
        self.auth.store(Arc::new(auth));
    }

    /// Device identity, pairing store, device tokens and the failed-auth rate limit.
    pub fn auth_service(&self) -> &Arc<openclaw_rs_auth::AuthService> {
        &self.devices
    }

    /// The sessions component (manager, app-server pool), once `serve` has started it.
    pub fn sessions(&self) -> Option<&Sessions> {
        self.sessions.get()
    }

    pub(crate) fn set_sessions(&self, s: Sessions) -> Result<(), Sessions> {
        self.sessions.set(s)
    }

    /// The sessions manager, synced with the live config, or `UNAVAILABLE` before `serve`
    /// started it.
    pub fn session_manager(
        &self,
    ) -> Result<&openclaw_rs_sessions::SessionManager, openclaw_rs_protocol::ErrorShape> {
        let s = self.sessions.get().ok_or_else(|| {
            openclaw_rs_protocol::ErrorShape::new(
                openclaw_rs_protocol::ErrorCode::Unavailable,
                "sessions are not started yet",
            )
            .retry_after(Some(500))
        })?;
        s.manager().sync_config(self.config.load_full());
        Ok(s.manager())
    }

    /// The options the gateway was started with (limits, paths, timeouts).
    pub fn options(&self) -> &GatewayOptions {
        &self.opts
    }

    /// This process's boot id (`hello-ok.server.bootId`).
    pub fn boot_id(&self) -> &str {
        &self.boot_id
    }

    /// When the state was built (ms since the epoch).
    pub fn started_at_ms(&self) -> u64 {
        self.started_at_ms
    }

    /// Config reload, cooldowns and restart state.
    pub fn reload(&self) -> &ReloadRuntime {
        &self.reload
    }

    /// The Control UI build served on the HTTP side.
    pub fn control_ui(&self) -> &crate::control_ui::ControlUi {
        &self.control_ui
    }

    /// The cell the event-loop monitor writes into.
    pub(crate) fn event_loop_cell(&self) -> Arc<Mutex<crate::event_loop::EventLoopStats>> {
        self.event_loop.clone()
    }

    /// Milliseconds since start.
    pub fn uptime_ms(&self) -> u64 {
        self.started_at.elapsed().as_millis() as u64
    }

    /// Number of authenticated connections.
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// A snapshot of the authenticated connections.
    pub fn connections(&self) -> Vec<Arc<Connection>> {
        self.connections.iter().map(|e| e.value().clone()).collect()
    }

    /// A connection by id.
    pub fn connection(&self, id: &str) -> Option<Arc<Connection>> {
        self.connections.get(id).map(|e| e.value().clone())
    }

    pub(crate) fn register(&self, conn: Arc<Connection>) {
        self.connections.insert(conn.id.clone(), conn);
        self.presence_version.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn unregister(&self, id: &str) {
        self.connections.remove(id);
        self.presence_version.fetch_add(1, Ordering::Relaxed);
    }

    /// Send an event to every authenticated connection, each with its own contiguous `seq`.
    /// The payload is serialized once.
    pub fn broadcast<E: Event>(&self, payload: &E) -> usize {
        self.broadcast_where(payload, |_| true)
    }

    /// [`GatewayState::broadcast`] with a top-level `stateVersion` on the frame (as OpenClaw sends
    /// with `health` and `presence` events).
    pub fn broadcast_versioned<E: Event>(&self, payload: &E) -> usize {
        let version = Payload::encode(&self.state_version());
        self.broadcast_encoded(E::NAME, Payload::encode(payload), version.ok(), |_| true)
    }

    /// [`GatewayState::broadcast`] restricted to connections matching `pred`
    /// (e.g. `|c| c.is_subscribed("sessions")`).
    pub fn broadcast_where<E: Event>(
        &self,
        payload: &E,
        pred: impl Fn(&Connection) -> bool,
    ) -> usize {
        self.broadcast_encoded(E::NAME, Payload::encode(payload), None, pred)
    }

    fn broadcast_encoded(
        &self,
        event: &str,
        payload: Result<Payload, openclaw_rs_protocol::EncodeError>,
        state_version: Option<Payload>,
        pred: impl Fn(&Connection) -> bool,
    ) -> usize {
        let payload = match payload {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(event, error = %e, "event not broadcast");
                return 0;
            }
        };
        let prefix = EventPrefix::new(
            event,
            payload.as_str(),
            state_version.as_ref().map(Payload::as_str),
        );
        let mut n = 0;
        for entry in self.connections.iter() {
            let c = entry.value();
            if pred(c) && c.send_seq(&prefix) {
                n += 1;
            }
        }
        n
    }

    /// Close every connection matching `pred` with `code`/`reason` (e.g. 4001 "gateway auth changed").
    pub fn close_where(
        &self,
        pred: impl Fn(&Connection) -> bool,
        code: u16,
        reason: &'static str,
    ) -> usize {
        let mut n = 0;
        for entry in self.connections.iter() {
            if pred(entry.value()) {
                entry.value().close(code, reason);
                n += 1;
            }
        }
        n
    }

    /// Mark startup complete (`/startupz` and `/readyz` turn 200).
    pub(crate) fn mark_started(&self) {
        self.started.store(true, Ordering::Release);
    }

    /// Whether startup completed.
    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// Whether the gateway is draining (shutting down or restarting).
    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    pub(crate) fn begin_drain(&self) {
        self.draining.send_replace(true);
        self.health_cache.store(None);
    }

    /// The latest `health.eventLoop` figures.
    pub fn event_loop_stats(&self) -> crate::event_loop::EventLoopStats {
        self.event_loop.lock().map(|s| *s).unwrap_or_default()
    }

    /// Sockets currently in the pre-auth phase.
    pub fn preauth_count(&self) -> usize {
        self.admission.stats().preauth
    }

    /// The admission pool's counters (sockets before `connect`, evicted, answered 503).
    pub fn admission_stats(&self) -> crate::budget::AdmissionStats {
        self.admission.stats()
    }

    /// A serialized payload from the `health` cache, rebuilt with `build` when it is older
    /// than [`HEALTH_CACHE_TTL`].
    pub(crate) fn cached_health(&self, build: impl FnOnce() -> Arc<str>) -> Arc<str> {
        if let Some(c) = &*self.health_cache.load() {
            if c.built.elapsed() < HEALTH_CACHE_TTL {
                return c.text.clone();
            }
        }
        let text = build();
        self.health_cache.store(Some(Arc::new(CachedText {
            built: Instant::now(),
            text: text.clone(),
        })));
        text
    }

    pub(crate) fn drain_watch(&self) -> watch::Receiver<bool> {
        self.draining.subscribe()
    }

    /// Ask the gateway to shut down (or restart, when `plan.restart_expected_ms` is set).
    /// `serve` then runs the same shutdown tree as for SIGTERM.
    pub fn request_shutdown(&self, plan: ShutdownPlan) {
        if let Ok(mut p) = self.shutdown_plan.lock() {
            *p = plan;
        }
        self.shutdown_flag.store(true, Ordering::Release);
        self.shutdown_requested.notify_one();
    }

    /// Set what the `shutdown` event will say without triggering it.
    pub fn set_shutdown_plan(&self, plan: ShutdownPlan) {
        if let Ok(mut p) = self.shutdown_plan.lock() {
            *p = plan;
        }
    }

    pub(crate) fn shutdown_plan(&self) -> ShutdownPlan {
        self.shutdown_plan
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    pub(crate) async fn shutdown_requested(&self) {
        loop {
            let notified = self.shutdown_requested.notified();
            if self.shutdown_flag.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// `stateVersion` for snapshots and health/presence events.
    pub fn state_version(&self) -> StateVersion {
        StateVersion {
            presence: self.presence_version.load(Ordering::Relaxed),
            health: self.health_version.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn bump_health_version(&self) {
        self.health_version.fetch_add(1, Ordering::Relaxed);
    }
}

/// The auth service a gateway builds by itself: the pairing store in the state dir (lenient: a
/// broken store is logged and pairing fails until it is repaired), trusted proxies and rate
/// limit from the config.
fn default_auth_service(opts: &GatewayOptions) -> openclaw_rs_auth::AuthService {
    let (pairing, store_error) = openclaw_rs_auth::PairingStore::open_lenient(&opts.state_dir);
    if let Some(e) = store_error {
        tracing::error!(error = %e, "pairing store unusable; device pairing fails until it is repaired");
    }
    let (devices, warnings) = openclaw_rs_auth::AuthService::new(
        pairing,
        &opts.config.gateway.trusted_proxies,
        &opts.config.gateway.auth.rate_limit,
    );
    for w in warnings {
        tracing::warn!("{w}");
    }
    devices
}
