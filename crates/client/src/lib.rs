//! Async client for the OpenClaw gateway protocol: handshake, request correlation, events, reconnect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), openclaw_client::ClientError> {
//! use openclaw_client::{Client, ClientOptions};
//!
//! let mut opts = ClientOptions::new("ws://127.0.0.1:18789");
//! opts.token = Some("my-gateway-token".into());
//! let client = Client::connect(opts).await?;
//! println!("connected to {}", client.hello()["server"]["version"]);
//!
//! let mut events = client.events();
//! let health = client.request("health", serde_json::json!({})).await?;
//! println!("health ok: {}", health["ok"]);
//! if let Ok(ev) = events.try_recv() {
//!     println!("event {}", ev.event);
//! }
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! Requests may be issued concurrently from clones of the [`Client`]; replies are matched by id,
//! in whatever order the gateway sends them. A device identity plugs in through [`ConnectSigner`].

use futures_util::{SinkExt, StreamExt};
use openclaw_protocol::{
    decode_frame, version, ChallengePayload, ClientInfo, ConnectAuth, ConnectParams, ErrorShape,
    EventFrame, Frame,
};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

pub mod device;
pub use device::DeviceSigner;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The close frame the gateway sent (code and reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
}

impl fmt::Display for CloseInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "close {} {:?}", self.code, self.reason)
    }
}

/// Everything that can go wrong talking to a gateway.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// TCP connect or WebSocket upgrade failed (gateway not running, wrong URL, …).
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    /// The gateway refused `connect`; `close` is the close frame that followed.
    #[error("gateway refused the connection: {error}{}", close.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Handshake {
        error: ErrorShape,
        close: Option<CloseInfo>,
    },
    /// A request failed with the gateway's error.
    #[error("{0}")]
    Server(ErrorShape),
    /// The connection closed (with the close frame, if one arrived).
    #[error("connection closed{}", .0.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Closed(Option<CloseInfo>),
    /// No answer in time.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, &'static str),
    /// The gateway sent something this client does not understand.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The device signer failed.
    #[error("device signer: {0}")]
    Signer(String),
}

impl ClientError {
    /// The server's error shape (request or handshake failure).
    pub fn error_shape(&self) -> Option<&ErrorShape> {
        match self {
            ClientError::Handshake { error, .. } | ClientError::Server(error) => Some(error),
            _ => None,
        }
    }

    /// The close frame, when the failure ended the connection.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        match self {
            ClientError::Handshake { close, .. } | ClientError::Closed(close) => close.as_ref(),
            _ => None,
        }
    }

    /// `error.details.code` (e.g. `AUTH_TOKEN_MISMATCH`).
    pub fn detail_code(&self) -> Option<&str> {
        self.error_shape().and_then(|e| e.detail_code())
    }
}

/// Adds a device proof to `connect` (implemented by the auth area with an Ed25519 identity).
///
/// Called once per handshake with the challenge and the params about to be sent
/// (role, scopes, client info, auth already filled in); sets `params.device`.
pub trait ConnectSigner: Send + Sync + fmt::Debug + 'static {
    fn sign(&self, challenge: &ChallengePayload, params: &mut ConnectParams) -> Result<(), String>;

    /// Sees every successful `hello-ok` payload (e.g. to persist an issued `auth.deviceToken`).
    fn hello_ok(&self, _hello: &Value) {}
}

/// Reconnect policy (opt-in): exponential backoff between `initial` and `max`.
#[derive(Debug, Clone)]
pub struct Reconnect {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `ws://host:port`
    pub url: String,
    pub token: Option<String>,
    pub password: Option<String>,
    pub device_token: Option<String>,
    pub role: String,
    pub scopes: Vec<String>,
    pub client: ClientInfo,
    pub min_protocol: u32,
    pub max_protocol: u32,
    pub signer: Option<Arc<dyn ConnectSigner>>,
    /// Bound on TCP connect + upgrade + handshake.
    pub connect_timeout: Duration,
    /// Default bound on one request (see [`Client::request_with_timeout`]).
    pub request_timeout: Duration,
    /// Reconnect after a lost connection (never after a refused handshake).
    pub reconnect: Option<Reconnect>,
}

