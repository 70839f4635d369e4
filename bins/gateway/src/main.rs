//! `gateway` binary (thin main).

fn main() {}
