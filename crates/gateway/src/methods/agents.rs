//! Agents and models: `agents.list`, `agent.identity.get` (from the config's `agents.*`),
//! `models.list` and `models.authStatus` (from the configured runtimes).
//!
//! # Models
//! A runtime's models are what its app-server answers to `model/list`, asked on a process leased
//! from the shared pool (the one its runs use; it is started if needed). The built-in `embedded`
//! runtime is not asked: its one model is `exec`. Answers are cached per runtime; a runtime that
//! cannot be asked contributes its cached models marked `available: false`, or nothing, and
//! never fails the call. `refresh: true` asks again instead of reading the cache.
//!
//! # Auth
//! `models.authStatus` reports each runtime's `account/read`: `ok` when it has an account or
//! needs none, `missing` when it says it needs an OpenAI sign-in and has none, `unknown` when it
//! could not be asked. The built-in `embedded` runtime needs no auth.

use crate::rpc::{CallCtx, MethodSpec};
use crate::runs::app_server::runtime_process_key;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::agents::{
    AgentIdentityParams, AgentIdentityResult, AgentModel, AgentSummary, AgentsListParams,
    AgentsListResult,
};
use openclaw_rs_protocol::methods::models::{
    ModelChoice, ModelsAuthStatusParams, ModelsAuthStatusResult, ModelsListParams,
    ModelsListResult, ProviderAuth,
};
use openclaw_rs_protocol::methods::sessions::{AgentRuntime, SessionDefaults, SessionRow};
use openclaw_rs_protocol::ErrorShape;
use std::sync::Arc;
use std::time::Duration;

/// How long one runtime may take to answer `model/list` or `account/read` (including starting
/// its process).
const ASK_TIMEOUT: Duration = Duration::from_secs(15);
/// The embedded runtime's one model.
const EXEC_MODEL: &str = "exec";

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(agents_list),
        MethodSpec::typed(agent_identity_get),
        MethodSpec::typed(models_list),
        MethodSpec::typed(models_auth_status),
    ]
}

/// The agents the config knows: `main` and every `agents.entries` key.
fn agent_ids(cfg: &openclaw_rs_config::Config) -> Vec<String> {
    let mut ids = vec!["main".to_owned()];
    ids.extend(cfg.agents.entries.keys().filter(|k| *k != "main").cloned());
    ids
}

/// An agent's runtime and where it comes from (OpenClaw's source words).
pub(crate) fn agent_runtime(
    cfg: &openclaw_rs_config::Config,
    agent: &str,
) -> (String, &'static str) {
    if let Some(r) = cfg
        .agents
        .entries
        .get(agent)
        .and_then(|e| e.runtime.clone())
    {
        return (r, "agent");
    }
    match cfg.agents.defaults.runtime.clone() {
        Some(r) => (r, "defaults"),
        None => (openclaw_rs_sessions::DEFAULT_RUNTIME.to_owned(), "implicit"),
    }
}

/// An agent's configured model; for the built-in embedded runtime, `exec` when none is set.
pub(crate) fn agent_model(
    cfg: &openclaw_rs_config::Config,
    agent: &str,
    runtime: &str,
) -> Option<String> {
    cfg.agents
        .entries
        .get(agent)
        .and_then(|e| e.model.clone())
        .or_else(|| cfg.agents.defaults.model.clone())
        .or_else(|| is_builtin_embedded(cfg, runtime).then(|| EXEC_MODEL.to_owned()))
}

fn is_builtin_embedded(cfg: &openclaw_rs_config::Config, runtime: &str) -> bool {
    runtime == openclaw_rs_sessions::DEFAULT_RUNTIME && !cfg.runtimes.contains_key(runtime)
}

/// An agent's runtime and model: the configured model, else the runtime's default model from
/// `models.list`'s cache (asking the runtime if nothing is cached).
pub(crate) async fn effective_model(state: &GatewayState, agent: &str) -> (String, Option<String>) {
    let cfg = state.config().load_full();
    let (runtime, _) = agent_runtime(&cfg, agent);
    if let Some(m) = agent_model(&cfg, agent, &runtime) {
        return (runtime, Some(m));
    }
    let models = runtime_models(state, &runtime, false).await;
    let default = models
        .iter()
        .find(|m| m.is_default)
        .or(models.first())
        .map(|m| m.id.clone());
    (runtime, default)
}

