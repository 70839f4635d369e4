//! Dotted-path diff of two JSON documents.
//!
//! Objects are recursed into; anything else (scalars, arrays, `null`, a key present on one side
//! only) is compared whole and reported as its own path. A change of the root itself (one side
//! not an object) is reported as `"<root>"`.

use serde_json::Value;

/// The path reported when the documents differ at the root.
pub const ROOT: &str = "<root>";

/// Every dotted path whose value differs between `old` and `new`, sorted.
pub fn diff_paths(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match (old.as_object(), new.as_object()) {
        (Some(_), Some(_)) => walk(Some(old), Some(new), "", &mut out),
        _ if old != new => out.push(ROOT.to_string()),
        _ => {}
    }
    out.sort();
    out
}

fn walk(old: Option<&Value>, new: Option<&Value>, prefix: &str, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (
        old.and_then(Value::as_object),
        new.and_then(Value::as_object),
    ) {
        (Some(a), Some(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(a.get(k), b.get(k), &path, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_subtrees_and_arrays() {
        let a =
            json!({"gateway": {"port": 1, "auth": {"token": "a"}}, "x": [1, 2], "keep": {"k": 1}});
        let b = json!({"gateway": {"port": 2, "auth": {"token": "a"}}, "x": [1, 3], "keep": {"k": 1}, "new": {"deep": 1}});
        assert_eq!(diff_paths(&a, &b), vec!["gateway.port", "new", "x"]);
    }

    #[test]
    fn removed_key_and_type_change() {
        let a = json!({"a": {"b": 1}, "c": 1});
        let b = json!({"a": 5});
        assert_eq!(diff_paths(&a, &b), vec!["a", "c"]);
    }

    #[test]
    fn root_change_and_equal() {
        assert_eq!(diff_paths(&json!({}), &json!([])), vec![ROOT]);
        assert!(diff_paths(&json!({"a": [1]}), &json!({"a": [1]})).is_empty());
    }
}
