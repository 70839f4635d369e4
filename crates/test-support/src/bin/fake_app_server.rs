//! `fake-app-server`: the fault-injecting fake app-server (see `openclaw_rs_test_support::fake_app_server`).

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = openclaw_rs_test_support::fake_app_server::run(args).await;
    std::process::exit(code);
}
