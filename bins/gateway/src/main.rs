//! `gateway` binary (thin main): the flags of `openclaw gateway run`.

fn main() -> std::process::ExitCode {
    openclaw_rs_cli::gateway_main_with_args(std::env::args_os())
}
