//! AFL target `journal`: see [`openclaw_rs_fuzz::journal`].
fn main() {
    afl::fuzz!(|data: &[u8]| {
        openclaw_rs_fuzz::journal(data);
    });
}
