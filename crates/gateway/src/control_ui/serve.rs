//! Serving the Control UI build over the gateway's hand-written HTTP/1 side.
//!
//! What OpenClaw's Node gateway does (`dist/control-ui-*.mjs`, observed with `curl`), kept:
//! its MIME table, its security headers (CSP with the hashes of `index.html`'s inline scripts,
//! `X-Frame-Options: DENY`, …), `index.html` rewritten with the base path (asset URLs and the
//! `data-openclaw-control-ui-base-path` attribute the UI boots from), `no-cache` for `index.html`
//! and unhashed files, `immutable` for `assets/`, the precompressed `.br`/`.gz` siblings by
//! `Accept-Encoding`, and the app-shell fallback only for requests that accept HTML.
//! Added: `ETag`/`If-None-Match` → 304, 405 with `Allow` for other methods.
//!
//! Bodies stream from the file in 64 KiB chunks (never a whole asset in memory), at most
//! [`super::MAX_CONCURRENT_FILES`] at once. Every answer is `Connection: close`.

use super::{ControlUi, UiSource, MAX_INDEX_BYTES, OPENCLAW_PACKAGE};
use crate::http::Head;
use crate::state::GatewayState;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Read size when streaming a file body.
const CHUNK: usize = 64 * 1024;

/// The built-in page served when no build is found.
const BUILTIN_PAGE: &str = include_str!("builtin.html");

/// Whether the Control UI answers this request: not a probe, and [`wants_control_ui`].
pub(crate) fn serves(state: &GatewayState, head: &Head) -> bool {
    let path = head.facts.path.split('?').next().unwrap_or("/");
    !crate::http::is_probe(path) && wants_control_ui(state, path)
}

/// Whether `path` (no query) is the Control UI's: serving is enabled in the live config and the
/// path lies under the base path. The probe paths are checked before this.
pub(crate) fn wants_control_ui(state: &GatewayState, path: &str) -> bool {
    if !state.config().load().gateway.control_ui.is_enabled() {
        return false;
    }
    let base = &state.control_ui().base_path;
    base.is_empty()
        || path == base
        || path
            .strip_prefix(base.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}

/// One answer, before its body.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

enum Body {
    Empty,
    Text(String),
    File { path: PathBuf, len: u64 },
}

impl Answer {
    fn new(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    fn text(status: u16, body: &str) -> Answer {
        Answer::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .with_body(Body::Text(body.to_owned()))
    }

    fn with_body(mut self, body: Body) -> Answer {
        self.body = body;
        self
    }
}

/// Answer a Control UI request, then close.
pub(crate) async fn respond(stream: &mut TcpStream, state: &GatewayState, head: &Head) {
    let ui = &state.control_ui();
    let answer = route(ui, head);
    write_answer(stream, ui, head, answer).await;
    let _ = stream.shutdown().await;
}

fn route(ui: &ControlUi, head: &Head) -> Answer {
    let (path, query) = match head.facts.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (head.facts.path.as_str(), None),
    };
    let base = ui.base_path.as_str();
    if head.method != "GET" && head.method != "HEAD" {
        return Answer::text(405, "Method Not Allowed").header("Allow", "GET, HEAD");
    }
    if !base.is_empty() && path == base {
        let location = match query {
            Some(q) => format!("{base}/?{q}"),
            None => format!("{base}/"),
        };
        return Answer::new(302).header("Location", location);
    }
    let ui_path = &path[base.len()..];
    // OpenClaw reserves `/ui` when the UI is at the root.
    if base.is_empty() && (ui_path == "/ui" || ui_path.starts_with("/ui/")) {
        return not_found();
    }
    let wants_html = accepts_html(head.accept.as_deref());
    let Some(rel) = request_file(ui_path) else {
        return not_found();
    };
    let ext = extension(&rel);
    let Some(root) = ui.root.as_deref() else {
        return builtin_page(ui, wants_html && !is_static_asset(&ext));
    };
    // The compressed siblings are representations, chosen by Accept-Encoding.
    if ext == "br" || ext == "gz" {
        return not_found();
    }
    if file_name(&rel) != "index.html" {
        if let Some(file) = resolve_file(root, &rel) {
            return static_file(head, &rel, &file);
        }
        if is_static_asset(&ext) {
            return not_found();
        }
        if !wants_html {
            return not_found();
        }
    }
    index_page(ui, root, head)
}

fn not_found() -> Answer {
    Answer::text(404, "Not Found")
}

/// The relative file a UI path asks for: `""` and directories mean `index.html`; a deep link
/// holding `/assets/` asks for that asset; `/__openclaw__/<root asset>` for that asset.
/// `None` when the path is not a clean relative path (see [`clean_path`]).
pub(crate) fn request_file(ui_path: &str) -> Option<String> {
    let decoded = percent_decode(ui_path)?;
    let mut rel = clean_path(&decoded)?;
    if let Some(i) = decoded.find("/assets/") {
        rel = clean_path(&decoded[i..])?;
    } else if let Some(asset) = decoded.strip_prefix("/__openclaw__/") {
        if ROOT_PUBLIC_ASSETS.contains(&asset) {
            rel = asset.to_owned();
        }
    }
    if rel.is_empty() || decoded.ends_with('/') {
        rel = if rel.is_empty() {
            "index.html".into()
        } else {
            format!("{rel}/index.html")
        };
    }
    Some(rel)
}

/// Root files of the build served under any mount (OpenClaw's `CONTROL_UI_ROOT_PUBLIC_ASSETS`).
const ROOT_PUBLIC_ASSETS: &[&str] = &[
    "apple-touch-icon.png",
    "favicon-32.png",
    "favicon.ico",
    "favicon.svg",
    "manifest.webmanifest",
    "sw.js",
];

/// Strict percent-decoding: `None` for a malformed escape or a result that is not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A decoded URL path as a relative path of plain segments: empty and `.` segments dropped;
/// `None` for `..`, a backslash or a NUL anywhere (no way out of the root, on any platform).
pub(crate) fn clean_path(decoded: &str) -> Option<String> {
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut segs = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s => segs.push(s),
        }
    }
    Some(segs.join("/"))
}

