//! What is due next on a request, and when: follow-ups to the provider (day 14, records due on
//! day 30, then every 14 days), the escalation to the owner (day 60), reminders while an invoice
//! waits for approval or a deficiency is open, and the reminder to ask for updated records. Pure:
//! it reads the request's facts and the firm's calendar, and takes no clock.
//!
//! Every step has a key (kind, the moment its clock started, its number), so a step done once is
//! never planned again, whatever restarts or repeated sweeps happen.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::calendar::Calendar;
use super::lifecycle::State;

/// The intervals, from `[schedule]` in the config (SOP defaults in [`Rules::default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Calendar days from submission to the first follow-up ("did you receive it?").
    pub first_follow_up_days: i64,
    /// Calendar days from submission to the records-due follow-up (the owner is told too).
    pub records_due_days: i64,
    /// Calendar days between later follow-ups.
    pub repeat_days: i64,
    /// Calendar days from submission to the escalation to the owner.
    pub escalate_after_days: i64,
    /// Business days between reminders of an invoice waiting for approval.
    pub approval_reminder_business_days: u32,
    /// Business days between reminders of an open deficiency.
    pub deficiency_reminder_business_days: u32,
    /// Calendar days after records arrive for a client still treating before the owner is
    /// reminded to ask for updated records (and again after as long again).
    pub update_after_days: i64,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            first_follow_up_days: 14,
            records_due_days: 30,
            repeat_days: 14,
            escalate_after_days: 60,
            approval_reminder_business_days: 2,
            deficiency_reminder_business_days: 2,
            update_after_days: 90,
        }
    }
}

/// One scheduled step of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Follow-up number `n` to the provider; number 2 is the records-due one.
    FollowUp(u32),
    /// The owner decides what to do with a request the provider has not answered.
    Escalation,
    ApprovalReminder(u32),
    DeficiencyReminder(u32),
    UpdateReminder(u32),
}

impl Step {
    /// The `due.kind` it is stored under.
    pub fn kind(self) -> &'static str {
        match self {
            Step::FollowUp(2) => "records_due",
            Step::FollowUp(_) => "follow_up",
            Step::Escalation => "escalation",
            Step::ApprovalReminder(_) => "approval_reminder",
            Step::DeficiencyReminder(_) => "deficiency_reminder",
            Step::UpdateReminder(_) => "update_reminder",
        }
    }

    fn number(self) -> u32 {
        match self {
            Step::FollowUp(n) | Step::ApprovalReminder(n) | Step::DeficiencyReminder(n) | Step::UpdateReminder(n) => n,
            Step::Escalation => 1,
        }
    }

    /// Whether it goes to the provider (only on business days, in business hours).
    pub fn to_provider(self) -> bool {
        matches!(self, Step::FollowUp(_))
    }

    /// How staff read it: "follow-up 2 (records due)".
    pub fn words(self) -> String {
        match self {
            Step::FollowUp(1) => "follow-up 1 (did the provider receive the request?)".into(),
            Step::FollowUp(2) => "follow-up 2 (records due)".into(),
            Step::FollowUp(n) => format!("follow-up {n}"),
            Step::Escalation => "escalation to the owner (no records yet)".into(),
            Step::ApprovalReminder(n) => format!("approval reminder {n}"),
            Step::DeficiencyReminder(n) => format!("deficiency reminder {n}"),
            Step::UpdateReminder(_) => "reminder to request updated records".into(),
        }
    }

    /// The step's key: kind, the start of its clock, number. Unique over the request's life.
    pub fn key(self, reference: i64, clock: DateTime<Utc>) -> String {
        format!("MR-{reference}/{}/{}/{}", self.kind(), clock.timestamp(), self.number())
    }

    /// Reads a key back; `None` when it is not a request step's key (a digest's).
    pub fn from_key(key: &str) -> Option<Step> {
        let mut parts = key.split('/');
        let (_, kind, _, n) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?.parse::<u32>().ok()?);
        Some(match kind {
            "follow_up" | "records_due" => Step::FollowUp(n),
            "escalation" => Step::Escalation,
            "approval_reminder" => Step::ApprovalReminder(n),
            "deficiency_reminder" => Step::DeficiencyReminder(n),
            "update_reminder" => Step::UpdateReminder(n),
            _ => return None,
        })
    }
}

