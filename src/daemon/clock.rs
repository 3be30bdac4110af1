//! The clock: the one place the shell reads the current time. The core never does; it is
//! handed `now`.

use chrono::{DateTime, Utc};

#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}