impl ClientOptions {
    /// Defaults: operator with read/write/admin, protocol 4, client id `cli`, no reconnect.
    pub fn new(url: impl Into<String>) -> Self {
        ClientOptions {
            url: url.into(),
            token: None,
            password: None,
            device_token: None,
            role: "operator".into(),
            scopes: vec![
                "operator.read".into(),
                "operator.write".into(),
                "operator.admin".into(),
            ],
            client: ClientInfo {
                id: "cli".into(),
                display_name: None,
                version: env!("CARGO_PKG_VERSION").into(),
                platform: std::env::consts::OS.into(),
                device_family: None,
                mode: "cli".into(),
                instance_id: Some(uuid::Uuid::new_v4().to_string()),
            },
            min_protocol: version::CURRENT,
            max_protocol: version::CURRENT,
            signer: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            reconnect: None,
        }
    }

    fn connect_params(&self) -> ConnectParams {
        let auth = ConnectAuth {
            token: self.token.clone(),
            password: self.password.clone(),
            device_token: self.device_token.clone(),
            ..ConnectAuth::default()
        };
        let has_auth =
            auth.token.is_some() || auth.password.is_some() || auth.device_token.is_some();
        ConnectParams {
            min_protocol: self.min_protocol,
            max_protocol: self.max_protocol,
            client: self.client.clone(),
            caps: Some(Vec::new()),
            role: Some(self.role.clone()),
            scopes: Some(self.scopes.clone()),
            device: None,
            auth: has_auth.then_some(auth),
            locale: None,
            user_agent: Some(format!("openclaw-rs-client/{}", env!("CARGO_PKG_VERSION"))),
        }
    }
}

/// Connection status, observable with [`Client::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connected,
    /// Lost; reconnecting (only with [`ClientOptions::reconnect`]).
    Reconnecting(Option<CloseInfo>),
    /// Closed for good.
    Closed(Option<CloseInfo>),
}

/// Waiters by request id; the flag says the waiter wants the final reply of a call that is
/// first answered `{status:"accepted"}` (OpenClaw's `expectFinal`).
type Pending = HashMap<String, (bool, oneshot::Sender<Result<Value, ClientError>>)>;

#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
    hello: Mutex<Arc<Value>>,
    events: broadcast::Sender<EventFrame>,
    status: watch::Sender<Status>,
}

#[derive(Debug)]
enum Command {
    Request {
        id: String,
        text: String,
        expect_final: bool,
        reply: oneshot::Sender<Result<Value, ClientError>>,
    },
    Close,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    cmd: mpsc::Sender<Command>,
    next_id: AtomicU64,
    request_timeout: Duration,
    driver: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut d) = self.driver.lock() {
            if let Some(h) = d.take() {
                h.abort();
            }
        }
    }
}

/// A connected gateway client (cheap to clone; the connection closes when the last clone drops).
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Connect and complete the handshake.
    pub async fn connect(opts: ClientOptions) -> Result<Client, ClientError> {
        let (ws, hello) = establish(&opts).await?;
        let (events, _) = broadcast::channel(1024);
        let (status, _) = watch::channel(Status::Connected);
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            hello: Mutex::new(Arc::new(hello)),
            events,
            status,
        });
        let (cmd_tx, cmd_rx) = mpsc::channel(1024);
        let request_timeout = opts.request_timeout;
        let driver = tokio::spawn(drive(opts, ws, shared.clone(), cmd_rx));
        Ok(Client {
            inner: Arc::new(Inner {
                shared,
                cmd: cmd_tx,
                next_id: AtomicU64::new(1),
                request_timeout,
                driver: Mutex::new(Some(driver)),
            }),
        })
    }

    /// The latest `hello-ok` payload.
    pub fn hello(&self) -> Arc<Value> {
        self.inner
            .shared
            .hello
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default()
    }

    /// Subscribe to events (a lagging receiver loses the oldest events).
    pub fn events(&self) -> broadcast::Receiver<EventFrame> {
        self.inner.shared.events.subscribe()
    }

    /// Watch the connection status.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.inner.shared.status.subscribe()
    }

    /// Call `method` with `params`, waiting up to the default request timeout.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.request_with_timeout(method, params, self.inner.request_timeout)
            .await
    }

    /// Call `method` with an explicit timeout.
    pub async fn request_with_timeout(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        self.call(method, params, timeout, false).await
    }

    /// Call a method that answers twice with the same id, first `{status:"accepted", …}` and
    /// then its result (OpenClaw's `agent`), and return the final reply, waiting up to `timeout`
    /// for it.
    pub async fn request_final(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        self.call(method, params, timeout, true).await
    }

    async fn call(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
        expect_final: bool,
    ) -> Result<Value, ClientError> {
        let n = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let id = n.to_string();
        let frame = Frame::Request(openclaw_protocol::RequestFrame {
            id: id.clone(),
            method: method.to_owned(),
            params: Some(params),
            traceparent: None,
        });
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Request {
            id: id.clone(),
            text: frame.to_text(),
            expect_final,
            reply,
        };
        let result = tokio::time::timeout(timeout, async {
            self.inner
                .cmd
                .send(cmd)
                .await
                .map_err(|_| ClientError::Closed(self.close_info()))?;
            rx.await
                .unwrap_or_else(|_| Err(ClientError::Closed(self.close_info())))
        })
        .await;
        match result {
            Ok(r) => r,
            Err(_) => {
                if let Ok(mut p) = self.inner.shared.pending.lock() {
                    p.remove(&id);
                }
                Err(ClientError::Timeout(timeout, "a response"))
            }
        }
    }

    fn close_info(&self) -> Option<CloseInfo> {
        match &*self.inner.shared.status.borrow() {
            Status::Closed(c) | Status::Reconnecting(c) => c.clone(),
            Status::Connected => None,
        }
    }

    /// Close the connection (normal closure) and stop reconnecting.
    pub async fn close(&self) {
        let _ = self.inner.cmd.send(Command::Close).await;
        let mut status = self.status();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            status.wait_for(|s| matches!(s, Status::Closed(_))),
        )
        .await;
    }
}

