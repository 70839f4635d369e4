//! One TCP connection: HTTP probe or WebSocket upgrade, handshake, then the request loop.
//!
//! Task layout per connection: this task reads frames and runs in-flight requests
//! concurrently (`FuturesUnordered`, replies go out in completion order); one writer task owns
//! the socket's write half and drains the bounded outbound queue. This task owns the writer.

use crate::base::now_ms;
use crate::budget::{Budget, BudgetStream, Stage, Ticket};
use crate::connect::{self, ConnectFacts, ConnectGrant, ConnectRejection};
use crate::http::{self, RequestFacts};
use crate::rpc::{CallCtx, Methods};
use crate::state::{CloseRequest, Connection, ConnectionInfo, GatewayState, Outbound};
use futures_util::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use openclaw_rs_protocol::limits::MAX_PREAUTH_PAYLOAD_BYTES;
use openclaw_rs_protocol::methods::events::EVENTS;
use openclaw_rs_protocol::methods::gateway::PresenceEntry;
use openclaw_rs_protocol::{
    close, decode_request, encode, AuthInfo, ChallengePayload, ConnectParams, DecodeError,
    ErrorCode, ErrorShape, Features, HelloOk, Payload, Policy, RequestFrame, ServerInfo, Snapshot,
};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<BudgetStream<TcpStream>>;
type Sink = SplitSink<Ws, Message>;
type Source = SplitStream<Ws>;

/// Bytes a peer may send before `connect` succeeds: one maximal pre-auth frame plus slack.
const PREAUTH_READ_BUDGET: usize = 2 * MAX_PREAUTH_PAYLOAD_BYTES;
/// Requests running at once on one connection; beyond it, reading pauses (backpressure).
const MAX_INFLIGHT: usize = 1024;
/// How long a closing socket waits for the peer's close reply.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// Socket read buffer and write batching threshold per connection.
const IO_BUFFER: usize = 16 * 1024;
/// Inbound frames handled per turn before the writer gets to run.
const READ_BATCH: usize = 64;
/// Frames written per flush when the queue is busy.
const WRITE_BATCH: usize = 128;

const FIRST_MUST_BE_CONNECT: &str = "invalid handshake: first request must be connect";
/// RFC 6455 §7.4.1 "Try Again Later": an upgraded socket evicted from the pre-auth pool.
const TRY_AGAIN_LATER: u16 = 1013;
const REASON_EVICTED: &str = "gateway busy: too many connections have not authenticated; retry";
/// How long an evicted socket may take to receive its answer (its slot is already reused).
const EVICT_LINGER: Duration = Duration::from_millis(250);

