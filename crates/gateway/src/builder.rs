//! [`Gateway`] and [`GatewayBuilder`]: a gateway built from parts.
//!
//! Every part is optional; what is not given is built as `gateway run` builds it: the config
//! from `$STATE/openclaw.json` (watched for edits), the auth service on the pairing store in the
//! state dir, the sessions manager on `$STATE/sessions`, every runtime on one app-server
//! [`Pool`] with [`PoolConfig::default`], the built-in methods only, the metrics in a registry
//! of the gateway's own.
//!
//! Layer 5: uses `server` (the accept loop), `state`, `rpc`, `methods` (the built-in
//! registry), `runs::lifecycle` and `options`. Nothing else in the crate uses it.

use crate::error::GatewayError;
use crate::options::{GatewayOptions, SharedAuth};
use crate::rpc::{MethodSpec, Methods};
use crate::runs::lifecycle::{ManagerSource, RunsSetup};
use crate::state::GatewayState;
use openclaw_rs_app_server::{Pool, PoolConfig};
use openclaw_rs_auth::AuthService;
use openclaw_rs_config::Config;
use openclaw_rs_sessions::{ManagerOptions, RunExecutor, SessionManager};
use openclaw_rs_state::StateDir;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// A gateway ready to serve: build it ([`Gateway::builder`] or [`Gateway::new`]), reach into
/// [`Gateway::state`] if needed, then [`Gateway::serve`] or [`Gateway::run_until`].
#[derive(Debug)]
pub struct Gateway {
    state: Arc<GatewayState>,
    methods: Arc<Methods>,
    runs: RunsSetup,
    listeners: Vec<std::net::TcpListener>,
}

impl Gateway {
    /// A builder for a gateway whose state lives in `state_dir`.
    pub fn builder(state_dir: impl Into<PathBuf>) -> GatewayBuilder {
        GatewayBuilder::from_options(GatewayOptions::new(StateDir::new(state_dir)))
    }

    /// A gateway with `opts` and every other part at its default (what [`crate::run`] serves).
    pub fn new(opts: GatewayOptions) -> Result<Gateway, GatewayError> {
        GatewayBuilder::from_options(opts).build()
    }

    /// The shared state (connection registry, broadcast, config, sessions, shutdown requests).
    pub fn state(&self) -> &Arc<GatewayState> {
        &self.state
    }

    /// The addresses of the listeners given to the builder (e.g. the port picked for
    /// `127.0.0.1:0`).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serve on the builder's listeners plus `listeners` until `shutdown` resolves or
    /// [`GatewayState::request_shutdown`] is called; then every client gets a `shutdown` event
    /// and a 1012 close, connections get `shutdown_grace` to finish, runs stop (they re-run on
    /// the next start) and the app-server processes exit. Every task the gateway started has
    /// ended when this returns.
    pub async fn serve(
        self,
        listeners: Vec<std::net::TcpListener>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), GatewayError> {
        let mut all = self.listeners;
        all.extend(listeners);
        crate::server::serve(self.state, self.methods, self.runs, all, shutdown).await
    }

    /// [`Gateway::serve`] on the builder's listeners only.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), GatewayError> {
        self.serve(Vec::new(), shutdown).await
    }
}

/// Builds a [`Gateway`] from parts; see the module doc for the defaults.
///
/// ```no_run
/// # async fn demo() -> Result<(), openclaw_rs_gateway::GatewayError> {
/// use openclaw_rs_gateway::{Gateway, SharedAuth};
/// let gateway = Gateway::builder("/tmp/my-gateway-state")
///     .fixed_config(openclaw_rs_config::Config::default())
///     .auth(SharedAuth::token("secret"))
///     .bind("127.0.0.1:0")?
///     .build()?;
/// let addr = gateway.local_addrs()[0];
/// println!("serving on ws://{addr}");
/// gateway.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
#[derive(Debug)]
pub struct GatewayBuilder {
    opts: GatewayOptions,
    config: ConfigChoice,
    auth_service: Option<Arc<AuthService>>,
    runs: RunsSetup,
    methods: Vec<MethodSpec>,
    listeners: Vec<std::net::TcpListener>,
    metrics_registry: Option<prometheus::Registry>,
}

