//! Auth-profile cooldowns as runtime state: an immutable snapshot behind ArcSwap, persisted in the state dir, never in config.
