//! Test support: binary locator, real-gateway spawning, OpenClaw's validators as a conformance oracle, fakes that cannot be the real thing here (fault-injecting app-server).
#![allow(clippy::disallowed_methods)] // test support starts Node, the oracle and binaries under test directly (the spawn rule is for library code)
pub mod fake_app_server;
pub mod gateway;
pub mod node;
pub mod oracle;