/// Where the config comes from.
#[derive(Debug)]
enum ConfigChoice {
    /// `opts.config`, with `opts.config_path` watched for edits (today's `Gateway::new`).
    Options,
    /// Load this file at build, then watch it.
    File(PathBuf),
    /// `opts.config`, fixed: no file is read or watched.
    Fixed,
}

impl GatewayBuilder {
    /// A builder starting from `opts` (limits, timeouts, shared auth, the config and its path).
    pub fn from_options(opts: GatewayOptions) -> GatewayBuilder {
        GatewayBuilder {
            opts,
            config: ConfigChoice::Options,
            auth_service: None,
            runs: RunsSetup::default(),
            methods: Vec::new(),
            listeners: Vec::new(),
            metrics_registry: None,
        }
    }

    /// Change any option (timeouts, limits, `listen_urls`, Control UI discovery, …).
    pub fn configure(mut self, f: impl FnOnce(&mut GatewayOptions)) -> GatewayBuilder {
        f(&mut self.opts);
        self
    }

    /// The shared secret clients prove on `connect` (default: none, for loopback only).
    pub fn auth(mut self, auth: SharedAuth) -> GatewayBuilder {
        self.opts.auth = auth;
        self
    }

    /// Load the config from `path` when building, and watch it for edits (hot reload and
    /// restarts, as `gateway run` does). A file that does not load fails [`Self::build`].
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> GatewayBuilder {
        self.config = ConfigChoice::File(path.into());
        self
    }

    /// Serve `config` as it is: no file is read or watched. `config.set`/`config.patch` calls
    /// still write `$STATE/openclaw.json` and apply the edit.
    pub fn fixed_config(mut self, config: Config) -> GatewayBuilder {
        self.opts.config = config;
        self.config = ConfigChoice::Fixed;
        self
    }

    /// The device identity / pairing / device-token service (default: built on the pairing
    /// store in the state dir, with the config's trusted proxies and rate limit).
    pub fn auth_service(mut self, service: Arc<AuthService>) -> GatewayBuilder {
        self.auth_service = Some(service);
        self
    }

    /// Options for the sessions manager the gateway opens (workspace, attempts, run timeout).
    /// Their `observer` is replaced by the gateway's metrics.
    pub fn session_options(mut self, opts: ManagerOptions) -> GatewayBuilder {
        self.runs.manager = ManagerSource::Options(opts);
        self
    }

    /// Serve this sessions manager (opened by the caller with its own executor) instead of
    /// opening one. Cannot be combined with [`Self::run_executor`] or
    /// [`Self::runtime_executor`]: the manager already has its executor. Its run endings and
    /// journal fsyncs go to the observer it was opened with (`ManagerOptions::observer`), not
    /// to the gateway's metrics.
    pub fn session_manager(mut self, manager: SessionManager) -> GatewayBuilder {
        self.runs.manager = ManagerSource::Ready(manager);
        self
    }

    /// The app-server pool runs execute on (and `models.list` asks); created inside a Tokio
    /// runtime by the caller. Default: a pool with [`PoolConfig::default`], created by `serve`.
    pub fn app_server_pool(mut self, pool: Pool) -> GatewayBuilder {
        self.runs.pool = Some(pool);
        self
    }

    /// Limits of the default app-server pool (ignored when [`Self::app_server_pool`] is given).
    pub fn pool_config(mut self, config: PoolConfig) -> GatewayBuilder {
        self.runs.pool_config = Some(config);
        self
    }

    /// Run every runtime that has no executor of its own on `executor` instead of the
    /// app-server pool.
    pub fn run_executor(mut self, executor: Arc<dyn RunExecutor>) -> GatewayBuilder {
        self.runs.executors.default = Some(executor);
        self
    }

    /// Run `runtime` on `executor`. The runtime name must be one the sessions manager accepts:
    /// `embedded`, or a key of `runtimes` in the config.
    pub fn runtime_executor(
        mut self,
        runtime: impl Into<String>,
        executor: Arc<dyn RunExecutor>,
    ) -> GatewayBuilder {
        self.runs
            .executors
            .by_runtime
            .insert(runtime.into(), executor);
        self
    }

    /// Serve one more method, with the access rule it carries ([`MethodSpec::with_access`],
    /// [`MethodSpec::new`]). A method named like a built-in one replaces it.
    pub fn method(mut self, spec: MethodSpec) -> GatewayBuilder {
        self.methods.push(spec);
        self
    }

