//! The Control UI on the gateway port: the real build from the `openclaw` npm package served by
//! a real gateway, checked with raw HTTP requests (exact bytes on the wire, no client-side path
//! normalization).

use crate::util::{call, client, connect_retry, gateway_command, kill_and_wait, Secret};
use openclaw_rs_config::Config;
use openclaw_rs_test_support::gateway::{bin_path, free_port, TestGateway};
use openclaw_rs_test_support::node::npm_dir;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HANG_GUARD: Duration = Duration::from_secs(30);

/// The openclaw npm package installed by `cargo xtask install-deps`.
fn package_dir() -> PathBuf {
    npm_dir().join("openclaw/node_modules/openclaw")
}

/// Its Control UI build. Panics when missing: these tests exist to serve the real build.
fn real_build() -> PathBuf {
    let dir = package_dir().join("dist/control-ui");
    assert!(
        dir.join("index.html").is_file(),
        "the openclaw npm package's Control UI build is missing at {}: run `cargo xtask install-deps`",
        dir.display()
    );
    dir
}

fn ui_config(root: &Path, base_path: Option<&str>) -> Config {
    let mut c = Config::default();
    c.gateway.control_ui.root = Some(root.to_path_buf());
    c.gateway.control_ui.base_path = base_path.map(str::to_owned);
    c
}

#[derive(Debug)]
struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One raw HTTP/1.1 request; the gateway answers and closes.
async fn request(port: u16, method: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut buf))
        .await
        .expect("hang guard: response")
        .expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    Resp {
        status,
        head,
        body: buf[split + 4..].to_vec(),
    }
}

async fn get(port: u16, target: &str) -> Resp {
    request(port, "GET", target, &[]).await
}

/// The entry script `index.html` names, e.g. `assets/index-DsEuFQRE.js`.
fn entry_script(index: &str) -> String {
    let at = index.find("src=\"/assets/index-").expect("entry script") + "src=\"/".len();
    let end = at + index[at..].find('"').expect("closing quote");
    index[at..end].to_owned()
}

/// The largest plain file under `assets/` (not a `.br`/`.gz` sibling).
fn largest_asset(root: &Path) -> (String, u64) {
    let mut best = (String::new(), 0);
    for e in std::fs::read_dir(root.join("assets")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let len = e.metadata().unwrap().len();
        if !name.ends_with(".br") && !name.ends_with(".gz") && len > best.1 {
            best = (format!("assets/{name}"), len);
        }
    }
    best
}

