//! End-to-end tests against real gateways, real binaries and real files.
mod auth;
mod conformance;
mod control_ui;
mod diagnostics;
mod gateway;
mod inrun_spawn;
mod interop;
mod reload;
mod runtime;
mod sessions;
mod ui;
mod util;
mod wire;
