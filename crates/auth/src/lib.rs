//! Device identity, connect policy, pairing store, device tokens and auth rate limiting.
//!
//! **API Boundary:** the gateway calls [`service::AuthService::authenticate`] once per `connect`
//! with the facts of the socket; everything that decides *who may connect with which scopes*
//! lives here, as pure functions ([`policy::decide`]) plus durable stores ([`store::PairingStore`]).
//!
//! **Architecture Invariant:** `client.id` and `client.mode` are labels. They may reduce what a
//! connection gets (probe mode gets no scopes), never increase it.

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
