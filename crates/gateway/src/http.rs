//! HTTP on the gateway port: request-head parsing, the probe endpoints, and the WebSocket upgrade.
//!
//! `/health`, `/healthz` → 200 `{"ok":true,"status":"live"}` (always, while the process serves).
//! `/ready`, `/readyz` → 200 when started and not draining, else 503.
//! `/startupz` → 200 `started`, 503 `starting` or `draining`.
//! (`/metrics` and OpenClaw's `/api/diagnostics/prometheus` are answered by the metrics module;
//! the connection routes them there before this module.)
//! Every other path goes to the Control UI (`control_ui`) when it is enabled and the path is
//! under its base path; `/` otherwise answers a line saying this is a gateway.
//! An upgrade request with a bad `Sec-WebSocket-Key` → 400, with a `Sec-WebSocket-Version` other
//! than 13 → 426 (RFC 6455 §4.2.2, §4.4). Every error answer has a short body naming the problem.

use crate::state::GatewayState;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request head accepted (request line + headers).
const MAX_HEAD: usize = 16 * 1024;

/// Headers of the upgrade request that the connect decision may use.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub path: String,
    pub host: Option<String>,
    pub origin: Option<String>,
    pub user_agent: Option<String>,
    pub forwarded_for: Option<String>,
    pub real_ip: Option<String>,
    /// `Forwarded` (RFC 7239).
    pub forwarded: Option<String>,
    /// Any other `X-Forwarded-*` header was present (host, proto, …): the peer is a proxy.
    pub other_forwarding: bool,
}

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct Head {
    pub method: String,
    pub facts: RequestFacts,
    /// The request asks for a WebSocket upgrade (`Upgrade: websocket`, `Connection: upgrade`).
    pub upgrade: bool,
    /// `Sec-WebSocket-Key`, as sent.
    pub ws_key: Option<String>,
    /// `Sec-WebSocket-Version`, as sent.
    pub ws_version: Option<String>,
    /// Bytes read past the end of the head (a client that pipelines its first WS frame).
    pub leftover: Vec<u8>,
    /// `Accept` (the Control UI's app-shell fallback follows it).
    pub accept: Option<String>,
    /// `Accept-Encoding` (picks a precompressed Control UI asset).
    pub accept_encoding: Option<String>,
    /// `If-None-Match` (304 for an unchanged Control UI file).
    pub if_none_match: Option<String>,
    /// `Authorization` (`/metrics` takes the gateway credential as a bearer token).
    pub authorization: Option<String>,
}

/// Why a head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    Io,
    TooLarge,
    Malformed,
}

/// Read and parse one request head.
pub(crate) async fn read_head(stream: &mut TcpStream) -> Result<Head, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let end = loop {
        let n = stream.read(&mut chunk).await.map_err(|_| HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Io);
        }
        if let Some(end) = push_chunk(&mut buf, &chunk[..n])? {
            break end;
        }
    };
    parse_head(&buf, end)
}

/// Append a chunk read from the socket; the end of the head once it is complete.
fn push_chunk(buf: &mut Vec<u8>, chunk: &[u8]) -> Result<Option<usize>, HeadError> {
    let scan_from = buf.len().saturating_sub(3);
    buf.extend_from_slice(chunk);
    if let Some(pos) = find_end(&buf[scan_from..]) {
        return Ok(Some(scan_from + pos));
    }
    if buf.len() > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    Ok(None)
}

