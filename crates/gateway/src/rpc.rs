//! The method types: [`MethodSpec`] (a method: name, access rule, handler), [`CallCtx`] (who is
//! calling) and [`Methods`] (the registry a gateway serves).
//!
//! Layer 2: uses `state`; the handler modules (`methods::*`) and the connection use this one.
//! Handlers take typed params and return typed results; [`MethodSpec::typed`] does the one serde
//! step each way (`openclaw_rs_protocol::decode_params`, then `Payload::encode`):
//! ```text
//! MethodSpec::typed(|state, _ctx, p: LogsTailParams| async move { logs_tail(&state, p).await })
//! ```

use crate::state::{Connection, ConnectionInfo, GatewayState};
use futures_util::future::BoxFuture;
use openclaw_rs_protocol::{scopes, Access, ErrorCode, ErrorShape, Payload, Request};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// The methods one gateway serves, by name (built once, before serving).
#[derive(Debug, Default)]
pub(crate) struct Methods {
    by_name: HashMap<&'static str, MethodSpec>,
    names: Vec<String>,
}

impl Methods {
    /// A registry of `specs`; a later spec with the same name replaces an earlier one.
    pub(crate) fn new(specs: Vec<MethodSpec>) -> Methods {
        let mut names: Vec<String> = specs.iter().map(|s| s.name.to_owned()).collect();
        names.sort();
        names.dedup();
        let by_name = specs.into_iter().map(|s| (s.name, s)).collect();
        Methods { by_name, names }
    }

    /// The method called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&MethodSpec> {
        self.by_name.get(name)
    }

    /// Sorted method names (`hello-ok.features.methods`).
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
}

/// The boxed handler type: raw params in, the encoded result out.
pub type Handler = Arc<
    dyn Fn(
            Arc<GatewayState>,
            CallCtx,
            Option<Value>,
        ) -> BoxFuture<'static, Result<Payload, ErrorShape>>
        + Send
        + Sync,
>;

/// One method: name, what the caller needs, and its handler.
#[derive(Clone)]
pub struct MethodSpec {
    /// The method name (`health`, `sessions.spawn`, `myapp.echo`).
    pub name: &'static str,
    /// The role or scope a caller needs.
    pub access: Access,
    /// Answered to an operator granted no scopes at all (see `MethodDef::scopeless`).
    pub scopeless: bool,
    /// Raw params in, the encoded result out.
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
            .field("access", &self.access)
            .field("fast", &self.fast.is_some())
            .finish_non_exhaustive()
    }
}

impl MethodSpec {
    /// A method of the protocol table with a typed handler; its access comes from the table.
    ///
    /// A method missing from the table is admin-only (and a test fails on it).
    pub fn typed<P, F, Fut>(f: F) -> MethodSpec
    where
        P: Request,
        F: Fn(Arc<GatewayState>, CallCtx, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<P::Result, ErrorShape>> + Send + 'static,
    {
        let (access, scopeless) = match openclaw_rs_protocol::rpc::method(P::METHOD) {
            Some(def) => (def.access, def.scopeless),
            None => (Access::Scope(scopes::ADMIN), false),
        };
        MethodSpec::with_access::<P, F, Fut>(access, f).scopeless(scopeless)
    }

    /// A typed method with an explicit access rule: an embedder's extra method, which the
    /// protocol table does not know.
    pub fn with_access<P, F, Fut>(access: Access, f: F) -> MethodSpec
    where
        P: Request,
        F: Fn(Arc<GatewayState>, CallCtx, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<P::Result, ErrorShape>> + Send + 'static,
    {
        let f = Arc::new(f);
        MethodSpec {
            name: P::METHOD,
            access,
            scopeless: false,
            handler: Arc::new(move |state, ctx, raw| {
                match openclaw_rs_protocol::decode_params::<P>(P::METHOD, raw) {
                    Ok(params) => {
                        let fut = f(state, ctx, params);
                        Box::pin(async move { Ok(Payload::encode(&fut.await?)?) })
                    }
                    Err(e) => Box::pin(std::future::ready(Err(e))),
                }
            }),
            fast: None,
        }
    }

    /// An untyped method (`serde_json::Value` in and out): the escape hatch for embedders and
    /// tests. Absent params are `{}`.
    pub fn new<F, Fut>(name: &'static str, scope: &'static str, f: F) -> MethodSpec
    where
        F: Fn(Arc<GatewayState>, CallCtx, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ErrorShape>> + Send + 'static,
    {
        MethodSpec {
            name,
            access: Access::Scope(scope),
            scopeless: false,
            handler: Arc::new(move |s, c, p| {
                let fut = f(s, c, p.unwrap_or_else(|| Value::Object(Default::default())));
                Box::pin(async move { Ok(Payload::encode(&fut.await?)?) })
            }),
            fast: None,
        }
    }

    /// A method of the protocol table that this gateway cannot perform: any params are
    /// answered `UNAVAILABLE` with `message` (which names the missing subsystem). Its access
    /// comes from the table, so a caller without the scope is still refused for the scope.
    pub fn unavailable(name: &'static str, message: &'static str) -> MethodSpec {
        let access = openclaw_rs_protocol::rpc::method(name)
            .map_or(Access::Scope(scopes::ADMIN), |def| def.access);
        MethodSpec {
            name,
            access,
            scopeless: false,
            handler: Arc::new(move |_state, _ctx, _raw| {
                Box::pin(std::future::ready(Err(ErrorShape::new(
                    ErrorCode::Unavailable,
                    message,
                ))))
            }),
            fast: None,
        }
    }

    fn scopeless(mut self, scopeless: bool) -> MethodSpec {
        self.scopeless = scopeless;
        self
    }

    /// Add a synchronous, pre-serialized fast path (params are ignored on that path).
    pub fn with_fast(mut self, fast: FastHandler) -> MethodSpec {
        self.fast = Some(fast);
        self
    }

    /// Role and scope check for a connection (before the handler runs).
    pub fn check_access(&self, info: &ConnectionInfo) -> Result<(), ErrorShape> {
        match self.access {
            Access::NodeRole => {
                if info.role == scopes::ROLE_NODE {
                    Ok(())
                } else {
                    Err(ErrorShape::new(
                        ErrorCode::Forbidden,
                        format!("{} is only available to the node role", self.name),
                    ))
                }
            }
            // The handler works out the scope from the params.
            Access::Dynamic if info.role == scopes::ROLE_OPERATOR => Ok(()),
            Access::Dynamic => Err(ErrorShape::missing_scope(scopes::WRITE, &[scopes::WRITE])),
            Access::Scope(scope) => {
                let granted = info.role == scopes::ROLE_OPERATOR
                    && (scopes::satisfies(&info.scopes, scope)
                        || (self.scopeless && info.scopes.is_empty()));
                if granted {
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
    pub fn respond_interim<T: Serialize>(&self, payload: &T) -> bool {
        match Payload::encode(payload) {
            Ok(p) => self
                .conn
                .send_text(openclaw_rs_protocol::encode::response_ok(
                    &self.request_id,
                    p.as_str(),
                )),
            Err(e) => {
                tracing::warn!(error = %e, "interim reply not sent");
                false
            }
        }
    }

    /// Subscribe the calling connection to `topic`; see `GatewayState::broadcast_where`.
    pub fn subscribe(&self, topic: &str) {
        self.conn.subscribe(topic)
    }
}