/// TCP + upgrade + challenge + connect + hello-ok.
async fn establish(opts: &ClientOptions) -> Result<(Ws, Value), ClientError> {
    let fut = async {
        let (mut ws, _) = tokio_tungstenite::connect_async(opts.url.as_str())
            .await
            .map_err(|e| ClientError::Connect {
                url: opts.url.clone(),
                message: e.to_string(),
            })?;
        let challenge = loop {
            match read_frame(&mut ws).await? {
                Frame::Event(ev) if ev.event == "connect.challenge" => {
                    let payload = ev.payload.unwrap_or(Value::Null);
                    break serde_json::from_value::<ChallengePayload>(payload).map_err(|e| {
                        ClientError::Protocol(format!("bad connect.challenge: {e}"))
                    })?;
                }
                _ => continue,
            }
        };
        let mut params = opts.connect_params();
        if let Some(signer) = &opts.signer {
            signer
                .sign(&challenge, &mut params)
                .map_err(ClientError::Signer)?;
        }
        let params = serde_json::to_value(&params)
            .map_err(|e| ClientError::Protocol(format!("encode connect params: {e}")))?;
        let req = Frame::Request(openclaw_protocol::RequestFrame {
            id: "connect".into(),
            method: "connect".into(),
            params: Some(params),
            traceparent: None,
        });
        ws.send(Message::text(req.to_text()))
            .await
            .map_err(|e| ClientError::Connect {
                url: opts.url.clone(),
                message: e.to_string(),
            })?;
        loop {
            match read_frame(&mut ws).await? {
                Frame::Response(res) if res.id == "connect" => {
                    if res.ok {
                        let hello = res.payload.unwrap_or(Value::Null);
                        if let Some(signer) = &opts.signer {
                            signer.hello_ok(&hello);
                        }
                        return Ok((ws, hello));
                    }
                    let error = res.error.unwrap_or_else(|| {
                        ErrorShape::new(
                            openclaw_protocol::ErrorCode::InvalidRequest,
                            "connect failed without an error",
                        )
                    });
                    let close = read_close(&mut ws).await;
                    return Err(ClientError::Handshake { error, close });
                }
                _ => continue,
            }
        }
    };
    tokio::time::timeout(opts.connect_timeout, fut)
        .await
        .map_err(|_| ClientError::Timeout(opts.connect_timeout, "the handshake"))?
}

/// Next decoded frame; a close becomes `ClientError::Closed`.
async fn read_frame(ws: &mut Ws) -> Result<Frame, ClientError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return decode_frame(t.as_str(), usize::MAX)
                    .map_err(|e| ClientError::Protocol(e.to_string()))
            }
            Some(Ok(Message::Close(f))) => return Err(ClientError::Closed(f.map(close_info))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(ClientError::Closed(None)),
        }
    }
}

async fn read_close(ws: &mut Ws) -> Option<CloseInfo> {
    tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(f))) => return f.map(close_info),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

fn close_info(f: CloseFrame) -> CloseInfo {
    CloseInfo {
        code: u16::from(f.code),
        reason: f.reason.to_string(),
    }
}