/// Fuzzing entry point: `data` as it would arrive on a socket (in 2 KiB reads), through the
/// head scan, the parser and the upgrade checks, exactly as [`read_head`] and the connection
/// task use them.
#[doc(hidden)]
pub fn fuzz_request_head(data: &[u8]) {
    let mut buf = Vec::new();
    for chunk in data.chunks(2048) {
        match push_chunk(&mut buf, chunk) {
            Ok(Some(end)) => {
                if let Ok(head) = parse_head(&buf, end) {
                    let _ = upgrade_key(&head);
                    assert!(head.leftover.len() <= buf.len());
                }
                return;
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

/// Parse the complete head `buf[..end]`; bytes after it are kept as `leftover`.
fn parse_head(buf: &[u8], end: usize) -> Result<Head, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; 48];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&buf[..end]) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(HeadError::Malformed),
    }
    let mut head = Head {
        method: req.method.unwrap_or("GET").to_owned(),
        facts: RequestFacts {
            path: req.path.unwrap_or("/").to_owned(),
            ..RequestFacts::default()
        },
        upgrade: false,
        ws_key: None,
        ws_version: None,
        leftover: buf[end..].to_vec(),
        accept: None,
        accept_encoding: None,
        if_none_match: None,
        authorization: None,
    };
    let mut upgrade = false;
    let mut connection_upgrade = false;
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value).trim().to_owned();
        let name = h.name;
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade = value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection_upgrade = value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            head.ws_key = Some(value);
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            head.ws_version = Some(value);
        } else if name.eq_ignore_ascii_case("host") {
            head.facts.host = Some(value);
        } else if name.eq_ignore_ascii_case("origin") {
            head.facts.origin = Some(value);
        } else if name.eq_ignore_ascii_case("user-agent") {
            head.facts.user_agent = Some(value);
        } else if name.eq_ignore_ascii_case("x-forwarded-for") {
            head.facts.forwarded_for = Some(value);
        } else if name.eq_ignore_ascii_case("x-real-ip") {
            head.facts.real_ip = Some(value);
        } else if name.eq_ignore_ascii_case("accept") {
            head.accept = Some(value);
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            head.accept_encoding = Some(value);
        } else if name.eq_ignore_ascii_case("if-none-match") {
            head.if_none_match = Some(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            head.authorization = Some(value);
        } else if name.eq_ignore_ascii_case("forwarded") {
            head.facts.forwarded = Some(value);
        } else if name.len() > 12 && name[..12].eq_ignore_ascii_case("x-forwarded-") {
            head.facts.other_forwarding = true;
        }
    }
    head.upgrade = upgrade && connection_upgrade;
    Ok(head)
}

/// Why a WebSocket upgrade request is refused.
#[derive(Debug, PartialEq)]
pub(crate) enum UpgradeError {
    /// `Sec-WebSocket-Key` missing or not the base64 encoding of 16 bytes → 400.
    BadKey,
    /// `Sec-WebSocket-Version` missing or not 13 → 426.
    BadVersion(Option<String>),
}

/// The `Sec-WebSocket-Key` of a valid upgrade request, `None` for a plain HTTP request.
pub(crate) fn upgrade_key(head: &Head) -> Result<Option<&str>, UpgradeError> {
    if !head.upgrade {
        return Ok(None);
    }
    if head.ws_version.as_deref() != Some("13") {
        return Err(UpgradeError::BadVersion(head.ws_version.clone()));
    }
    match head.ws_key.as_deref() {
        Some(key) if is_ws_key(key) => Ok(Some(key)),
        _ => Err(UpgradeError::BadKey),
    }
}

