//! The firm's business calendar: business days (no weekends, holidays or extra closed dates) and
//! business hours in the firm's IANA time zone. Follow-ups to providers and reminders to staff are
//! placed with it, so every computation is DST-correct and pure: the current time is an argument.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// How many days a search for the next business day looks ahead before giving up (about 3 years).
const MAX_SEARCH_DAYS: u32 = 366 * 3;

/// How far (in minutes) `Calendar::local` steps forward out of a DST gap (gaps are at most a day).
const MAX_GAP_MINUTES: i64 = 25 * 60;

/// Which public holidays close the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayRule {
    /// US federal holidays as observed by federal offices (see [`us_federal_holidays`]).
    UsFederal,
    /// No public holidays; only weekends and the extra closed dates close the office.
    None,
}

/// The firm's business calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    opens: NaiveTime,
    closes: NaiveTime,
    rule: HolidayRule,
    extra_closed: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar open `opens`..`closes` local time in `tz` on business days.
    /// `opens` < `closes` is the caller's job (config validation); assume it holds.
    pub fn new(
        tz: Tz,
        opens: NaiveTime,
        closes: NaiveTime,
        rule: HolidayRule,
        extra_closed: Vec<NaiveDate>,
    ) -> Calendar {
        Calendar { tz, opens, closes, rule, extra_closed: extra_closed.into_iter().collect() }
    }

    /// The firm's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Weekday, not a holiday under the rule, not in the extra list.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && self.holiday(date).is_none()
    }

    /// The holiday's name when `date` is an (observed) holiday under the rule, e.g. Some("Thanksgiving Day");
    /// extra dates give Some("office closed").
    pub fn holiday(&self, date: NaiveDate) -> Option<&'static str> {
        let public = match self.rule {
            HolidayRule::UsFederal => {
                us_federal_holidays(date.year()).into_iter().find(|(day, _)| *day == date).map(|(_, name)| name)
            }
            HolidayRule::None => None,
        };
        public.or_else(|| self.extra_closed.contains(&date).then_some("office closed"))
    }

    /// `at` falls on a business day (local date in tz) within [opens, closes) local time.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = self.to_local(at);
        self.is_business_day(local.date()) && self.opens <= local.time() && local.time() < self.closes
    }

    /// `at` itself when open, else the next opening moment (the next business day's `opens`, or today's
    /// `opens` if `at` is before opening on a business day).
    pub fn next_open(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_open(at) {
            return at;
        }
        let local = self.to_local(at);
        let today = local.date();
        if self.is_business_day(today) && local.time() < self.opens {
            return self.local(today, self.opens);
        }
        self.local(self.next_business_day(today), self.opens)
    }

    /// `days` calendar days after `at`, keeping the local wall-clock time (so 10:00 EST + 14 days across
    /// the DST change is 10:00 EDT), then `next_open` of that. Out of chrono's date range, `at` is used.
    pub fn days_later_open(&self, at: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        let local = self.to_local(at);
        let later = TimeDelta::try_days(days).and_then(|delta| local.checked_add_signed(delta));
        match later {
            Some(later) if days != 0 => self.next_open(self.local(later.date(), later.time())),
            _ => self.next_open(at),
        }
    }

    /// `n` business days after `at`'s local date, at the same local wall-clock time as `at`, then
    /// `next_open` of that (so a time after closing moves to the following business morning).
    /// n = 0 gives next_open(at).
    pub fn business_days_later(&self, at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        if n == 0 {
            return self.next_open(at);
        }
        let local = self.to_local(at);
        let mut date = local.date();
        for _ in 0..n {
            let next = self.next_business_day(date);
            if next == date {
                break; // the end of chrono's date range
            }
            date = next;
        }
        self.next_open(self.local(date, local.time()))
    }

    /// The first moment strictly after `after` that is local time `time` on a business day (used for the
    /// daily digest at 07:30, which may be before opening). DST-correct.
    pub fn next_business_time(&self, after: DateTime<Utc>, time: NaiveTime) -> DateTime<Utc> {
        let today = self.to_local(after).date();
        if self.is_business_day(today) {
            let (earlier, later) = self.instants(today, time);
            if let Some(found) = [Some(earlier), later].into_iter().flatten().find(|t| *t > after) {
                return found;
            }
        }
        self.local(self.next_business_day(today), time)
    }

    /// The UTC instant of local `date` + `time` in tz: on a spring-forward gap, the first valid instant
    /// after the gap (e.g. 02:30 on the spring-forward day in America/New_York → 03:00 EDT); on a
    /// fall-back overlap, the earlier of the two.
    pub fn local(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.instants(date, time).0
    }

    /// The instants of local `date` + `time`: the earlier (after a gap: the gap's end) and, in a
    /// fall-back overlap, the later one.
    fn instants(&self, date: NaiveDate, time: NaiveTime) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        let wanted = date.and_time(time);
        match self.tz.from_local_datetime(&wanted) {
            LocalResult::Single(t) => (t.to_utc(), None),
            LocalResult::Ambiguous(a, b) => (a.to_utc(), Some(b.to_utc())),
            LocalResult::None => (self.after_gap(wanted), None),
        }
    }

    /// The first valid whole minute after `wanted`, which falls in a DST gap.
    fn after_gap(&self, wanted: NaiveDateTime) -> DateTime<Utc> {
        let start = wanted.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(wanted);
        (1..=MAX_GAP_MINUTES)
            .filter_map(|minutes| start.checked_add_signed(TimeDelta::minutes(minutes)))
            .find_map(|candidate| self.tz.from_local_datetime(&candidate).earliest())
            .map_or_else(|| Utc.from_utc_datetime(&wanted), |t| t.to_utc())
    }

    /// `at` as local wall-clock time in tz (the UTC time itself if that is out of chrono's range).
    fn to_local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        let utc = at.naive_utc();
        let offset = self.tz.offset_from_utc_datetime(&utc);
        utc.checked_add_offset(chrono::Offset::fix(&offset)).unwrap_or(utc)
    }

    /// The first business day after `date`; after [`MAX_SEARCH_DAYS`] without one (or at the end of
    /// chrono's date range), the last day looked at.
    fn next_business_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        for _ in 0..MAX_SEARCH_DAYS {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
            if self.is_business_day(day) {
                break;
            }
        }
        day
    }
}