/// Owns the socket: writes requests, routes responses and events, reconnects if asked to.
async fn drive(
    opts: ClientOptions,
    ws: Ws,
    shared: Arc<Shared>,
    mut cmd_rx: mpsc::Receiver<Command>,
) {
    let mut ws = Some(ws);
    let mut backoff = opts.reconnect.as_ref().map(|r| r.initial);
    loop {
        let Some(socket) = ws.take() else { break };
        shared.status.send_replace(Status::Connected);
        let ended = session(socket, &shared, &mut cmd_rx).await;
        fail_pending(&shared, &ended);
        let (Some(policy), SessionEnd::Lost(close)) = (&opts.reconnect, &ended) else {
            let close = match ended {
                SessionEnd::Lost(c) => c,
                SessionEnd::ClosedByUs => None,
            };
            shared.status.send_replace(Status::Closed(close));
            return;
        };
        shared
            .status
            .send_replace(Status::Reconnecting(close.clone()));
        // Reconnect with exponential backoff; a refused handshake is final.
        loop {
            let delay = backoff.unwrap_or(policy.initial);
            tokio::time::sleep(delay).await;
            backoff = Some((delay * 2).min(policy.max));
            match establish(&opts).await {
                Ok((socket, hello)) => {
                    if let Ok(mut h) = shared.hello.lock() {
                        *h = Arc::new(hello);
                    }
                    backoff = Some(policy.initial);
                    ws = Some(socket);
                    break;
                }
                Err(e @ ClientError::Handshake { .. }) => {
                    tracing::warn!(error = %e, "reconnect refused; giving up");
                    shared
                        .status
                        .send_replace(Status::Closed(e.close_info().cloned()));
                    return;
                }
                Err(e) => tracing::debug!(error = %e, "reconnect failed; retrying"),
            }
        }
    }
}

enum SessionEnd {
    Lost(Option<CloseInfo>),
    ClosedByUs,
}

async fn session(ws: Ws, shared: &Shared, cmd_rx: &mut mpsc::Receiver<Command>) -> SessionEnd {
    let (mut sink, mut source) = ws.split();
    loop {
        tokio::select! {
            cmd = cmd_rx.recv() => match cmd {
                Some(Command::Request { id, text, expect_final, reply }) => {
                    if let Ok(mut p) = shared.pending.lock() {
                        p.insert(id.clone(), (expect_final, reply));
                    }
                    if sink.send(Message::text(text)).await.is_err() {
                        return SessionEnd::Lost(None);
                    }
                }
                Some(Command::Close) | None => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::Normal,
                            reason: "client closing".into(),
                        })))
                        .await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while let Some(Ok(_)) = source.next().await {}
                    })
                    .await;
                    return SessionEnd::ClosedByUs;
                }
            },
            msg = source.next() => match msg {
                Some(Ok(Message::Text(t))) => match decode_frame(t.as_str(), usize::MAX) {
                    Ok(Frame::Response(res)) => {
                        let interim = res.ok
                            && res.payload.as_ref().and_then(|v| v.get("status")).and_then(Value::as_str)
                                == Some("accepted");
                        let waiter = shared.pending.lock().ok().and_then(|mut p| {
                            match p.get(&res.id) {
                                // An interim acceptance: the final reply comes later.
                                Some((true, _)) if interim => None,
                                _ => p.remove(&res.id).map(|(_, tx)| tx),
                            }
                        });
                        if let Some(tx) = waiter {
                            let result = if res.ok {
                                Ok(res.payload.unwrap_or(Value::Null))
                            } else {
                                Err(ClientError::Server(res.error.unwrap_or_else(|| {
                                    ErrorShape::new(openclaw_protocol::ErrorCode::InvalidRequest, "request failed without an error")
                                })))
                            };
                            let _ = tx.send(result);
                        }
                    }
                    Ok(Frame::Event(ev)) => {
                        let _ = shared.events.send(ev);
                    }
                    Ok(Frame::Request(_)) => {}
                    Err(e) => tracing::debug!(error = %e, "undecodable frame from gateway"),
                },
                Some(Ok(Message::Close(f))) => return SessionEnd::Lost(f.map(close_info)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return SessionEnd::Lost(None),
            },
        }
    }
}

fn fail_pending(shared: &Shared, ended: &SessionEnd) {
    let close = match ended {
        SessionEnd::Lost(c) => c.clone(),
        SessionEnd::ClosedByUs => None,
    };
    let drained: Vec<_> = shared
        .pending
        .lock()
        .map(|mut p| p.drain().collect())
        .unwrap_or_default();
    for (_, (_, tx)) in drained {
        let _ = tx.send(Err(ClientError::Closed(close.clone())));
    }
}
