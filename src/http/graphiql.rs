use axum::response::Html;

/// GraphiQL, pointed at `/graphql` for queries and subscriptions. Paste a token into the
/// headers pane as `{"Authorization": "Bearer …"}`.
pub async fn page() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("handover GraphiQL")
            .finish(),
    )
}
