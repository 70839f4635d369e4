//! End-to-end tests against real gateways, real binaries and real files.
mod auth;
mod cli_table;
mod clients;
mod conformance;
mod control_ui;
mod diagnostics;
mod control_ui_browser;
mod gateway;
mod inrun_spawn;
mod interop;
mod reload;
mod runtime;
mod sessions;
mod ui;
mod tui;
mod util;
mod wire;
