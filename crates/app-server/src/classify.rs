//! Maps app-server failure shapes (`TurnError.codexErrorInfo`, JSON-RPC errors) to [`FailureClass`].
//!
//! The table follows the observed Codex 0.169.0 behaviour: a bad key ends a turn with
//! `{"httpConnectionFailed":{"httpStatusCode":401}}`, a rate limit with
//! `{"responseTooManyFailedAttempts":{"httpStatusCode":429}}`, quota with `"usageLimitExceeded"`,
//! upstream 5xx with `"internalServerError"`, a stalled stream with `"other"` and an idle-timeout message.

use serde_json::Value;

use crate::error::{ClientError, FailureClass, RunError, CODE_OVERLOADED};

/// Classifies a `TurnError` object (`{message, codexErrorInfo, additionalDetails}`) from a failed turn.
pub fn classify_turn_error(error: Option<&Value>) -> RunError {
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("turn failed without an error message")
        .to_string();
    let info = error.and_then(|e| e.get("codexErrorInfo"));
    let (class, retryable, status) = classify_info(info, &message);
    RunError {
        class,
        message,
        retryable,
        http_status: status,
    }
}

/// Classifies a failed JSON-RPC request made on behalf of a run (e.g. `thread/start`).
pub fn classify_client_error(err: &ClientError) -> RunError {
    match err {
        ClientError::Transport(t) => RunError::new(FailureClass::Transport, t.to_string(), true),
        ClientError::Timeout { .. } => RunError::new(FailureClass::Timeout, err.to_string(), true),
        ClientError::QueueFull { .. } => {
            RunError::new(FailureClass::Transport, err.to_string(), true)
        }
        ClientError::Rpc {
            code,
            message,
            data,
            ..
        } => {
            if *code == CODE_OVERLOADED {
                return RunError::new(FailureClass::Overload, err.to_string(), true);
            }
            let info = data.as_ref().and_then(|d| d.get("codexErrorInfo"));
            let (mut class, retryable, status) = classify_info(info, message);
            // An app-level rejection with no upstream signal is a protocol problem, not upstream.
            if info.is_none() && class == FailureClass::Upstream {
                class = FailureClass::Protocol;
            }
            RunError {
                class,
                message: err.to_string(),
                retryable: retryable && class != FailureClass::Protocol,
                http_status: status,
            }
        }
    }
}

