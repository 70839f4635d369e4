//! Events this gateway emits (`hello-ok.features.events`). One const list: add a line per event.

/// Every event name this gateway can send.
pub const EVENTS: &[&str] = &[
    "connect.challenge",
    "tick",
    "health",
    "shutdown",
    "config.changed",
    "chat",
    "agent",
    "sessions.changed",
    "device.pair.requested",
    "device.pair.resolved",
];