/// What the schedule of one request depends on, read from the database.
#[derive(Debug, Clone)]
pub struct Facts {
    pub reference: i64,
    pub state: State,
    /// When the request entered its current state.
    pub state_since: DateTime<Utc>,
    /// When follow-ups count from: the submission, or the release from a hold or deficiency.
    pub follow_up_from: Option<DateTime<Utc>>,
    /// The date the provider promised the records by.
    pub eta: Option<NaiveDate>,
    pub still_treating: bool,
    /// An `UPDATE` already started a request for updated records from this one.
    pub updated: bool,
    /// Steps already done: key and when.
    pub done: HashMap<String, DateTime<Utc>>,
}

/// A step and when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub step: Step,
    pub key: String,
    pub at: DateTime<Utc>,
}

/// The next step of each of the request's running schedules (none once it is closed).
pub fn plan(f: &Facts, rules: &Rules, calendar: &Calendar) -> Vec<Due> {
    let mut due = Vec::new();
    match f.state {
        State::Submitted | State::Acknowledged | State::Partial => {
            if let Some(clock) = f.follow_up_from {
                due.push(next_follow_up(f, clock, rules, calendar));
                let escalation = Step::Escalation.key(f.reference, clock);
                if !f.done.contains_key(&escalation) {
                    let at = past_eta(calendar.days_later_open(clock, rules.escalate_after_days), f.eta, calendar);
                    due.push(Due { step: Step::Escalation, key: escalation, at });
                }
            }
        }
        State::OnHold => {
            due.push(reminder(f, Step::ApprovalReminder, rules.approval_reminder_business_days, calendar));
        }
        State::Deficient => {
            due.push(reminder(f, Step::DeficiencyReminder, rules.deficiency_reminder_business_days, calendar));
        }
        State::Received if f.still_treating && !f.updated => {
            let (n, last) = chain(f, Step::UpdateReminder, f.state_since);
            let step = Step::UpdateReminder(n);
            let at = calendar.days_later_open(last, rules.update_after_days);
            due.push(Due { step, key: step.key(f.reference, f.state_since), at });
        }
        _ => {}
    }
    due
}

/// Days from the clock start to follow-up `n`.
fn follow_up_day(n: u32, rules: &Rules) -> i64 {
    match n {
        0 | 1 => rules.first_follow_up_days,
        2 => rules.records_due_days,
        n => rules.records_due_days + i64::from(n - 2) * rules.repeat_days,
    }
}

fn next_follow_up(f: &Facts, clock: DateTime<Utc>, rules: &Rules, calendar: &Calendar) -> Due {
    let (n, last) = chain(f, Step::FollowUp, clock);
    let mut at = calendar.days_later_open(clock, follow_up_day(n, rules));
    // One late follow-up (the daemon was down, an ETA pushed it) never brings the next at once.
    if n > 1 {
        at = at.max(calendar.days_later_open(last, rules.repeat_days));
    }
    let step = Step::FollowUp(n);
    Due { step, key: step.key(f.reference, clock), at: past_eta(at, f.eta, calendar) }
}

/// The next reminder of a chain that starts when the request entered its state: every
/// `business_days` after the previous one.
fn reminder(f: &Facts, step: fn(u32) -> Step, business_days: u32, calendar: &Calendar) -> Due {
    let (n, last) = chain(f, step, f.state_since);
    let at = calendar.business_days_later(last, business_days);
    Due { step: step(n), key: step(n).key(f.reference, f.state_since), at }
}