/// The US federal holidays observed in `year` (5 U.S.C. 6103 with the OPM observance rule: a holiday on
/// Saturday is observed the Friday before, on Sunday the Monday after), sorted, with their names.
/// Includes Juneteenth (June 19) from 2021 on. New Year's Day of year+1 falling on a Saturday is observed
/// on Dec 31 of `year` and is in `year`'s list (and so not in year+1's).
pub fn us_federal_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    use Weekday::{Mon, Thu};
    let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day).map(observed);
    let nth = |month, weekday, n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
    let last_monday_of_may = nth(5, Mon, 5).or_else(|| nth(5, Mon, 4));
    let new_year = fixed(1, 1).filter(|day| day.year() == year);
    let next_new_year =
        NaiveDate::from_ymd_opt(year.saturating_add(1), 1, 1).map(observed).filter(|d| d.year() == year);
    let juneteenth = if year >= 2021 { fixed(6, 19) } else { None };
    let mut days = vec![
        (new_year, "New Year's Day"),
        (nth(1, Mon, 3), "Martin Luther King Jr. Day"),
        (nth(2, Mon, 3), "Washington's Birthday"),
        (last_monday_of_may, "Memorial Day"),
        (juneteenth, "Juneteenth"),
        (fixed(7, 4), "Independence Day"),
        (nth(9, Mon, 1), "Labor Day"),
        (nth(10, Mon, 2), "Columbus Day"),
        (fixed(11, 11), "Veterans Day"),
        (nth(11, Thu, 4), "Thanksgiving Day"),
        (fixed(12, 25), "Christmas Day"),
        (next_new_year, "New Year's Day"),
    ];
    days.sort_by_key(|(day, _)| *day);
    days.into_iter().filter_map(|(day, name)| day.map(|day| (day, name))).collect()
}

