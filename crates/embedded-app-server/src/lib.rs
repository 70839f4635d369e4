//! The embedded app-server: speaks the Codex app-server protocol subset over stdio; its built-in model `exec` runs the task as a shell command.
