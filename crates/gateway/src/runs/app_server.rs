//! The app-server executor: runs tasks on app-server processes from the shared [`Pool`], with
//! the auth profile chosen from the cooldown table, the dynamic tools offered to runtimes that
//! take them, and a fresh thread when a session's thread cannot be resumed.
//!
//! # Runtimes
//! A run's runtime is its `runtime` param, else `agents.entries.<id>.runtime`, else
//! `agents.defaults.runtime`, else `embedded`. `embedded` (unless overridden in `runtimes`)
//! is the `openclaw-app-server` binary next to the running executable (or
//! `$OPENCLAW_APP_SERVER_BIN`). Every runtime is an app-server process shared through one
//! [`Pool`]: a run's failure fails that run only.
//!
//! Layer 1: uses `runs::run_auth` and `runs::tools`.

use crate::runs::run_auth::{record_run_failure, select_run_auth};
use arc_swap::ArcSwap;
use openclaw_rs_app_server::{CancelToken, Pool, ProcessKey, RunEvent, RunSpec, RunTools};
use openclaw_rs_config::Config;
use openclaw_rs_cooldowns::Cooldowns;
use openclaw_rs_sessions::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, FailureClass, RunExecutor,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Runs tasks on app-server processes from the shared pool: the default executor of every
/// runtime (see [`crate::runs::Executors`]).
pub(crate) struct AppServerExecutor {
    pool: Pool,
    config: Arc<ArcSwap<Config>>,
    cooldowns: Arc<Cooldowns>,
}

impl AppServerExecutor {
    /// An executor on `pool`, reading runtimes from the live `config` and choosing auth
    /// profiles from `cooldowns`.
    pub(crate) fn new(
        pool: Pool,
        config: Arc<ArcSwap<Config>>,
        cooldowns: Arc<Cooldowns>,
    ) -> AppServerExecutor {
        AppServerExecutor {
            pool,
            config,
            cooldowns,
        }
    }

    /// `runtimes.<runtime>.sandbox`, when set.
    fn sandbox(&self, runtime: &str) -> Option<String> {
        let cfg = self.config.load();
        let mode = cfg.runtimes.get(runtime)?.sandbox?;
        Some(mode.as_str().to_owned())
    }

    fn process_key(&self, runtime: &str) -> Result<ProcessKey, ExecError> {
        let cfg = self.config.load();
        runtime_process_key(&cfg, runtime).map_err(|message| ExecError {
            class: FailureClass::Config,
            message,
            retryable: false,
        })
    }
}

/// The app-server process of a runtime (`runtimes.<name>`, or the built-in `embedded`), or why
/// the config does not describe one.
pub(crate) fn runtime_process_key(
    cfg: &openclaw_rs_config::Config,
    runtime: &str,
) -> Result<ProcessKey, String> {
    match cfg.runtimes.get(runtime) {
        Some(rt) => {
            if !rt.kind.is_empty() && rt.kind != "app-server" {
                return Err(format!(
                    "runtimes.{runtime}.kind is {:?}; only \"app-server\" is supported",
                    rt.kind
                ));
            }
            if rt.command.is_empty() {
                return Err(format!(
                    "runtimes.{runtime}.command is empty; set it to the program and its arguments"
                ));
            }
            if let Some(home) = rt.home.as_ref().filter(|h| !h.is_absolute()) {
                return Err(format!(
                    "runtimes.{runtime}.home is {}, a relative path; make it absolute",
                    home.display()
                ));
            }
            Ok(ProcessKey {
                command: rt.command.clone(),
                env: rt.env.clone(),
                home: rt.home.clone(),
                auth_identity: rt.auth_profile.clone(),
                experimental_api: rt.dynamic_tools,
            })
        }
        None if runtime == openclaw_rs_sessions::DEFAULT_RUNTIME => {
            Ok(ProcessKey::new(vec![embedded_binary()
                .to_string_lossy()
                .into_owned()]))
        }
        None => Err(format!(
            "unknown runtime {runtime:?}: configure runtimes.{runtime} in openclaw.json"
        )),
    }
}

/// `$OPENCLAW_APP_SERVER_BIN`, else `openclaw-app-server` next to the running executable
/// (or one directory up, for test executables in `target/<profile>/deps`).
pub fn embedded_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("OPENCLAW_APP_SERVER_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    const NAME: &str = "openclaw-app-server";
    let exe = std::env::current_exe().ok();
    let dir = exe.as_deref().and_then(|e| e.parent());
    if let Some(dir) = dir {
        let here = dir.join(NAME);
        if here.is_file() {
            return here;
        }
        if let Some(up) = dir.parent().map(|u| u.join(NAME)) {
            if up.is_file() {
                return up;
            }
        }
        return here;
    }
    PathBuf::from(NAME)
}

/// Whether runs on `key` are offered the gateway's dynamic tools: runtimes configured with
/// `dynamicTools: true` (their processes negotiate Codex's `experimentalApi`), and the embedded
/// runtime, which takes them without it and is recognised by its program name
/// (`openclaw-app-server`, default or configured).
fn takes_dynamic_tools(key: &ProcessKey) -> bool {
    key.experimental_api
        || key.command.first().is_some_and(|program| {
            std::path::Path::new(program)
                .file_name()
                .is_some_and(|n| n == "openclaw-app-server")
        })
}

