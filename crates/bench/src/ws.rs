//! A minimal WebSocket load client for the gateway protocol: handshake (shared token, v3 device
//! signature, or device token), sequential requests, and windowed pipelining.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use openclaw_rs_auth::{DeviceIdentity, SignedFields};
use openclaw_rs_protocol::{
    decode_frame, ChallengePayload, ClientInfo, ConnectAuth, ConnectParams, Frame, RequestFrame,
};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Frames up to 64 MiB are accepted from the server (the Node hello-ok is ~16 KB).
const READ_LIMIT: usize = 64 << 20;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// How a connection proves itself.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `auth.token`, no device (what `openclaw gateway call` sends).
    Token,
    /// `auth.token` plus a v3 device signature over the challenge nonce.
    Device(Arc<DeviceIdentity>),
    /// `auth.deviceToken` (issued in an earlier hello-ok) plus the device signature.
    DeviceToken(Arc<DeviceIdentity>, String),
}

/// Opens a socket and completes the handshake with scope `operator.read`; returns the socket and
/// the hello-ok payload.
pub async fn connect(url: &str, token: &str, auth: &Auth) -> Result<(Ws, Value)> {
    connect_scoped(url, token, auth, &["operator.read"]).await
}

/// Like [`connect`], asking for `scopes`.
pub async fn connect_scoped(
    url: &str,
    token: &str,
    auth: &Auth,
    scopes: &[&str],
) -> Result<(Ws, Value)> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let challenge: ChallengePayload = loop {
        match next_frame(&mut ws).await? {
            Frame::Event(e) if e.event == "connect.challenge" => {
                let payload = e
                    .payload
                    .ok_or_else(|| anyhow!("challenge without payload"))?;
                break serde_json::from_value(payload)?;
            }
            _ => continue,
        }
    };
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let mut params = ConnectParams {
        min_protocol: 4,
        max_protocol: 4,
        client: ClientInfo {
            id: "cli".into(),
            version: "bench".into(),
            platform: "linux".into(),
            device_family: Some("Linux".into()),
            mode: "cli".into(),
            ..ClientInfo::default()
        },
        caps: Some(vec![]),
        role: Some("operator".into()),
        scopes: Some(scopes.clone()),
        device: None,
        auth: None,
        locale: None,
        user_agent: Some("openclaw-bench".into()),
    };
    let (signing_token, identity) = match auth {
        Auth::Token => {
            params.auth = Some(ConnectAuth {
                token: Some(token.into()),
                ..ConnectAuth::default()
            });
            (token.to_string(), None)
        }
        Auth::Device(id) => {
            params.auth = Some(ConnectAuth {
                token: Some(token.into()),
                ..ConnectAuth::default()
            });
            (token.to_string(), Some(id))
        }
        Auth::DeviceToken(id, device_token) => {
            params.auth = Some(ConnectAuth {
                device_token: Some(device_token.clone()),
                ..ConnectAuth::default()
            });
            (device_token.clone(), Some(id))
        }
    };
    if let Some(identity) = identity {
        let fields = SignedFields {
            client_id: &params.client.id,
            client_mode: &params.client.mode,
            role: "operator",
            scopes: &scopes,
            signed_at_ms: challenge.ts,
            token: &signing_token,
            nonce: &challenge.nonce,
            platform: &params.client.platform,
            device_family: params.client.device_family.as_deref().unwrap_or(""),
        };
        params.device = Some(identity.prove(&fields));
    }
    let req = Frame::Request(RequestFrame {
        id: "connect".into(),
        method: "connect".into(),
        params: Some(serde_json::to_value(&params)?),
        traceparent: None,
    });
    ws.send(Message::text(req.to_text())).await?;
    loop {
        match next_frame(&mut ws).await? {
            Frame::Response(r) if r.id == "connect" => {
                if r.ok {
                    return Ok((ws, r.payload.unwrap_or(Value::Null)));
                }
                bail!(
                    "connect refused: {}",
                    r.error.map(|e| e.to_string()).unwrap_or_default()
                );
            }
            _ => continue,
        }
    }
}

pub async fn next_frame(ws: &mut Ws) -> Result<Frame> {
    loop {
        let msg = tokio::time::timeout(IO_TIMEOUT, ws.next())
            .await
            .map_err(|_| anyhow!("no frame within {IO_TIMEOUT:?}"))?
            .ok_or_else(|| anyhow!("socket closed"))??;
        match msg {
            Message::Text(text) => return Ok(decode_frame(text.as_str(), READ_LIMIT)?),
            Message::Close(frame) => bail!("socket closed by the server: {frame:?}"),
            _ => continue,
        }
    }
}

