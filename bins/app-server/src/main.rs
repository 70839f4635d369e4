//! `app-server` binary (thin main).

fn main() {}
