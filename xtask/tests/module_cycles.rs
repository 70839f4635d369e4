//! No module cycles inside a crate: for each checked crate, every `src` file's `crate::<module>`
//! references make a graph of top-level modules, and a strongly connected component of more
//! than one module is a cycle (move the shared piece down into its own module to break it).
//!
//! [`module_cycles`] takes a crate's `src` directory, so other tests can reuse it for more crates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to (`src/a.rs` and `src/a/b.rs` → `a`); `None` for the
/// crate root (`lib.rs`, `main.rs`), which declares every module and is not part of the graph.
fn owning_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (rel.components().count() > 1 || (name != "lib" && name != "main")).then_some(name)
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of every item in a `{ … }` group (nested groups included).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    start = true;
                    continue;
                }
            }
            '}' => {
                if depth == 1 {
                    break;
                }
                depth = depth.saturating_sub(1);
            }
            ',' if depth == 1 => {
                start = true;
                continue;
            }
            _ => {}
        }
        if depth == 1 && start && !c.is_whitespace() {
            start = false;
            let id = ident_at(&group[i..]);
            if !id.is_empty() {
                heads.push(id.to_string());
            }
        }
    }
    heads
}

/// The top-level modules a source text refers to through `crate::` (comments skipped).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(pos) = rest.find("crate::") {
        let before = rest[..pos].chars().next_back();
        rest = &rest[pos + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::`, `my_crate::`
        }
        if rest.starts_with('{') {
            out.extend(group_heads(rest));
        } else {
            let id = ident_at(rest);
            if !id.is_empty() {
                out.insert(id.to_string());
            }
        }
    }
    out
}

/// The module cycles of the crate whose sources are in `src`: each returned set is a strongly
/// connected component of more than one top-level module.
pub fn module_cycles(src: &Path) -> Vec<BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let files = rust_files(src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| owning_module(src, f)).collect();
    for file in &files {
        let Some(module) = owning_module(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let edges = graph.entry(module.clone()).or_default();
        for target in crate_refs(&text) {
            if target != module && modules.contains(&target) {
                edges.insert(target);
            }
        }
    }
    strongly_connected(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect()
}

/// Tarjan's algorithm over a small graph.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<BTreeSet<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            let graph = self.graph;
            for w in graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(lw));
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(iw));
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                self.out.push(component);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v.as_str());
        }
    }
    walk.out
}

fn assert_no_cycles(krate: &str) {
    let src = root().join("crates").join(krate).join("src");
    assert!(src.is_dir(), "{} is not a directory", src.display());
    let cycles = module_cycles(&src);
    assert!(
        cycles.is_empty(),
        "crates/{krate} has module cycles (modules that reach each other through `crate::`): \
         {cycles:?}; move the piece they share down into its own module"
    );
}

#[test]
fn cli_has_no_module_cycles() {
    assert_no_cycles("cli");
}

#[test]
fn auth_has_no_module_cycles() {
    assert_no_cycles("auth");
}

#[test]
fn sessions_has_no_module_cycles() {
    assert_no_cycles("sessions");
}

#[test]
fn the_checker_finds_a_cycle_and_ignores_the_root() {
    let dir = tempfile_dir();
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("c")).expect("mkdir");
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).expect("write");
    write("lib.rs", "//! root\nmod a; mod b; mod c; mod d;\n");
    write("a.rs", "//! a\nuse crate::{b::X, d};\n");
    write("b.rs", "//! b\npub struct X(crate::c::Y);\n");
    write("c.rs", "//! c\nmod inner;\n// crate::d is only a comment\n");
    write("c/inner.rs", "//! c's child\nuse crate::a::Z;\n");
    write("d.rs", "//! d\nmacro_rules! m { () => { $crate::a::Z } }\n");
    let cycles = module_cycles(&src);
    let expected: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    assert_eq!(cycles, vec![expected]);
    write("c/inner.rs", "//! c's child\nuse super::Y;\n");
    assert!(module_cycles(&src).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory under the target dir (xtask has no tempfile dependency).
fn tempfile_dir() -> PathBuf {
    let dir = root().join("target").join("tmp").join(format!(
        "module-cycles-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