/// The base64 encoding of 16 bytes: 22 base64 characters and `==` (RFC 6455 §4.1).
fn is_ws_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b[22..] == *b"=="
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// Refuse an upgrade request, then close.
pub(crate) async fn refuse_upgrade(stream: &mut TcpStream, err: &UpgradeError) {
    let out = match err {
        UpgradeError::BadKey => error_answer(
            400,
            "Bad Request",
            "",
            "missing or invalid Sec-WebSocket-Key header (must be the base64 encoding of 16 random bytes)\n",
        ),
        UpgradeError::BadVersion(v) => error_answer(
            426,
            "Upgrade Required",
            "Sec-WebSocket-Version: 13\r\n",
            &format!(
                "unsupported Sec-WebSocket-Version {} (this gateway speaks WebSocket version 13)\n",
                v.as_deref().map_or("(missing)".into(), |v| format!("`{v}`"))
            ),
        ),
    };
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A complete `Connection: close` error answer with a plain-text `body`; `extra` is zero or
/// more header lines, each ending in CRLF.
fn error_answer(status: u16, reason: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} {reason}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Seconds a refused client is told to wait (`Retry-After`).
pub(crate) const BUSY_RETRY_AFTER_SECS: u32 = 1;

/// The answer to a socket the gateway cannot take now (the pre-auth pool is full of sockets it
/// is working on, or the socket was evicted to make room).
pub(crate) fn busy_answer() -> String {
    error_answer(
        503,
        "Service Unavailable",
        &format!("Retry-After: {BUSY_RETRY_AFTER_SECS}\r\n"),
        &format!(
            "gateway busy: too many connections have not authenticated yet; retry in {BUSY_RETRY_AFTER_SECS} s\n"
        ),
    )
}

/// Answer `503` + `Retry-After` and close: half-close after the answer, then discard what the
/// peer sends for at most `linger` so that the close is a FIN after the answer rather than a
/// reset that could destroy it.
pub(crate) async fn refuse_busy(mut stream: TcpStream, linger: std::time::Duration) {
    let _ = tokio::time::timeout(linger, async {
        if stream.write_all(busy_answer().as_bytes()).await.is_err() {
            return;
        }
        let _ = stream.shutdown().await;
        let mut buf = [0u8; 2048];
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// [`refuse_busy`] without waiting: one non-blocking write (a fresh socket's send buffer has
/// room for it), then close. Used when even the refusal tasks are at their limit.
pub(crate) fn refuse_busy_now(stream: TcpStream) {
    let _ = stream.try_write(busy_answer().as_bytes());
    if let Ok(std) = stream.into_std() {
        let _ = std.shutdown(std::net::Shutdown::Write);
    }
}

fn find_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// The `101 Switching Protocols` response for `key`.
pub(crate) fn upgrade_response(key: &str) -> String {
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// The probe endpoints; they take precedence over the Control UI.
const PROBE_PATHS: &[&str] = &["/health", "/healthz", "/ready", "/readyz", "/startupz"];

/// Whether `path` (without its query) is a probe endpoint.
pub(crate) fn is_probe(path: &str) -> bool {
    PROBE_PATHS.contains(&path)
}

/// Answer a plain HTTP request and close: a probe, else the plain answers below. (The
/// connection sends Control UI requests to `control_ui::serve` first.)
pub(crate) async fn respond(stream: &mut TcpStream, state: &GatewayState, head: &Head) {
    let (status, body, content_type) = route(state, head);
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if head.method != "HEAD" {
        out.push_str(&body);
    }
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Answer a request that could not be parsed, then close.
pub(crate) async fn respond_error(stream: &mut TcpStream, err: &HeadError) {
    let out = match err {
        HeadError::TooLarge => error_answer(
            431,
            "Request Header Fields Too Large",
            "",
            &format!("request head larger than {MAX_HEAD} bytes\n"),
        ),
        _ => error_answer(400, "Bad Request", "", "malformed HTTP request head\n"),
    };
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn route(state: &GatewayState, head: &Head) -> (u16, String, &'static str) {
    const JSON: &str = "application/json";
    if head.method != "GET" && head.method != "HEAD" {
        return (
            405,
            json!({"error": "method not allowed"}).to_string(),
            JSON,
        );
    }
    let path = head.facts.path.split('?').next().unwrap_or("/");
    let uptime = state.uptime_ms();
    let draining = state.is_draining();
    let started = state.is_started();
    match path {
        "/health" | "/healthz" => (200, json!({"ok": true, "status": "live"}).to_string(), JSON),
        "/ready" | "/readyz" => {
            let mut failing = Vec::new();
            if !started {
                failing.push("startup");
            }
            if draining {
                failing.push("draining");
            }
            let ready = failing.is_empty();
            let body = json!({"ready": ready, "failing": failing, "uptimeMs": uptime});
            (if ready { 200 } else { 503 }, body.to_string(), JSON)
        }
        "/startupz" => {
            let (code, status) = if draining {
                (503, "draining")
            } else if !started {
                (503, "starting")
            } else {
                (200, "started")
            };
            let body = json!({"ok": code == 200, "status": status, "version": crate::base::VERSION, "uptimeMs": uptime});
            (code, body.to_string(), JSON)
        }
        "/" => (
            200,
            "openclaw-rs gateway: connect a WebSocket client to this address (protocol 4).\n"
                .into(),
            "text/plain; charset=utf-8",
        ),
        _ => (
            404,
            json!({"error": "not found", "path": path}).to_string(),
            JSON,
        ),
    }
}
