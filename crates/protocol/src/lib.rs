//! The OpenClaw gateway wire protocol as Rust types: frames, error shapes and codes, the
//! `connect` handshake, and the typed params, results and events of every method.
//!
//! This is what the gateway (`openclaw_rs_gateway`), the typed client (`openclaw_rs_client`) and
//! the CLI share; depend on it directly to speak the protocol from your own client or server
//! (OpenClaw's Control UI, TUI and CLI speak the same one).
//!
//! **Architecture Invariant:** this is the only crate that knows the gateway's wire format.
//! Other crates convert their own types into the ones here at the boundary.
//!
//! Facts come from the observed behaviour of the real OpenClaw 2026.9.6 gateway
//! (`shared/reference/openclaw-gateway.md` §3–§4) and the schemas in its npm package; every
//! field says what it means on the wire, and the ones this gateway accepts without acting on
//! say so.
//!
//! # Entry points
//! - Frames: [`decode_frame`] (any frame, as a client reads them) and [`decode_request`] (as a
//!   server reads them, with OpenClaw's wording for a bad frame); [`Frame`], [`RequestFrame`],
//!   [`ResponseFrame`], [`EventFrame`]; [`encode`] writes response and event frames, serializing
//!   a broadcast payload once ([`Payload`], [`EventPrefix`]).
//! - Errors: [`ErrorShape`] with its [`ErrorCode`], the `details.code` values in [`detail`] and
//!   the WebSocket close codes and reasons in [`close`].
//! - Handshake: [`ChallengePayload`] → [`ConnectParams`] → [`HelloOk`]; [`version`] and
//!   [`limits`] hold the protocol version and size limits.
//! - Methods and events: the params types in [`methods`] implement [`Request`], which names the
//!   method and its result type; event payloads implement [`Event`]. [`METHODS`] lists every
//!   method with the [`Access`] (role or [`scopes`]) it needs; [`decode_params`] decodes params
//!   or refuses them as the Node gateway does.
//! - [`FailureClass`]: why a run failed, the typed `errorClass` of run results, transcript
//!   messages and announces. Decoding is lenient: an unknown class from a newer gateway reads as
//!   [`FailureClass::Runtime`] instead of failing the payload.
//!
//! # Example
//!
//! ```
//! use openclaw_rs_protocol::methods::gateway::HealthParams;
//! use openclaw_rs_protocol::methods::sessions::{AgentWaitParams, RunResult};
//! use openclaw_rs_protocol::{decode_frame, FailureClass, Frame, Request};
//!
//! let text = r#"{"type":"req","id":"1","method":"health","params":{}}"#;
//! let Frame::Request(req) = decode_frame(text, 64 * 1024).expect("a valid frame") else {
//!     panic!("expected a request");
//! };
//! assert_eq!(req.method, <HealthParams as Request>::METHOD);
//!
//! // `agent.wait` answers a `RunResult`; its `errorClass` is typed.
//! assert_eq!(<AgentWaitParams as Request>::METHOD, "agent.wait");
//! let result: RunResult = serde_json::from_str(
//!     r#"{"runId":"r1","sessionKey":"agent:main:main","status":"error","runStatus":"failed",
//!         "attempts":1,"createdAt":1,"startedAt":2,"endedAt":3,"text":null,
//!         "error":"429 from the model","errorClass":"rate_limit","retryable":true,
//!         "spawnedBy":null}"#,
//! )
//! .expect("a run result");
//! assert_eq!(result.error_class, Some(FailureClass::RateLimit));
//!
//! // The class as clients see it, and the lenient reading of a name this build does not know.
//! assert_eq!(FailureClass::Transport.reported().as_str(), "runtime");
//! let class: FailureClass = serde_json::from_str("\"gpu_on_fire\"").expect("lenient");
//! assert_eq!(class, FailureClass::Runtime);
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
