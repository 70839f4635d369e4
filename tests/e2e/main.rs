//! End-to-end tests against real gateways, real binaries and real files.
#![allow(clippy::disallowed_methods)] // end-to-end tests start the binaries under test directly (the spawn rule is for library code)
mod admission;
mod auth;
mod cli_table;
mod clients;
mod conformance;
mod control_ui;
mod control_ui_browser;
mod diagnostics;
mod doctor;
mod gateway;
mod inrun_spawn;
mod interop;
mod metrics;
mod reload;
mod runtime;
mod service;
mod sessions;
mod tui;
mod ui;
mod util;
mod wire;
