//! The three frame kinds and their decoding.
//!
//! Decoding never panics and never allocates beyond the caller's size limit:
//! the byte length is checked before any parsing happens.

use crate::codes::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A client→server request: `{type:"req", id, method, params?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFrame {
    /// Chosen by the client, unique among its pending requests; the response carries the same id.
    pub id: String,
    /// The method name, e.g. `health` or `chat.send`.
    pub method: String,
    /// The method's params object; absent for methods that take none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// W3C trace context sent by the client; this gateway accepts it and does not propagate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// A server→client response: `{type:"res", id, ok, payload?|error?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseFrame {
    /// The id of the request this answers.
    pub id: String,
    /// `true` with a `payload`, `false` with an `error`.
    pub ok: bool,
    /// The method's result when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Why the request failed when not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorShape>,
}

/// A server→client event: `{type:"event", event, payload?, seq?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFrame {
    /// The event name, e.g. `tick`, `chat` or `sessions.changed`.
    pub event: String,
    /// The event's data; its shape depends on `event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Per-connection sequence number of broadcast events, so clients can notice a gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// State versions (`{presence, health}`) at the time of the event, on events that change them.
    #[serde(
        default,
        rename = "stateVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub state_version: Option<Value>,
}

/// The error object of a failed response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorShape {
    /// The coarse error category.
    pub code: ErrorCode,
    /// Human-readable explanation, naming the problem.
    pub message: String,
    /// Structured extra data; `details.code` is a detail code such as `MISSING_SCOPE` or
    /// `AUTH_TOKEN_MISMATCH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// `true` when retrying the same request may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// How long to wait before retrying, in milliseconds.
    #[serde(
        default,
        rename = "retryAfterMs",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl ErrorShape {
    /// An error with a code and message only.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorShape {
            code,
            message: message.into(),
            details: None,
            retryable: None,
            retry_after_ms: None,
        }
    }

    /// Attach `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Attach `details: {code}` (a detail code such as `CONFIG_BASE_HASH_MISMATCH`).
    pub fn with_detail_code(self, code: &str) -> Self {
        self.with_details(serde_json::json!({ "code": code }))
    }

    /// Mark retryable, with an optional delay.
    pub fn retry_after(mut self, ms: Option<u64>) -> Self {
        self.retryable = Some(true);
        self.retry_after_ms = ms;
        self
    }

    /// `details.code`, if any.
    pub fn detail_code(&self) -> Option<&str> {
        self.details.as_ref()?.get("code")?.as_str()
    }

    /// `details.requestId` of a `PAIRING_REQUIRED` refusal: the request an operator approves.
    pub fn pairing_request_id(&self) -> Option<&str> {
        self.details.as_ref()?.get("requestId")?.as_str()
    }

    /// `INVALID_REQUEST "unknown method: X"`.
    pub fn unknown_method(method: &str) -> Self {
        ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("unknown method: {method}"),
        )
    }

    /// `FORBIDDEN "missing scope: X"` with `MISSING_SCOPE` details.
    pub fn missing_scope(scope: &str, required: &[&str]) -> Self {
        ErrorShape::new(ErrorCode::Forbidden, format!("missing scope: {scope}")).with_details(
            serde_json::json!({
                "code": crate::codes::detail::MISSING_SCOPE,
                "missingScope": scope,
                "requiredScopes": required,
            }),
        )
    }

    /// `INVALID_REQUEST` for bad params, naming the problem.
    pub fn invalid_params(method: &str, problem: impl std::fmt::Display) -> Self {
        ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("invalid {method} params: {problem}"),
        )
    }
}

impl std::fmt::Display for ErrorShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(code) = self.detail_code() {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorShape {}

/// Any frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Frame {
    /// `type: "req"`.
    #[serde(rename = "req")]
    Request(RequestFrame),
    /// `type: "res"`.
    #[serde(rename = "res")]
    Response(ResponseFrame),
    /// `type: "event"`.
    #[serde(rename = "event")]
    Event(EventFrame),
}