/// Serve one accepted socket to completion.
///
/// `ticket` is this socket's place in the pre-auth pool (taken by the accept loop); it says
/// where the handshake is (the eviction order) and is given up once `connect` succeeds.
pub(crate) async fn handle(
    state: Arc<GatewayState>,
    methods: Arc<Methods>,
    mut stream: TcpStream,
    peer: SocketAddr,
    ticket: Ticket,
) {
    // Admitted into a crowded pool, a socket gets less time to authenticate.
    let timeout = ticket
        .admission()
        .deadline(state.reload().handshake_timeout(), ticket.fill);
    let deadline = tokio::time::Instant::now() + timeout;
    // A socket that has not sent its request when the gateway starts draining is dropped: it
    // must not hold the shutdown (and a restart's re-exec) for the whole grace period.
    let mut drain = state.drain_watch();
    // Silent until its first byte: the first class to be evicted when the pool is full.
    let spoke = tokio::select! {
        r = tokio::time::timeout_at(deadline, stream.readable()) => Some(matches!(r, Ok(Ok(())))),
        _ = ticket.evicted() => None,
        _ = drain.wait_for(|d| *d) => Some(false),
    };
    match spoke {
        Some(true) => {}
        Some(false) => return state.metrics().connection("closed"),
        None => {
            state.metrics().connection("evicted");
            return http::refuse_busy(stream, EVICT_LINGER).await;
        }
    }
    ticket.set_stage(Stage::Head);
    let read = tokio::select! {
        r = tokio::time::timeout_at(deadline, http::read_head(&mut stream)) => Some(r),
        _ = ticket.evicted() => None,
        _ = drain.wait_for(|d| *d) => return,
    };
    let Some(read) = read else {
        state.metrics().connection("evicted");
        return http::refuse_busy(stream, EVICT_LINGER).await;
    };
    ticket.set_stage(Stage::Busy);
    let head = match read {
        Ok(Ok(head)) => head,
        Ok(Err(http::HeadError::Io)) | Err(_) => return state.metrics().connection("closed"),
        Ok(Err(e)) => {
            state.metrics().connection("bad_request");
            return http::respond_error(&mut stream, &e).await;
        }
    };
    let key = match http::upgrade_key(&head) {
        Ok(Some(key)) => key.to_owned(),
        Ok(None) => {
            state.metrics().connection("http");
            // Metrics, else the Control UI when it is enabled and the path is under its base
            // path, else a probe or the plain answers.
            let path = head.facts.path.split('?').next().unwrap_or("/");
            if crate::metrics::route::PATHS.contains(&path) {
                return crate::metrics::route::respond(&mut stream, &state, &head).await;
            }
            if crate::control_ui::serve::serves(&state, &head) {
                return crate::control_ui::serve::respond(&mut stream, &state, &head).await;
            }
            return http::respond(&mut stream, &state, &head).await;
        }
        Err(e) => {
            state.metrics().connection("bad_request");
            return http::refuse_upgrade(&mut stream, &e).await;
        }
    };
    if state.is_draining() {
        state.metrics().connection("draining");
        let body = r#"{"error":"gateway is shutting down"}"#;
        let out = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(out.as_bytes()).await;
        return;
    }
    // The 101 response and the `connect.challenge` frame leave in one write.
    let nonce = uuid::Uuid::new_v4().to_string();
    let challenge_ts = now_ms();
    let challenge = ChallengePayload {
        nonce: nonce.clone(),
        ts: challenge_ts,
        capabilities: Vec::new(),
    };
    let challenge = match Payload::encode(&challenge) {
        Ok(p) => encode::event("connect.challenge", p.as_str()),
        Err(_) => return,
    };
    let mut out = http::upgrade_response(&key).into_bytes();
    push_server_text_frame(&mut out, challenge.as_bytes());
    if stream.write_all(&out).await.is_err() {
        return;
    }
    let mut handshake = state.metrics().handshake();
    ticket.set_stage(Stage::Upgraded);
    let budget = Budget::new(PREAUTH_READ_BUDGET);
    let config = ws_config(state.options().max_payload);
    let ws = WebSocketStream::from_partially_read(
        BudgetStream::new(stream, budget.clone()),
        head.leftover,
        Role::Server,
        Some(config),
    )
    .await;
    let (sink, mut source) = ws.split();

    let mut drain = state.drain_watch();
    let first = tokio::select! {
        r = tokio::time::timeout_at(deadline, first_text(&mut source, &budget)) => r.unwrap_or(First::Timeout),
        _ = ticket.evicted() => First::Evicted,
        _ = drain.wait_for(|d| *d) => First::Draining,
    };
    ticket.set_stage(Stage::Busy);
    let text = match first {
        First::Text(t) => t,
        First::Gone => return,
        First::PeerClosed => return answer_peer_close(&mut source).await,
        First::Failed(req) => return fail_preauth(sink, source, req).await,
        First::Timeout => {
            handshake.set("timeout");
            tracing::debug!(%peer, "handshake timeout");
            return close_preauth(
                sink,
                source,
                close::POLICY_VIOLATION,
                close::REASON_CHALLENGE_TIMEOUT,
            )
            .await;
        }
        First::Evicted => {
            handshake.set("evicted");
            tracing::debug!(%peer, "evicted before connect to make room");
            let mut sink = sink;
            let _ = tokio::time::timeout(
                EVICT_LINGER,
                sink.send(close_frame(TRY_AGAIN_LATER, REASON_EVICTED)),
            )
            .await;
            return;
        }
        First::Draining => {
            let reason = shutdown_close_reason(&state);
            return close_preauth(sink, source, close::SERVICE_RESTART, reason).await;
        }
        First::TooLarge => {
            return close_preauth(
                sink,
                source,
                close::MESSAGE_TOO_BIG,
                close::REASON_PREAUTH_TOO_LARGE,
            )
            .await
        }
        First::Invalid => {
            return close_preauth(sink, source, close::POLICY_VIOLATION, FIRST_MUST_BE_CONNECT)
                .await
        }
    };
    let req = match decode_request(&text, MAX_PREAUTH_PAYLOAD_BYTES) {
        Ok(Some(req)) => req,
        Ok(None) | Err(DecodeError::Invalid(_) | DecodeError::Request { .. }) => {
            return close_preauth(sink, source, close::POLICY_VIOLATION, FIRST_MUST_BE_CONNECT)
                .await
        }
        Err(_) => {
            return close_preauth(
                sink,
                source,
                close::MESSAGE_TOO_BIG,
                close::REASON_PREAUTH_TOO_LARGE,
            )
            .await
        }
    };
    drop(text);
    if req.method != "connect" {
        let rej = ConnectRejection::policy(ErrorShape::new(
            ErrorCode::InvalidRequest,
            FIRST_MUST_BE_CONNECT,
        ));
        return reject(sink, source, &req.id, rej).await;
    }
    let params: ConnectParams = match connect::parse_connect_params(req.params.as_ref()) {
        Ok(p) => p,
        Err(rej) => return reject(sink, source, &req.id, rej).await,
    };
    let protocol = match connect::negotiate_protocol(&params) {
        Ok(p) => p,
        Err(rej) => return reject(sink, source, &req.id, rej).await,
    };
    let facts = ConnectFacts {
        peer,
        is_loopback: is_local(peer, &head.facts),
        request: &head.facts,
        params: &params,
        nonce: &nonce,
        challenge_ts,
        protocol,
    };
    let grant = match connect::decide(&state, &facts).await {
        Ok(g) => g,
        Err(rej) => {
            tracing::info!(%peer, code = ?rej.error.detail_code(), "connect refused");
            handshake.set("refused");
            return reject(sink, source, &req.id, rej).await;
        }
    };
    budget.lift();
    handshake.set("ok");
    drop(handshake);
    drop(ticket);
    serve_connection(
        state, methods, sink, source, peer, req, params, protocol, grant,
    )
    .await;
}