/// OpenClaw's Accept rule for the app-shell fallback: no (or an empty) `Accept` accepts; else
/// the most specific range matching `text/html` must have q > 0, or `application/xhtml+xml`
/// must be named with q > 0. `text/html;q=0, */*` is an explicit rejection.
pub(crate) fn accepts_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    // (specificity, q) of the best range for text/html.
    let mut best: Option<(u8, f32)> = None;
    let mut xhtml = false;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
        }
        let specificity = match media.as_str() {
            "text/html" => 3,
            "text/*" => 2,
            "*/*" => 1,
            "application/xhtml+xml" => {
                xhtml |= q > 0.0;
                continue;
            }
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.is_some_and(|(_, q)| q > 0.0) || xhtml
}

/// The canonical path of `root/rel` when it is a regular file inside `root` (symlinks
/// resolved, so a link pointing out of the build is refused).
fn resolve_file(root: &Path, rel: &str) -> Option<PathBuf> {
    let path = root.join(rel).canonicalize().ok()?;
    (path.starts_with(root) && path.is_file()).then_some(path)
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

fn extension(rel: &str) -> String {
    let name = file_name(rel);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// OpenClaw's Control UI MIME table (`CONTROL_UI_CONTENT_TYPES`), plus `mjs` and a few font and
/// image types; anything else is `application/octet-stream`, as there.
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("js", "application/javascript; charset=utf-8"),
    ("mjs", "application/javascript; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("json", "application/json; charset=utf-8"),
    ("map", "application/json; charset=utf-8"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("txt", "text/plain; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("webmanifest", "application/manifest+json; charset=utf-8"),
    ("woff2", "font/woff2"),
    ("woff", "font/woff"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
];

/// A known asset type other than HTML: a missing one is a 404, never the app shell.
fn is_static_asset(ext: &str) -> bool {
    ext != "html" && CONTENT_TYPES.iter().any(|(e, _)| *e == ext)
}

/// The `Content-Type` for a file extension (lowercase, no dot).
pub(crate) fn content_type(ext: &str) -> &'static str {
    CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map_or("application/octet-stream", |(_, t)| t)
}

/// Extensions the build ships `.br`/`.gz` siblings for (OpenClaw's compressible set).
const COMPRESSIBLE: &[&str] = &[
    "css",
    "html",
    "js",
    "mjs",
    "json",
    "svg",
    "txt",
    "wasm",
    "webmanifest",
];

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Codings the request accepts, best first, among `br` and `gzip` (q > 0; `*` counts).
pub(crate) fn accepted_codings(accept_encoding: Option<&str>) -> Vec<&'static str> {
    let mut found: Vec<(&'static str, f32)> = Vec::new();
    let mut star: Option<f32> = None;
    for item in accept_encoding.unwrap_or("").split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
        }
        match name.as_str() {
            "br" => found.push(("br", q)),
            "gzip" | "x-gzip" => found.push(("gzip", q)),
            "*" => star = Some(q),
            _ => {}
        }
    }
    if let Some(q) = star {
        for c in ["br", "gzip"] {
            if !found.iter().any(|(n, _)| *n == c) {
                found.push((c, q));
            }
        }
    }
    found.retain(|(_, q)| *q > 0.0);
    // Higher q first; on a tie br (the smaller file) before gzip.
    found.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| (a.0 != "br").cmp(&(b.0 != "br")))
    });
    found.into_iter().map(|(n, _)| n).collect()
}

