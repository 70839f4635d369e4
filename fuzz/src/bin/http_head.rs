//! AFL target `http_head`: see [`openclaw_rs_fuzz::http_head`].
fn main() {
    afl::fuzz!(|data: &[u8]| {
        openclaw_rs_fuzz::http_head(data);
    });
}