/// The socket's WebSocket settings. Small buffers: tungstenite's 128 KiB defaults would cost a
/// large allocation per connection (and page faults) for frames that are almost always a few
/// hundred bytes.
fn ws_config(max_payload: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(IO_BUFFER)
        .write_buffer_size(IO_BUFFER)
        .max_message_size(Some(max_payload))
        .max_frame_size(Some(max_payload))
}

/// Fuzzing entry point: `data` as the client's bytes after the upgrade, read as WebSocket frames
/// with the gateway's settings (server role: client frames must be masked), each text message
/// taken through the pre-auth path (size check, request decoding, `connect` params, protocol
/// negotiation), each read error through the close-code mapping.
#[doc(hidden)]
pub fn fuzz_preauth_frames(data: &[u8]) {
    use tokio_tungstenite::tungstenite::protocol::WebSocket;
    struct Input<'a>(&'a [u8]);
    impl std::io::Read for Input<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    impl std::io::Write for Input<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let config = ws_config(openclaw_rs_protocol::limits::DEFAULT_MAX_PAYLOAD_BYTES);
    let mut ws = WebSocket::from_raw_socket(Input(data), Role::Server, Some(config));
    for _ in 0..64 {
        match ws.read() {
            Ok(Message::Text(t)) if t.len() <= MAX_PREAUTH_PAYLOAD_BYTES => {
                if let Ok(Some(req)) = decode_request(t.as_str(), MAX_PREAUTH_PAYLOAD_BYTES) {
                    if let Ok(p) = connect::parse_connect_params(req.params.as_ref()) {
                        let _ = connect::negotiate_protocol(&p);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                let _ = read_failure(&e, close::REASON_PREAUTH_TOO_LARGE);
                return;
            }
        }
    }
}

/// Append one unmasked, unfragmented server text frame (RFC 6455 §5.2).
fn push_server_text_frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.push(0x81);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= u16::MAX as usize => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

fn is_local(peer: SocketAddr, facts: &RequestFacts) -> bool {
    peer.ip().is_loopback()
        && facts.forwarded_for.is_none()
        && facts.real_ip.is_none()
        && facts.forwarded.is_none()
        && !facts.other_forwarding
}

enum First {
    Text(String),
    /// The peer went away without a close frame: nothing to answer.
    Gone,
    /// The peer sent a close frame: answer it.
    PeerClosed,
    /// Reading failed on a protocol, UTF-8 or size error: close with this code.
    Failed(CloseRequest),
    Timeout,
    Draining,
    /// Evicted from the pre-auth pool to make room for a newer socket.
    Evicted,
    TooLarge,
    Invalid,
}

async fn first_text(source: &mut Source, budget: &Budget) -> First {
    loop {
        match source.next().await {
            Some(Ok(Message::Text(t))) => {
                if t.len() > MAX_PREAUTH_PAYLOAD_BYTES {
                    return First::TooLarge;
                }
                return First::Text(t.as_str().to_owned());
            }
            Some(Ok(Message::Binary(b))) => {
                if b.len() > MAX_PREAUTH_PAYLOAD_BYTES {
                    return First::TooLarge;
                }
                return First::Invalid;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_))) => return First::PeerClosed,
            None => return First::Gone,
            Some(Err(_)) if budget.exceeded() => {
                return First::Failed(CloseRequest {
                    code: close::MESSAGE_TOO_BIG,
                    reason: Cow::Borrowed(close::REASON_PREAUTH_TOO_LARGE),
                })
            }
            Some(Err(e)) => {
                return match read_failure(&e, close::REASON_PREAUTH_TOO_LARGE) {
                    End::Close { req, .. } => First::Failed(req),
                    _ => First::Gone,
                };
            }
        }
    }
}