/// Set `model` and `modelProvider` of session rows from their agents' settings (config only:
/// no runtime is asked).
pub(crate) fn fill_models(cfg: &openclaw_rs_config::Config, rows: &mut [SessionRow]) {
    for row in rows {
        let (runtime, _) = agent_runtime(cfg, &row.agent_id);
        row.model = agent_model(cfg, &row.agent_id, &runtime);
        row.model_provider = Some(runtime);
    }
}

async fn agents_list(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    _p: AgentsListParams,
) -> Result<AgentsListResult, ErrorShape> {
    let cfg = state.config().load_full();
    let default_workspace = state.options().state_dir.join("workspace");
    let mut agents = Vec::new();
    for id in agent_ids(&cfg) {
        let (runtime, source) = agent_runtime(&cfg, &id);
        let model = effective_model(&state, &id).await.1;
        agents.push({
            let workspace = cfg
                .agents
                .entries
                .get(&id)
                .and_then(|e| e.workspace.clone())
                .or_else(|| cfg.agents.defaults.workspace.clone())
                .unwrap_or_else(|| default_workspace.clone());
            AgentSummary {
                model: model.map(|primary| AgentModel { primary }),
                workspace: Some(workspace.display().to_string()),
                agent_runtime: AgentRuntime {
                    id: runtime,
                    source: source.into(),
                },
                id,
            }
        });
    }
    Ok(AgentsListResult {
        default_id: "main".into(),
        main_key: "main".into(),
        scope: "per-sender".into(),
        agents,
    })
}

async fn agent_identity_get(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: AgentIdentityParams,
) -> Result<AgentIdentityResult, ErrorShape> {
    let from_key = p
        .session_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| crate::wire::canonical_key(k, p.agent_id.as_deref()))
        .transpose()?
        .and_then(|k| openclaw_rs_sessions::parse_key(&k).ok().map(|k| k.agent_id));
    let agent = from_key
        .or_else(|| p.agent_id.map(String::from))
        .unwrap_or_else(|| "main".into());
    let cfg = state.config().load();
    if !agent_ids(&cfg).contains(&agent) {
        return Err(ErrorShape::invalid_params(
            "agent.identity.get",
            format!("unknown agent {agent:?}: see agents.list"),
        ));
    }
    // No identity config here: OpenClaw's defaults.
    Ok(AgentIdentityResult {
        agent_id: agent,
        name: "Assistant".into(),
        name_source: "default".into(),
        avatar: Some("A".into()),
    })
}

/// The runtimes `models.list` reports: the configured ones, and the built-in embedded one.
fn runtimes(cfg: &openclaw_rs_config::Config) -> Vec<String> {
    let mut v: Vec<String> = cfg.runtimes.keys().cloned().collect();
    if !v.iter().any(|r| r == openclaw_rs_sessions::DEFAULT_RUNTIME) {
        v.insert(0, openclaw_rs_sessions::DEFAULT_RUNTIME.to_owned());
    }
    v
}

