//! Relay connections: `edges { cursor node }`, `nodes`, `pageInfo`, `totalCount`; `first` is
//! capped, `after` is an opaque cursor.

use crate::error::AppError;
use crate::firm::PageRequest;
use crate::firm::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use async_graphql::{Context, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One connection type and its edge type per node type (async-graphql's generic types need a
/// concrete instantiation each, which a macro states once). Stated beside each node type.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            pub edges: Vec<$edge>,
            /// The nodes of `edges`, for clients that need no cursors.
            pub nodes: Vec<$node>,
            pub page_info: $crate::graphql::connection::PageInfo,
            /// Every match, across all pages.
            pub total_count: u64,
        }

        impl $conn {
            pub fn from_page<M>(
                page: $crate::firm::Page<M>,
                row_id: impl Fn(&M) -> i64,
                wrap: impl Fn(M) -> $node,
            ) -> Self {
                let total_count = page.total.unwrap_or_default();
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|m| $edge {
                        cursor: $crate::graphql::connection::encode_cursor(row_id(&m)),
                        node: wrap(m),
                    })
                    .collect();
                let page_info = $crate::graphql::connection::PageInfo {
                    has_next_page: page.has_next_page,
                    has_previous_page: false,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                };
                let nodes = edges.iter().map(|e| e.node.clone()).collect();
                $conn {
                    edges,
                    nodes,
                    page_info,
                    total_count,
                }
            }
        }
    };
}

pub(crate) use connection;

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Always false: pages only go forward.
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

pub fn encode_cursor(row_id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{row_id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, AppError> {
    let bad = || AppError::BadUserInput("`after` is not a cursor returned by this connection".into());
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?).map_err(|_| bad())?;
    text.strip_prefix("after:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}

/// `first` / `after` arguments -> a page request. `totalCount` is counted only when selected.
pub fn page_request(ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<PageRequest, AppError> {
    let first = match first {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if n < 0 => return Err(AppError::BadUserInput("`first` must not be negative".into())),
        Some(n) => (n as u64).min(MAX_PAGE_SIZE),
    };
    let after = after.as_deref().map(decode_cursor).transpose()?;
    let want_total = ctx.look_ahead().field("totalCount").exists();
    Ok(PageRequest {
        first,
        after,
        want_total,
    })
}