fn map_event(ev: RunEvent) -> ExecEvent {
    match ev {
        RunEvent::Delta { text } => ExecEvent::Delta { text },
        RunEvent::Item { kind, data } => ExecEvent::Item { kind, data },
        RunEvent::ThreadStarted { thread_id } => ExecEvent::Status {
            phase: "thread_started".into(),
            message: Some(thread_id),
        },
        RunEvent::TurnStarted { turn_id } => ExecEvent::Status {
            phase: "turn_started".into(),
            message: Some(turn_id),
        },
        RunEvent::Retrying { message } => ExecEvent::Status {
            phase: "retrying".into(),
            message: Some(message),
        },
    }
}

impl RunExecutor for AppServerExecutor {
    fn execute(
        &self,
        req: ExecRequest,
        events: mpsc::Sender<ExecEvent>,
        mut cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        let key = self.process_key(&req.runtime);
        let sandbox = self.sandbox(&req.runtime);
        let pool = self.pool.clone();
        // Auth-profile cooldowns and failover: pick a profile not cooling down in this run's
        // lane; a failure is recorded in that lane only.
        let cooldowns = self.cooldowns.clone();
        let auth = select_run_auth(
            &self.config.load(),
            &cooldowns,
            &req.runtime,
            req.model.as_deref(),
            req.spawned_by.is_some(),
        );
        Box::pin(async move {
            let mut key = key?;
            let auth = auth.map_err(|message| ExecError {
                class: FailureClass::RateLimit,
                message,
                retryable: false,
            })?;
            if let Some(a) = &auth {
                key.auth_identity = Some(a.profile.clone());
                key.env.extend(a.env.clone());
            }
            if let Err(e) = std::fs::create_dir_all(&req.cwd) {
                return Err(ExecError {
                    class: FailureClass::Config,
                    message: format!("cannot create workspace {}: {e}", req.cwd.display()),
                    retryable: false,
                });
            }
            let mut spec = RunSpec {
                task: req.task,
                model: req.model,
                cwd: req.cwd,
                timeout: req.timeout,
                thread_id: req.resume_thread_id,
                sandbox,
            };
            let run_tools = if takes_dynamic_tools(&key) {
                let now = tokio::time::Instant::now();
                let deadline = now
                    .checked_add(req.timeout)
                    .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
                RunTools::new(
                    crate::runs::tools::specs(),
                    Arc::new(crate::runs::tools::RunToolHandler::new(
                        req.spawner.clone(),
                        deadline,
                    )),
                )
            } else {
                RunTools::none()
            };
            let token = CancelToken::new();
            let mut cancelled = false;
            let result = loop {
                let (tx, mut rx) = mpsc::channel::<RunEvent>(256);
                let resuming = spec.thread_id.is_some();
                let run = openclaw_rs_app_server::execute_with_tools(
                    &pool,
                    &key,
                    spec.clone(),
                    run_tools.clone(),
                    tx,
                    token.clone(),
                );
                tokio::pin!(run);
                let mut thread_opened = false;
                let result = loop {
                    tokio::select! {
                        r = &mut run => break r,
                        Some(ev) = rx.recv() => {
                            thread_opened |= matches!(ev, RunEvent::ThreadStarted { .. });
                            let _ = events.send(map_event(ev)).await;
                        }
                        _ = cancel.cancelled(), if !cancelled => {
                            cancelled = true;
                            token.cancel();
                        }
                    }
                };
                while let Ok(ev) = rx.try_recv() {
                    thread_opened |= matches!(ev, RunEvent::ThreadStarted { .. });
                    let _ = events.send(map_event(ev)).await;
                }
                // The previous thread is gone (its process was replaced, or it never existed
                // there): nothing ran yet, so continue in a fresh thread.
                let refused_resume = resuming
                    && !thread_opened
                    && !cancelled
                    && matches!(&result, Err(e) if !matches!(
                        e.class,
                        openclaw_rs_app_server::FailureClass::Interrupted
                            | openclaw_rs_app_server::FailureClass::Timeout
                    ));
                if refused_resume {
                    if let Err(e) = &result {
                        tracing::info!(error = %e, "cannot resume the session's thread; starting a new one");
                    }
                    spec.thread_id = None;
                    continue;
                }
                break result;
            };
            match result {
                Ok(out) => Ok(ExecOutcome {
                    final_text: out.final_text,
                    thread_id: Some(out.thread_id),
                }),
                Err(e) => Err({
                    if let Some(a) = &auth {
                        record_run_failure(&cooldowns, a, e.class);
                    }
                    ExecError {
                        class: e.class,
                        message: match e.http_status {
                            Some(code) => format!("{} (HTTP {code})", e.message),
                            None => e.message,
                        },
                        retryable: e.retryable,
                    }
                }),
            }
        })
    }
}
