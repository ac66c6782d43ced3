//! Answers in the order the document asked for (GraphQL specification, "Serialized Map
//! Ordering"). The executor resolves a selection's fields side by side and records each as it
//! finishes, so a field that waits on a loader lands after its faster siblings; the answer is
//! put back in the document's order before it leaves either door.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value};

/// The response keys of a selection set in the order `CollectFields` meets them (fragments
/// expanded in place, a key seen twice kept where it was first seen), each with the shape of
/// its own selection.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape(Vec<(Name, Shape)>);

impl Shape {
    /// The shape of the operation the request runs, expanding at most `budget` selections (a
    /// document that has passed the selection limit never needs more; one with a fragment cycle,
    /// which validation will refuse, could expand without end).
    pub fn of(doc: &ExecutableDocument, operation: Option<&str>, max_depth: usize, mut budget: usize) -> Shape {
        let op = match (&doc.operations, operation) {
            (DocumentOperations::Single(op), _) => Some(op),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
            (DocumentOperations::Multiple(ops), None) => ops.values().next().filter(|_| ops.len() == 1),
        };
        let mut shape = Shape::default();
        if let Some(op) = op {
            shape.collect(
                &op.node.selection_set.node,
                doc,
                max_depth,
                &mut Vec::new(),
                &mut budget,
            );
        }
        shape
    }

    fn collect(
        &mut self,
        set: &SelectionSet,
        doc: &ExecutableDocument,
        depth: usize,
        visiting: &mut Vec<Name>,
        budget: &mut usize,
    ) {
        if depth == 0 {
            return;
        }
        for selection in &set.items {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    let at = match self.0.iter().position(|(k, _)| *k == key) {
                        Some(at) => at,
                        None => {
                            self.0.push((key, Shape::default()));
                            self.0.len() - 1
                        }
                    };
                    self.0[at]
                        .1
                        .collect(&field.node.selection_set.node, doc, depth - 1, visiting, budget);
                }
                Selection::InlineFragment(inline) => {
                    self.collect(&inline.node.selection_set.node, doc, depth - 1, visiting, budget);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A cycle is a validation error reported by the executor; here it just ends.
                    if visiting.contains(name) {
                        continue;
                    }
                    if let Some(fragment) = doc.fragments.get(name) {
                        visiting.push(name.clone());
                        self.collect(&fragment.node.selection_set.node, doc, depth - 1, visiting, budget);
                        visiting.pop();
                    }
                }
            }
        }
    }

    /// Whether the keys of `map` this shape knows come first, in its order.
    fn in_order(&self, map: &IndexMap<Name, Value>) -> bool {
        let mut keys = map.keys();
        let mut next = keys.next();
        for (key, _) in &self.0 {
            if next == Some(key) {
                next = keys.next();
            } else if map.contains_key(key) {
                return false;
            }
        }
        next.is_none_or(|k| !self.0.iter().any(|(known, _)| known == k))
    }

    /// Put `value` (the answer's `data`, or a part of it) in this shape's order. Keys the shape
    /// does not know keep their place after the known ones.
    pub fn apply(&self, value: &mut Value) {
        if self.0.is_empty() {
            return;
        }
        match value {
            // Most maps are already in order (only a field behind a loader moves): check first,
            // and rebuild only those that are not.
            Value::Object(map) if self.in_order(map) => {
                for (key, shape) in &self.0 {
                    if let Some(v) = map.get_mut(key) {
                        shape.apply(v);
                    }
                }
            }
            Value::Object(map) => {
                let mut ordered = IndexMap::with_capacity(map.len());
                for (key, shape) in &self.0 {
                    if let Some(mut v) = map.shift_remove(key) {
                        shape.apply(&mut v);
                        ordered.insert(key.clone(), v);
                    }
                }
                ordered.extend(map.drain(..));
                *map = ordered;
            }
            Value::List(items) => items.iter_mut().for_each(|item| self.apply(item)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn answers_follow_the_document_through_fragments_aliases_and_lists() {
        let doc = async_graphql::parser::parse_query(
            "query Q { b: user { ...F name } a { x } }
             fragment F on User { items { z y } id }",
        )
        .unwrap();
        let shape = Shape::of(&doc, None, 32, 1000);
        let mut data = Value::from_json(serde_json::json!({
            "a": { "x": 1 },
            "b": { "name": "n", "id": 1, "items": [{ "y": 1, "z": 2 }, { "y": 3, "z": 4 }] }
        }))
        .unwrap();
        shape.apply(&mut data);
        assert_eq!(keys(&data), ["b", "a"]);
        let Value::Object(map) = &data else { unreachable!() };
        let b = &map[&Name::new("b")];
        assert_eq!(
            keys(b),
            ["items", "id", "name"],
            "the fragment's fields where it is spread"
        );
        let Value::Object(b) = b else { unreachable!() };
        let Value::List(items) = &b[&Name::new("items")] else {
            unreachable!()
        };
        assert!(items.iter().all(|i| keys(i) == ["z", "y"]), "every element of a list");
    }

    #[test]
    fn a_cyclic_fragment_ends() {
        let doc = async_graphql::parser::parse_query("{ a { ...F } } fragment F on A { b ...F }").unwrap();
        assert_eq!(Shape::of(&doc, None, 32, 1000).0.len(), 1);
    }

    #[test]
    fn a_doubling_cycle_stops_at_the_budget() {
        // F0 → F1 twice → … → F39 → F0: 2^40 expansions without the budget.
        let mut text = String::from("{ ...F0 }\n");
        for i in 0..40 {
            let next = if i == 39 { 0 } else { i + 1 };
            text.push_str(&format!("fragment F{i} on Query {{ ...F{next} ...F{next} }}\n"));
        }
        let doc = async_graphql::parser::parse_query(&text).unwrap();
        let started = std::time::Instant::now();
        Shape::of(&doc, None, 64, 10_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn maps_already_in_order_are_recognised() {
        let doc = async_graphql::parser::parse_query("{ a b c }").unwrap();
        let shape = Shape::of(&doc, None, 8, 100);
        let map =
            |keys: &[&str]| -> IndexMap<Name, Value> { keys.iter().map(|k| (Name::new(k), Value::Null)).collect() };
        assert!(shape.in_order(&map(&["a", "b", "c"])));
        assert!(shape.in_order(&map(&["a", "c", "extra"])));
        assert!(!shape.in_order(&map(&["b", "a", "c"])));
        assert!(!shape.in_order(&map(&["a", "extra", "b"])));
        assert!(!shape.in_order(&map(&["extra", "a"])));
    }
}
