//! `[schedule]`: follow-up intervals, business hours and holidays, the daily digest, and the cron
//! times of the scheduler's sweeps. Cron lines are parsed here, when the config is validated, and
//! never in the scheduler's loop.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::Deserialize;

use crate::core::calendar::{Calendar, HolidayRule};
use crate::core::schedule::Rules;

/// `[schedule]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    /// Days from submission to the first follow-up (default 14).
    pub first_follow_up_days: Option<i64>,
    /// Days from submission to the records-due follow-up, when the owner is told (default 30).
    pub records_due_days: Option<i64>,
    /// Days between later follow-ups (default 14).
    pub repeat_every_days: Option<i64>,
    /// Days from submission to the escalation to the owner (default 60).
    pub escalate_after_days: Option<i64>,
    /// Business days between reminders of an invoice waiting for approval (default 2).
    pub approval_reminder_business_days: Option<u32>,
    /// Business days between reminders of an open deficiency (default 2).
    pub deficiency_reminder_business_days: Option<u32>,
    /// Days after records arrive, for a client still treating, before the owner is reminded to
    /// ask for updated records (default 90).
    pub update_reminder_days: Option<i64>,
    /// Business hours in the firm's time zone, "09:00-17:00" (default).
    pub business_hours: Option<String>,
    /// "us-federal" (default) or "none".
    pub holidays: Option<String>,
    /// Further days the office is closed, "2026-12-24".
    #[serde(default)]
    pub extra_closed_days: Vec<String>,
    /// Local time of the daily digest on business days, "07:30" (default), or "off".
    pub digest_time: Option<String>,
    /// Crontab lines (5 fields, the firm's time zone) when the scheduler sweeps in any case,
    /// besides waking at each due time (default every 15 minutes).
    pub sweep: Option<Vec<String>>,
}

/// The validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub rules: Rules,
    pub calendar: Calendar,
    /// `None`: no digest.
    pub digest_at: Option<NaiveTime>,
    pub sweeps: Vec<Cron>,
}

impl Schedule {
    /// One line for `check-config`.
    pub fn summary(&self) -> String {
        let r = &self.rules;
        format!(
            "follow-ups on day {} and {} then every {} days, escalation on day {}; digest {}; {} sweep line(s)",
            r.first_follow_up_days,
            r.records_due_days,
            r.repeat_days,
            r.escalate_after_days,
            self.digest_at.map_or("off".to_string(), |t| t.format("%H:%M").to_string()),
            self.sweeps.len()
        )
    }

    /// The first sweep time strictly after `now`, in the firm's time zone.
    pub fn next_sweep(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.calendar.time_zone());
        self.sweeps
            .iter()
            .filter_map(|c| c.find_next_occurrence(&local, false).ok())
            .map(|t| t.with_timezone(&Utc))
            .min()
    }
}

/// Checks `[schedule]`, adding one line per problem to `problems`.
pub fn validate(raw: ScheduleFile, tz: chrono_tz::Tz, problems: &mut Vec<String>) -> Schedule {
    let d = Rules::default();
    let mut days = |key: &str, v: Option<i64>, default: i64| match v {
        Some(n) if !(1..=3650).contains(&n) => {
            problems.push(format!("schedule.{key} = {n} is not between 1 and 3650 days"));
            default
        }
        Some(n) => n,
        None => default,
    };
    let mut rules = Rules {
        first_follow_up_days: days("first_follow_up_days", raw.first_follow_up_days, d.first_follow_up_days),
        records_due_days: days("records_due_days", raw.records_due_days, d.records_due_days),
        repeat_days: days("repeat_every_days", raw.repeat_every_days, d.repeat_days),
        escalate_after_days: days("escalate_after_days", raw.escalate_after_days, d.escalate_after_days),
        update_after_days: days("update_reminder_days", raw.update_reminder_days, d.update_after_days),
        ..d
    };
    if rules.records_due_days <= rules.first_follow_up_days {
        problems.push(format!(
            "schedule.records_due_days ({}) must come after schedule.first_follow_up_days ({})",
            rules.records_due_days, rules.first_follow_up_days
        ));
    }
    for (key, value, field) in [
        (
            "approval_reminder_business_days",
            raw.approval_reminder_business_days,
            &mut rules.approval_reminder_business_days,
        ),
        (
            "deficiency_reminder_business_days",
            raw.deficiency_reminder_business_days,
            &mut rules.deficiency_reminder_business_days,
        ),
    ] {
        match value {
            Some(n) if !(1..=60).contains(&n) => problems.push(format!("schedule.{key} = {n} is not between 1 and 60")),
            Some(n) => *field = n,
            None => {}
        }
    }
    let (opens, closes) = hours(raw.business_hours.as_deref().unwrap_or("09:00-17:00"), problems);
    let rule = match raw.holidays.as_deref().unwrap_or("us-federal") {
        "us-federal" => HolidayRule::UsFederal,
        "none" => HolidayRule::None,
        other => {
            problems.push(format!("schedule.holidays = \"{other}\" is not accepted; use \"us-federal\" or \"none\""));
            HolidayRule::UsFederal
        }
    };
    let extra = raw
        .extra_closed_days
        .iter()
        .filter_map(|t| {
            NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
                .map_err(|_| {
                    problems.push(format!("schedule.extra_closed_days: \"{t}\" is not a date like 2026-12-24"))
                })
                .ok()
        })
        .collect();
    let digest_at = match raw.digest_time.as_deref().map(str::trim) {
        Some("off") => None,
        Some(t) => Some(time("schedule.digest_time", t, problems)),
        None => NaiveTime::from_hms_opt(7, 30, 0),
    };
    let lines = raw.sweep.unwrap_or_else(|| vec!["*/15 * * * *".to_string()]);
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    let sweeps = lines
        .iter()
        .filter_map(|line| {
            parser
                .parse(line)
                .map_err(|e| {
                    problems.push(format!(
                        "schedule.sweep: \"{line}\" is not a 5-field crontab line like \"*/15 * * * *\" ({e})"
                    ))
                })
                .ok()
        })
        .collect();
    Schedule { rules, calendar: Calendar::new(tz, opens, closes, rule, extra), digest_at, sweeps }
}

