//! What a document is made of, measured before and after parsing: nesting (the parser recurses
//! without bound on nested values), NUL characters, the operation that will run, and the
//! number of fields it selects with fragments expanded.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use serde_json::Value;
use std::collections::HashMap;

/// The deepest nesting of `{`, `[` and `(` in a GraphQL document, outside strings and comments.
/// Unbalanced closers are left to the parser.
pub fn text_nesting(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // An escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Nesting of a JSON value (serde_json itself refuses more than 128 levels).
pub fn value_nesting(value: &Value, level: usize) -> usize {
    match value {
        Value::Array(items) => items.iter().map(|v| value_nesting(v, level + 1)).max().unwrap_or(level),
        Value::Object(map) => map.values().map(|v| value_nesting(v, level + 1)).max().unwrap_or(level),
        _ => level,
    }
}

/// A NUL anywhere in the document: raw, or escaped as `\u0000` or `\u{0}` (PostgreSQL cannot
/// store it in text; refusing it at the door keeps both databases and the dry run alike).
pub fn has_nul(text: &str) -> bool {
    if text.contains('\0') {
        return true;
    }
    // GraphQL's escape is `\u` (lower case only); its hex digits here are all zeros anyway.
    let mut rest = text;
    while let Some(at) = rest.find("\\u") {
        rest = &rest[at + 2..];
        if rest.starts_with("0000") {
            return true;
        }
        if let Some(braced) = rest.strip_prefix('{') {
            let digits: String = braced.chars().take_while(|c| *c != '}').collect();
            if !digits.is_empty() && digits.chars().all(|c| c == '0') {
                return true;
            }
        }
    }
    false
}

pub fn json_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

/// The operation that will run: its type and name. `None` when the document does not say
/// which (several operations and no name, or an unknown name).
pub fn chosen_operation(doc: &ExecutableDocument, name: Option<&str>) -> Option<(OperationType, String)> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some((op.node.ty, name.unwrap_or("anonymous").to_string())),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| (op.node.ty, name.to_string())),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(n, op)| (op.node.ty, n.to_string()))
        }
        _ => None,
    }
}

/// How many fields a document selects, with fragments expanded and aliases counted: the cap
/// that `limit_complexity` does not give (it ignores `__typename`). `None` when fragment
/// spreads chain deeper than `max_nesting`.
pub fn selection_count(doc: &ExecutableDocument, max_nesting: usize) -> Option<usize> {
    struct Counter<'d> {
        doc: &'d ExecutableDocument,
        memo: HashMap<String, usize>,
        visiting: Vec<String>,
        max_nesting: usize,
    }
    impl Counter<'_> {
        fn set_size(&mut self, set: &SelectionSet, level: usize) -> Option<usize> {
            if level > self.max_nesting {
                return None;
            }
            let mut n: usize = 0;
            for item in &set.items {
                let add = match &item.node {
                    Selection::Field(f) => 1usize.saturating_add(self.set_size(&f.node.selection_set.node, level + 1)?),
                    Selection::InlineFragment(i) => self.set_size(&i.node.selection_set.node, level + 1)?,
                    Selection::FragmentSpread(s) => {
                        let name = s.node.fragment_name.node.to_string();
                        if let Some(size) = self.memo.get(&name) {
                            *size
                        } else if self.visiting.contains(&name) {
                            0
                        } else if let Some(fragment) = self.doc.fragments.get(s.node.fragment_name.node.as_str()) {
                            self.visiting.push(name.clone());
                            let size = self.set_size(&fragment.node.selection_set.node, level + 1)?;
                            self.visiting.pop();
                            self.memo.insert(name, size);
                            size
                        } else {
                            0
                        }
                    }
                };
                n = n.saturating_add(add);
            }
            Some(n)
        }
    }
    let mut counter = Counter {
        doc,
        memo: HashMap::new(),
        visiting: Vec::new(),
        max_nesting,
    };
    let mut total: usize = 0;
    for (_, op) in doc.operations.iter() {
        total = total.saturating_add(counter.set_size(&op.node.selection_set.node, 1)?);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_count_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: __typename b: __typename ...F } fragment F on Query { c: __typename d: __typename }",
        )
        .unwrap();
        assert_eq!(selection_count(&doc, 64), Some(4));
    }

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(text_nesting("{ a(x: [[1]]) { b } }"), 4);
        assert_eq!(text_nesting("{ a(x: \"[[[[[\") # {{{{{\n }"), 2);
        assert_eq!(text_nesting("{ a(x: \"\"\" {{{{ \\\"\"\" {{{ \"\"\") }"), 2);
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(text_nesting(&deep), 5002);
    }

    #[test]
    fn nul_in_any_spelling() {
        assert!(has_nul("{ a(x: \"\0\") }"));
        assert!(has_nul("{ a(x: \"\\u0000\") }"));
        assert!(has_nul("{ a(x: \"\\u{000}\") }"));
        assert!(!has_nul("{ a(x: \"\\u0041 \\u{41}\") }"));
        assert!(json_has_nul(&serde_json::json!({ "a": ["x", "y\u{0}"] })));
    }
}