    /// [`Self::method`] for each of `specs`.
    pub fn methods(mut self, specs: impl IntoIterator<Item = MethodSpec>) -> GatewayBuilder {
        self.methods.extend(specs);
        self
    }

    /// Register this gateway's metrics in `registry` (yours) instead of a registry of its own,
    /// so that your `/metrics` serves them with your other metrics. The levels (open
    /// connections, lanes, the lease pool, cooldowns) are read from the gateway whenever
    /// `registry` is gathered, by you or by the gateway's own `GET /metrics` (which then serves
    /// all of `registry`). When the gateway is dropped its metrics are unregistered again.
    ///
    /// One gateway per registry: a name registered twice fails [`Self::build`]
    /// ([`GatewayError::Metrics`]). The process figures (`process_resident_memory_bytes`,
    /// `process_open_fds`, `process_start_time_seconds`) are not added to your registry: they
    /// describe your process, not the gateway (register prometheus's process collector if you
    /// want them).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use openclaw_rs_gateway::Gateway;
    /// use openclaw_rs_gateway::prometheus::{Encoder, IntCounter, Registry, TextEncoder};
    ///
    /// let registry = Registry::new();
    /// let mine = IntCounter::new("my_tool_jobs_total", "Jobs my tool ran.")?;
    /// registry.register(Box::new(mine.clone()))?;
    /// # let state_dir = tempfile::tempdir()?;
    /// let gateway = Gateway::builder(state_dir.path())
    ///     .metrics_registry(registry.clone())
    ///     .bind("127.0.0.1:0")?
    ///     .build()?;
    /// // Your /metrics handler: your series and the gateway's (levels read now).
    /// let mut text = Vec::new();
    /// TextEncoder::new().encode(&registry.gather(), &mut text)?;
    /// let text = String::from_utf8(text)?;
    /// assert!(text.contains("my_tool_jobs_total"));
    /// assert!(text.contains("openclaw_gateway_connections 0"));
    /// # drop(gateway);
    /// # Ok(())
    /// # }
    /// ```
    pub fn metrics_registry(mut self, registry: prometheus::Registry) -> GatewayBuilder {
        self.metrics_registry = Some(registry);
        self
    }

    /// Serve on `listener` (already bound).
    pub fn listener(mut self, listener: std::net::TcpListener) -> GatewayBuilder {
        self.listeners.push(listener);
        self
    }

    /// Bind `addr` (e.g. `127.0.0.1:0`) and serve on it.
    pub fn bind(self, addr: &str) -> Result<GatewayBuilder, GatewayError> {
        let listener =
            std::net::TcpListener::bind(addr).map_err(|source| GatewayError::Listener {
                addr: addr.to_owned(),
                source,
            })?;
        Ok(self.listener(listener))
    }

    /// Check the parts and build the state. Nothing runs until [`Gateway::serve`].
    pub fn build(mut self) -> Result<Gateway, GatewayError> {
        if matches!(self.runs.manager, ManagerSource::Ready(_)) && !self.runs.executors.is_empty() {
            return Err(GatewayError::Config(
                "a ready sessions manager and run executors were both given: the manager already \
                 has its executor; open the manager with your executor, or pass the executors \
                 and let the gateway open the manager"
                    .into(),
            ));
        }
        let watch_file = match std::mem::replace(&mut self.config, ConfigChoice::Options) {
            ConfigChoice::Options => true,
            ConfigChoice::Fixed => false,
            ConfigChoice::File(path) => {
                let loaded = openclaw_rs_config::load(&path).map_err(|e| {
                    GatewayError::Config(format!("{e}\nfix the file or pass another path"))
                })?;
                self.opts.config = loaded.config;
                self.opts.config_path = path;
                true
            }
        };
        self.opts.state_dir.ensure()?;
        if self.opts.listen_urls.is_empty() {
            self.opts.listen_urls = crate::launch::listen_urls(&self.listeners);
        }
        let metrics = crate::metrics::Metrics::new(self.metrics_registry, self.opts.restarts)?;
        let mut specs = crate::methods::all_specs();
        specs.extend(self.methods);
        Ok(Gateway {
            state: GatewayState::new(self.opts, self.auth_service, watch_file, metrics),
            methods: Arc::new(Methods::new(specs)),
            runs: self.runs,
            listeners: self.listeners,
        })
    }
}
