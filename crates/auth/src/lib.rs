//! Device identity, connect policy, pairing store, device tokens and auth rate limiting.
//!
//! **API Boundary:** the gateway calls [`service::AuthService::authenticate`] once per `connect`
//! with the facts of the socket; everything that decides *who may connect with which scopes*
//! lives here, as pure functions ([`policy::decide`]) plus durable stores ([`store::PairingStore`]).
//!
//! **Architecture Invariant:** `client.id` and `client.mode` are labels. They may reduce what a
//! connection gets (probe mode gets no scopes), never increase it.
//!
//! Entry points: [`DeviceIdentity`] (a device's Ed25519 key: sign a connect proof),
//! [`verify_device_proof`] (the server side of the same proof), [`AuthService`] (the whole
//! `connect` decision), [`PairingStore`] (paired devices and their tokens).
//!
//! ```
//! use openclaw_rs_auth::{verify_device_proof, DeviceIdentity, SignedFields};
//!
//! let device = DeviceIdentity::from_seed([7; 32], 0);
//! let scopes = vec!["operator.read".to_string()];
//! let fields = SignedFields {
//!     client_id: "cli",
//!     client_mode: "cli",
//!     role: "operator",
//!     scopes: &scopes,
//!     signed_at_ms: 1_700_000_000_000,
//!     token: "",
//!     nonce: "challenge-nonce",
//!     platform: "linux",
//!     device_family: "",
//! };
//! let proof = device.prove(&fields);
//! let ok = verify_device_proof(&proof, &fields, "challenge-nonce", 1_700_000_000_500)
//!     .expect("a valid proof");
//! assert_eq!(ok.device_id, device.device_id());
//! // Another connection's nonce does not verify.
//! assert!(verify_device_proof(&proof, &fields, "other-nonce", 1_700_000_000_500).is_err());
//! ```

#![warn(missing_docs)]

pub mod encoding;
pub mod identity;
pub mod locality;
pub mod payload;
pub mod policy;
pub mod proof;
pub mod ratelimit;
pub mod service;
pub mod store;
pub mod tokenkey;
pub mod wire;

pub use identity::{device_id_for, CachedToken, DeviceIdentity, DeviceTokenCache, IdentityError};
pub use proof::{verify_device_proof, DeviceAuthError, SignedFields, VerifiedDevice};
pub use service::{Admission, AuthService, ConnectOutcome, ConnectRequest, Refusal, SharedSecrets};
pub use store::{PairingDoc, PairingStore};
pub use wire::AuthEvent;
