//! `openclaw` binary (thin main).

fn main() {}