fn close_frame(code: u16, reason: &str) -> Message {
    // Close reasons are limited to 123 bytes on the wire.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason[..end].to_owned().into(),
    }))
}

async fn close_preauth(mut sink: Sink, source: Source, code: u16, reason: &str) {
    let _ = sink.send(close_frame(code, reason)).await;
    linger(sink, source, false).await;
}

/// Close a socket whose read side failed before `connect` (its stream yields nothing more).
async fn fail_preauth(mut sink: Sink, source: Source, req: CloseRequest) {
    let _ = sink.send(close_frame(req.code, &req.reason)).await;
    linger(sink, source, true).await;
}

/// How a connection ends.
enum End {
    /// The peer is gone (end of stream, reset, I/O error): nothing to send.
    Gone,
    /// The peer sent a close frame: answer it with the same code.
    PeerClosed,
    /// We close with `req`; `failed` when the read side already failed (it yields no more
    /// frames, so the peer's answer is awaited on the raw socket).
    Close { req: CloseRequest, failed: bool },
}

/// The close answering a read error (RFC 6455 §7.4.1): 1007 for invalid UTF-8, 1002 for a
/// protocol violation (unmasked client frame, reserved opcode or RSV bit, orphan continuation,
/// oversized or fragmented control frame, bad close payload), 1009 with `too_big` over the size
/// limit. I/O errors and resets have no one left to answer.
fn read_failure(e: &WsError, too_big: &'static str) -> End {
    let (code, reason): (u16, Cow<'static, str>) = match e {
        WsError::Capacity(_) => (close::MESSAGE_TOO_BIG, Cow::Borrowed(too_big)),
        WsError::Utf8(_) => (
            close::INVALID_PAYLOAD,
            Cow::Borrowed("invalid UTF-8 in a text frame or close reason"),
        ),
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
            | ProtocolError::ReceivedAfterClosing
            | ProtocolError::SendAfterClosing,
        ) => return End::Gone,
        WsError::Protocol(p) => (
            close::PROTOCOL_ERROR,
            Cow::Owned(format!("protocol error: {p}")),
        ),
        _ => return End::Gone,
    };
    End::Close {
        req: CloseRequest { code, reason },
        failed: true,
    }
}

