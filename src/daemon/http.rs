//! The daemon's one HTTP server (loopback by default): `/healthz` (the process answers),
//! `/readyz` (the database takes writes, the inbox is connected, the outbox is moving),
//! `/metrics` (Prometheus text), and the fax gateways' webhooks.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::clock::Clock;
use super::health::{Health, InboxHealth};
use crate::fax::webhook::{self, WebhookState};
use crate::store::Store;

/// A pending outbox entry due this long ago means the sender is not sending.
pub const STUCK_AFTER: Duration = Duration::from_secs(600);

#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
    pub health: Arc<Health>,
    pub webhooks: WebhookState,
    pub clock: Clock,
    pub started: DateTime<Utc>,
}

pub fn router(state: HttpState) -> Router {
    let webhooks = webhook::router(state.webhooks.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(webhooks)
}

async fn ready(State(s): State<HttpState>) -> Response {
    let written = s.store.probe_write().await.map_err(|e| e.to_string());
    let next_due = s.store.next_outbox_due().await.map_err(|e| e.to_string());
    let problems = not_ready(&written, &next_due, &s.health.inbox(), s.clock.now());
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let body = problems.iter().map(|p| format!("not ready: {p}\n")).collect::<String>();
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn metrics(State(s): State<HttpState>) -> Response {
    let counts = match s.store.figures().await {
        Ok(c) => c,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("cannot read the database: {e}\n")).into_response(),
    };
    let inbox = s.health.inbox();
    let snapshot = super::metrics::Snapshot {
        counts: &counts,
        inbox: &inbox,
        webhook_rejections: s.webhooks.rejected(),
        started: s.started,
        now: s.clock.now(),
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], super::metrics::render(&snapshot))
        .into_response()
}

/// What keeps the daemon from being ready; empty when it is.
pub fn not_ready(
    written: &Result<(), String>,
    next_due: &Result<Option<DateTime<Utc>>, String>,
    inbox: &InboxHealth,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = written {
        problems.push(format!("the database does not take writes ({e})"));
    }
    if !inbox.connected {
        problems.push(format!("the inbox {} is not connected", inbox.name));
    }
    match next_due {
        Err(e) => problems.push(format!("cannot read the outbox ({e})")),
        Ok(Some(due)) => {
            let late = (now - *due).to_std().unwrap_or_default();
            if late > STUCK_AFTER {
                problems.push(format!(
                    "the outbox is stuck: an entry was due {} minutes ago and is not sent",
                    late.as_secs() / 60
                ));
            }
        }
        Ok(None) => {}
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn ready_needs_writes_a_connected_inbox_and_a_moving_outbox() {
        let inbox = InboxHealth { name: "maildir:/var/mail".into(), connected: true, ..Default::default() };
        let moving = Some(at(1_000));
        assert!(not_ready(&Ok(()), &Ok(moving), &inbox, at(1_500)).is_empty());
        assert!(not_ready(&Ok(()), &Ok(None), &inbox, at(1_500)).is_empty());

        let stuck = not_ready(&Ok(()), &Ok(moving), &inbox, at(1_000 + 601));
        assert_eq!(stuck, vec!["the outbox is stuck: an entry was due 10 minutes ago and is not sent"]);

        let down = InboxHealth { connected: false, ..inbox.clone() };
        let all = not_ready(&Err("readonly database".into()), &Err("locked".into()), &down, at(0));
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].contains("readonly database") && all[1].contains("maildir:/var/mail"), "{all:?}");
    }
}
