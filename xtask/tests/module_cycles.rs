//! Module layering, enforced by plain `cargo test`: no module cycles inside a crate.
//!
//! A module *uses* another when its non-test code names it by path: `crate::a::…`,
//! `super::…`, `self::…`, or a child module it declares (`child::…`, `pub use child::…`). An item
//! reached through a re-export counts as a use of the module that re-exports it (so
//! `crate::Item` re-exported by `lib.rs` is a use of the crate root). Comments and
//! `#[cfg(test)]` sections are ignored. A cycle (A uses B and B uses A, directly or through a
//! chain) fails the test, naming the modules and one path of uses that closes it.
//!
//! [`cycles`] takes any crate's `src` directory; the tests below apply it to the crates whose
//! layering is enforced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// One module: its path (`crate`, `a`, `a::b`), its file, and its code without comments/tests.
struct Module {
    path: String,
    code: String,
}

/// The module path of `file` inside `src` (`lib.rs` → `crate`, `a/mod.rs` → `a`, `a/b.rs` → `a::b`).
fn module_path(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    if parts.is_empty() {
        "crate".into()
    } else {
        parts.join("::")
    }
}

/// The code of a file without `//` comments and without everything from the first
/// `#[cfg(test)]` on (test modules sit at the end of a file by convention).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        let line = match line.find("//") {
            // A `//` inside a string literal (a URL) is rare in module paths; cut anyway.
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn modules(src: &Path) -> Vec<Module> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                out.push(Module {
                    path: module_path(src, &p),
                    code: code_of(&text),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The path segments that follow position `i` in `code` (after a `::`), expanding one level of
/// `{a::b, c}` groups into separate paths.
fn paths_after(code: &str, i: usize) -> Vec<Vec<String>> {
    let rest = &code[i..];
    let mut segs = Vec::new();
    let mut pos = 0;
    loop {
        let tail = &rest[pos..];
        let tail_trim = tail.trim_start();
        pos += tail.len() - tail_trim.len();
        if let Some(group) = tail_trim.strip_prefix('{') {
            // Split the group at depth 0 commas.
            let mut depth = 0;
            let mut end = group.len();
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = j;
                        break;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            let inner = &group[..end];
            let mut items = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&inner[start..j]);
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            items.push(&inner[start..]);
            let mut out = Vec::new();
            for item in items {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                for sub in paths_after(item, 0) {
                    let mut p = segs.clone();
                    p.extend(sub);
                    out.push(p);
                }
            }
            return out;
        }
        let ident: String = tail_trim.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            break;
        }
        pos += ident.len();
        segs.push(ident);
        if rest[pos..].starts_with("::") {
            pos += 2;
        } else {
            break;
        }
    }
    vec![segs]
}

