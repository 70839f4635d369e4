//! `openclaw` binary (thin main).

fn main() -> std::process::ExitCode {
    openclaw_rs_cli::main_with_args(std::env::args_os())
}