impl Frame {
    /// Serialize to the JSON text sent on the wire.
    pub fn to_text(&self) -> String {
        // Serializing these types cannot fail: every field is a string, number, bool or Value.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// A successful response.
    pub fn ok(id: impl Into<String>, payload: Value) -> Frame {
        Frame::Response(ResponseFrame {
            id: id.into(),
            ok: true,
            payload: Some(payload),
            error: None,
        })
    }

    /// A failed response.
    pub fn err(id: impl Into<String>, error: ErrorShape) -> Frame {
        Frame::Response(ResponseFrame {
            id: id.into(),
            ok: false,
            payload: None,
            error: Some(error),
        })
    }

    /// An event without `seq`.
    pub fn event(event: impl Into<String>, payload: Value) -> Frame {
        Frame::Event(EventFrame {
            event: event.into(),
            payload: Some(payload),
            seq: None,
            state_version: None,
        })
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is larger than the limit in force (pre-auth or post-auth).
    #[error("frame of {len} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// The frame's size in bytes.
        len: usize,
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// Not valid JSON, or not an object of a known frame type.
    #[error("invalid frame: {0}")]
    Invalid(String),
    /// A JSON value that is not a valid request frame (wrong or missing `type`, `id`, `method`,
    /// `traceparent`, or nested deeper than the decoder allows). The gateway answers it with
    /// `INVALID_REQUEST` and keeps the connection, as OpenClaw does.
    #[error("invalid request frame: {problem}")]
    Request {
        /// The frame's `id` when it is a usable string (non-empty, at most
        /// [`MAX_REQUEST_ID_BYTES`]); the answer carries `id: null` otherwise.
        id: Option<String>,
        /// What is wrong, worded like OpenClaw's schema errors (`at /id: must be string`).
        problem: String,
    },
}

/// Longest request `id` accepted, in bytes. Real clients send `<n>:<uuid>` (about 40 bytes).
pub const MAX_REQUEST_ID_BYTES: usize = 256;

/// serde_json's nesting limit (objects and arrays), named in the error for deeper frames.
pub const MAX_JSON_DEPTH: usize = 128;

/// Decode one text frame, refusing anything over `limit` bytes before parsing.
pub fn decode_frame(text: &str, limit: usize) -> Result<Frame, DecodeError> {
    if text.len() > limit {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            limit,
        });
    }
    serde_json::from_str::<Frame>(text).map_err(|e| DecodeError::Invalid(e.to_string()))
}

/// A frame as a client sends it, decoded in one pass (no buffering of the whole object as the
/// internally tagged [`Frame`] needs). Unknown fields are ignored.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    traceparent: Option<String>,
}

/// Decode a frame received by the server: `Ok(Some(req))` for a request, `Ok(None)` for a
/// well-formed `res`/`event` frame (which servers ignore), an error for anything else:
/// [`DecodeError::TooLarge`] over `limit` bytes (checked before parsing),
/// [`DecodeError::Invalid`] for text that is not JSON, [`DecodeError::Request`] for JSON that is
/// not a valid request.
pub fn decode_request(text: &str, limit: usize) -> Result<Option<RequestFrame>, DecodeError> {
    if text.len() > limit {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            limit,
        });
    }
    // One pass for the frames real clients send; anything it refuses is diagnosed by a second,
    // non-allocating pass (`diagnose`), so the error path costs nothing on the hot path.
    let parsed = serde_json::from_str::<Incoming<'_>>(text);
    if let Ok(f) = parsed.as_ref() {
        match f.kind.as_ref() {
            "res" | "event" => return Ok(None),
            "req" => {}
            _ => return Err(diagnose(text, None)),
        }
    }
    match parsed {
        Ok(Incoming {
            id: Some(id),
            method: Some(method),
            params,
            traceparent,
            ..
        }) if !id.is_empty() && id.len() <= MAX_REQUEST_ID_BYTES && !method.is_empty() => {
            Ok(Some(RequestFrame {
                id,
                method,
                params,
                traceparent,
            }))
        }
        Ok(_) => Err(diagnose(text, None)),
        Err(e) => Err(diagnose(text, Some(e))),
    }
}

