//! What the daemon knows of itself right now, for `/readyz`, `/metrics` and the systemd
//! watchdog: by when each loop has promised to report in again, the inbox's connection, and the
//! counters kept in memory (reconnects, last good poll).
//!
//! A loop reports with [`Health::beat`] before each wait or piece of work, saying how long it may
//! take at most. A loop that misses its promise (plus [`GRACE`]) is stuck, and the watchdog stops
//! pinging systemd so the service is restarted.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// Slack on every promise: slow disks, a large fax, a busy machine.
pub const GRACE: Duration = Duration::from_secs(120);

/// The inbox as the watcher last saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxHealth {
    /// `imap:user@host:port/folder` or `maildir:/path`.
    pub name: String,
    pub connected: bool,
    /// The end of the last pass that read the whole folder without error.
    pub last_poll: Option<DateTime<Utc>>,
    pub reconnects: u64,
}

pub struct Health {
    loops: Mutex<BTreeMap<&'static str, Instant>>,
    inbox: Mutex<InboxHealth>,
    connected: watch::Sender<bool>,
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

impl Health {
    pub fn new() -> Health {
        Health {
            loops: Mutex::new(BTreeMap::new()),
            inbox: Mutex::new(InboxHealth::default()),
            connected: watch::channel(false).0,
        }
    }

    /// `name` is alive and reports again within `within` (plus [`GRACE`]).
    pub fn beat(&self, name: &'static str, within: Duration) {
        let by = Instant::now() + within.saturating_add(GRACE);
        self.loops.lock().unwrap_or_else(|e| e.into_inner()).insert(name, by);
    }

    /// `name` has stopped on purpose (shutdown, reload): no longer watched.
    pub fn finished(&self, name: &'static str) {
        self.loops.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }

    /// The loops that missed their promise at `now`.
    pub fn overdue(&self, now: Instant) -> Vec<&'static str> {
        overdue(&self.loops.lock().unwrap_or_else(|e| e.into_inner()), now)
    }

    pub fn inbox(&self) -> InboxHealth {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn inbox_named(&self, name: &str) {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).name = name.to_string();
    }

    /// The inbox connected (IMAP: logged in with the folder selected; Maildir: readable).
    pub fn inbox_connected(&self) {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).connected = true;
        self.connected.send_replace(true);
    }

    /// The connection failed; the watcher reconnects.
    pub fn inbox_lost(&self, reconnecting: bool) {
        let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
        inbox.connected = false;
        if reconnecting {
            inbox.reconnects += 1;
        }
        self.connected.send_replace(false);
    }

    /// A pass over the whole folder ended without error at `at`.
    pub fn inbox_polled(&self, at: DateTime<Utc>) {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).last_poll = Some(at);
    }

    /// Waits until the inbox has connected once.
    pub async fn wait_connected(&self) {
        let mut seen = self.connected.subscribe();
        let _ = seen.wait_for(|connected| *connected).await;
    }
}

fn overdue(loops: &BTreeMap<&'static str, Instant>, now: Instant) -> Vec<&'static str> {
    loops.iter().filter(|(_, by)| **by < now).map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_is_overdue_only_after_its_promise_and_the_grace() {
        let health = Health::new();
        health.beat("outbox", Duration::from_secs(60));
        health.beat("inbox", Duration::from_secs(1800));
        let now = Instant::now();
        assert!(health.overdue(now).is_empty());
        assert!(health.overdue(now + Duration::from_secs(60) + GRACE - Duration::from_secs(1)).is_empty());
        assert_eq!(health.overdue(now + Duration::from_secs(61) + GRACE), vec!["outbox"]);
        assert_eq!(health.overdue(now + Duration::from_secs(1801) + GRACE), vec!["inbox", "outbox"]);
        health.beat("outbox", Duration::from_secs(60));
        health.finished("inbox");
        assert!(health.overdue(Instant::now() + Duration::from_secs(59) + GRACE).is_empty());
        // The finished inbox is no longer watched, however late it gets.
        assert_eq!(health.overdue(Instant::now() + Duration::from_secs(3600)), vec!["outbox"]);
    }

    #[test]
    fn reconnects_are_counted_and_connection_tracked() {
        let health = Health::new();
        health.inbox_connected();
        health.inbox_lost(true);
        health.inbox_lost(false);
        let inbox = health.inbox();
        assert!(!inbox.connected);
        assert_eq!(inbox.reconnects, 1);
    }

    #[tokio::test]
    async fn waiting_for_the_inbox_ends_when_it_connects() {
        let health = std::sync::Arc::new(Health::new());
        let waiter = tokio::spawn({
            let health = health.clone();
            async move { health.wait_connected().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        health.inbox_connected();
        waiter.await.unwrap();
    }
}