/// The models of `runtime`, asked or from the cache (see the module doc).
async fn runtime_models(state: &GatewayState, runtime: &str, refresh: bool) -> Vec<ModelChoice> {
    let cfg = state.config().load_full();
    if is_builtin_embedded(&cfg, runtime) {
        return vec![ModelChoice {
            id: EXEC_MODEL.into(),
            name: "exec (runs the message as a shell command)".into(),
            provider: runtime.to_owned(),
            available: Some(true),
            input: vec!["text".into()],
            is_default: true,
        }];
    }
    let Ok(key) = runtime_process_key(&cfg, runtime) else {
        return Vec::new();
    };
    let Some(sessions) = state.sessions() else {
        return Vec::new();
    };
    let cache = sessions.models();
    if !refresh {
        if let Ok(c) = cache.0.lock() {
            if let Some((cmd, models)) = c.get(runtime) {
                if *cmd == key.command {
                    return models.clone();
                }
            }
        }
    }
    match openclaw_rs_app_server::list_models(sessions.pool(), &key, ASK_TIMEOUT).await {
        Ok(models) => {
            let rows: Vec<ModelChoice> = models
                .into_iter()
                .map(|m| ModelChoice {
                    id: m.id,
                    name: m.name,
                    provider: runtime.to_owned(),
                    available: Some(true),
                    input: m.input,
                    is_default: m.is_default,
                })
                .collect();
            if let Ok(mut c) = cache.0.lock() {
                c.insert(runtime.to_owned(), (key.command.clone(), rows.clone()));
            }
            rows
        }
        Err(e) => {
            tracing::info!(runtime, error = %e, "model/list failed; the runtime lists no fresh models");
            let cached = cache.0.lock().ok().and_then(|c| {
                c.get(runtime)
                    .filter(|(cmd, _)| *cmd == key.command)
                    .cloned()
            });
            cached
                .map(|(_, rows)| {
                    rows.into_iter()
                        .map(|mut r| {
                            r.available = Some(false);
                            r
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
    }
}

/// The models a chat can pick: every runtime's, or only `agent`'s runtime's.
pub(crate) async fn model_choices(
    state: &GatewayState,
    agent: Option<&str>,
    refresh: bool,
) -> Vec<ModelChoice> {
    let cfg = state.config().load_full();
    let names = match agent {
        Some(a) => vec![agent_runtime(&cfg, a).0],
        None => runtimes(&cfg),
    };
    let mut out = Vec::new();
    for r in names {
        out.extend(runtime_models(state, &r, refresh).await);
    }
    out
}

async fn models_list(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ModelsListParams,
) -> Result<ModelsListResult, ErrorShape> {
    let refresh = p.refresh.unwrap_or(false);
    let mut models = model_choices(&state, p.agent_id.as_deref(), refresh).await;
    if let Some(provider) = p.provider.as_deref() {
        models.retain(|m| m.provider == provider);
    }
    Ok(ModelsListResult { models })
}

async fn models_auth_status(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ModelsAuthStatusParams,
) -> Result<ModelsAuthStatusResult, ErrorShape> {
    let cfg = state.config().load_full();
    let names = match p.agent_id.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => vec![agent_runtime(&cfg, a).0],
        None => runtimes(&cfg),
    };
    let mut providers = Vec::new();
    for runtime in names {
        providers.push(runtime_auth(&state, &cfg, &runtime).await);
    }
    Ok(ModelsAuthStatusResult {
        ts: crate::base::now_ms(),
        providers,
    })
}

async fn runtime_auth(
    state: &GatewayState,
    cfg: &openclaw_rs_config::Config,
    runtime: &str,
) -> ProviderAuth {
    let row = |status: &str, auth_mode: Option<String>, detail: Option<String>| ProviderAuth {
        provider: runtime.to_owned(),
        status: status.into(),
        auth_mode,
        detail,
    };
    if is_builtin_embedded(cfg, runtime) {
        return row("ok", Some("none".into()), None);
    }
    let key = match runtime_process_key(cfg, runtime) {
        Ok(k) => k,
        Err(e) => return row("unknown", None, Some(e)),
    };
    let Some(sessions) = state.sessions() else {
        return row("unknown", None, Some("sessions are not started yet".into()));
    };
    match openclaw_rs_app_server::read_account(sessions.pool(), &key, ASK_TIMEOUT).await {
        Ok(a) => match (a.account_type, a.requires_openai_auth) {
            (Some(t), _) => row("ok", Some(t), None),
            (None, false) => row("ok", Some("none".into()), None),
            (None, true) => row(
                "missing",
                None,
                Some("the runtime reports no account and needs an OpenAI sign-in".into()),
            ),
        },
        Err(e) => row("unknown", None, Some(format!("account/read failed: {e}"))),
    }
}

/// What a new session of the default agent runs with.
pub(crate) fn session_defaults(state: &GatewayState) -> SessionDefaults {
    let cfg = state.config().load();
    let (id, source) = agent_runtime(&cfg, "main");
    SessionDefaults {
        model: agent_model(&cfg, "main", &id),
        model_provider: Some(id.clone()),
        context_tokens: None,
        agent_runtime: AgentRuntime {
            id,
            source: source.into(),
        },
        model_selection_target: "session".into(),
        thinking_levels: Vec::new(),
        thinking_options: Vec::new(),
    }
}
