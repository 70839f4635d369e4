//! Test support: binary locator, real-gateway spawning, OpenClaw's validators as a conformance oracle, fakes that cannot be the real thing here (fault-injecting app-server).
pub mod fake_app_server;
pub mod gateway;
pub mod node;
pub mod oracle;
