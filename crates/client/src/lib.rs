//! Async client for the OpenClaw gateway protocol: handshake, request correlation, events, reconnect.
//!
//! Calls are typed: a params type from [`openclaw_rs_protocol::methods`] names its method and its
//! result type ([`Request`]), and [`Client::call`] returns that result decoded. Events are typed
//! the same way ([`Event`]): [`Client::subscribe`] yields one event type, decoded, and skips the
//! others.
//!
//! ```no_run
//! # async fn demo() -> Result<(), openclaw_rs_client::ClientError> {
//! use openclaw_rs_client::{Client, ClientOptions};
//! use openclaw_rs_protocol::methods::gateway::HealthParams;
//! use openclaw_rs_protocol::methods::sessions::{ChatBody, ChatEvent};
//!
//! let mut opts = ClientOptions::new("ws://127.0.0.1:18789");
//! opts.token = Some("my-gateway-token".into());
//! let client = Client::connect(opts).await?;
//! println!("connected to {}", client.hello().server.version);
//!
//! // Subscribe before the call whose events you want.
//! let mut chat = client.subscribe::<ChatEvent>();
//! let health = client.call(HealthParams::default()).await?;
//! println!("health ok: {}", health.ok);
//! if let Some(Ok(ev)) = chat.try_recv() {
//!     if let ChatBody::Delta { delta_text } = ev.body {
//!         print!("{delta_text}");
//!     }
//! }
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! A result or event that does not decode into its type is a [`ClientError::Decode`] or
//! [`ClientError::EventDecode`] naming the method (or event) and the field, never a panic.
//! Methods this crate has no type for go through the untyped [`Client::request`].
//!
//! Requests may be issued concurrently from clones of the [`Client`]; replies are matched by id,
//! in whatever order the gateway sends them. A device identity plugs in through [`ConnectSigner`].
//!
//! A runnable piece that needs no gateway: the typed request names its method.
//!
//! ```
//! use openclaw_rs_protocol::methods::gateway::HealthParams;
//! use openclaw_rs_protocol::Request;
//!
//! assert_eq!(<HealthParams as Request>::METHOD, "health");
//! let opts = openclaw_rs_client::ClientOptions::new("ws://127.0.0.1:18789");
//! assert!(opts.token.is_none());
//! ```
#![warn(missing_docs)]

use futures_util::{SinkExt, StreamExt};
use openclaw_rs_protocol::{
    decode_frame, version, ChallengePayload, ClientInfo, ConnectAuth, ConnectParams, ErrorShape,
    Event, EventFrame, Frame, HelloOk, Request,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
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
    /// The WebSocket close code.
    pub code: u16,
    /// The close reason text.
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
    Connect {
        /// The URL dialled.
        url: String,
        /// What failed.
        message: String,
    },
    /// The gateway refused `connect`; `close` is the close frame that followed.
    #[error("gateway refused the connection: {error}{}", close.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Handshake {
        /// The gateway's error for `connect`.
        error: ErrorShape,
        /// The close frame that followed, if any.
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
    /// A reply did not decode into the method's result type (`connect` for `hello-ok`).
    #[error("unexpected {method} result: at {field}: {message}")]
    Decode {
        /// The method called.
        method: String,
        /// Where in the payload, e.g. `sessions[0].key` (`.` for the payload itself).
        field: String,
        /// What serde found wrong there.
        message: String,
    },
    /// An event payload did not decode into its type.
    #[error("unexpected {event} event: at {field}: {message}")]
    EventDecode {
        /// The event's name.
        event: String,
        /// Where in the payload (`.` for the payload itself).
        field: String,
        /// What serde found wrong there.
        message: String,
    },
    /// The event receiver fell behind and lost this many events (the oldest ones).
    #[error("{0} events were lost because the receiver fell behind")]
    Lagged(u64),
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
    /// Sign `params` (set its `device` block) for the gateway's `challenge`; an error aborts the connect with that message.
    fn sign(&self, challenge: &ChallengePayload, params: &mut ConnectParams) -> Result<(), String>;

    /// Sees every successful `hello-ok` payload (e.g. to persist an issued `auth.deviceToken`).
    fn hello_ok(&self, _hello: &HelloOk) {}
}

/// Reconnect policy (opt-in): exponential backoff between `initial` and `max`.
#[derive(Debug, Clone)]
pub struct Reconnect {
    /// Delay before the first reconnect attempt.
    pub initial: Duration,
    /// Longest delay between attempts (the delay doubles up to it).
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
    /// Shared gateway token (`auth.token`).
    pub token: Option<String>,
    /// Shared gateway password (`auth.password`).
    pub password: Option<String>,
    /// Device token from an earlier pairing (`auth.deviceToken`).
    pub device_token: Option<String>,
    /// Role asked for (`operator` by default).
    pub role: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// What this client says it is (`client.id`, `client.mode`, …): labels, never privileges.
    pub client: ClientInfo,
    /// Lowest protocol version offered.
    pub min_protocol: u32,
    /// Highest protocol version offered.
    pub max_protocol: u32,
    /// Signs the device proof of `connect` (a device identity), when set.
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
    /// Connected and past the handshake.
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
    hello: Mutex<Arc<HelloOk>>,
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