/// The number of the next step of a chain, and when the one before it was done (the clock
/// start for the first).
fn chain(f: &Facts, step: fn(u32) -> Step, clock: DateTime<Utc>) -> (u32, DateTime<Utc>) {
    let mut last = clock;
    for n in 1..=u32::MAX {
        match f.done.get(&step(n).key(f.reference, clock)) {
            Some(at) => last = *at,
            None => return (n, last),
        }
    }
    (u32::MAX, last)
}

/// `at`, or the first business moment after the promised date when that is later.
fn past_eta(at: DateTime<Utc>, eta: Option<NaiveDate>, calendar: &Calendar) -> DateTime<Utc> {
    let Some(eta) = eta else { return at };
    let Some(day_after) = eta.succ_opt() else { return at };
    at.max(calendar.next_open(calendar.local(day_after, NaiveTime::MIN)))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    use super::*;
    use crate::core::calendar::HolidayRule;

    fn calendar() -> Calendar {
        let hour = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        Calendar::new(New_York, hour(9), hour(17), HolidayRule::UsFederal, Vec::new())
    }

    /// Local New York time.
    fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        New_York.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
    }

    /// Submitted Monday 2026-10-05 10:00 New York.
    fn submitted() -> Facts {
        let at = ny(2026, 10, 5, 10, 0);
        Facts {
            reference: 1001,
            state: State::Submitted,
            state_since: at,
            follow_up_from: Some(at),
            eta: None,
            still_treating: false,
            updated: false,
            done: HashMap::new(),
        }
    }

    fn only(due: Vec<Due>, step: fn(&Step) -> bool) -> Due {
        let mut found: Vec<Due> = due.into_iter().filter(|d| step(&d.step)).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    fn follow_up(f: &Facts) -> Due {
        only(plan(f, &Rules::default(), &calendar()), |s| matches!(s, Step::FollowUp(_)))
    }

    fn done(f: &mut Facts, d: &Due, at: DateTime<Utc>) {
        f.done.insert(d.key.clone(), at);
    }

    #[test]
    fn the_first_follow_up_is_two_weeks_after_submission_at_the_same_local_time() {
        let f = submitted();
        let d = follow_up(&f);
        assert_eq!(d.step, Step::FollowUp(1));
        assert_eq!(d.at, ny(2026, 10, 19, 10, 0));
        assert_eq!(d.key, format!("MR-1001/follow_up/{}/1", ny(2026, 10, 5, 10, 0).timestamp()));
    }

    #[test]
    fn follow_ups_go_on_day_30_then_every_14_days_and_escalate_on_day_60() {
        let mut f = submitted();
        let first = follow_up(&f);
        done(&mut f, &first, first.at);
        let second = follow_up(&f);
        assert_eq!(second.step, Step::FollowUp(2));
        assert_eq!(second.step.kind(), "records_due");
        // Day 30 is Wednesday 2026-11-04, after the fall-back: still 10:00 local.
        assert_eq!(second.at, ny(2026, 11, 4, 10, 0));
        done(&mut f, &second, second.at);
        let third = follow_up(&f);
        assert_eq!((third.step, third.at), (Step::FollowUp(3), ny(2026, 11, 18, 10, 0)));
        let escalation = only(plan(&f, &Rules::default(), &calendar()), |s| *s == Step::Escalation);
        // Day 60 is Friday 2026-12-04.
        assert_eq!(escalation.at, ny(2026, 12, 4, 10, 0));
        done(&mut f, &escalation, escalation.at);
        assert!(plan(&f, &Rules::default(), &calendar()).iter().all(|d| d.step != Step::Escalation));
    }

    #[test]
    fn a_follow_up_falling_on_a_holiday_waits_for_the_next_business_morning() {
        let mut f = submitted();
        // Submitted Thursday 2026-11-12: day 14 is Thanksgiving.
        f.follow_up_from = Some(ny(2026, 11, 12, 15, 30));
        assert_eq!(follow_up(&f).at, ny(2026, 11, 27, 9, 0));
    }

    #[test]
    fn a_late_follow_up_pushes_the_next_one_a_full_interval_later() {
        let mut f = submitted();
        let first = follow_up(&f);
        // Sent on day 25 (the daemon was stopped): the records-due one waits until day 39.
        done(&mut f, &first, ny(2026, 10, 30, 11, 0));
        assert_eq!(follow_up(&f).at, ny(2026, 11, 13, 11, 0));
    }

    #[test]
    fn an_eta_moves_the_next_follow_up_past_it() {
        let mut f = submitted();
        f.state = State::Acknowledged;
        f.eta = NaiveDate::from_ymd_opt(2026, 10, 23);
        // Past Friday the 23rd: Monday 09:00.
        assert_eq!(follow_up(&f).at, ny(2026, 10, 26, 9, 0));
        // An ETA before the follow-up changes nothing.
        f.eta = NaiveDate::from_ymd_opt(2026, 10, 9);
        assert_eq!(follow_up(&f).at, ny(2026, 10, 19, 10, 0));
    }

    #[test]
    fn a_hold_pauses_follow_ups_and_reminds_approvers_every_two_business_days() {
        let mut f = submitted();
        f.state = State::OnHold;
        f.state_since = ny(2026, 11, 20, 16, 0); // a Friday
        let due = plan(&f, &Rules::default(), &calendar());
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!((due[0].step, due[0].at), (Step::ApprovalReminder(1), ny(2026, 11, 24, 16, 0)));
        let first = due[0].clone();
        done(&mut f, &first, first.at);
        // Two business days after Tuesday, over Thanksgiving: Friday.
        let second = &plan(&f, &Rules::default(), &calendar())[0];
        assert_eq!((second.step, second.at), (Step::ApprovalReminder(2), ny(2026, 11, 27, 16, 0)));
    }

    #[test]
    fn a_deficiency_reminds_the_owner_and_release_starts_a_fresh_clock() {
        let mut f = submitted();
        f.state = State::Deficient;
        f.state_since = ny(2026, 10, 20, 10, 0);
        assert_eq!(plan(&f, &Rules::default(), &calendar())[0].step, Step::DeficiencyReminder(1));
        let first = follow_up(&submitted());
        f.done.insert(first.key.clone(), first.at);
        // Released on November 2: the clock starts again, so follow-up 1 of the new clock.
        f.state = State::Acknowledged;
        f.follow_up_from = Some(ny(2026, 11, 2, 14, 0));
        let d = follow_up(&f);
        assert_eq!((d.step, d.at), (Step::FollowUp(1), ny(2026, 11, 16, 14, 0)));
        assert_ne!(d.key, first.key);
    }

    #[test]
    fn received_or_closed_requests_have_nothing_due_unless_the_client_still_treats() {
        for state in [State::Received, State::NoRecords, State::Cancelled, State::Failed, State::Preparing] {
            let mut f = submitted();
            f.state = state;
            assert!(plan(&f, &Rules::default(), &calendar()).is_empty(), "{state}");
        }
        let mut f = submitted();
        f.state = State::Received;
        f.still_treating = true;
        f.state_since = ny(2026, 11, 2, 12, 0);
        let d = &plan(&f, &Rules::default(), &calendar())[0];
        // 90 days later is Sunday 2027-01-31: Monday 09:00.
        assert_eq!((d.step, d.at), (Step::UpdateReminder(1), ny(2027, 2, 1, 9, 0)));
        f.updated = true;
        assert!(plan(&f, &Rules::default(), &calendar()).is_empty());
    }

    #[test]
    fn keys_read_back_as_their_steps() {
        let at = ny(2026, 10, 5, 10, 0);
        for step in
            [Step::FollowUp(1), Step::FollowUp(2), Step::FollowUp(7), Step::Escalation, Step::ApprovalReminder(3)]
        {
            assert_eq!(Step::from_key(&step.key(1001, at)), Some(step));
        }
        assert_eq!(Step::from_key("digest/2026-11-23/paralegal@denhamlaw.example"), None);
    }
}
