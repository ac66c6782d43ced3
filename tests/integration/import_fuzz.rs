//! A broken import file never panics and never writes half: truncations at every length step
//! and deterministic random mutations of the demo file, each imported into a database that
//! already holds the firm; whatever is refused leaves it exactly as it was.

use crate::common::*;
use crate::on_both_databases;
use handover::import::{ImportError, import_text};
use serde_json::Value;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Replace one value somewhere in the document with something of the wrong kind, or drop it.
fn mutate(doc: &mut Value, rng: &mut Rng) {
    let replacement = match rng.below(8) {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => Value::from(-1),
        3 => Value::from("\u{0}\u{202e}'; DROP TABLE task; --"),
        4 => Value::from("9999-99-99"),
        5 => Value::Array(vec![Value::from("ghost")]),
        6 => serde_json::json!({ "nested": { "deep": [1, 2, 3] } }),
        _ => Value::from("x".repeat(5000)),
    };
    replace_somewhere(doc, rng, replacement);
}

fn replace_somewhere(node: &mut Value, rng: &mut Rng, replacement: Value) {
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(rng.below(map.len())).cloned().unwrap();
            let nested = map[&key].is_object() || map[&key].is_array();
            if nested && rng.below(3) != 0 {
                replace_somewhere(map.get_mut(&key).unwrap(), rng, replacement);
            } else if rng.below(5) == 0 {
                map.remove(&key);
            } else {
                map.insert(key, replacement);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            if rng.below(3) == 0 {
                items[i] = replacement;
            } else {
                replace_somewhere(&mut items[i], rng, replacement);
            }
        }
        other => *other = replacement,
    }
}

async fn broken_files_never_write_half(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database(backend, dir.path()).await;
    import_text(&db, DEMO, false).await.unwrap();
    let mut before = snapshot(&db).await;
    let (mut tried, mut refused, mut accepted) = (0, 0, 0);

    // Truncations.
    let step = DEMO.len() / 60;
    for end in (0..DEMO.len()).step_by(step.max(1)) {
        let Some(text) = DEMO.get(..end) else { continue };
        tried += 1;
        match import_text(&db, text, false).await {
            Err(ImportError::Invalid(p)) => {
                assert!(!p.is_empty());
                refused += 1
            }
            other => panic!("a truncated file was not refused: {other:?}"),
        }
    }
    assert!(snapshot(&db).await == before, "truncated files wrote something");

    // Mutations: one to three wrong values each.
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let cases = if backend == Backend::Sqlite { 200 } else { 60 };
    for case in 0..cases {
        let mut doc: Value = serde_json::from_str(DEMO).unwrap();
        for _ in 0..1 + rng.below(3) {
            mutate(&mut doc, &mut rng);
        }
        tried += 1;
        match import_text(&db, &doc.to_string(), false).await {
            Err(ImportError::Invalid(problems)) => {
                assert!(
                    problems.iter().all(|p| p.path.starts_with('$')),
                    "case {case}: {problems:?}"
                );
                refused += 1;
                assert!(
                    snapshot(&db).await == before,
                    "case {case}: a refused file wrote something"
                );
            }
            Err(ImportError::Failed(e)) => panic!("case {case}: an internal error instead of a clear refusal: {e:?}"),
            // Some mutations are valid data (a longer name, a dropped optional field, another
            // firm key): put the demo firm back, and judge the next case against that state.
            Ok(_) => {
                accepted += 1;
                import_text(&db, DEMO, false).await.unwrap();
                before = snapshot(&db).await;
            }
        }
    }
    eprintln!(
        "import fuzz ({backend:?}): {tried} files tried, {refused} refused with JSON paths, {accepted} valid, 0 panics"
    );
    assert!(refused > tried / 2);
}

on_both_databases!(broken_files_never_write_half);
