//! Config diffing and reload classification (hot, restart, none), the live config behind ArcSwap, and the config file watcher.
