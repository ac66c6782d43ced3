use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ServerError, ValidationResult};
use futures::StreamExt;
use handover::config::QueryLimits;
use std::sync::Arc;

/// `schema.graphql` is the contract clients code against: it must be exactly what the code
/// builds. Regenerate with `cargo run -- schema > schema.graphql`.
#[test]
fn committed_schema_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema.graphql");
    let built = handover::graphql::sdl();
    assert!(
        committed == built,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

/// Stops every request right after validation, so a document is checked against the schema
/// without running a resolver (the README's operations need no database to be checked).
struct ValidateOnly;

const VALID: &str = "valid; not executed";

impl ExtensionFactory for ValidateOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ValidateOnly)
    }
}

#[async_trait::async_trait]
impl Extension for ValidateOnly {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await?;
        Err(vec![ServerError::new(VALID, None)])
    }
}

/// The README's GraphQL blocks, with the line each starts on.
fn readme_operations() -> Vec<(usize, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in readme.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```graphql") => current = Some((n + 2, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Every GraphQL block of the README is one named operation that validates against the schema,
/// so the docs paste into GraphiQL, Apollo and codegen as they stand.
#[tokio::test]
async fn readme_operations_are_named_one_per_block_and_valid() {
    let schema = handover::graphql::builder(&QueryLimits::default())
        .extension(ValidateOnly)
        .finish();
    let blocks = readme_operations();
    assert!(
        blocks.len() >= 15,
        "found only {} GraphQL blocks in the README",
        blocks.len()
    );
    let mut names = std::collections::BTreeSet::new();
    for (line, text) in &blocks {
        let document = async_graphql::parser::parse_query(text)
            .unwrap_or_else(|e| panic!("README line {line}: does not parse: {e}"));
        let operations: Vec<_> = match &document.operations {
            DocumentOperations::Single(_) => panic!("README line {line}: an anonymous operation (name it)"),
            DocumentOperations::Multiple(ops) => ops.keys().map(|k| k.to_string()).collect(),
        };
        assert_eq!(
            operations.len(),
            1,
            "README line {line}: {operations:?}, one operation per block"
        );
        assert!(
            names.insert(operations[0].clone()),
            "README line {line}: {} is named twice",
            operations[0]
        );
        let errors = match document.operations.iter().next().map(|(_, op)| op.node.ty) {
            Some(OperationType::Subscription) => {
                let mut stream = schema.execute_stream(text.as_str());
                stream.next().await.expect("an answer").errors
            }
            _ => schema.execute(text.as_str()).await.errors,
        };
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, [VALID], "README line {line}: {} is not valid", operations[0]);
    }
}
