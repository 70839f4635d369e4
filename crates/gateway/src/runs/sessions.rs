//! [`Sessions`]: the sessions component of a running gateway (the manager, the app-server pool,
//! the runtimes' model lists), as handlers reach it through `GatewayState::sessions`.
//!
//! Layer 1: uses nothing else in the crate.

use openclaw_rs_app_server::Pool;
use openclaw_rs_protocol::methods::models::ModelChoice;
use openclaw_rs_sessions::SessionManager;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The sessions component of a serving gateway (set once by `serve`, before the first
/// connection).
#[derive(Debug)]
pub struct Sessions {
    manager: SessionManager,
    pool: Pool,
    models: ModelCache,
}

impl Sessions {
    pub(crate) fn new(manager: SessionManager, pool: Pool) -> Sessions {
        Sessions {
            manager,
            pool,
            models: ModelCache::default(),
        }
    }

    /// The sessions manager (sessions, runs, announces).
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }

    /// The shared app-server processes runs execute on (also asked for `models.list`).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The runtimes' last `model/list` answers.
    pub(crate) fn models(&self) -> &ModelCache {
        &self.models
    }
}

/// The models one runtime listed, and the command it ran then (a changed command asks again).
pub(crate) type CachedModels = (Vec<String>, Vec<ModelChoice>);

/// Last models each runtime listed, by runtime name.
#[derive(Debug, Default)]
pub(crate) struct ModelCache(pub(crate) Mutex<BTreeMap<String, CachedModels>>);
