//! AFL target `connect`: see [`openclaw_rs_fuzz::connect`].
fn main() {
    afl::fuzz!(|data: &[u8]| {
        openclaw_rs_fuzz::connect(data);
    });
}
