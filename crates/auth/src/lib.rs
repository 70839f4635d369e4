//! Device identity, connect policy, pairing store, device tokens and auth rate limiting.
