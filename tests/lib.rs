//! Workspace-level end-to-end tests (see `e2e/`).
