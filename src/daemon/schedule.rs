//! The scheduler: keeps each request's due steps in the database in step with its state, and
//! does what is due. It sleeps until the earliest due step, the next cron sweep of the config,
//! or a wake-up (a request changed, the clock moved), whichever comes first.
//!
//! A sweep first re-plans the requests changed since the last one, then does each due step
//! after planning it again from the request as it is now: a step planned before a hold or a
//! records reply is dropped, not sent. Provider follow-ups and staff reminders wait for business
//! hours; a step is marked done in the transaction that queues what it sends.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::intake::Intake;
use crate::config::schedule::Schedule;
use crate::core::reference::Reference;
use crate::core::schedule::{self, Due};
use crate::store::{Done, DueRow, Store};

/// The name of the scheduler's mark: the last `updated_at` it planned from.
const MARK: &str = "planned";
/// Longest sleep, so a wall clock that jumps is noticed within this.
const LONGEST_SLEEP: Duration = Duration::from_secs(3600);
/// Due steps done per sweep before looking at the clock again.
const BATCH: i64 = 200;
/// Longest a sweep's re-planning may take: 100,000 requests planned for the first time.
const FIRST_PLANNING: Duration = Duration::from_secs(600);

/// Runs sweeps until `cancel`.
pub async fn run(intake: Intake, cancel: CancellationToken) {
    loop {
        // Re-planning is quick, except the first time after an upgrade (all requests at once).
        intake.health.beat("schedule", FIRST_PLANNING);
        match sweep(&intake, &cancel).await {
            Ok(done) if done > 0 => info!(steps = done, "schedule sweep done"),
            Ok(_) => {}
            Err(e) => warn!(error = format!("{e:#}"), "schedule sweep failed; trying again shortly"),
        }
        if cancel.is_cancelled() {
            return intake.health.finished("schedule");
        }
        let pause = pause_until_next(&intake).await;
        intake.health.beat("schedule", pause);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = intake.schedule_wake.notified() => {}
            _ = intake.clock.moved() => {}
            _ = cancel.cancelled() => return intake.health.finished("schedule"),
        }
    }
}

async fn pause_until_next(intake: &Intake) -> Duration {
    let now = intake.clock.now();
    let next_due = match intake.store.next_due_at().await {
        Ok(at) => at,
        Err(_) => return Duration::from_secs(5),
    };
    let next_sweep = intake.settings.schedule.next_sweep(now);
    let next = [next_due, next_sweep].into_iter().flatten().min();
    next.map_or(LONGEST_SLEEP, |at| (at - now).to_std().unwrap_or(Duration::ZERO).min(LONGEST_SLEEP))
}

/// One sweep: re-plan what changed, plan the digests, do what is due. Returns the steps done.
pub async fn sweep(intake: &Intake, cancel: &CancellationToken) -> anyhow::Result<usize> {
    replan_changed(&intake.store, &intake.settings.schedule).await?;
    let now = intake.clock.now();
    super::digest::plan(intake, now).await?;
    let mut done = 0;
    for row in intake.store.due_now(now, BATCH).await? {
        if cancel.is_cancelled() {
            break;
        }
        intake.health.beat("schedule", Duration::ZERO);
        let result = match row.request {
            Some(reference) => request_step(intake, reference, &row, now).await,
            None => super::digest::send(intake, &row, now).await,
        };
        match result {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => warn!(key = %row.key, error = format!("{e:#}"), "a due step failed; it stays due"),
        }
    }
    if done > 0 {
        intake.outbox_wake.notify_one();
        replan_changed(&intake.store, &intake.settings.schedule).await?;
    }
    Ok(done)
}

/// Plans again every request changed since the last look; returns how many.
pub async fn replan_changed(store: &Store, settings: &Schedule) -> anyhow::Result<usize> {
    let mark = store.schedule_mark(MARK).await?;
    let changed = store.requests_changed_since(mark).await?;
    let Some(&(_, last)) = changed.last() else { return Ok(0) };
    for chunk in changed.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        store.replan(&ids, |f| schedule::plan(f, &settings.rules, &settings.calendar)).await?;
    }
    store.set_schedule_mark(MARK, last).await?;
    Ok(changed.len())
}

fn plan(intake: &Intake, facts: &schedule::Facts) -> Vec<Due> {
    let s = &intake.settings.schedule;
    schedule::plan(facts, &s.rules, &s.calendar)
}

/// Does one request's due step if it is still due; true when it was done.
async fn request_step(intake: &Intake, reference: Reference, row: &DueRow, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let store = &intake.store;
    let current = match store.schedule_facts(reference.0).await? {
        Some(facts) => plan(intake, &facts),
        None => Vec::new(),
    };
    let Some(due) = current.iter().find(|d| d.key == row.key && d.at <= now) else {
        // The request moved on (a hold, records, a new ETA): its plan is stored afresh.
        store.replan(&[reference.0], |f| plan(intake, f)).await?;
        return Ok(false);
    };
    let calendar = &intake.settings.schedule.calendar;
    if !calendar.is_open(now) {
        let opens = calendar.next_open(now);
        store.replan(&[reference.0], |f| postponed(plan(intake, f), &row.key, opens)).await?;
        return Ok(false);
    }
    for _ in 0..3 {
        let Some(request) = store.request_detail(reference).await? else { return Ok(false) };
        let planned = super::follow_ups::plan_step(intake, &request, due.step, now).await?;
        let composed = super::change::compose(intake, &planned, now)?;
        match store.do_step(&row.key, &super::change::for_store(&planned, &composed), now).await? {
            Done::Done => {
                info!(request = %reference, step = %due.step.words(), "scheduled step done");
                return Ok(true);
            }
            Done::AlreadyDone => return Ok(false),
            Done::Stale => continue,
        }
    }
    anyhow::bail!("the request kept changing while its scheduled step was prepared")
}

/// `due` with the step `key` moved to `to` (outside business hours now).
fn postponed(mut due: Vec<Due>, key: &str, to: DateTime<Utc>) -> Vec<Due> {
    for d in due.iter_mut().filter(|d| d.key == key) {
        d.at = d.at.max(to);
    }
    due
}
