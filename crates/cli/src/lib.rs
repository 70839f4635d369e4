//! The `openclaw` command-line interface, as a library so that `bins/openclaw` stays thin.