fn time(key: &str, text: &str, problems: &mut Vec<String>) -> NaiveTime {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").unwrap_or_else(|_| {
        problems.push(format!("{key}: \"{text}\" is not a time like 07:30"));
        NaiveTime::MIN
    })
}

fn hours(text: &str, problems: &mut Vec<String>) -> (NaiveTime, NaiveTime) {
    let key = "schedule.business_hours";
    let Some((a, b)) = text.split_once('-') else {
        problems.push(format!("{key} = \"{text}\" is not a range like \"09:00-17:00\""));
        return (NaiveTime::MIN, NaiveTime::MIN);
    };
    let (opens, closes) = (time(key, a, problems), time(key, b, problems));
    if opens >= closes {
        problems.push(format!("{key} = \"{text}\": the office must open before it closes"));
    }
    (opens, closes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> (Schedule, Vec<String>) {
        let raw: ScheduleFile = toml::from_str(toml_text).unwrap();
        let mut problems = Vec::new();
        let s = validate(raw, chrono_tz::America::New_York, &mut problems);
        (s, problems)
    }

    #[test]
    fn defaults_follow_the_sop() {
        let (s, problems) = check("");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.rules, Rules::default());
        assert_eq!(s.digest_at, NaiveTime::from_hms_opt(7, 30, 0));
        assert_eq!(s.sweeps.len(), 1);
    }

    #[test]
    fn every_bad_value_is_named() {
        let (_, problems) = check(
            "first_follow_up_days = 0\nbusiness_hours = \"17:00-09:00\"\nholidays = \"uk\"\n\
             extra_closed_days = [\"12/24/2026\"]\ndigest_time = \"7.30\"\nsweep = [\"0 9 * *\", \"*/5 * * * * *\"]",
        );
        let all = problems.join("\n");
        for expected in [
            "first_follow_up_days = 0",
            "must open before it closes",
            "\"uk\"",
            "\"12/24/2026\"",
            "\"7.30\"",
            "\"0 9 * *\"",
            "\"*/5 * * * * *\"",
        ] {
            assert!(all.contains(expected), "{expected} missing from:\n{all}");
        }
    }

    #[test]
    fn sweeps_run_at_their_cron_times_in_the_firm_time_zone() {
        let (s, problems) = check("sweep = [\"0 9 * * 1-5\", \"30 12 * * *\"]");
        assert!(problems.is_empty(), "{problems:?}");
        // Saturday 2026-11-21 10:00 EST: next is 12:30 EST that day (17:30 UTC).
        let now = "2026-11-21T15:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(s.next_sweep(now), Some("2026-11-21T17:30:00Z".parse().unwrap()));
        // Sunday 13:00 EST: the next is Monday 09:00 EST.
        let now = "2026-11-22T18:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(s.next_sweep(now), Some("2026-11-23T14:00:00Z".parse().unwrap()));
    }
}