fn static_file(head: &Head, rel: &str, file: &Path) -> Answer {
    let ext = extension(rel);
    let mut body_path = file.to_path_buf();
    let mut encoding = None;
    if COMPRESSIBLE.contains(&ext.as_str()) {
        for coding in accepted_codings(head.accept_encoding.as_deref()) {
            let suffix = if coding == "br" { "br" } else { "gz" };
            let mut name = file.as_os_str().to_owned();
            name.push(".");
            name.push(suffix);
            let sibling = PathBuf::from(name);
            if sibling.is_file() {
                body_path = sibling;
                encoding = Some(coding);
                break;
            }
        }
    }
    let Ok(meta) = std::fs::metadata(&body_path) else {
        return not_found();
    };
    let etag = etag(&meta, encoding);
    let cache = if rel.starts_with("assets/") {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let mut a = Answer::new(200)
        .header("Content-Type", content_type(&ext))
        .header("Cache-Control", cache)
        .header("Vary", "Accept-Encoding")
        .header("ETag", etag.clone());
    if let Some(c) = encoding {
        a = a.header("Content-Encoding", c);
    }
    if if_none_match(head.if_none_match.as_deref(), &etag) {
        a.status = 304;
        a.headers
            .retain(|(n, _)| *n != "Content-Type" && *n != "Content-Encoding");
        return a;
    }
    a.with_body(Body::File {
        path: body_path,
        len: meta.len(),
    })
}

/// A weak validator from the representation's size and modification time.
fn etag(meta: &std::fs::Metadata, encoding: Option<&str>) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let enc = encoding.map(|e| format!("-{e}")).unwrap_or_default();
    format!("W/\"{:x}-{mtime:x}{enc}\"", meta.len())
}

/// `If-None-Match` matches `etag` (weak comparison, `*` matches any).
fn if_none_match(header: Option<&str>, etag: &str) -> bool {
    let Some(h) = header else { return false };
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    h.split(',')
        .any(|t| t.trim() == "*" || strip(t) == strip(etag))
}