/// Extracts `httpStatusCode` from an object-shaped `codexErrorInfo` variant.
fn status_of(inner: &Value) -> Option<u16> {
    inner
        .get("httpStatusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
}

fn classify_status(status: Option<u16>, message: &str) -> (FailureClass, bool) {
    match status {
        Some(401) | Some(403) => (FailureClass::Auth, false),
        Some(429) => {
            if mentions_quota(message) {
                (FailureClass::Quota, false)
            } else {
                (FailureClass::RateLimit, true)
            }
        }
        Some(s) if s >= 500 => (FailureClass::Upstream, true),
        Some(_) => (FailureClass::Upstream, false),
        None => classify_message(message),
    }
}

fn mentions_quota(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("quota") || m.contains("insufficient_quota") || m.contains("billing")
}

/// Heuristics on the message when no structured info exists.
fn classify_message(message: &str) -> (FailureClass, bool) {
    let m = message.to_ascii_lowercase();
    if m.starts_with("command exited with") || m.starts_with("command timed out") {
        // The embedded `exec` model: the task's own command failed; retrying repeats it.
        (FailureClass::Upstream, false)
    } else if m.contains("idle timeout") {
        (FailureClass::StreamIdle, true)
    } else if m.contains("401")
        || m.contains("unauthorized")
        || m.contains("invalid api key")
        || m.contains("incorrect api key")
        || m.contains("invalid bearer")
    {
        (FailureClass::Auth, false)
    } else if mentions_quota(&m) {
        (FailureClass::Quota, false)
    } else if m.contains("429") || m.contains("too many requests") || m.contains("rate limit") {
        (FailureClass::RateLimit, true)
    } else if m.contains("missing environment variable")
        || m.contains("is not a directory")
        || m.contains("unknown model")
        || m.contains("model not found")
        || m.contains("not found")
    {
        (FailureClass::Config, false)
    } else {
        (FailureClass::Upstream, true)
    }
}

fn classify_info(info: Option<&Value>, message: &str) -> (FailureClass, bool, Option<u16>) {
    match info {
        Some(Value::String(s)) => {
            let (c, r) = match s.as_str() {
                "unauthorized" => (FailureClass::Auth, false),
                "rateLimitExceeded" => (FailureClass::RateLimit, true),
                "usageLimitExceeded" | "sessionBudgetExceeded" => (FailureClass::Quota, false),
                "internalServerError" | "serverOverloaded" => (FailureClass::Upstream, true),
                "modelNotFound" | "badRequest" | "sandboxError" => (FailureClass::Config, false),
                "contextWindowExceeded" => (FailureClass::Upstream, false),
                _ => classify_message(message),
            };
            (c, r, None)
        }
        Some(Value::Object(map)) => {
            // Every object-shaped variant wraps `{httpStatusCode}`.
            let status = map.values().find_map(status_of);
            let (c, r) = classify_status(status, message);
            (c, r, status)
        }
        _ => {
            let (c, r) = classify_message(message);
            (c, r, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_observed_codex_shapes() {
        let cases = [
            (
                json!({"message":"unexpected status 401 Unauthorized","codexErrorInfo":{"httpConnectionFailed":{"httpStatusCode":401}}}),
                FailureClass::Auth,
                Some(401),
                false,
            ),
            (
                json!({"message":"exceeded retry limit, last status: 429 Too Many Requests","codexErrorInfo":{"responseTooManyFailedAttempts":{"httpStatusCode":429}}}),
                FailureClass::RateLimit,
                Some(429),
                true,
            ),
            (
                json!({"message":"Quota exceeded. Check your plan and billing details.","codexErrorInfo":"usageLimitExceeded"}),
                FailureClass::Quota,
                None,
                false,
            ),
            (
                json!({"message":"high demand","codexErrorInfo":"internalServerError"}),
                FailureClass::Upstream,
                None,
                true,
            ),
            (
                json!({"message":"stream disconnected before completion: idle timeout waiting for SSE","codexErrorInfo":"other"}),
                FailureClass::StreamIdle,
                None,
                true,
            ),
            (
                json!({"message":"Missing environment variable: `MOCK_KEY`.","codexErrorInfo":"other"}),
                FailureClass::Config,
                None,
                false,
            ),
            (
                json!({"message":"boom","codexErrorInfo":{"responseStreamDisconnected":{"httpStatusCode":502}}}),
                FailureClass::Upstream,
                Some(502),
                true,
            ),
        ];
        for (err, class, status, retryable) in cases {
            let e = classify_turn_error(Some(&err));
            assert_eq!(e.class, class, "{err}");
            assert_eq!(e.http_status, status, "{err}");
            assert_eq!(e.retryable, retryable, "{err}");
        }
    }

    #[test]
    fn rpc_errors() {
        let rpc = |code, message: &str, data| ClientError::Rpc {
            method: "thread/start".into(),
            code,
            message: message.into(),
            data,
        };
        assert_eq!(
            classify_client_error(&rpc(-32600, "thread not found: x", None)).class,
            FailureClass::Config
        );
        assert_eq!(
            classify_client_error(&rpc(-32600, "Not initialized", None)).class,
            FailureClass::Protocol
        );
        assert_eq!(
            classify_client_error(&rpc(-32001, "Server overloaded; retry later.", None)).class,
            FailureClass::Overload
        );
        let auth = classify_client_error(&rpc(
            -32600,
            "unexpected status 401 Unauthorized: Invalid bearer token",
            Some(json!({"codexErrorInfo":{"httpConnectionFailed":{"httpStatusCode":401}}})),
        ));
        assert_eq!(auth.class, FailureClass::Auth);
        assert_eq!(auth.http_status, Some(401));
        assert!(!auth.retryable);
    }
}
