//! `/metrics` in the Prometheus text format (version 0.0.4), rendered from what the database
//! counts and what the daemon holds in memory. Pure: the HTTP handler gathers, this writes.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::health::InboxHealth;
use crate::store::{Counted, DatabaseCounts};

/// Everything one scrape shows.
pub struct Snapshot<'a> {
    pub counts: &'a DatabaseCounts,
    pub inbox: &'a InboxHealth,
    pub webhook_rejections: u64,
    pub started: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

pub fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::new();
    let c = s.counts;
    family(&mut out, "medrec_messages_received_total", "counter", "Inbound messages stored, by kind.");
    labelled(&mut out, "medrec_messages_received_total", &["kind"], &c.received_by_kind);
    family(
        &mut out,
        "medrec_sends_total",
        "counter",
        "Outbox entries by channel and result (pending, sent, failed, withdrawn).",
    );
    labelled(&mut out, "medrec_sends_total", &["channel", "result"], &c.sends);
    family(&mut out, "medrec_outbox_depth", "gauge", "Outbox entries waiting to be sent.");
    sample(&mut out, "medrec_outbox_depth", "", c.outbox_pending as f64);
    family(&mut out, "medrec_outbox_oldest_age_seconds", "gauge", "Age of the oldest waiting entry (0: none).");
    sample(&mut out, "medrec_outbox_oldest_age_seconds", "", age(c.outbox_oldest, s.now));
    family(&mut out, "medrec_requests", "gauge", "Requests by state.");
    labelled(&mut out, "medrec_requests", &["state"], &c.requests_by_state);
    family(&mut out, "medrec_follow_ups_sent_total", "counter", "Follow-ups sent to providers, by channel.");
    labelled(&mut out, "medrec_follow_ups_sent_total", &["channel"], &c.follow_ups_sent);

    let inbox = format!("{{inbox=\"{}\"}}", escape(&s.inbox.name));
    family(&mut out, "medrec_inbox_connected", "gauge", "1 while the inbox is connected.");
    sample(&mut out, "medrec_inbox_connected", &inbox, if s.inbox.connected { 1.0 } else { 0.0 });
    family(&mut out, "medrec_imap_reconnects_total", "counter", "Inbox reconnections since the daemon started.");
    sample(&mut out, "medrec_imap_reconnects_total", &inbox, s.inbox.reconnects as f64);
    family(
        &mut out,
        "medrec_inbox_last_poll_timestamp_seconds",
        "gauge",
        "When the inbox was last read through without error (0: not yet).",
    );
    let last = s.inbox.last_poll.map_or(0.0, |t| t.timestamp() as f64);
    sample(&mut out, "medrec_inbox_last_poll_timestamp_seconds", &inbox, last);
    family(
        &mut out,
        "medrec_webhook_rejections_total",
        "counter",
        "Webhook requests refused since the daemon started.",
    );
    sample(&mut out, "medrec_webhook_rejections_total", "", s.webhook_rejections as f64);
    family(&mut out, "medrec_start_time_seconds", "gauge", "When the daemon started.");
    sample(&mut out, "medrec_start_time_seconds", "", s.started.timestamp() as f64);
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: f64) {
    let _ = writeln!(out, "{name}{labels} {value}");
}

fn labelled(out: &mut String, name: &str, keys: &[&str], rows: &[Counted]) {
    for (values, n) in rows {
        let labels: Vec<String> = keys.iter().zip(values).map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        sample(out, name, &format!("{{{}}}", labels.join(",")), *n as f64);
    }
}

fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> f64 {
    since.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
}

/// Label values escape backslash, double quote and newline.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn renders_every_family_with_labels_and_ages() {
        let counts = DatabaseCounts {
            received_by_kind: vec![(vec!["records".into()], 3), (vec!["none".into()], 7)],
            sends: vec![(vec!["email".into(), "sent".into()], 12), (vec!["fax".into(), "failed".into()], 1)],
            outbox_pending: 2,
            outbox_oldest: Some(at(1_000)),
            requests_by_state: vec![(vec!["submitted".into()], 4)],
            follow_ups_sent: vec![(vec!["fax".into()], 2)],
        };
        let inbox = InboxHealth {
            name: "imap:bot@mail:993/IN\"BOX".into(),
            connected: true,
            last_poll: Some(at(1_500)),
            reconnects: 3,
        };
        let text = render(&Snapshot {
            counts: &counts,
            inbox: &inbox,
            webhook_rejections: 5,
            started: at(900),
            now: at(1_090),
        });
        for line in [
            "medrec_messages_received_total{kind=\"records\"} 3",
            "medrec_sends_total{channel=\"email\",result=\"sent\"} 12",
            "medrec_sends_total{channel=\"fax\",result=\"failed\"} 1",
            "medrec_outbox_depth 2",
            "medrec_outbox_oldest_age_seconds 90",
            "medrec_requests{state=\"submitted\"} 4",
            "medrec_follow_ups_sent_total{channel=\"fax\"} 2",
            "medrec_inbox_connected{inbox=\"imap:bot@mail:993/IN\\\"BOX\"} 1",
            "medrec_imap_reconnects_total{inbox=\"imap:bot@mail:993/IN\\\"BOX\"} 3",
            "medrec_inbox_last_poll_timestamp_seconds{inbox=\"imap:bot@mail:993/IN\\\"BOX\"} 1500",
            "medrec_webhook_rejections_total 5",
            "# TYPE medrec_sends_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Every sample line belongs to a family declared above it.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{l}");
        }
    }

    #[test]
    fn an_empty_outbox_has_no_age() {
        let text = render(&Snapshot {
            counts: &DatabaseCounts::default(),
            inbox: &InboxHealth::default(),
            webhook_rejections: 0,
            started: at(0),
            now: at(10),
        });
        assert!(text.contains("\nmedrec_outbox_oldest_age_seconds 0\n"), "{text}");
    }
}