/// The peer sent a close frame. tungstenite has queued the answer (the same code and reason;
/// an empty close for a close without code, RFC 6455 §5.5.1); one more read writes it out and
/// ends the stream, after which dropping the socket closes TCP from our side.
async fn answer_peer_close(source: &mut Source) {
    let _ = tokio::time::timeout(CLOSE_LINGER, source.next()).await;
}

/// After our close frame went out, wait (at most [`CLOSE_LINGER`]) for the peer's answer so
/// the close is not lost to a reset. A healthy stream is read until the peer's close frame.
/// A `failed` one parses no more frames: the socket is half-closed and what arrives is
/// discarded (in a fixed buffer) until the peer closes its end.
async fn linger(sink: Sink, mut source: Source, failed: bool) {
    let _ = tokio::time::timeout(CLOSE_LINGER, async move {
        if !failed {
            while let Some(Ok(_)) = source.next().await {}
            return;
        }
        if let Ok(mut ws) = sink.reunite(source) {
            discard_until_eof(ws.get_mut()).await;
        }
    })
    .await;
}

/// Half-close `stream` and read it to its end, discarding the bytes.
async fn discard_until_eof(stream: &mut BudgetStream<TcpStream>) {
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

async fn reject(mut sink: Sink, source: Source, id: &str, rej: ConnectRejection) {
    let _ = sink
        .send(Message::text(encode::response_err(Some(id), &rej.error)))
        .await;
    close_preauth(sink, source, rej.close_code, &rej.close_reason).await;
}

fn shutdown_close_reason(state: &GatewayState) -> &'static str {
    if state.shutdown_plan().restart_expected_ms.is_some() {
        close::REASON_SERVICE_RESTART
    } else {
        close::REASON_SHUTTING_DOWN
    }
}

fn hello_ok(
    state: &GatewayState,
    methods: &Methods,
    conn: &Connection,
    protocol: u32,
    grant: &ConnectGrant,
) -> HelloOk {
    HelloOk {
        kind: "hello-ok".into(),
        protocol,
        server: ServerInfo {
            version: crate::base::VERSION.into(),
            conn_id: conn.id().to_owned(),
            boot_id: Some(state.boot_id().to_owned()),
            control_ui_build_source: state.control_ui().hello_build_source(),
        },
        features: Features {
            methods: methods.names().to_vec(),
            events: EVENTS.iter().map(|e| (*e).to_owned()).collect(),
            capabilities: openclaw_rs_protocol::handshake::CAPABILITIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
        },
        snapshot: Snapshot {
            presence: vec![presence_self(state)],
            health: snapshot_health(state),
            state_version: state.state_version(),
            uptime_ms: state.uptime_ms(),
            config_path: Some(state.options().config_path.display().to_string()),
            state_dir: Some(state.options().state_dir.root().display().to_string()),
            auth_mode: Some(state.shared_auth().mode.as_str().to_owned()),
        },
        auth: AuthInfo {
            method: Some(grant.method.clone()),
            role: grant.role.clone(),
            scopes: grant.scopes.clone(),
            device_token: grant.device_token.clone(),
            issued_at_ms: grant.issued_at_ms,
        },
        policy: Policy {
            max_payload: state.options().max_payload,
            max_buffered_bytes: state.options().max_buffered_bytes,
            tick_interval_ms: state.options().tick_interval.as_millis() as u64,
        },
    }
}

