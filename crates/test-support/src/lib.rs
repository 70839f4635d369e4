//! Test support: binary locator, real-gateway spawning, fakes that cannot be the real thing here (fault-injecting app-server).
pub mod node;
pub mod gateway;
pub mod fake_app_server;
