//! [`ProcessKey`]: the identity of one shared app-server process.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::spawn::SpawnSpec;

/// Identity of a shared process: runs with equal keys share one child. Different credentials
/// need different keys (auth is process-wide in the Codex app-server).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ProcessKey {
    /// Program followed by its arguments.
    pub command: Vec<String>,
    /// Explicit environment for the child (the rest of the parent environment is scrubbed).
    pub env: BTreeMap<String, String>,
    /// Home directory, passed as `CODEX_HOME`.
    pub home: Option<PathBuf>,
    /// Auth identity (e.g. an auth profile id) that separates otherwise equal keys.
    pub auth_identity: Option<String>,
    /// Negotiate Codex's `experimentalApi` capability at `initialize` (needed for
    /// `thread/start.dynamicTools`). Part of the key: the capability is per process.
    pub experimental_api: bool,
}

impl ProcessKey {
    /// A key with just a command.
    pub fn new(command: Vec<String>) -> Self {
        Self {
            command,
            ..Self::default()
        }
    }

    /// Program name for messages.
    pub fn program(&self) -> &str {
        self.command.first().map(String::as_str).unwrap_or("")
    }

    /// How to spawn this key's process.
    pub fn spawn_spec(&self) -> SpawnSpec {
        let mut env = self.env.clone();
        if let Some(home) = &self.home {
            env.insert(
                "CODEX_HOME".to_string(),
                home.to_string_lossy().into_owned(),
            );
        }
        SpawnSpec {
            command: self.command.clone(),
            cwd: None,
            env,
        }
    }
}

impl fmt::Debug for ProcessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Environment values may hold credentials: show names only.
        f.debug_struct("ProcessKey")
            .field("command", &self.command)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .field("auth_identity", &self.auth_identity)
            .field("experimental_api", &self.experimental_api)
            .finish()
    }
}
