//! `GET /reassignments/{id}/report.csv` and `.json`: the report; and `.../clients.csv`: the
//! client notice list. For administrators of the reassignment's firm, streamed page by page.

use super::AppState;
use crate::error::AppError;
use crate::ids::{self, Kind};
use crate::report::{ClientLine, ClientMatter, Report, Row, csv};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use futures::stream::{self, StreamExt};
use std::sync::Arc;

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Json,
}

fn error(err: AppError) -> Response {
    super::error_response(err, HeaderValue::from_static("application/json"))
}

pub async fn csv_report(state: State<AppState>, headers: HeaderMap, id: Path<String>) -> Response {
    report(state, headers, id, Format::Csv).await
}

pub async fn json_report(state: State<AppState>, headers: HeaderMap, id: Path<String>) -> Response {
    report(state, headers, id, Format::Json).await
}

/// The report of reassignment `id`, for an administrator of its firm.
async fn open(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Arc<Report>, AppError> {
    let viewer = super::viewer_from(state, headers).await?;
    // Refuse non-administrators before looking the batch up: no hint that it exists.
    viewer.require_admin()?;
    let row = ids::decode(Kind::Reassignment, id)?;
    let batch = crate::reassign::history::get(&state.db, &viewer, row).await?;
    Ok(Arc::new(Report::open(&state.db, batch).await?))
}

fn download(body: Body, content_type: &'static str, filename: &str) -> Response {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

async fn report(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, format: Format) -> Response {
    let report = match open(&state, &headers, &id).await {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let body = Body::from_stream(stream(state.db.clone(), report, format));
    download(body, content_type, &format!("reassignment-{id}.{extension}"))
}

/// `GET /reassignments/{id}/clients.csv`: one row per client whose matters changed
/// responsible attorney, for the notice letter.
pub async fn clients_csv(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let report = match open(&state, &headers, &id).await {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let body = Body::from_stream(client_stream(state.db.clone(), report));
    download(
        body,
        "text/csv; charset=utf-8",
        &format!("reassignment-{id}-clients.csv"),
    )
}

/// Where the client list is: the header next, pages of matters (with the client whose line is
/// not complete yet, as a page may end inside it), or done.
enum ClientStep {
    Header,
    Matters {
        after: Option<(String, i64)>,
        open: Vec<ClientMatter>,
    },
    Done,
}

/// Lines for the clients complete in `matters` (all of them when `last`); the rest stays open.
fn client_lines(report: &Report, matters: &mut Vec<ClientMatter>, last: bool) -> String {
    let mut out = String::new();
    while let Some(first) = matters.first() {
        let client = first.client.clone();
        let n = matters.iter().take_while(|m| m.client == client).count();
        if n == matters.len() && !last {
            break;
        }
        let line = ClientLine {
            client,
            matters: matters.drain(..n).collect(),
        };
        out.push_str(&csv::line(line.cells(report)));
    }
    out
}

fn client_stream(
    db: sea_orm::DatabaseConnection,
    report: Arc<Report>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::unfold(ClientStep::Header, move |step| {
        let (db, report) = (db.clone(), report.clone());
        async move {
            match step {
                ClientStep::Header => {
                    let mut out = String::from(csv::BOM);
                    out.push_str(&csv::line(ClientLine::COLUMNS));
                    Some((
                        Ok(Bytes::from(out)),
                        ClientStep::Matters {
                            after: None,
                            open: Vec::new(),
                        },
                    ))
                }
                ClientStep::Matters { after, mut open } => match report.client_matters(&db, after).await {
                    Ok(page) => {
                        let last = page.is_empty();
                        let after = page.last().map(|m| (m.client.clone(), m.matter_id));
                        open.extend(page);
                        let text = client_lines(&report, &mut open, last);
                        let next = match after {
                            Some(after) => ClientStep::Matters {
                                after: Some(after),
                                open,
                            },
                            None => ClientStep::Done,
                        };
                        Some((Ok(Bytes::from(text)), next))
                    }
                    Err(e) => {
                        tracing::error!(error = %e.detail(), "client list stream failed");
                        Some((Err(std::io::Error::other("client list failed")), ClientStep::Done))
                    }
                },
                ClientStep::Done => None,
            }
        }
    })
    .fuse()
}

enum Step {
    Header,
    Rows { after: i64, first: bool },
    Done,
}

fn header_bytes(report: &Report, format: Format) -> String {
    let h = report.header();
    match format {
        Format::Csv => {
            // Leading comment lines describe the batch; then the column names.
            let mut out = String::from(csv::BOM);
            let lines: [(&str, String); 14] = [
                ("reassignment", h.reassignment_id.clone()),
                ("created_at", h.created_at.to_rfc3339()),
                ("actor", h.actor.clone()),
                ("from", h.from_user.clone()),
                ("matters_to", h.matters_to.clone().unwrap_or_default()),
                ("tasks_to", h.tasks_to.clone().unwrap_or_default()),
                ("calendar_events_to", h.calendar_events_to.clone().unwrap_or_default()),
                ("cutoff", h.cutoff.to_rfc3339()),
                ("time_zone", h.time_zone.clone()),
                ("grant_matter_access", h.grant_matter_access.to_string()),
                ("status", h.status.clone()),
                ("undo_of", h.undo_of.clone().unwrap_or_default()),
                ("note", h.note.clone().unwrap_or_default()),
                ("routing", h.routing.as_ref().map(|r| r.to_string()).unwrap_or_default()),
            ];
            for (name, value) in lines {
                out.push_str(&csv::line([format!("# {name}"), value]));
            }
            out.push_str(&csv::line(Row::COLUMNS));
            out
        }
        Format::Json => format!(
            "{{\"reassignment\":{},\"items\":[",
            serde_json::to_string(&h).unwrap_or_default()
        ),
    }
}

fn rows_bytes(rows: &[Row], format: Format, first: bool) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        match format {
            Format::Csv => out.push_str(&csv::line(row.cells())),
            Format::Json => {
                if !(first && i == 0) {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(row).unwrap_or_default());
            }
        }
    }
    out
}

/// Header, then pages of rows until the items run out; an error mid-stream ends the body
/// (the client sees a truncated download) and is logged.
fn stream(
    db: sea_orm::DatabaseConnection,
    report: Arc<Report>,
    format: Format,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::unfold(Step::Header, move |step| {
        let (db, report) = (db.clone(), report.clone());
        async move {
            match step {
                Step::Header => Some((
                    Ok(Bytes::from(header_bytes(&report, format))),
                    Step::Rows { after: 0, first: true },
                )),
                Step::Rows { after, first } => match report.page(&db, after).await {
                    Ok((rows, Some(last))) => Some((
                        Ok(Bytes::from(rows_bytes(&rows, format, first))),
                        Step::Rows {
                            after: last,
                            first: false,
                        },
                    )),
                    Ok((_, None)) => match format {
                        Format::Json => Some((Ok(Bytes::from_static(b"]}")), Step::Done)),
                        Format::Csv => None,
                    },
                    Err(e) => {
                        tracing::error!(error = %e.detail(), "report stream failed");
                        Some((Err(std::io::Error::other("report failed")), Step::Done))
                    }
                },
                Step::Done => None,
            }
        }
    })
    .fuse()
}