/// The byte spans of inline `mod name { … }` blocks in `code`.
fn inline_mod_spans(code: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for (i, _) in code.match_indices("mod ") {
        if code[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &code[i + 4..];
        let name_len = rest.chars().take_while(|c| is_ident(*c)).count();
        let after = rest[name_len..].trim_start();
        if name_len == 0 || !after.starts_with('{') {
            continue;
        }
        let open = code.len() - after.len();
        let mut depth = 0usize;
        for (j, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        spans.push((open, open + j));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    spans
}

/// Which modules each module uses.
fn edges(mods: &[Module]) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<&str> = mods.iter().map(|m| m.path.as_str()).collect();
    let child = |parent: &str, name: &str| -> String {
        if parent == "crate" {
            name.to_owned()
        } else {
            format!("{parent}::{name}")
        }
    };
    let parent_of = |m: &str| -> String {
        match m.rfind("::") {
            Some(i) => m[..i].to_owned(),
            None if m == "crate" => "crate".into(),
            None => "crate".into(),
        }
    };
    // Walk `segs` from `base` through known modules; the deepest module reached is the target.
    let resolve = |base: String, segs: &[String]| -> String {
        let mut cur = base;
        for s in segs {
            let next = child(&cur, s);
            if known.contains(next.as_str()) {
                cur = next;
            } else {
                break;
            }
        }
        cur
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in mods {
        let code = &m.code;
        let inline = inline_mod_spans(code);
        let mut targets = BTreeSet::new();
        for (i, _) in code.match_indices("::") {
            // The identifier just before `::`, and what precedes it.
            let before = &code[..i];
            let ident_start = before
                .char_indices()
                .rev()
                .take_while(|(_, c)| is_ident(*c))
                .last()
                .map_or(i, |(j, _)| j);
            let ident = &code[ident_start..i];
            if ident.is_empty() {
                continue;
            }
            let prev = code[..ident_start].chars().next_back();
            // `a::b::c`: only the head of a path matters.
            if code[..ident_start].ends_with("::") {
                continue;
            }
            if prev.is_some_and(is_ident) {
                continue;
            }
            let in_inline = inline.iter().any(|(a, b)| *a < i && i < *b);
            let base = match ident {
                "crate" => "crate".to_owned(),
                // `super` inside an inline `mod x { … }` is the file's own module.
                "super" if in_inline => m.path.clone(),
                "super" => parent_of(&m.path),
                "self" => m.path.clone(),
                name => {
                    let c = child(&m.path, name);
                    if known.contains(c.as_str()) {
                        c
                    } else {
                        continue;
                    }
                }
            };
            for segs in paths_after(code, i + 2) {
                let mut base = base.clone();
                let mut segs = segs.as_slice();
                // `super::super::…`
                while segs.first().is_some_and(|s| s == "super") {
                    base = parent_of(&base);
                    segs = &segs[1..];
                }
                let t = resolve(base, segs);
                if t != m.path {
                    targets.insert(t);
                }
            }
        }
        out.insert(m.path.clone(), targets);
    }
    out
}

/// The module cycles of the crate whose sources are in `src`: each strongly connected group of
/// two or more modules, as one closed path of uses (`a -> b -> a`).
pub fn cycles(src: &Path) -> Vec<String> {
    let mods = modules(src);
    let g = edges(&mods);
    let nodes: Vec<&String> = g.keys().collect();
    // Tarjan's strongly connected components.
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        on: BTreeSet<&'a str>,
        stack: Vec<&'a str>,
        next: usize,
        sccs: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.g.get(v) {
            for w in ws {
                let w = w.as_str();
                if !t.g.contains_key(w) {
                    continue;
                }
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort_unstable();
                t.sccs.push(scc);
            }
        }
    }
    let mut t = T {
        g: &g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        sccs: Vec::new(),
    };
    for v in nodes {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    let sccs = t.sccs.clone();
    sccs.iter()
        .map(|scc| {
            // One closed path inside the component, from its first module (breadth-first).
            let members: BTreeSet<&str> = scc.iter().copied().collect();
            let start = scc[0];
            let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut closing = None;
            while let Some(v) = queue.pop_front() {
                for w in g.get(v).into_iter().flatten() {
                    let w = w.as_str();
                    if !members.contains(w) {
                        continue;
                    }
                    if w == start {
                        closing = Some(v);
                        queue.clear();
                        break;
                    }
                    if !prev.contains_key(w) {
                        prev.insert(w, v);
                        queue.push_back(w);
                    }
                }
            }
            let mut path = vec![start];
            let mut cur = closing.unwrap_or(start);
            let mut back = Vec::new();
            while cur != start {
                back.push(cur);
                cur = prev.get(cur).copied().unwrap_or(start);
            }
            back.reverse();
            path.extend(back);
            path.push(start);
            format!("{{{}}}: {}", scc.join(", "), path.join(" -> "))
        })
        .collect()
}

fn assert_no_cycles(krate: &str) {
    let src = root().join("crates").join(krate).join("src");
    assert!(src.is_dir(), "{} is not a directory", src.display());
    let found = cycles(&src);
    assert!(
        found.is_empty(),
        "module cycles in crates/{krate} (a module must not use, directly or through others, a \
         module that uses it; move the shared item down a layer, and name the defining module \
         instead of a re-export):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_finds_a_cycle_and_a_clean_tree() {
    let dir = std::env::temp_dir().join(format!("module-cycles-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\npub use b::Thing;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "mod c;\nuse crate::b::Thing;\n").unwrap();
    std::fs::write(
        src.join("a/c.rs"),
        "// crate::b::Nope in a comment\nuse super::super::b;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("b.rs"),
        "pub struct Thing;\n#[cfg(test)]\nmod tests { use crate::a::X; }\n",
    )
    .unwrap();
    assert!(cycles(&src).is_empty(), "{:?}", cycles(&src));
    // b uses a::c through a group; a::c uses b: a cycle.
    std::fs::write(
        src.join("b.rs"),
        "use crate::{a::{c::Y}, x};\npub struct Thing;\n",
    )
    .unwrap();
    let found = cycles(&src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("a::c") && found[0].contains('b'),
        "{found:?}"
    );
    // `super` inside an inline module is the file's own module, not its parent.
    std::fs::write(
        src.join("b.rs"),
        "pub struct Thing;\npub mod inner {\n    use super::Thing;\n}\n",
    )
    .unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "mod a;\nmod b;\npub use b::Thing;\nfn f() {}\n",
    )
    .unwrap();
    assert!(cycles(&src).is_empty(), "{:?}", cycles(&src));
    // The root re-exports b; b naming `crate::Thing` closes a cycle through the root.
    std::fs::write(
        src.join("b.rs"),
        "pub struct Thing;\nfn f(_: crate::Thing) {}\n",
    )
    .unwrap();
    let found = cycles(&src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("crate"), "{found:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gateway_has_no_module_cycles() {
    assert_no_cycles("gateway");
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
