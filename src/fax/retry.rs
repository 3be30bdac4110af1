//! When to send a fax again after a [`Retryable`](super::FailureClass::Retryable) failure (busy,
//! no answer, no fax tone). Our schedule, not the vendor's: it is measured in hours because a fax
//! machine that is busy now is usually busy for a while, and when it runs out staff are told.

use std::time::Duration;

/// The default schedule: 15 minutes, 1 hour, 4 hours after the first, second and third attempt.
pub const DEFAULT_SCHEDULE: [Duration; 3] =
    [Duration::from_secs(15 * 60), Duration::from_secs(60 * 60), Duration::from_secs(4 * 60 * 60)];

/// The wait before the next attempt, given how many attempts were already made (the first send
/// counts as one), or `None` when the schedule is exhausted and a person must be told.
/// `attempts_so_far == 0` means nothing was sent yet: send now.
pub fn next_retry(attempts_so_far: u32, schedule: &[Duration]) -> Option<Duration> {
    match attempts_so_far.checked_sub(1) {
        None => Some(Duration::ZERO),
        Some(i) => schedule.get(usize::try_from(i).ok()?).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_the_schedule_then_gives_up() {
        let s = &DEFAULT_SCHEDULE;
        assert_eq!(next_retry(0, s), Some(Duration::ZERO));
        assert_eq!(next_retry(1, s), Some(Duration::from_secs(900)));
        assert_eq!(next_retry(2, s), Some(Duration::from_secs(3600)));
        assert_eq!(next_retry(3, s), Some(Duration::from_secs(14400)));
        assert_eq!(next_retry(4, s), None);
        assert_eq!(next_retry(u32::MAX, s), None);
    }

    #[test]
    fn an_empty_schedule_never_retries() {
        assert_eq!(next_retry(1, &[]), None);
    }
}
