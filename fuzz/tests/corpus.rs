//! Every seed input (`corpus/<target>/`) and every past finding (`regressions/<target>/`) runs
//! through its target (no fuzzing): `cargo afl test --release --test corpus` in `fuzz/`, run by
//! `cargo xtask fuzz` before fuzzing (plain `cargo test` cannot link the AFL binaries).

use std::path::Path;

#[test]
fn seeds_and_regressions_run_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (name, body) in openclaw_rs_fuzz::TARGETS {
        let mut seeds = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for e in entries.flatten() {
                let data = std::fs::read(e.path()).unwrap();
                body(&data);
                seeds += 1;
            }
        }
        assert!(
            seeds > 0,
            "target {name} has no seed corpus in corpus/{name}"
        );
        ran += seeds;
    }
    assert!(ran >= openclaw_rs_fuzz::TARGETS.len());
}