/// `index.html`, prepared like OpenClaw's `serveResolvedIndexHtml`: asset URLs anchored at the
/// base path, the base-path and terminal attributes on `<html>`, a CSP naming the hashes of its
/// inline scripts. This gateway has no terminal, so `data-openclaw-terminal-enabled="false"`.
fn index_page(ui: &ControlUi, root: &Path, head: &Head) -> Answer {
    let Some(file) = resolve_file(root, "index.html") else {
        return builtin_page(ui, true);
    };
    let html = match std::fs::metadata(&file) {
        Ok(m) if m.len() <= MAX_INDEX_BYTES => std::fs::read_to_string(&file).ok(),
        _ => None,
    };
    let Some(html) = html else {
        return Answer::text(500, "Control UI index.html unreadable");
    };
    let prepared = prepare_index(&html, &ui.base_path);
    let csp = csp(&inline_script_hashes(&prepared), head.facts.host.as_deref());
    Answer::new(200)
        .header("Content-Security-Policy", csp)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-cache")
        .header("Vary", "Accept-Encoding")
        .with_body(Body::Text(prepared))
}

/// Rewrite `index.html` for the base path (OpenClaw's `rewriteControlUiIndexHtmlAssetHrefs` and
/// the `<html>` attributes).
pub(crate) fn prepare_index(html: &str, base: &str) -> String {
    let mut out = html
        .replace("src=\"./assets/", &format!("src=\"{base}/assets/"))
        .replace("href=\"./assets/", &format!("href=\"{base}/assets/"));
    for asset in ROOT_PUBLIC_ASSETS {
        let to = format!("href=\"{base}/{asset}\"");
        out = out
            .replace(&format!("href=\"./{asset}\""), &to)
            .replace(&format!("href=\"/{asset}\""), &to);
    }
    if let Some(i) = out.find("<html") {
        let attrs = format!(
            " data-openclaw-control-ui-base-path=\"{}\" data-openclaw-terminal-enabled=\"false\"",
            html_escape(base)
        );
        out.insert_str(i + "<html".len(), &attrs);
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `sha256-…` of every inline `<script>` body (scripts with a `src` are skipped).
pub(crate) fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut hashes = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| i + at) {
        let Some(open_end) = lower[start..].find('>').map(|i| i + start + 1) else {
            break;
        };
        let Some(close) = lower[open_end..].find("</script>").map(|i| i + open_end) else {
            break;
        };
        let open = &lower[start..open_end];
        let has_src = open
            .split(|c: char| c.is_whitespace())
            .any(|a| a == "src" || a.starts_with("src="));
        let content = &html[open_end..close];
        if !has_src && !content.is_empty() {
            let digest = Sha256::digest(content.as_bytes());
            hashes.push(format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        at = close + "</script>".len();
    }
    hashes
}

/// OpenClaw's Control UI CSP (`buildControlUiCspHeader`), with the page's inline script hashes
/// and, like OpenClaw, `http(s)://<request host>:*` in `connect-src`.
fn csp(hashes: &[String], host: Option<&str>) -> String {
    let mut script = vec!["'self'".to_owned()];
    script.extend(hashes.iter().map(|h| format!("'{h}'")));
    let mut connect = vec![
        "'self'",
        "ws:",
        "wss:",
        "data:",
        "https://api.openai.com",
        "https://tweakcn.com",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    if let Some(name) = host.and_then(host_name) {
        connect.push(format!("http://{name}:*"));
        connect.push(format!("https://{name}:*"));
    }
    [
        "default-src 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "object-src 'none'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
        "frame-src 'self' http: https:".to_owned(),
        format!("script-src {}", script.join(" ")),
        "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com".to_owned(),
        "img-src 'self' data: blob: https:".to_owned(),
        "media-src 'self' data: blob:".to_owned(),
        "font-src 'self' https://fonts.gstatic.com".to_owned(),
        "worker-src 'self'".to_owned(),
        format!("connect-src {}", connect.join(" ")),
    ]
    .join("; ")
}

/// The host name of a `Host` header (`name` or `[v6]`, port dropped), when it is plain.
fn host_name(host: &str) -> Option<&str> {
    let name = if host.starts_with('[') {
        &host[..host.find(']')? + 1]
    } else {
        host.split(':').next()?
    };
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    ok.then_some(name)
}

/// No build: navigation gets the built-in page (503, like OpenClaw's "assets not found"),
/// anything else 404.
fn builtin_page(ui: &ControlUi, wants_html: bool) -> Answer {
    if !wants_html {
        return not_found();
    }
    debug_assert_eq!(ui.source, UiSource::BuiltIn);
    let page = BUILTIN_PAGE
        .replace("{{PACKAGE}}", OPENCLAW_PACKAGE)
        .replace("{{DETAIL}}", &html_escape(&ui.detail));
    Answer::new(503)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .with_body(Body::Text(page))
}

/// OpenClaw's headers on every Control UI answer.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Permissions-Policy",
        "camera=(self), microphone=*, geolocation=*, clipboard-write=*",
    ),
    ("X-Frame-Options", "DENY"),
];

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    }
}

