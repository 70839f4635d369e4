//! AFL target `config`: see [`openclaw_rs_fuzz::config`].
fn main() {
    afl::fuzz!(|data: &[u8]| {
        openclaw_rs_fuzz::config(data);
    });
}
