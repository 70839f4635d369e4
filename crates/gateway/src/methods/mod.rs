//! The built-in RPC handlers, one module per area, and [`all_specs`] (the built-in registry).
//!
//! Layer 3: handler modules use `rpc`, `state`, `wire`, `fanout`, `runs` and `reload`; nothing
//! below uses a handler module. Which methods exist and what each needs comes from the one table in the protocol crate
//! (`openclaw_rs_protocol::METHODS`); this module binds handlers to it. Adding a method: add its
//! row and its params/result types in `openclaw_rs_protocol`, then a
//! `MethodSpec::typed::<XParams, _, _>(handler)` line in the area's `specs()`. A test checks that
//! the registry and the table name the same methods.

mod agent;
mod config;
pub(crate) mod core;
mod devices;
mod sessions;
mod system;
// methods-a: diagnostics, config schema, preferences, nodes/approvals, missing subsystems.
mod diagnostics;
mod prefs;
mod subsystems;
// The Control UI's and TUI's chat view, session views, agents and models.
pub(crate) mod agents;
mod chat;
mod session_views;

use crate::rpc::MethodSpec;

/// Every registered method. One line per area.
pub(crate) fn all_specs() -> Vec<MethodSpec> {
    let mut v = Vec::new();
    v.extend(core::specs());
    v.extend(config::specs());
    v.extend(sessions::specs());
    v.extend(agent::specs());
    v.extend(devices::specs());
    v.extend(system::specs());
    v.extend(diagnostics::specs());
    v.extend(prefs::specs());
    v.extend(subsystems::specs());
    // The Control UI's and TUI's chat view, session views, agents and models.
    v.extend(chat::specs());
    v.extend(session_views::specs());
    v.extend(agents::specs());
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_serves_exactly_the_protocol_table() {
        let mut served: Vec<&str> = super::all_specs().iter().map(|s| s.name).collect();
        served.sort_unstable();
        let mut table: Vec<&str> = openclaw_rs_protocol::METHODS
            .iter()
            .map(|d| d.name)
            .collect();
        table.sort_unstable();
        assert_eq!(served, table);
    }
}