/// `hello-ok.snapshot.health`: the health payload within OpenClaw's closed snapshot schema
/// (without `modelRuntime` and this gateway's `gateway` figures, which the `health` method has).
fn snapshot_health(state: &GatewayState) -> openclaw_rs_protocol::methods::gateway::HealthResult {
    openclaw_rs_protocol::methods::gateway::HealthResult {
        model_runtime: None,
        gateway: None,
        ..crate::methods::core::health_payload(state)
    }
}

fn presence_self(state: &GatewayState) -> PresenceEntry {
    let host = crate::base::hostname();
    PresenceEntry {
        text: Some(format!(
            "Gateway: {host} · app {} · mode gateway · reason self",
            crate::base::VERSION
        )),
        host: Some(host),
        version: Some(crate::base::VERSION.into()),
        platform: Some(std::env::consts::OS.into()),
        mode: Some("gateway".into()),
        reason: Some("self".into()),
        instance_id: Some(state.boot_id().to_owned()),
        ts: state.started_at_ms(),
        ..PresenceEntry::default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    state: Arc<GatewayState>,
    methods: Arc<Methods>,
    sink: Sink,
    mut source: Source,
    peer: SocketAddr,
    connect_req: RequestFrame,
    params: ConnectParams,
    protocol: u32,
    grant: ConnectGrant,
) {
    let conn_id: Arc<str> = uuid::Uuid::new_v4().to_string().into();
    let info = ConnectionInfo {
        role: grant.role.clone(),
        scopes: grant.scopes.clone(),
        auth_method: grant.method.clone(),
        device_id: grant.device_id.clone(),
        client: params.client,
        peer,
        protocol,
        connected_at_ms: now_ms(),
    };
    let (tx, out_rx) = mpsc::unbounded_channel();
    let (conn, mut close_rx) = Connection::new(
        conn_id.clone(),
        info,
        tx,
        state.options().max_buffered_bytes,
    );
    // hello-ok goes first in the queue, before any broadcast can reach this connection.
    let hello = hello_ok(&state, &methods, &conn, protocol, &grant);
    conn.send_text(match Payload::encode(&hello) {
        Ok(p) => encode::response_ok(&connect_req.id, p.as_str()),
        Err(e) => encode::response_err(Some(&connect_req.id), &e.into()),
    });
    state.register(conn.clone());
    tracing::debug!(conn = %conn_id, %peer, role = %grant.role, "connected");
    // The writer is a future polled by this task (not a task of its own): it stays the only
    // owner of the write half, and handing it a reply costs no cross-thread wake-up.
    let writer = writer_task(sink, out_rx, conn.clone());
    tokio::pin!(writer);
    let mut writer_done = false;

    let mut inflight = FuturesUnordered::new();
    let ping_every = state.options().ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Ping ticks without any frame from the peer in between.
    let mut silent_ticks = 0u32;
    let max_payload = state.options().max_payload;
    // One long-lived future for close requests (not a fresh registration per loop turn).
    let close_requested = async {
        loop {
            if close_rx.changed().await.is_err() {
                return None;
            }
            if let Some(req) = close_rx.borrow().clone() {
                return Some(req);
            }
        }
    };
    tokio::pin!(close_requested);

    let outcome: End = 'conn: loop {
        tokio::select! {
            biased;
            req = &mut close_requested => {
                break req.map_or(End::Gone, |req| End::Close { req, failed: false });
            }
            _ = &mut writer, if !writer_done => {
                // The socket no longer takes writes: the peer is gone.
                writer_done = true;
                break End::Gone;
            }
            Some(reply) = inflight.next() => {
                let reply: Reply = reply;
                conn.send_text(encode::response(&reply.0, reply.1.as_ref()));
                conn.answered(&reply.0);
            }
            msg = source.next(), if inflight.len() < MAX_INFLIGHT => {
                silent_ticks = 0;
                // Handle every frame already buffered before the writer runs, so pipelined
                // requests share one write.
                let mut next = Some(msg);
                let mut handled = 0;
                while let Some(msg) = next.take() {
                    match on_message(&state, &methods, &conn, msg, max_payload) {
                        Ok(Some(fut)) => inflight.push(fut),
                        Ok(None) => {}
                        Err(end) => break 'conn end,
                    }
                    handled += 1;
                    if handled < READ_BATCH && inflight.len() < MAX_INFLIGHT {
                        next = source.next().now_or_never();
                    }
                }
            }
            _ = ping.tick() => {
                silent_ticks += 1;
                if silent_ticks > 2 {
                    tracing::debug!(conn = %conn_id, "peer silent for two ping intervals; dropping");
                    break End::Gone;
                }
                conn.send_ping();
                conn.release_stale_hold(ping_every);
            }
        }
    };
    state.unregister(&conn_id);
    drop(inflight);
    match outcome {
        // A slow consumer is dropped without a graceful close (its socket does not drain).
        End::Close { .. } if conn.overflowed() => {}
        End::Close { req, failed } if !writer_done => {
            conn.send_close(req);
            // Let the writer flush the close, then wait for the peer's answer.
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                let sink = (&mut writer).await;
                linger(sink, source, failed).await;
            })
            .await;
        }
        End::PeerClosed => answer_peer_close(&mut source).await,
        _ => {}
    }
    tracing::debug!(conn = %conn_id, "disconnected");
}

