//! The method registry: every RPC method with its required scope and handler.
//!
//! Adding methods for an area: create `methods/<area>.rs` exposing
//! `pub(crate) fn specs() -> Vec<MethodSpec>` and add ONE line to [`all_specs`].
//! `hello-ok.features.methods` is generated from this registry, so a method exists
//! on the wire exactly when it is registered here.
//!
//! A handler is an async fn `(Arc<GatewayState>, CallCtx, Value) -> Result<Value, ErrorShape>`:
//! ```text
//! MethodSpec::new("example.echo", scopes::READ, |_state, _ctx, params| async move {
//!     Ok(params)
//! })
//! ```

mod config;
mod core;
mod devices;
pub mod sessions;
mod system;

pub(crate) use self::core::{health_payload as core_health, hostname as core_hostname};
pub use self::core::{health_payload, rss_bytes, status_payload};

use crate::state::{Connection, ConnectionInfo, GatewayState};
use futures_util::future::BoxFuture;
use openclaw_protocol::{scopes, ErrorCode, ErrorShape};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

/// Every registered method. One line per area.
pub(crate) fn all_specs() -> Vec<MethodSpec> {
    let mut v = Vec::new();
    v.extend(core::specs());
    v.extend(config::specs());
    v.extend(sessions::specs());
    v.extend(devices::specs());
    v.extend(system::specs());
    v
}

/// `scope` value for methods only the `node` role may call.
pub const SCOPE_NODE_ROLE: &str = "role:node";
/// `scope` value for methods whose scope depends on params: the handler checks
/// with [`CallCtx::require_scope`] itself.
pub const SCOPE_DYNAMIC: &str = "dynamic";

/// The boxed handler type.
pub type Handler = Arc<
    dyn Fn(Arc<GatewayState>, CallCtx, Value) -> BoxFuture<'static, Result<Value, ErrorShape>>
        + Send
        + Sync,
>;

/// One method: name, the scope it requires, and its handler.
#[derive(Clone)]
pub struct MethodSpec {
    pub name: &'static str,
    /// An operator scope (`scopes::READ`, …), [`SCOPE_NODE_ROLE`] or [`SCOPE_DYNAMIC`].
    pub scope: &'static str,
    pub handler: Handler,
    /// Optional synchronous fast path returning the payload already serialized as JSON
    /// (e.g. a cached `health`). When set, the connection answers with it and skips `handler`.
    pub fast: Option<FastHandler>,
}

/// A synchronous handler returning the serialized payload (see [`MethodSpec::fast`]).
pub type FastHandler = fn(&GatewayState) -> Arc<str>;

impl std::fmt::Debug for MethodSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodSpec")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("fast", &self.fast.is_some())
            .finish_non_exhaustive()
    }
}

impl MethodSpec {
    /// Register an async fn as a method.
    pub fn new<F, Fut>(name: &'static str, scope: &'static str, f: F) -> MethodSpec
    where
        F: Fn(Arc<GatewayState>, CallCtx, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorShape>> + Send + 'static,
    {
        MethodSpec {
            name,
            scope,
            handler: Arc::new(move |s, c, p| Box::pin(f(s, c, p))),
            fast: None,
        }
    }

    /// Add a synchronous, pre-serialized fast path (params are ignored on that path).
    pub fn with_fast(mut self, fast: FastHandler) -> MethodSpec {
        self.fast = Some(fast);
        self
    }

    /// Role and scope check for a connection (before the handler runs).
    pub fn check_access(&self, info: &ConnectionInfo) -> Result<(), ErrorShape> {
        match self.scope {
            SCOPE_DYNAMIC => Ok(()),
            SCOPE_NODE_ROLE => {
                if info.role == scopes::ROLE_NODE {
                    Ok(())
                } else {
                    Err(ErrorShape::new(
                        ErrorCode::Forbidden,
                        format!("{} is only available to the node role", self.name),
                    ))
                }
            }
            scope => {
                if info.role == scopes::ROLE_OPERATOR && scopes::satisfies(&info.scopes, scope) {
                    Ok(())
                } else {
                    Err(ErrorShape::missing_scope(scope, &[scope]))
                }
            }
        }
    }
}

/// Per-call context: who is calling, on which connection.
#[derive(Debug, Clone)]
pub struct CallCtx {
    conn: Arc<Connection>,
    request_id: Arc<str>,
}

impl CallCtx {
    pub(crate) fn new(conn: Arc<Connection>, request_id: Arc<str>) -> Self {
        CallCtx { conn, request_id }
    }

    /// The connection id.
    pub fn conn_id(&self) -> &str {
        self.conn.id()
    }

    /// The request id of this call.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Granted role (`operator` or `node`).
    pub fn role(&self) -> &str {
        &self.conn.info().role
    }

    /// Granted scopes.
    pub fn scopes(&self) -> &[String] {
        &self.conn.info().scopes
    }

    /// The proven device id, if the client connected with a device identity.
    pub fn device_id(&self) -> Option<&str> {
        self.conn.info().device_id.as_deref()
    }

    /// Whether the grant satisfies `scope` (admin implies everything).
    pub fn has_scope(&self, scope: &str) -> bool {
        scopes::satisfies(&self.conn.info().scopes, scope)
    }

    /// `FORBIDDEN` + `MISSING_SCOPE` unless the grant satisfies `scope` (for dynamic methods).
    pub fn require_scope(&self, scope: &str) -> Result<(), ErrorShape> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ErrorShape::missing_scope(scope, &[scope]))
        }
    }

    /// The calling connection (subscribe it to event streams, send it targeted events).
    pub fn connection(&self) -> &Arc<Connection> {
        &self.conn
    }

    /// Send an interim `ok` response for this call (OpenClaw's `{status:"accepted"}` first reply
    /// of a request whose client waits for a final one with the same id).
    pub fn respond_interim(&self, payload: Value) -> bool {
        self.conn
            .send_text(openclaw_protocol::Frame::ok(self.request_id.to_string(), payload).to_text())
    }

    /// Subscribe the calling connection to `topic`; see `GatewayState::broadcast_where`.
    pub fn subscribe(&self, topic: &str) {
        self.conn.subscribe(topic)
    }
}