#[tokio::test]
async fn control_ui_serves_index_and_assets_with_the_right_headers() {
    let root = real_build();
    let gw = TestGateway::start(openclaw_rs_test_support::gateway::TestGatewayOptions {
        config: Some(ui_config(&root, None)),
        ..Default::default()
    })
    .await;

    let index = get(gw.port, "/").await;
    assert_eq!(index.status, 200, "{}", index.head);
    assert_eq!(
        index.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(index.header("Cache-Control"), Some("no-cache"));
    assert_eq!(index.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(index.header("X-Content-Type-Options"), Some("nosniff"));
    let csp = index.header("Content-Security-Policy").expect("CSP");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    let html = index.text();
    assert!(
        html.contains("data-openclaw-control-ui-base-path=\"\""),
        "{html}"
    );
    assert!(!html.contains("src=\"./assets/"), "asset URLs are anchored");

    // A hashed asset: immutable, the right MIME, the file's exact bytes.
    let entry = entry_script(&html);
    let js = get(gw.port, &format!("/{entry}")).await;
    assert_eq!(js.status, 200, "{}", js.head);
    assert_eq!(
        js.header("Content-Type"),
        Some("application/javascript; charset=utf-8")
    );
    assert_eq!(
        js.header("Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(js.body, std::fs::read(root.join(&entry)).unwrap());

    // The largest asset streams whole (bodies are copied in chunks, never held whole).
    let (big, len) = largest_asset(&root);
    let r = get(gw.port, &format!("/{big}")).await;
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("Content-Length"), Some(len.to_string().as_str()));
    assert_eq!(r.body, std::fs::read(root.join(&big)).unwrap());

    // Unhashed root files: no-cache, their MIME.
    for (path, mime) in [
        ("/favicon.ico", "image/x-icon"),
        ("/favicon.svg", "image/svg+xml"),
        ("/sw.js", "application/javascript; charset=utf-8"),
        (
            "/manifest.webmanifest",
            "application/manifest+json; charset=utf-8",
        ),
    ] {
        let r = get(gw.port, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert_eq!(r.header("Content-Type"), Some(mime), "{path}");
        assert_eq!(r.header("Cache-Control"), Some("no-cache"), "{path}");
    }
    // A query string is ignored.
    assert_eq!(get(gw.port, &format!("/{entry}?v=1")).await.body, js.body);

    // ETag → 304 without a body.
    let etag = js.header("ETag").expect("ETag").to_owned();
    let r = request(
        gw.port,
        "GET",
        &format!("/{entry}"),
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(r.status, 304, "{}", r.head);
    assert!(r.body.is_empty());

    // HEAD: the headers of GET, no body.
    let r = request(gw.port, "HEAD", &format!("/{entry}"), &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Length"),
        Some(js.body.len().to_string().as_str())
    );
    assert!(r.body.is_empty());

    // Other methods: 405 naming the allowed ones.
    let r = request(gw.port, "POST", "/", &[("Content-Length", "0")]).await;
    assert_eq!(r.status, 405, "{}", r.head);
    assert_eq!(r.header("Allow"), Some("GET, HEAD"));

    // The probes keep precedence over the UI.
    let r = get(gw.port, "/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn control_ui_precompressed_siblings_follow_accept_encoding() {
    let root = real_build();
    let gw = TestGateway::start(openclaw_rs_test_support::gateway::TestGatewayOptions {
        config: Some(ui_config(&root, None)),
        ..Default::default()
    })
    .await;
    let entry = entry_script(&get(gw.port, "/").await.text());
    let css = std::fs::read_dir(root.join("assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".css") && root.join("assets").join(format!("{n}.br")).is_file())
        .expect("a css asset with a .br sibling");
    for file in [entry, format!("assets/{css}")] {
        for (accept, coding, suffix) in [
            ("gzip, deflate, br", Some("br"), ".br"),
            ("gzip", Some("gzip"), ".gz"),
            ("br;q=0, gzip;q=0.5", Some("gzip"), ".gz"),
            ("identity", None, ""),
        ] {
            let r = request(
                gw.port,
                "GET",
                &format!("/{file}"),
                &[("Accept-Encoding", accept)],
            )
            .await;
            assert_eq!(r.status, 200, "{file} {accept}: {}", r.head);
            assert_eq!(r.header("Content-Encoding"), coding, "{file} {accept}");
            assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
            let expected = std::fs::read(root.join(format!("{file}{suffix}"))).unwrap();
            assert_eq!(r.body, expected, "{file} {accept}");
        }
        // The siblings themselves are representations, not addressable files.
        assert_eq!(get(gw.port, &format!("/{file}.br")).await.status, 404);
    }
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn control_ui_app_shell_fallback_follows_the_accept_rule() {
    let root = real_build();
    let gw = TestGateway::start(openclaw_rs_test_support::gateway::TestGatewayOptions {
        config: Some(ui_config(&root, None)),
        ..Default::default()
    })
    .await;
    let index = get(gw.port, "/").await.body;
    for accept in [
        Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        Some("text/html"),
        None,
        Some("*/*"),
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let r = request(gw.port, "GET", "/chat", &headers).await;
        assert_eq!(r.status, 200, "/chat with {accept:?}: {}", r.head);
        assert_eq!(r.body, index, "/chat with {accept:?} is the app shell");
        assert_eq!(r.header("Cache-Control"), Some("no-cache"));
    }
    for accept in ["text/html;q=0, */*", "application/json"] {
        let r = request(gw.port, "GET", "/chat", &[("Accept", accept)]).await;
        assert_eq!(r.status, 404, "/chat with {accept}: {}", r.head);
    }
    // A missing file with an extension is a 404, never the shell (as on Node).
    for path in ["/assets/nope.js", "/nope.js", "/assets/nope.css"] {
        let r = request(gw.port, "GET", path, &[("Accept", "text/html")]).await;
        assert_eq!(r.status, 404, "{path}: {}", r.head);
    }
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn control_ui_traversal_never_leaves_the_root() {
    // A small build next to a secret, plus a symlink inside the build pointing at the secret.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ui");
    std::fs::create_dir_all(root.join("assets")).unwrap();
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><html><body>shell</body></html>",
    )
    .unwrap();
    std::fs::write(root.join("assets/app-1.js"), "console.log(1)").unwrap();
    const SECRET: &str = "TOP-SECRET-9d1c";
    std::fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("assets/up")).unwrap();
    let gw = TestGateway::start(openclaw_rs_test_support::gateway::TestGatewayOptions {
        config: Some(ui_config(&root, None)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        get(gw.port, "/assets/app-1.js").await.text(),
        "console.log(1)"
    );
    let attempts = [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/assets/..\\..\\secret.txt",
        "/%00/../secret.txt",
        "/secret.txt%00.js",
        "/link.txt",
        "/assets/up/secret.txt",
        "/assets/up/ui/index.html",
        "//secret.txt",
        &format!("/{}", dir.path().join("secret.txt").display()),
        &format!("/%2f{}", dir.path().join("secret.txt").display()),
        "/%c0%ae%c0%ae/secret.txt",
    ];
    for target in attempts {
        for accept in ["text/html", "application/json"] {
            let r = request(gw.port, "GET", target, &[("Accept", accept)]).await;
            assert!(
                !r.text().contains(SECRET),
                "{target} with {accept} leaked the secret: {}",
                r.head
            );
            assert!(
                r.status == 404 || r.status == 400 || r.text().contains("shell"),
                "{target} with {accept}: {} {}",
                r.head,
                r.text()
            );
        }
    }
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn control_ui_under_a_base_path() {
    let root = real_build();
    let gw = TestGateway::start(openclaw_rs_test_support::gateway::TestGatewayOptions {
        config: Some(ui_config(&root, Some("/openclaw"))),
        ..Default::default()
    })
    .await;
    let r = get(gw.port, "/openclaw").await;
    assert_eq!(r.status, 302, "{}", r.head);
    assert_eq!(r.header("Location"), Some("/openclaw/"));
    let r = get(gw.port, "/openclaw?x=1").await;
    assert_eq!(r.header("Location"), Some("/openclaw/?x=1"));

    let index = get(gw.port, "/openclaw/").await;
    assert_eq!(index.status, 200, "{}", index.head);
    let html = index.text();
    assert!(
        html.contains("data-openclaw-control-ui-base-path=\"/openclaw\""),
        "the UI boots from this attribute"
    );
    assert!(html.contains("src=\"/openclaw/assets/index-"), "{html}");
    assert!(html.contains("href=\"/openclaw/favicon.svg\""), "{html}");
    let at = html.find("src=\"/openclaw/assets/").unwrap() + "src=\"/openclaw/".len();
    let entry = &html[at..at + html[at..].find('"').unwrap()];
    let js = get(gw.port, &format!("/openclaw/{entry}")).await;
    assert_eq!(js.status, 200, "{}", js.head);
    assert_eq!(js.body, std::fs::read(root.join(entry)).unwrap());
    assert_eq!(get(gw.port, "/openclaw/chat").await.body, index.body);

    // Outside the base path nothing is the UI.
    let r = get(gw.port, "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(get(gw.port, &format!("/{entry}")).await.status, 404);
    assert_eq!(get(gw.port, "/openclawx/").await.status, 404);
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn control_ui_disabled_hot_keeps_connections() {
    let root = real_build();
    let gw = TestGateway::start(openclaw_rs_test_support::gateway::TestGatewayOptions {
        config: Some(ui_config(&root, None)),
        ..Default::default()
    })
    .await;
    let c = client(&gw).await;
    assert_eq!(
        c.hello().server.control_ui_build_source.as_deref(),
        Some("configured"),
        "the UI must not compare its build with this server's version"
    );
    let status = call(&c, "status", json!({})).await;
    assert_eq!(status["controlUi"]["source"], "configured", "{status}");
    assert_eq!(status["controlUi"]["enabled"], true);
    assert!(status["controlUi"]["buildId"]
        .as_str()
        .is_some_and(|b| b.starts_with("2026.9.6")));
    let index = get(gw.port, "/").await;
    assert_eq!(index.status, 200);
    let entry = entry_script(&index.text());

    let patch = |enabled: bool| {
        let c = &c;
        async move {
            let got = call(c, "config.get", json!({})).await;
            call(
                c,
                "config.patch",
                json!({
                    "raw": format!("{{ gateway: {{ controlUi: {{ enabled: {enabled} }} }} }}"),
                    "baseHash": got["hash"],
                }),
            )
            .await
        }
    };
    let res = patch(false).await;
    assert_eq!(res["requiresRestart"], false, "{res}");
    assert_eq!(res["actions"], json!(["toggleControlUi"]), "{res}");
    // At once: no UI page, no asset; `/` is the plain gateway line again.
    let r = get(gw.port, "/").await;
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(get(gw.port, &format!("/{entry}")).await.status, 404);
    assert_eq!(
        request(gw.port, "GET", "/chat", &[("Accept", "text/html")])
            .await
            .status,
        404
    );
    // The connected client was not dropped.
    let status = call(&c, "status", json!({})).await;
    assert_eq!(status["controlUi"]["enabled"], false, "{status}");

    patch(true).await;
    assert_eq!(get(gw.port, &format!("/{entry}")).await.status, 200);
    gw.stop().await.unwrap();
}

/// The real `gateway` binary with `path` as its whole `PATH` and no npm prefix.
async fn spawn_gateway(state: &Path, path: &std::ffi::OsStr) -> (tokio::process::Child, u16) {
    let port = free_port();
    let child = gateway_command(state)
        .args(["--port", &port.to_string(), "--token", "ui-tok"])
        .env("PATH", path)
        .env_remove("npm_config_prefix")
        .env_remove("NPM_CONFIG_PREFIX")
        .spawn()
        .expect("spawn gateway");
    (child, port)
}

#[tokio::test]
async fn control_ui_is_discovered_from_the_openclaw_on_path() {
    let pkg = package_dir();
    real_build();
    let dir = tempfile::tempdir().unwrap();
    // Our own Rust `openclaw` first on PATH (skipped: no build next to it), then npm's layout:
    // <prefix>/bin/openclaw -> the package's openclaw.mjs.
    let ours = dir.path().join("ours");
    let npm_bin = dir.path().join("prefix/bin");
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&npm_bin).unwrap();
    std::os::unix::fs::symlink(bin_path("openclaw"), ours.join("openclaw")).unwrap();
    std::os::unix::fs::symlink(pkg.join("openclaw.mjs"), npm_bin.join("openclaw")).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let path = std::env::join_paths([&ours, &npm_bin]).unwrap();
    let (mut child, port) = spawn_gateway(&state, &path).await;
    let c = connect_retry(
        &format!("ws://127.0.0.1:{port}"),
        Secret::Token("ui-tok"),
        &state,
    )
    .await;
    let status = call(&c, "status", json!({})).await;
    let canonical = pkg.join("dist/control-ui").canonicalize().unwrap();
    assert_eq!(status["controlUi"]["source"], "installed", "{status}");
    assert_eq!(
        status["controlUi"]["root"],
        canonical.display().to_string(),
        "{status}"
    );
    let index = get(port, "/").await;
    assert_eq!(index.status, 200, "{}", index.head);
    assert_eq!(
        index.body,
        get(port, "/chat").await.body,
        "the shell is the build's index.html"
    );
    assert!(index.text().contains("data-openclaw-control-ui-build-id"));

    // `openclaw gateway status` (our CLI) says which build is served.
    let out = crate::util::openclaw_rs_cli(
        &[
            "gateway",
            "status",
            "--url",
            &format!("ws://127.0.0.1:{port}"),
            "--token",
            "ui-tok",
        ],
        Some(&state),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "control UI:  installed build at {}",
            canonical.display()
        )),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(c);
    kill_and_wait(&mut child).await;
}

#[tokio::test]
async fn control_ui_builtin_page_when_nothing_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-bin");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let (mut child, port) = spawn_gateway(&state, empty.as_os_str()).await;
    let c = connect_retry(
        &format!("ws://127.0.0.1:{port}"),
        Secret::Token("ui-tok"),
        &state,
    )
    .await;
    assert_eq!(c.hello().server.control_ui_build_source, None);
    let status = call(&c, "status", json!({})).await;
    assert_eq!(status["controlUi"]["source"], "builtIn", "{status}");
    for target in ["/", "/chat"] {
        let r = get(port, target).await;
        assert_eq!(r.status, 503, "{target}: {}", r.head);
        assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
        let page = r.text();
        assert!(page.contains("npm i -g openclaw@2026.9.6"), "{page}");
        assert!(page.contains("gateway.controlUi.root"), "{page}");
    }
    assert_eq!(get(port, "/assets/index-x.js").await.status, 404);
    assert_eq!(get(port, "/healthz").await.status, 200);
    drop(c);
    kill_and_wait(&mut child).await;
}