    /// The latest `hello-ok` payload (of the last reconnect, with [`ClientOptions::reconnect`]).
    pub fn hello(&self) -> Arc<HelloOk> {
        // The lock is never held across a panic point; a poisoned one still holds a hello.
        match self.inner.shared.hello.lock() {
            Ok(h) => h.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Subscribe to every event frame, undecoded (a lagging receiver loses the oldest events).
    /// [`Client::subscribe`] is the typed form; [`decode_event`] decodes one frame.
    pub fn events(&self) -> broadcast::Receiver<EventFrame> {
        self.inner.shared.events.subscribe()
    }

    /// Subscribe to one event type: the receiver yields the events named `E::NAME`, decoded,
    /// and skips the others. Events sent before this call are not seen.
    pub fn subscribe<E: Event + DeserializeOwned>(&self) -> Subscription<E> {
        Subscription {
            events: self.events(),
            status: self.status(),
            _event: PhantomData,
        }
    }

    /// Watch the connection status.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.inner.shared.status.subscribe()
    }

    /// Call `P::METHOD` with `params` and decode its result, waiting up to the default request
    /// timeout.
    pub async fn call<P: Request>(&self, params: P) -> Result<P::Result, ClientError> {
        self.call_with_timeout(params, self.inner.request_timeout)
            .await
    }

    /// [`Client::call`] with an explicit timeout.
    pub async fn call_with_timeout<P: Request>(
        &self,
        params: P,
        timeout: Duration,
    ) -> Result<P::Result, ClientError> {
        let value = encode_params(&params)?;
        let reply = self.send(P::METHOD, value, timeout, false).await?;
        decode_result(P::METHOD, reply)
    }

    /// [`Client::request_final`], typed: for methods that answer `{status:"accepted"}` first
    /// and then their result with the same id (`agent`). Returns the final reply, decoded,
    /// waiting up to `timeout` for it.
    pub async fn call_final<P: Request>(
        &self,
        params: P,
        timeout: Duration,
    ) -> Result<P::Result, ClientError> {
        let value = encode_params(&params)?;
        let reply = self.send(P::METHOD, value, timeout, true).await?;
        decode_result(P::METHOD, reply)
    }

    /// Call `method` with `params`, untyped (for methods without a params type here, and for
    /// `openclaw gateway call`), waiting up to the default request timeout.
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
        self.send(method, params, timeout, false).await
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
        self.send(method, params, timeout, true).await
    }