/// One member of a refused frame as the diagnosis sees it: its JSON kind, and the string when
/// it is one. Nested values are skipped without recursion (serde's `IgnoredAny`, which
/// serde_json walks iteratively), so any depth is fine.
#[derive(Debug, PartialEq)]
enum Member {
    Str(String),
    Null,
    Other,
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Member;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Member, E> {
                Ok(Member::Str(v.to_owned()))
            }
            fn visit_unit<E>(self) -> Result<Member, E> {
                Ok(Member::Null)
            }
            fn visit_none<E>(self) -> Result<Member, E> {
                Ok(Member::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Member, E> {
                Ok(Member::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Member, E> {
                Ok(Member::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Member, E> {
                Ok(Member::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Member, E> {
                Ok(Member::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Member, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Member::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Member, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Member::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The members of a refused frame that decide the answer; `None` when absent.
#[derive(Default)]
struct Members {
    kind: Option<Member>,
    id: Option<Member>,
    method: Option<Member>,
    traceparent: Option<Member>,
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Members, A::Error> {
                let mut m = Members::default();
                while let Some(key) = a.next_key::<std::borrow::Cow<'de, str>>()? {
                    let slot = match key.as_ref() {
                        "type" => &mut m.kind,
                        "id" => &mut m.id,
                        "method" => &mut m.method,
                        "traceparent" => &mut m.traceparent,
                        _ => {
                            a.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(a.next_value::<Member>()?);
                }
                Ok(m)
            }
        }
        d.deserialize_map(V)
    }
}

/// Why `text` (refused by the fast decoder, with `fast` its error if it had one) is not a
/// request, worded like OpenClaw's answers: `at /id: must be string`, several joined by `; `.
fn diagnose(text: &str, fast: Option<serde_json::Error>) -> DecodeError {
    let m = match serde_json::from_str::<Members>(text) {
        Ok(m) => m,
        Err(e) if e.is_data() => {
            return DecodeError::Request {
                id: None,
                problem: "must be object".into(),
            }
        }
        Err(e) => return DecodeError::Invalid(format!("not JSON: {e}")),
    };
    let mut problems: Vec<String> = Vec::new();
    for (name, member) in [("type", &m.kind), ("id", &m.id), ("method", &m.method)] {
        if member.is_none() {
            problems.push(format!("must have required property '{name}'"));
        }
    }
    match &m.kind {
        Some(Member::Str(k)) if k == "req" => {}
        Some(_) => problems.push("at /type: must be equal to constant".into()),
        None => {}
    }
    for (name, member) in [("id", &m.id), ("method", &m.method)] {
        match member {
            Some(Member::Str(s)) if s.is_empty() => {
                problems.push(format!("at /{name}: must not have fewer than 1 characters"))
            }
            Some(Member::Str(_)) | None => {}
            Some(_) => problems.push(format!("at /{name}: must be string")),
        }
    }
    if let Some(Member::Str(id)) = &m.id {
        if id.len() > MAX_REQUEST_ID_BYTES {
            problems.push(format!(
                "at /id: must not have more than {MAX_REQUEST_ID_BYTES} characters"
            ));
        }
    }
    if matches!(&m.traceparent, Some(Member::Null | Member::Other)) {
        problems.push("at /traceparent: must be string".into());
    }
    if problems.is_empty() {
        // Every member the schema checks is fine: the fast decoder failed elsewhere, in
        // practice on `params` nested beyond serde_json's limit.
        problems.push(match fast {
            Some(e) if e.to_string().starts_with("recursion limit exceeded") => {
                format!("JSON nested deeper than {MAX_JSON_DEPTH} levels")
            }
            Some(e) => e.to_string(),
            None => "not a request".into(),
        });
    }
    let id = match m.id {
        Some(Member::Str(id)) if !id.is_empty() && id.len() <= MAX_REQUEST_ID_BYTES => Some(id),
        _ => None,
    };
    DecodeError::Request {
        id,
        problem: problems.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_request_matches_decode_frame() {
        let text = r#"{"type":"req","id":"1:4c72","method":"health","params":{"a":[1,2]},"traceparent":"00-x"}"#;
        let Frame::Request(expected) = decode_frame(text, 1024).unwrap() else {
            panic!("expected request")
        };
        assert_eq!(decode_request(text, 1024).unwrap(), Some(expected));
        assert_eq!(
            decode_request(r#"{"type":"event","event":"tick","payload":{}}"#, 1024).unwrap(),
            None
        );
        for bad in ["", "{", "not json", r#"{"type":"req","id":"1""#] {
            assert!(
                matches!(decode_request(bad, 1024), Err(DecodeError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            decode_request(&"x".repeat(2000), 1024),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    /// Each refused request with the id and problem OpenClaw 2026.9.6 answers (observed on the
    /// real gateway), except where noted: OpenClaw echoes a non-string id as is and uses
    /// `"invalid"` for a missing one, we answer `null`; it has no id length or depth limit.
    #[test]
    fn refused_requests_name_the_problem_like_openclaw() {
        let deep = format!(
            r#"{{"type":"req","id":"d1","method":"health","params":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let huge = format!(
            r#"{{"type":"req","id":"{}","method":"health"}}"#,
            "a".repeat(300)
        );
        let cases: Vec<(&str, Option<&str>, &str)> = vec![
            (
                r#"{"type":"req","id":5,"method":"health","params":{}}"#,
                None,
                "at /id: must be string",
            ),
            (
                r#"{"type":"req","id":null,"method":"health"}"#,
                None,
                "at /id: must be string",
            ),
            (
                r#"{"type":"req","id":{"a":[1]},"method":"health"}"#,
                None,
                "at /id: must be string",
            ),
            (
                r#"{"type":"req","id":"","method":"health"}"#,
                None,
                "at /id: must not have fewer than 1 characters",
            ),
            (
                r#"{"type":"req","method":"health","params":{}}"#,
                None,
                "must have required property 'id'",
            ),
            (
                r#"{"type":"req","id":"m1","method":""}"#,
                Some("m1"),
                "at /method: must not have fewer than 1 characters",
            ),
            (
                r#"{"type":"req","id":"m2"}"#,
                Some("m2"),
                "must have required property 'method'",
            ),
            (
                r#"{"type":"req","id":"m3","method":7}"#,
                Some("m3"),
                "at /method: must be string",
            ),
            (
                r#"{"id":"t1","method":"health"}"#,
                Some("t1"),
                "must have required property 'type'",
            ),
            (
                r#"{"type":"bogus","id":"b1"}"#,
                Some("b1"),
                "must have required property 'method'; at /type: must be equal to constant",
            ),
            (
                r#"{"type":"req","id":"tp","method":"health","traceparent":5}"#,
                Some("tp"),
                "at /traceparent: must be string",
            ),
            ("[1,2]", None, "must be object"),
            (r#""str""#, None, "must be object"),
            (&deep, Some("d1"), "JSON nested deeper than 128 levels"),
            (
                &huge,
                None,
                "at /id: must not have more than 256 characters",
            ),
        ];
        for (text, id, problem) in cases {
            assert_eq!(
                decode_request(text, 1 << 20),
                Err(DecodeError::Request {
                    id: id.map(str::to_owned),
                    problem: problem.into()
                }),
                "{}",
                &text[..text.len().min(80)]
            );
        }
        // A usable id of exactly the limit is accepted.
        let max = format!(
            r#"{{"type":"req","id":"{}","method":"health"}}"#,
            "a".repeat(MAX_REQUEST_ID_BYTES)
        );
        assert!(decode_request(&max, 1 << 20).unwrap().is_some());
    }
    use crate::limits::MAX_PREAUTH_PAYLOAD_BYTES;

    #[test]
    fn decodes_real_connect_request() {
        // Captured from the real CLI through a logging proxy (reference §4.2).
        let text = r#"{"type":"req","id":"1:4c72e8ce-0000","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"2026.9.6","platform":"linux","deviceFamily":"Linux","mode":"cli","instanceId":"c9ffb06b"},"caps":[],"auth":{"deviceToken":"tgpgziTQH_UkXPhawJf-ZHsEg_7AleYUfWlUPK4iHIE"},"role":"operator","scopes":["operator.read"]}}"#;
        match decode_frame(text, MAX_PREAUTH_PAYLOAD_BYTES).unwrap() {
            Frame::Request(r) => {
                assert_eq!(r.id, "1:4c72e8ce-0000");
                assert_eq!(r.method, "connect");
                assert_eq!(r.params.unwrap()["client"]["mode"], "cli");
            }
            other => panic!("expected request, got {other:?}"),
        }
    }

    #[test]
    fn decodes_real_error_response() {
        let text = r#"{"type":"res","id":"1","ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)","details":{"code":"AUTH_TOKEN_MISMATCH","authReason":"token_mismatch","canRetryWithDeviceToken":false,"recommendedNextStep":"update_auth_credentials"}}}"#;
        let Frame::Response(r) = decode_frame(text, 1 << 20).unwrap() else {
            panic!("expected response")
        };
        let e = r.error.unwrap();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.detail_code(), Some("AUTH_TOKEN_MISMATCH"));
    }

    #[test]
    fn decodes_real_challenge_event() {
        let text = r#"{"type":"event","event":"connect.challenge","payload":{"nonce":"8d349ed4-0d05-4ddc-a596-2e0a7f6543de","ts":1795256605806,"capabilities":["model-catalog-snapshot"]}}"#;
        let Frame::Event(e) = decode_frame(text, 1 << 20).unwrap() else {
            panic!("expected event")
        };
        assert_eq!(e.event, "connect.challenge");
        assert_eq!(e.seq, None);
    }

    #[test]
    fn refuses_oversized_before_parsing() {
        let big = format!(
            r#"{{"type":"req","id":"1","method":"x","params":"{}"}}"#,
            "a".repeat(MAX_PREAUTH_PAYLOAD_BYTES)
        );
        assert!(matches!(
            decode_frame(&big, MAX_PREAUTH_PAYLOAD_BYTES),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "",
            "{",
            "null",
            "[]",
            r#"{"type":"nope"}"#,
            r#"{"type":"req"}"#,
            "\u{0}",
        ] {
            assert!(matches!(
                decode_frame(text, 1024),
                Err(DecodeError::Invalid(_))
            ));
        }
    }

    #[test]
    fn roundtrips_response_without_nulls() {
        let f = Frame::ok("7", serde_json::json!({"ok":true}));
        assert_eq!(
            f.to_text(),
            r#"{"type":"res","id":"7","ok":true,"payload":{"ok":true}}"#
        );
    }
}
