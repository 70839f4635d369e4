//! End-to-end tests against real gateways, real binaries and real files.
mod gateway;
mod interop;
mod sessions;
mod runtime;
mod reload;
mod auth;
