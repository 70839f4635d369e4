//! Frame encoding: the one place that writes response and event frames as text.
//!
//! Payloads are serialized once, then spliced into the frame text: a broadcast serializes its
//! payload once for every connection, and each connection only appends its own `seq`. The
//! functions here are the only code that knows the frame layout; other crates call them.

use crate::frames::ErrorShape;
use serde::Serialize;

/// A payload could not be serialized (a map with non-string keys, a non-finite float).
#[derive(Debug, thiserror::Error)]
#[error("could not encode the payload: {0}")]
pub struct EncodeError(#[from] serde_json::Error);

impl From<EncodeError> for ErrorShape {
    fn from(e: EncodeError) -> Self {
        ErrorShape::new(crate::ErrorCode::Unavailable, e.to_string())
    }
}

/// A payload serialized as JSON text, ready to be spliced into frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// Serialize `value`.
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Payload, EncodeError> {
        Ok(Payload(serde_json::to_string(value)?))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `{"type":"res","id":ID,"ok":true,"payload":P}`.
pub fn response_ok(id: &str, payload: &str) -> String {
    let id = json_string(id);
    let mut s = String::with_capacity(payload.len() + id.len() + 40);
    s.push_str(r#"{"type":"res","id":"#);
    s.push_str(&id);
    s.push_str(r#","ok":true,"payload":"#);
    s.push_str(payload);
    s.push('}');
    s
}

/// `{"type":"res","id":ID,"ok":false,"error":E}`; `id` is `null` when the request had no
/// usable id.
pub fn response_err(id: Option<&str>, error: &ErrorShape) -> String {
    let id = id.map(json_string).unwrap_or_else(|| "null".to_owned());
    let error = serde_json::to_string(error).unwrap_or_else(|_| {
        r#"{"code":"UNAVAILABLE","message":"could not encode the error"}"#.to_owned()
    });
    let mut s = String::with_capacity(error.len() + id.len() + 40);
    s.push_str(r#"{"type":"res","id":"#);
    s.push_str(&id);
    s.push_str(r#","ok":false,"error":"#);
    s.push_str(&error);
    s.push('}');
    s
}

/// A response frame for a handler's outcome.
pub fn response(id: &str, result: Result<&Payload, &ErrorShape>) -> String {
    match result {
        Ok(p) => response_ok(id, p.as_str()),
        Err(e) => response_err(Some(id), e),
    }
}

/// A targeted event without `seq` (OpenClaw sends `connect.challenge` and other
/// connection-targeted events this way).
pub fn event(event: &str, payload: &str) -> String {
    let mut s = event_head(event, payload, None);
    s.push('}');
    s
}

/// The text of a broadcast event up to its `seq` value; finish it per connection with
/// [`EventPrefix::with_seq`]. `state_version` adds OpenClaw's top-level `stateVersion`.
#[derive(Debug, Clone)]
pub struct EventPrefix(String);

impl EventPrefix {
    /// Prefix for `event` with `payload`, and `stateVersion` when given.
    pub fn new(event: &str, payload: &str, state_version: Option<&str>) -> EventPrefix {
        let mut s = event_head(event, payload, state_version);
        s.push_str(r#","seq":"#);
        EventPrefix(s)
    }

    /// The complete frame with this connection's `seq`.
    pub fn with_seq(&self, seq: u64) -> String {
        let mut text = String::with_capacity(self.0.len() + 24);
        text.push_str(&self.0);
        text.push_str(&seq.to_string());
        text.push('}');
        text
    }
}

fn event_head(event: &str, payload: &str, state_version: Option<&str>) -> String {
    let event = json_string(event);
    let mut s = String::with_capacity(payload.len() + event.len() + 64);
    s.push_str(r#"{"type":"event","event":"#);
    s.push_str(&event);
    s.push_str(r#","payload":"#);
    s.push_str(payload);
    if let Some(v) = state_version {
        s.push_str(r#","stateVersion":"#);
        s.push_str(v);
    }
    s
}

fn json_string(s: &str) -> String {
    // Serializing a &str cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::{decode_frame, Frame};
    use serde_json::json;

    #[test]
    fn frames_decode_back() {
        let p = Payload::encode(&json!({"a": [1, "x\"y"]})).unwrap();
        let text = response_ok("1:ab\"c", p.as_str());
        let Frame::Response(r) = decode_frame(&text, 1 << 20).unwrap() else {
            panic!("{text}")
        };
        assert_eq!(r.id, "1:ab\"c");
        assert_eq!(r.payload, Some(json!({"a": [1, "x\"y"]})));

        let e = ErrorShape::new(crate::ErrorCode::InvalidRequest, "bad");
        let v: serde_json::Value = serde_json::from_str(&response_err(None, &e)).unwrap();
        assert_eq!(v["id"], serde_json::Value::Null);
        assert_eq!(v["error"]["code"], "INVALID_REQUEST");

        let pre = EventPrefix::new("tick", r#"{"ts":1}"#, Some(r#"{"presence":0,"health":2}"#));
        let v: serde_json::Value = serde_json::from_str(&pre.with_seq(7)).unwrap();
        assert_eq!(
            v,
            json!({"type":"event","event":"tick","payload":{"ts":1},
                   "stateVersion":{"presence":0,"health":2},"seq":7})
        );
        let v: serde_json::Value = serde_json::from_str(&event("x", "null")).unwrap();
        assert_eq!(v, json!({"type":"event","event":"x","payload":null}));
    }
}
