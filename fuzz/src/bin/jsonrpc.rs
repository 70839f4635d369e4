//! AFL target `jsonrpc`: see [`openclaw_rs_fuzz::jsonrpc`].
fn main() {
    afl::fuzz!(|data: &[u8]| {
        openclaw_rs_fuzz::jsonrpc(data);
    });
}