async fn write_answer(stream: &mut TcpStream, ui: &ControlUi, head: &Head, a: Answer) {
    use std::fmt::Write as _;
    let mut out = format!("HTTP/1.1 {} {}\r\n", a.status, reason(a.status));
    for (n, v) in SECURITY_HEADERS {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    if !a
        .headers
        .iter()
        .any(|(n, _)| *n == "Content-Security-Policy")
    {
        let _ = write!(out, "Content-Security-Policy: {}\r\n", csp(&[], None));
    }
    for (n, v) in &a.headers {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    let len = match &a.body {
        Body::Empty => 0,
        Body::Text(t) => t.len() as u64,
        Body::File { len, .. } => *len,
    };
    if a.status != 304 {
        let _ = write!(out, "Content-Length: {len}\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let head_only = head.method == "HEAD" || a.status == 304;
    match a.body {
        Body::Text(t) if !head_only => out.push_str(&t),
        Body::File { path, len } if !head_only => {
            if stream.write_all(out.as_bytes()).await.is_err() {
                return;
            }
            let Ok(_permit) = ui.file_permits.acquire().await else {
                return;
            };
            stream_file(stream, &path, len).await;
            return;
        }
        _ => {}
    }
    let _ = stream.write_all(out.as_bytes()).await;
}

/// Copy `len` bytes of `path` to the socket in [`CHUNK`]s. A file that shrank meanwhile ends
/// the answer early (the client sees a short body and the close).
async fn stream_file(stream: &mut TcpStream, path: &Path, len: u64) {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return;
    };
    let mut buf = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = match file.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
        left -= n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_rule_follows_openclaw() {
        assert!(accepts_html(None));
        assert!(accepts_html(Some("")));
        assert!(accepts_html(Some("*/*")));
        assert!(accepts_html(Some("text/html")));
        assert!(accepts_html(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(accepts_html(Some("text/*")));
        assert!(accepts_html(Some("application/xhtml+xml")));
        assert!(!accepts_html(Some("text/html;q=0, */*")));
        assert!(!accepts_html(Some("text/html; q=0.0, */*;q=1")));
        assert!(!accepts_html(Some("application/json")));
        assert!(!accepts_html(Some("*/*;q=0")));
        assert!(!accepts_html(Some("text/css,*/*;q=0.1, text/html;q=0")));
    }

    #[test]
    fn paths_are_cleaned_and_traversal_refused() {
        assert_eq!(request_file("/").as_deref(), Some("index.html"));
        assert_eq!(request_file("").as_deref(), Some("index.html"));
        assert_eq!(request_file("/chat").as_deref(), Some("chat"));
        assert_eq!(request_file("/a/./b//c").as_deref(), Some("a/b/c"));
        assert_eq!(request_file("/docs/").as_deref(), Some("docs/index.html"));
        assert_eq!(
            request_file("/chat/deep/assets/x-1.js").as_deref(),
            Some("assets/x-1.js")
        );
        assert_eq!(
            request_file("/__openclaw__/favicon.svg").as_deref(),
            Some("favicon.svg")
        );
        assert_eq!(
            request_file("/assets/a%20b.js").as_deref(),
            Some("assets/a b.js")
        );
        for bad in [
            "/../etc/passwd",
            "/assets/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/%2E%2E/etc/passwd",
            "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "/..%5c..%5cetc%5cpasswd",
            "/a\\..\\b",
            "/a%00.js",
            "/%zz",
            "/%e2%28",
            "/%",
        ] {
            assert_eq!(request_file(bad), None, "{bad}");
        }
        // An absolute path in the URL stays relative to the root.
        assert_eq!(request_file("//etc/passwd").as_deref(), Some("etc/passwd"));
    }

    #[test]
    fn codings_by_accept_encoding() {
        assert_eq!(accepted_codings(None), Vec::<&str>::new());
        assert_eq!(accepted_codings(Some("gzip, deflate, br")), ["br", "gzip"]);
        assert_eq!(accepted_codings(Some("gzip")), ["gzip"]);
        assert_eq!(accepted_codings(Some("br;q=0, gzip")), ["gzip"]);
        assert_eq!(accepted_codings(Some("gzip;q=1, br;q=0.5")), ["gzip", "br"]);
        assert_eq!(accepted_codings(Some("*")), ["br", "gzip"]);
        assert_eq!(accepted_codings(Some("identity")), Vec::<&str>::new());
    }

    #[test]
    fn mime_table() {
        assert_eq!(content_type("js"), "application/javascript; charset=utf-8");
        assert_eq!(content_type("woff2"), "font/woff2");
        assert_eq!(
            content_type("webmanifest"),
            "application/manifest+json; charset=utf-8"
        );
        assert_eq!(content_type("exe"), "application/octet-stream");
        assert_eq!(extension("assets/x.CSS"), "css");
        assert_eq!(extension(".hidden"), "");
    }

    #[test]
    fn index_is_prepared_like_openclaw() {
        let html =
            "<!doctype html>\n<html data-openclaw-control-ui-build-id=\"b\" lang=\"en\"><head>\
<link rel=\"icon\" href=\"./favicon.svg\" /><script>a()</script>\
<script type=\"module\" crossorigin src=\"./assets/index-1.js\"></script>\
<link rel=\"modulepreload\" href=\"./assets/x.js\"></head></html>";
        let out = prepare_index(html, "/openclaw");
        assert!(out.contains("<html data-openclaw-control-ui-base-path=\"/openclaw\" data-openclaw-terminal-enabled=\"false\" data-openclaw-control-ui-build-id=\"b\""));
        assert!(out.contains("src=\"/openclaw/assets/index-1.js\""));
        assert!(out.contains("href=\"/openclaw/assets/x.js\""));
        assert!(out.contains("href=\"/openclaw/favicon.svg\""));
        let root = prepare_index(html, "");
        assert!(root.contains("src=\"/assets/index-1.js\""));
        // Only the inline script is hashed: sha256("a()").
        assert_eq!(
            inline_script_hashes(&out),
            ["sha256-qVpDBgj7bpq5hMAcGp3AOc79J3Y1Z4HvySTwKrWDoy4="]
        );
    }

    #[test]
    fn etags_match_weakly() {
        assert!(if_none_match(Some("W/\"1-2\""), "W/\"1-2\""));
        assert!(if_none_match(Some("\"x\", W/\"1-2\""), "W/\"1-2\""));
        assert!(if_none_match(Some("*"), "W/\"1-2\""));
        assert!(!if_none_match(Some("W/\"1-3\""), "W/\"1-2\""));
        assert!(!if_none_match(None, "W/\"1-2\""));
    }

    #[test]
    fn host_names_for_csp() {
        assert_eq!(host_name("127.0.0.1:18789"), Some("127.0.0.1"));
        assert_eq!(host_name("[::1]:80"), Some("[::1]"));
        assert_eq!(host_name("evil\"; x"), None);
    }
}
