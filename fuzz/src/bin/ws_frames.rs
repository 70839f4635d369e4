//! AFL target `ws_frames`: see [`openclaw_rs_fuzz::ws_frames`].
fn main() {
    afl::fuzz!(|data: &[u8]| {
        openclaw_rs_fuzz::ws_frames(data);
    });
}