/// The OPM observance rule: Saturday → the Friday before, Sunday → the Monday after.
fn observed(date: NaiveDate) -> NaiveDate {
    let moved = match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    };
    moved.unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&d(y, m, day).and_time(t(h, min)))
    }

    fn new_york() -> Calendar {
        Calendar::new(chrono_tz::America::New_York, t(9, 0), t(17, 0), HolidayRule::UsFederal, vec![])
    }

    #[test]
    fn us_federal_holidays_2026_exact() {
        let expected = vec![
            (d(2026, 1, 1), "New Year's Day"),
            (d(2026, 1, 19), "Martin Luther King Jr. Day"),
            (d(2026, 2, 16), "Washington's Birthday"),
            (d(2026, 5, 25), "Memorial Day"),
            (d(2026, 6, 19), "Juneteenth"),
            (d(2026, 7, 3), "Independence Day"), // July 4 is a Saturday
            (d(2026, 9, 7), "Labor Day"),
            (d(2026, 10, 12), "Columbus Day"),
            (d(2026, 11, 11), "Veterans Day"),
            (d(2026, 11, 26), "Thanksgiving Day"),
            (d(2026, 12, 25), "Christmas Day"),
        ];
        assert_eq!(us_federal_holidays(2026), expected);
    }

    #[test]
    fn saturday_new_year_is_observed_in_the_previous_year() {
        // Jan 1 2022 is a Saturday: observed Fri Dec 31 2021, listed in 2021 only.
        let y2021 = us_federal_holidays(2021);
        assert_eq!(y2021.len(), 12);
        assert_eq!(y2021.last(), Some(&(d(2021, 12, 31), "New Year's Day")));
        assert_eq!(y2021[0], (d(2021, 1, 1), "New Year's Day"));
        let y2022 = us_federal_holidays(2022);
        assert_eq!(y2022[0], (d(2022, 1, 17), "Martin Luther King Jr. Day"));
        assert!(y2022.iter().all(|(_, name)| *name != "New Year's Day"));
        assert_eq!(new_york().holiday(d(2021, 12, 31)), Some("New Year's Day"));
    }

    #[test]
    fn sunday_holiday_is_observed_the_monday_after() {
        // Christmas 2022 is a Sunday.
        assert!(us_federal_holidays(2022).contains(&(d(2022, 12, 26), "Christmas Day")));
        assert_eq!(new_york().holiday(d(2022, 12, 26)), Some("Christmas Day"));
        assert_eq!(new_york().holiday(d(2022, 12, 25)), None);
    }

    #[test]
    fn no_juneteenth_before_2021() {
        let y2020 = us_federal_holidays(2020);
        assert_eq!(y2020.len(), 10);
        assert!(y2020.iter().all(|(day, _)| *day != d(2020, 6, 19)));
        assert!(us_federal_holidays(2021).contains(&(d(2021, 6, 18), "Juneteenth"))); // Saturday → Friday
    }

    #[test]
    fn weekends_holidays_and_extra_dates_are_not_business_days() {
        let cal = new_york();
        assert!(!cal.is_business_day(d(2026, 11, 21))); // Saturday
        assert!(!cal.is_business_day(d(2026, 11, 22))); // Sunday
        assert!(cal.is_business_day(d(2026, 11, 23))); // Monday
        assert!(!cal.is_business_day(d(2026, 11, 26)));
        assert_eq!(cal.holiday(d(2026, 11, 26)), Some("Thanksgiving Day"));
        let extra = Calendar::new(cal.time_zone(), t(9, 0), t(17, 0), HolidayRule::UsFederal, vec![d(2026, 11, 27)]);
        assert!(!extra.is_business_day(d(2026, 11, 27)));
        assert_eq!(extra.holiday(d(2026, 11, 27)), Some("office closed"));
        // Wed before Thanksgiving + 1 business day: Thu holiday, Fri closed, weekend → Mon.
        assert_eq!(extra.business_days_later(utc(2026, 11, 25, 15, 0), 1), utc(2026, 11, 30, 15, 0));
    }

    #[test]
    fn no_holiday_rule_makes_thanksgiving_a_business_day() {
        let cal = Calendar::new(chrono_tz::America::New_York, t(9, 0), t(17, 0), HolidayRule::None, vec![]);
        assert!(cal.is_business_day(d(2026, 11, 26)));
        assert_eq!(cal.holiday(d(2026, 11, 26)), None);
        assert!(!cal.is_business_day(d(2026, 11, 28))); // still a Saturday
    }

    #[test]
    fn friday_evening_request_next_open_is_monday_morning() {
        let cal = new_york();
        let friday_evening = cal.local(d(2026, 11, 20), t(18, 30));
        assert_eq!(friday_evening, utc(2026, 11, 20, 23, 30));
        assert_eq!(cal.next_open(friday_evening), utc(2026, 11, 23, 14, 0)); // Mon 09:00 EST
    }

    #[test]
    fn two_business_days_after_friday_evening_is_tuesday_evening_so_wednesday_morning() {
        // Rule: Fri + 2 business days = Tue (Mon=1, Tue=2) at 18:30, after closing → next_open = Wed 09:00.
        let cal = new_york();
        let friday_evening = cal.local(d(2026, 11, 20), t(18, 30));
        assert_eq!(cal.business_days_later(friday_evening, 2), utc(2026, 11, 25, 14, 0));
        assert_eq!(cal.business_days_later(friday_evening, 0), cal.next_open(friday_evening));
    }

    #[test]
    fn business_day_skips_thanksgiving() {
        let cal = new_york();
        let wednesday = cal.local(d(2026, 11, 25), t(10, 0));
        assert_eq!(cal.business_days_later(wednesday, 1), utc(2026, 11, 27, 15, 0)); // Fri 10:00 EST
    }

    #[test]
    fn next_open_before_opening_on_a_business_day_is_today() {
        let cal = new_york();
        assert_eq!(cal.next_open(cal.local(d(2026, 11, 23), t(7, 0))), utc(2026, 11, 23, 14, 0));
        let open = cal.local(d(2026, 11, 23), t(12, 0));
        assert_eq!(cal.next_open(open), open);
    }

    #[test]
    fn spring_forward_keeps_wall_clock_time_and_skips_the_gap() {
        let cal = new_york();
        // Mon 2026-02-23 10:00 EST + 14 days = Mon 2026-03-09 10:00 EDT.
        assert_eq!(cal.days_later_open(utc(2026, 2, 23, 15, 0), 14), utc(2026, 3, 9, 14, 0));
        // 02:30 does not exist on 2026-03-08: the gap ends at 03:00 EDT = 07:00 UTC.
        assert_eq!(cal.local(d(2026, 3, 8), t(2, 30)), utc(2026, 3, 8, 7, 0));
    }

    #[test]
    fn fall_back_takes_the_earlier_instant_and_keeps_wall_clock_time() {
        let cal = new_york();
        assert_eq!(cal.local(d(2026, 11, 1), t(1, 30)), utc(2026, 11, 1, 5, 30)); // 01:30 EDT
        // Mon 2026-10-26 10:00 EDT + 7 days = Mon 2026-11-02 10:00 EST.
        assert_eq!(cal.days_later_open(utc(2026, 10, 26, 14, 0), 7), utc(2026, 11, 2, 15, 0));
    }

    #[test]
    fn month_and_year_ends() {
        let cal = new_york();
        // Thu 2026-12-17 + 14 days = Thu 2026-12-31, a business day.
        assert_eq!(cal.days_later_open(utc(2026, 12, 17, 15, 0), 14), utc(2026, 12, 31, 15, 0));
        // Dec 31 + 1 business day: Jan 1 2027 (Fri) holiday, weekend → Mon Jan 4.
        assert_eq!(cal.business_days_later(utc(2026, 12, 31, 15, 0), 1), utc(2027, 1, 4, 15, 0));
        // Fri 2026-01-30 + 1 business day = Mon Feb 2; Sat Jan 31 + 1 day = Sun → Mon Feb 2 09:00.
        assert_eq!(cal.business_days_later(utc(2026, 1, 30, 15, 0), 1), utc(2026, 2, 2, 15, 0));
        assert_eq!(cal.days_later_open(utc(2026, 1, 31, 15, 0), 1), utc(2026, 2, 2, 14, 0));
    }

    #[test]
    fn leap_year_february() {
        let cal = new_york();
        // Mon 2028-02-28 10:00 EST + 1 business day = Tue Feb 29; + 2 calendar days = Wed Mar 1.
        assert_eq!(cal.business_days_later(utc(2028, 2, 28, 15, 0), 1), utc(2028, 2, 29, 15, 0));
        assert_eq!(cal.days_later_open(utc(2028, 2, 28, 15, 0), 2), utc(2028, 3, 1, 15, 0));
    }

    #[test]
    fn next_business_time_for_the_digest() {
        let cal = new_york();
        let digest = t(7, 30);
        // Fri 08:00 → Mon 07:30 EST (12:30 UTC).
        assert_eq!(cal.next_business_time(utc(2026, 11, 20, 13, 0), digest), utc(2026, 11, 23, 12, 30));
        // Mon 07:29 → Mon 07:30; Mon 07:30 exactly → Tue 07:30 (strictly after).
        assert_eq!(cal.next_business_time(utc(2026, 11, 23, 12, 29), digest), utc(2026, 11, 23, 12, 30));
        assert_eq!(cal.next_business_time(utc(2026, 11, 23, 12, 30), digest), utc(2026, 11, 24, 12, 30));
        // Wed before Thanksgiving 08:00 → Fri 07:30.
        assert_eq!(cal.next_business_time(utc(2026, 11, 25, 13, 0), digest), utc(2026, 11, 27, 12, 30));
    }

    #[test]
    fn is_open_at_the_edges_of_business_hours() {
        let cal = new_york();
        let monday = d(2026, 11, 23);
        let at = |h, m, s| cal.local(monday, NaiveTime::from_hms_opt(h, m, s).unwrap());
        assert!(!cal.is_open(at(8, 59, 59)));
        assert!(cal.is_open(at(9, 0, 0)));
        assert!(cal.is_open(at(16, 59, 0)));
        assert!(!cal.is_open(at(17, 0, 0)));
        for hour in 0..24 {
            assert!(!cal.is_open(cal.local(d(2026, 11, 21), t(hour, 0))), "Saturday {hour}:00");
        }
    }

    #[test]
    fn a_calendar_closed_every_day_still_returns() {
        let start = d(2026, 1, 1);
        let closed = (0..2000).filter_map(|n| start.checked_add_days(chrono::Days::new(n))).collect();
        let cal = Calendar::new(chrono_tz::America::New_York, t(9, 0), t(17, 0), HolidayRule::UsFederal, closed);
        let at = utc(2026, 1, 5, 15, 0);
        assert!(!cal.is_open(at));
        assert!(cal.next_open(at) > at);
        assert!(cal.business_days_later(at, 3) > at);
        assert!(cal.next_business_time(at, t(7, 30)) > at);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let cal = new_york();
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = cal.is_open(at);
            let _ = cal.next_open(at);
            let _ = cal.days_later_open(at, i64::MAX);
            let _ = cal.days_later_open(at, i64::MIN);
            let _ = cal.business_days_later(at, 5);
            let _ = cal.next_business_time(at, t(7, 30));
        }
        let _ = cal.local(NaiveDate::MIN, NaiveTime::MIN);
        let _ = cal.local(NaiveDate::MAX, t(23, 59));
        assert!(us_federal_holidays(i32::MAX).is_empty());
        assert!(us_federal_holidays(i32::MIN).is_empty());
        // Samoa skipped 2011-12-30 entirely: its noon is the start of Dec 31 (10:00 UTC on Dec 30).
        let apia = Calendar::new(chrono_tz::Pacific::Apia, t(9, 0), t(17, 0), HolidayRule::None, vec![]);
        assert_eq!(apia.local(d(2011, 12, 30), t(12, 0)), utc(2011, 12, 30, 10, 0));
    }

    #[test]
    fn berlin_spring_forward_without_holidays() {
        let cal = Calendar::new(chrono_tz::Europe::Berlin, t(9, 0), t(17, 0), HolidayRule::None, vec![]);
        // 2026-03-29 02:00 CET jumps to 03:00 CEST: 02:30 → 03:00 CEST = 01:00 UTC.
        assert_eq!(cal.local(d(2026, 3, 29), t(2, 30)), utc(2026, 3, 29, 1, 0));
        // Fri 2026-03-27 10:00 CET (09:00 UTC) + 3 days = Mon 2026-03-30 10:00 CEST (08:00 UTC).
        assert_eq!(cal.days_later_open(utc(2026, 3, 27, 9, 0), 3), utc(2026, 3, 30, 8, 0));
        assert!(cal.is_open(utc(2026, 3, 30, 7, 0))); // 09:00 CEST
        assert!(!cal.is_open(utc(2026, 3, 27, 7, 30))); // 08:30 CET
    }
}