fn request_text(id: u64, method: &str) -> String {
    Frame::Request(RequestFrame {
        id: id.to_string(),
        method: method.into(),
        params: Some(Value::Object(Default::default())),
        traceparent: None,
    })
    .to_text()
}

/// `n` fresh connections, one after another: time from TCP connect to hello-ok.
pub async fn handshakes(url: &str, token: &str, auth: &Auth, n: usize) -> Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (mut ws, _) = connect(url, token, auth).await?;
        out.push(t.elapsed());
        let _ = ws.close(None).await;
    }
    Ok(out)
}

/// `n` device-token handshakes; like a real client, each connect uses the token the previous
/// hello-ok handed out (a gateway may re-issue on every connect).
pub async fn device_token_handshakes(
    url: &str,
    identity: Arc<DeviceIdentity>,
    mut token: String,
    n: usize,
) -> Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let auth = Auth::DeviceToken(identity.clone(), token.clone());
        let t = Instant::now();
        let (mut ws, hello) = connect(url, "", &auth).await?;
        out.push(t.elapsed());
        if let Some(next) = hello.pointer("/auth/deviceToken").and_then(Value::as_str) {
            token = next.to_string();
        }
        let _ = ws.close(None).await;
    }
    Ok(out)
}

/// `n` requests on one connection, each sent after the previous reply.
pub async fn sequential(ws: &mut Ws, method: &str, n: usize) -> Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let t = Instant::now();
        ws.send(Message::text(request_text(i, method))).await?;
        loop {
            match next_frame(ws).await? {
                Frame::Response(r) if r.id == i.to_string() => {
                    if !r.ok {
                        bail!("{method} failed: {:?}", r.error);
                    }
                    break;
                }
                _ => continue,
            }
        }
        out.push(t.elapsed());
    }
    Ok(out)
}

/// What a pipelined run achieved.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// `ok:true` replies per second.
    pub ok_per_sec: f64,
    /// Replies refused by the server (e.g. `UNAVAILABLE` "server is busy").
    pub refused: u64,
}

/// Keeps up to `window` requests in flight on each of `conns` connections for `duration`;
/// returns ok replies per second and how many were refused.
pub async fn pipelined(
    url: &str,
    token: &str,
    method: &str,
    conns: usize,
    window: usize,
    duration: Duration,
) -> Result<Throughput> {
    let mut sockets = Vec::with_capacity(conns);
    for _ in 0..conns {
        sockets.push(connect(url, token, &Auth::Token).await?.0);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for ws in sockets {
        let stop = stop.clone();
        let counters = (done.clone(), refused.clone());
        let method = method.to_string();
        tasks.spawn(async move { drive(ws, &method, window, stop, counters).await });
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(res) = tasks.join_next().await {
        res??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Throughput {
        ok_per_sec: done.load(Ordering::Relaxed) as f64 / elapsed,
        refused: refused.load(Ordering::Relaxed),
    })
}

async fn drive(
    ws: Ws,
    method: &str,
    window: usize,
    stop: Arc<AtomicBool>,
    (done, refused): (Arc<AtomicU64>, Arc<AtomicU64>),
) -> Result<()> {
    let (mut tx, mut rx) = ws.split();
    let mut next_id: u64 = 0;
    let mut in_flight = 0usize;
    loop {
        if !stop.load(Ordering::Relaxed) && in_flight <= window / 2 {
            // Refill the window once half of it has drained, then flush once.
            while in_flight < window {
                tx.feed(Message::text(request_text(next_id, method)))
                    .await?;
                next_id += 1;
                in_flight += 1;
            }
            tx.flush().await?;
        }
        if in_flight == 0 {
            break;
        }
        let msg = tokio::time::timeout(IO_TIMEOUT, rx.next())
            .await
            .map_err(|_| anyhow!("no reply within {IO_TIMEOUT:?}"))?
            .ok_or_else(|| anyhow!("socket closed"))??;
        if let Message::Text(text) = msg {
            if let Frame::Response(r) = decode_frame(text.as_str(), READ_LIMIT)? {
                in_flight -= 1;
                if r.ok {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    let _ = tx.close().await;
    Ok(())
}
