//! The clock: the one place the shell reads the current time. The core never does; it is
//! handed `now`. The daemon's [`Clock`] is real time plus an offset that stays zero in
//! production; tests move it forward to see day 14 without waiting two weeks.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

/// Real time, for the command line.
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The daemon's time. Clones share one offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    moved: Arc<Notify>,
}

impl Clock {
    /// Real time.
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock forward (tests); the scheduler wakes to look at what is now due.
    pub fn advance(&self, by: TimeDelta) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
        self.moved.notify_one();
    }

    /// Sets the clock to `at` (tests); it runs on from there.
    pub fn set(&self, at: DateTime<Utc>) {
        self.offset_ms.store((at - now()).num_milliseconds(), Ordering::SeqCst);
        self.moved.notify_one();
    }

    /// Resolves when the clock was moved since the last call.
    pub async fn moved(&self) {
        self.moved.notified().await;
    }
}