/// What one inbound frame asks for: a request to run, nothing, or the end of the connection.
/// A frame that is not a valid request is answered `INVALID_REQUEST` and the connection stays
/// open (as OpenClaw does).
fn on_message(
    state: &Arc<GatewayState>,
    methods: &Methods,
    conn: &Arc<Connection>,
    msg: Option<Result<Message, WsError>>,
    max_payload: usize,
) -> Result<Option<impl std::future::Future<Output = Reply> + Send + 'static>, End> {
    let text = match &msg {
        Some(Ok(Message::Text(text))) => text.as_str(),
        // OpenClaw decodes binary frames like text ones.
        Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                conn.send_text(invalid_request_text(
                    None,
                    "invalid frame: binary frame is not UTF-8 JSON (send requests as text frames)",
                ));
                return Ok(None);
            }
        },
        Some(Ok(Message::Pong(payload))) => {
            conn.ponged(payload);
            return Ok(None);
        }
        Some(Ok(Message::Ping(_) | Message::Frame(_))) => return Ok(None),
        Some(Ok(Message::Close(_))) => return Err(End::PeerClosed),
        None => return Err(End::Gone),
        Some(Err(e)) => return Err(read_failure(e, close::REASON_PAYLOAD_TOO_LARGE)),
    };
    match decode_request(text, max_payload) {
        Ok(Some(req)) => Ok(dispatch(state, methods, conn, req)),
        // Clients have no business sending res/event frames; ignore them.
        Ok(None) => Ok(None),
        Err(DecodeError::TooLarge { .. }) => Err(End::Close {
            req: CloseRequest {
                code: close::MESSAGE_TOO_BIG,
                reason: Cow::Borrowed(close::REASON_PAYLOAD_TOO_LARGE),
            },
            failed: false,
        }),
        Err(e) => {
            let id = match &e {
                DecodeError::Request { id, .. } => id.as_deref(),
                _ => None,
            };
            conn.send_text(invalid_request_text(id, &e.to_string()));
            Ok(None)
        }
    }
}

