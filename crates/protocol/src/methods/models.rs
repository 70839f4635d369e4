//! Models: `models.list` and `models.authStatus`.
//!
//! This gateway's models are its runtimes' models: the embedded runtime's `exec`, and what each
//! configured app-server runtime answers to `model/list`. A model row names its runtime as its
//! `provider`. OpenClaw has no result schema for either method; the shapes are the Node
//! gateway's (`{models:[…]}`, `{ts, providers:[…]}`) with the row fields its CLI reads
//! (`openclaw models list`: `id`, `name`, `provider`, `available`, `input`, `contextWindow`).

use super::{request, NonEmpty};
use serde::{Deserialize, Serialize};

/// `models.list` params (OpenClaw's `ModelsListParamsSchema`). Used: `provider` (a runtime
/// name) and `agentId` (that agent's runtime only). `refresh` asks the runtimes again instead of
/// answering from the cache. The view and detail knobs are accepted; every row here is a
/// model a run can really use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelsListParams {
    /// Only the models of this agent's runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Accepted; this gateway does not filter by session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<NonEmpty>,
    /// Accepted; this gateway does not use auth profiles for listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_profile_id: Option<NonEmpty>,
    /// Only the models of this runtime (a `runtimes.<name>` key, or `embedded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<NonEmpty>,
    /// Accepted; rows always carry the same fields here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_details: Option<bool>,
    /// Accepted; not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_provider_capabilities: Option<bool>,
    /// Accepted; not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_default_models: Option<bool>,
    /// Accepted; every row here is already usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepared_only: Option<bool>,
    /// Ask the runtimes again instead of answering from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<bool>,
    /// OpenClaw's catalog view name; accepted and not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
}

/// `models.list` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelsListResult {
    /// Models of every runtime asked, in runtime order.
    pub models: Vec<ModelChoice>,
}

/// One model a run can use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelChoice {
    /// The model id a run passes to its runtime.
    pub id: String,
    /// Display name for model pickers (the runtime's name for it; a description for the
    /// embedded runtime's `exec`).
    pub name: String,
    /// The runtime (`runtimes.<name>` key, or `embedded`) that serves it.
    pub provider: String,
    /// Whether the runtime answered with it just now (false when served from the cache of a
    /// runtime that could not be asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
    /// Input kinds (`text`, `image`), when the runtime says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<String>,
    /// The runtime's default model.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_default: bool,
}

/// `models.authStatus {refresh?, agentId?}` (OpenClaw's `ModelsAuthStatusParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelsAuthStatusParams {
    /// Accepted; not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<bool>,
    /// Only this agent's runtime; every configured runtime when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// `models.authStatus` result: one row per runtime.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelsAuthStatusResult {
    /// When the status was taken, in Unix milliseconds.
    pub ts: u64,
    /// One row per runtime asked.
    pub providers: Vec<ProviderAuth>,
}

/// A runtime's auth state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderAuth {
    /// The runtime's name.
    pub provider: String,
    /// `ok` (signed in, or needs no auth), `missing` (the runtime reports no account),
    /// `unknown` (the runtime could not be asked, or does not say).
    pub status: String,
    /// How it authenticates (`none`, `apikey`, `chatgpt`, …) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    /// Why the status is what it is, when it is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

request! {
    ModelsListParams => ModelsListResult, "models.list";
    ModelsAuthStatusParams => ModelsAuthStatusResult, "models.authStatus";
}
