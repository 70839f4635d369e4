//! `GET /metrics` (and OpenClaw's `/api/diagnostics/prometheus`): the gateway's credential,
//! then [`super::Metrics::render`] of the connection's gateway.
//!
//! Layer 4 (a service on the state): uses `state`, `connect` and `http`.

use crate::state::GatewayState;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The paths served: ours and OpenClaw's plugin route.
pub(crate) const PATHS: &[&str] = &["/metrics", "/api/diagnostics/prometheus"];

/// Whether `authorization` (the request's header) carries the gateway's credential.
fn authorized(state: &GatewayState, authorization: Option<&str>) -> bool {
    let auth = state.shared_auth();
    let secret = match auth.mode {
        openclaw_rs_config::AuthMode::None => return true,
        openclaw_rs_config::AuthMode::Token => auth.token.as_deref(),
        openclaw_rs_config::AuthMode::Password => auth.password.as_deref(),
    };
    let given = authorization.and_then(|h| {
        let (scheme, value) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
    });
    match (secret.filter(|s| !s.is_empty()), given) {
        (Some(secret), Some(given)) => crate::connect::secret_eq(secret, given),
        _ => false,
    }
}

/// Answer `GET /metrics` and close.
pub(crate) async fn respond(
    stream: &mut TcpStream,
    state: &GatewayState,
    head: &crate::http::Head,
) {
    let (status, extra, content_type, body) = if head.method != "GET" && head.method != "HEAD" {
        (
            "405 Method Not Allowed",
            "Allow: GET, HEAD\r\n",
            "text/plain; charset=utf-8",
            "use GET\n".to_owned(),
        )
    } else if !authorized(state, head.authorization.as_deref()) {
        (
            "401 Unauthorized",
            "WWW-Authenticate: Bearer realm=\"openclaw-gateway\"\r\n",
            "text/plain; charset=utf-8",
            "metrics need the gateway credential: send `Authorization: Bearer <token>` (the gateway token, or the password in password mode; the token is in $OPENCLAW_STATE_DIR/gateway.token)\n".to_owned(),
        )
    } else {
        (
            "200 OK",
            "",
            "text/plain; version=0.0.4; charset=utf-8",
            state.metrics().render(),
        )
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if head.method != "HEAD" {
        out.push_str(&body);
    }
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}