/// An `INVALID_REQUEST` response, with `"id":null` when the frame had no usable id.
fn invalid_request_text(id: Option<&str>, message: &str) -> String {
    encode::response_err(id, &ErrorShape::new(ErrorCode::InvalidRequest, message))
}

type Reply = (String, Result<Payload, ErrorShape>);

fn dispatch(
    state: &Arc<GatewayState>,
    methods: &Methods,
    conn: &Arc<Connection>,
    req: RequestFrame,
) -> Option<impl std::future::Future<Output = Reply> + Send + 'static> {
    let RequestFrame {
        id, method, params, ..
    } = req;
    let began = std::time::Instant::now();
    let Some(spec) = methods.get(&method) else {
        state.metrics().rpc("unknown", "INVALID_REQUEST", began);
        let error = if method == "connect" {
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "connect already completed on this connection",
            )
        } else {
            ErrorShape::unknown_method(&method)
        };
        conn.send_text(encode::response_err(Some(&id), &error));
        return None;
    };
    if let Err(error) = spec.check_access(conn.info()) {
        state.metrics().rpc(spec.name, error.code.as_str(), began);
        conn.send_text(encode::response_err(Some(&id), &error));
        return None;
    }
    if let Some(fast) = spec.fast {
        conn.send_text(encode::response_ok(&id, &fast(state)));
        state.metrics().rpc(spec.name, "ok", began);
        return None;
    }
    let ctx = CallCtx::new(conn.clone(), Arc::from(id.as_str()));
    let mut fut = (spec.handler)(state.clone(), ctx, params);
    // Most handlers finish without waiting: answer those now instead of a trip through the
    // in-flight set. (Polling again later with the real waker is fine for any future.)
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if let std::task::Poll::Ready(result) = fut.as_mut().poll(&mut cx) {
        conn.send_text(encode::response(&id, result.as_ref()));
        conn.answered(&id);
        state
            .metrics()
            .rpc(spec.name, crate::metrics::outcome_of(&result), began);
        return None;
    }
    let name = spec.name;
    let state = state.clone();
    Some(fut.map(move |r| {
        state
            .metrics()
            .rpc(name, crate::metrics::outcome_of(&r), began);
        (id, r)
    }))
}

/// Drains the outbound queue into the socket; returns the sink when the queue closes, a write
/// fails or a close frame went out (the closing handshake may still need the socket).
async fn writer_task(
    mut sink: Sink,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    conn: Arc<Connection>,
) -> Sink {
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(out) = next.take() {
            match out {
                Outbound::Text(text) => {
                    let len = text.len();
                    if sink.feed(Message::text(text)).await.is_err() {
                        return sink;
                    }
                    conn.written(len);
                }
                Outbound::Ping(payload) => {
                    if sink
                        .feed(Message::Ping(Bytes::from(payload)))
                        .await
                        .is_err()
                    {
                        return sink;
                    }
                }
                Outbound::Close(req) => {
                    let _ = sink.send(close_frame(req.code, &req.reason)).await;
                    return sink;
                }
            }
            n += 1;
            if n < WRITE_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if sink.flush().await.is_err() {
            return sink;
        }
    }
    sink
}

#[cfg(test)]
mod tests {
    use super::push_server_text_frame;

    #[test]
    fn server_text_frame_headers() {
        for (len, header) in [
            (5usize, vec![0x81u8, 5]),
            (125, vec![0x81, 125]),
            (126, vec![0x81, 126, 0, 126]),
            (70_000, vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
        ] {
            let payload = vec![b'a'; len];
            let mut out = Vec::new();
            push_server_text_frame(&mut out, &payload);
            assert_eq!(&out[..header.len()], &header[..], "len {len}");
            assert_eq!(out.len(), header.len() + len);
        }
    }
}
