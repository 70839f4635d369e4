//! The OpenClaw gateway wire protocol: frames, error shapes, codes, handshake payloads.
//!
//! **Architecture Invariant:** this is the only crate that knows the gateway's wire format.
//! Other crates convert their own types into the ones here at the boundary.
//!
//! Facts come from the observed behaviour of the real OpenClaw 2026.9.6 gateway
//! (`shared/reference/openclaw-gateway.md` §3–§4).
//!
//! Entry points: [`decode_frame`] / [`Frame`] for frames, the typed method params and results in
//! [`methods`] (each params type names its method and result through [`Request`]), [`ErrorShape`]
//! and [`ErrorCode`] for errors, [`FailureClass`] for why a run failed.
//!
//! ```
//! use openclaw_rs_protocol::{decode_frame, FailureClass, Frame};
//!
//! let text = r#"{"type":"req","id":"1","method":"health","params":{}}"#;
//! let Frame::Request(req) = decode_frame(text, 64 * 1024).expect("a valid frame") else {
//!     panic!("expected a request");
//! };
//! assert_eq!(req.method, "health");
//!
//! // The run failure class, as clients see it in `errorClass`.
//! let class: FailureClass = serde_json::from_str("\"rate_limit\"").expect("a class");
//! assert_eq!(class, FailureClass::RateLimit);
//! assert_eq!(FailureClass::Transport.reported().as_str(), "runtime");
//! ```
#![warn(missing_docs)]

pub mod codes;
pub mod encode;
pub mod failure;
pub mod frames;
pub mod handshake;
pub mod methods;
pub mod rpc;
pub mod scopes;

pub use codes::{close, detail, ErrorCode};
pub use encode::{EncodeError, EventPrefix, Payload};
pub use failure::FailureClass;
pub use frames::{
    decode_frame, decode_request, DecodeError, ErrorShape, EventFrame, Frame, RequestFrame,
    ResponseFrame,
};
pub use handshake::{
    AuthInfo, ChallengePayload, ClientInfo, ConnectAuth, ConnectParams, DeviceProof, Features,
    HelloOk, Policy, ServerInfo, Snapshot,
};
pub use methods::NonEmpty;
pub use rpc::{decode_params, Access, Event, MethodDef, Request, METHODS};

/// Protocol versions.
///
/// Each bump gets a line here.
/// - 3: older clients; still accepted from probe clients (`client.mode == "probe"`) and node-role clients.
/// - 4: the current version spoken by OpenClaw 2026.9.6.
pub mod version {
    /// The version this gateway speaks.
    pub const CURRENT: u32 = 4;
    /// The oldest version accepted from probe and node clients.
    pub const MINIMUM_PROBE: u32 = 3;
}

/// Size limits applied while decoding.
pub mod limits {
    /// Frames received before `connect` succeeds are capped at 64 KiB (close 1009 beyond it).
    pub const MAX_PREAUTH_PAYLOAD_BYTES: usize = 64 * 1024;
    /// Default post-auth maximum frame size (`policy.maxPayload`).
    pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 26_214_400;
    /// Default per-connection outbound buffer cap (`policy.maxBufferedBytes`).
    pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 52_428_800;
    /// Default tick interval.
    pub const DEFAULT_TICK_INTERVAL_MS: u64 = 30_000;
}