    async fn send(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
        expect_final: bool,
    ) -> Result<Value, ClientError> {
        let n = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let id = n.to_string();
        let frame = Frame::Request(openclaw_rs_protocol::RequestFrame {
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

/// A typed event receiver from [`Client::subscribe`].
#[derive(Debug)]
pub struct Subscription<E> {
    events: broadcast::Receiver<EventFrame>,
    status: watch::Receiver<Status>,
    _event: PhantomData<fn() -> E>,
}

impl<E: Event + DeserializeOwned> Subscription<E> {
    /// The next `E` event. Errors: [`ClientError::EventDecode`] for an `E` event that does not
    /// decode (the next call goes on with the following event), [`ClientError::Lagged`] when
    /// events were lost to a slow receiver, and [`ClientError::Closed`] once the connection is
    /// closed for good and every event received before is delivered.
    pub async fn recv(&mut self) -> Result<E, ClientError> {
        loop {
            let frame = tokio::select! {
                biased;
                r = self.events.recv() => match r {
                    Ok(frame) => frame,
                    Err(broadcast::error::RecvError::Lagged(n)) => return Err(ClientError::Lagged(n)),
                    Err(broadcast::error::RecvError::Closed) => return Err(ClientError::Closed(None)),
                },
                closed = closed(&mut self.status) => {
                    // Deliver what arrived before the close first.
                    match self.events.try_recv() {
                        Ok(frame) => frame,
                        Err(broadcast::error::TryRecvError::Lagged(n)) => return Err(ClientError::Lagged(n)),
                        Err(_) => return Err(ClientError::Closed(closed)),
                    }
                }
            };
            if let Some(event) = decode_event::<E>(&frame) {
                return event;
            }
        }
    }

    /// The next `E` event already received, without waiting (`None`: none is queued).
    pub fn try_recv(&mut self) -> Option<Result<E, ClientError>> {
        loop {
            match self.events.try_recv() {
                Ok(frame) => {
                    if let Some(event) = decode_event::<E>(&frame) {
                        return Some(event);
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    return Some(Err(ClientError::Lagged(n)))
                }
                Err(_) => return None,
            }
        }
    }
}

/// Resolves when the connection is closed for good, with its close frame.
async fn closed(status: &mut watch::Receiver<Status>) -> Option<CloseInfo> {
    match status.wait_for(|s| matches!(s, Status::Closed(_))).await {
        Ok(s) => match &*s {
            Status::Closed(c) => c.clone(),
            _ => None,
        },
        // The driver is gone: closed as well.
        Err(_) => None,
    }
}

/// Decode `frame` as an `E` event: `None` when it is another event.
pub fn decode_event<E: Event + DeserializeOwned>(
    frame: &EventFrame,
) -> Option<Result<E, ClientError>> {
    if frame.event != E::NAME {
        return None;
    }
    let payload = frame.payload.clone().unwrap_or(Value::Null);
    Some(
        serde_path_to_error::deserialize(payload).map_err(|e| ClientError::EventDecode {
            event: E::NAME.to_owned(),
            field: e.path().to_string(),
            message: e.inner().to_string(),
        }),
    )
}

/// Decode a reply of `method` into its result type.
fn decode_result<T: DeserializeOwned>(method: &str, reply: Value) -> Result<T, ClientError> {
    serde_path_to_error::deserialize(reply).map_err(|e| ClientError::Decode {
        method: method.to_owned(),
        field: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

fn encode_params<P: Request>(params: &P) -> Result<Value, ClientError> {
    serde_json::to_value(params)
        .map_err(|e| ClientError::Protocol(format!("cannot encode {} params: {e}", P::METHOD)))
}

/// TCP + upgrade + challenge + connect + hello-ok.
async fn establish(opts: &ClientOptions) -> Result<(Ws, HelloOk), ClientError> {
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
        let req = Frame::Request(openclaw_rs_protocol::RequestFrame {
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
                        let hello: HelloOk =
                            decode_result("connect", res.payload.unwrap_or(Value::Null))?;
                        if let Some(signer) = &opts.signer {
                            signer.hello_ok(&hello);
                        }
                        return Ok((ws, hello));
                    }
                    let error = res.error.unwrap_or_else(|| {
                        ErrorShape::new(
                            openclaw_rs_protocol::ErrorCode::InvalidRequest,
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
                                    ErrorShape::new(openclaw_rs_protocol::ErrorCode::InvalidRequest, "request failed without an error")
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

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_rs_protocol::methods::gateway::HealthResult;
    use openclaw_rs_protocol::methods::sessions::{
        AgentWaitParams, ChatBody, ChatEvent, RunResult,
    };

    /// The `hello-ok` of the real Node gateway (openclaw@2026.9.6, `features.methods` cut
    /// short): many more fields than ours, and no `gateway` facts in its health.
    const NODE_HELLO_OK: &str = include_str!("../tests/fixtures/node-hello-ok.json");

    #[test]
    fn node_hello_ok_decodes() {
        let v: Value = serde_json::from_str(NODE_HELLO_OK).unwrap();
        let hello: HelloOk = decode_result("connect", v).unwrap();
        assert_eq!(hello.kind, "hello-ok");
        assert_eq!(hello.server.version, "2026.9.6");
        assert_eq!(hello.auth.role, "operator");
        assert!(hello.auth.device_token.is_none());
        assert!(hello.snapshot.health.ok);
        assert!(hello.snapshot.health.gateway.is_none());
        assert_eq!(hello.policy.tick_interval_ms, 30_000);
    }

    #[test]
    fn a_result_that_does_not_decode_names_the_method_and_the_field() {
        let e = decode_result::<RunResult>(
            AgentWaitParams::METHOD,
            serde_json::json!({"runId": "r", "sessionKey": 5}),
        )
        .unwrap_err();
        let ClientError::Decode {
            method,
            field,
            message,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(method, "agent.wait");
        assert_eq!(field, "sessionKey");
        assert!(message.contains("invalid type"), "{message}");
        assert!(e.to_string().contains("agent.wait"), "{e}");
        // Lenient types take what they lack from their defaults.
        let h: HealthResult = decode_result("health", serde_json::json!({"ok": true})).unwrap();
        assert!(h.ok);
    }

    #[test]
    fn decode_event_skips_other_events_and_names_the_bad_field() {
        let frame = |event: &str, payload: Value| EventFrame {
            event: event.into(),
            payload: Some(payload),
            seq: None,
            state_version: None,
        };
        assert!(decode_event::<ChatEvent>(&frame("tick", serde_json::json!({"ts": 1}))).is_none());
        let chat = serde_json::json!({
            "runId": "r", "sessionKey": "agent:main:main", "agentId": "main", "seq": 1,
            "state": "delta", "deltaText": "hi"
        });
        let ev = decode_event::<ChatEvent>(&frame("chat", chat))
            .unwrap()
            .unwrap();
        assert_eq!(
            ev.body,
            ChatBody::Delta {
                delta_text: "hi".into()
            }
        );
        let bad = serde_json::json!({
            "runId": "r", "sessionKey": "k", "agentId": "main", "seq": "one", "state": "delta",
            "deltaText": "hi"
        });
        let e = decode_event::<ChatEvent>(&frame("chat", bad))
            .unwrap()
            .unwrap_err();
        let ClientError::EventDecode { event, field, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((event.as_str(), field.as_str()), ("chat", "seq"));
    }
}
