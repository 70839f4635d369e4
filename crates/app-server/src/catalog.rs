//! What a runtime offers and how it is signed in: `model/list` and `account/read` on a leased
//! process of the pool (the same shared process runs use).

use crate::error::{ClientError, PoolError};
use crate::key::ProcessKey;
use crate::pool::Pool;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

/// Why a runtime could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No process could be leased.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The request failed or timed out.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The reply did not have the documented shape.
    #[error("unexpected {method} reply: {message}")]
    Shape {
        /// The method asked.
        method: &'static str,
        /// What was wrong.
        message: String,
    },
}

/// One model of `model/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppModel {
    /// The id a run passes as `model`.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The runtime's default model.
    pub is_default: bool,
    /// Input modalities (`text`, `image`), when reported.
    pub input: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelListReply {
    #[serde(default)]
    data: Vec<ModelItem>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelItem {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    input_modalities: Vec<String>,
}

/// The runtime's models (`model/list`, every page), asked on a leased process.
pub async fn list_models(
    pool: &Pool,
    key: &ProcessKey,
    timeout: Duration,
) -> Result<Vec<AppModel>, CatalogError> {
    let lease = pool.acquire(key, Instant::now() + timeout).await?;
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    // A bounded number of pages: a runtime that keeps answering with a cursor is cut off.
    for _ in 0..20 {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let reply = lease
            .client()
            .request("model/list", params, timeout)
            .await?;
        let page: ModelListReply =
            serde_json::from_value(reply).map_err(|e| CatalogError::Shape {
                method: "model/list",
                message: e.to_string(),
            })?;
        for item in page.data {
            let Some(id) = item.model.or(item.id).filter(|s| !s.is_empty()) else {
                continue;
            };
            out.push(AppModel {
                name: item.display_name.unwrap_or_else(|| id.clone()),
                id,
                is_default: item.is_default,
                input: item.input_modalities,
            });
        }
        match page.next_cursor.filter(|c| !c.is_empty()) {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// A runtime's sign-in state (`account/read`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// `apiKey`, `chatgpt`, … when signed in.
    pub account_type: Option<String>,
    /// Whether the runtime needs an OpenAI sign-in to run models.
    pub requires_openai_auth: bool,
}

/// The runtime's account (`account/read {refreshToken:false}`), asked on a leased process.
pub async fn read_account(
    pool: &Pool,
    key: &ProcessKey,
    timeout: Duration,
) -> Result<AccountState, CatalogError> {
    let lease = pool.acquire(key, Instant::now() + timeout).await?;
    let reply = lease
        .client()
        .request("account/read", json!({ "refreshToken": false }), timeout)
        .await?;
    let account_type = match reply.get("account") {
        None | Some(Value::Null) => None,
        Some(a) => Some(
            a.get("type")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned(),
        ),
    };
    Ok(AccountState {
        account_type,
        requires_openai_auth: reply
            .get("requiresOpenaiAuth")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}
