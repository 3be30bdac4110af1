//! `medrec doctor`: an admin's checklist of everything medrec needs — the config, the time zone,
//! the database, who may read the state and documents, the secrets, the inbox (IMAP login and
//! folders, or the Maildir), the way out (SMTP login without sending, unless a test message is
//! asked for) and the fax gateway (a read-only call) — each line saying what to fix.
//!
//! [`checklist`] is the pure part (the [`Check`]s and how they print); the other files probe
//! one subject each and turn what they find into checks. Nothing secret and no patient data is
//! ever printed: secrets are named by where they come from, the database by its counts.

pub mod checklist;
mod database;
mod fax;
mod local;
mod mail;

pub use checklist::{Check, Outcome, render};

use crate::config::Settings;

/// Runs every check, printing each line as it is known (a slow server shows where it hangs),
/// then the summary. Returns whether nothing failed.
pub async fn run(settings: &Settings, send_test_to: Option<&str>) -> bool {
    println!("medrec doctor: checking {}", settings.source.display());
    let mut all = Vec::new();
    let mut report = |checks: Vec<Check>| {
        for c in &checks {
            println!("{}", checklist::line(c));
        }
        all.extend(checks);
    };
    report(local::config(settings));
    let machine = local::machine_time_zone();
    report(vec![local::time_zone(settings.firm.time_zone, crate::daemon::clock::now(), machine.as_deref())]);
    report(database::checks(&settings.database).await);
    report(vec![documents(settings)]);
    report(local::secrets(settings));
    report(vec![mail::inbox(settings).await]);
    report(mail::outgoing(settings, send_test_to).await);
    report(vec![fax::gateway(&settings.fax).await]);
    println!("{}", checklist::summary(&all));
    !all.iter().any(Check::failed)
}

/// The documents directory, created private as the daemon does at start, then examined.
fn documents(settings: &Settings) -> Check {
    let path = &settings.documents;
    match crate::mail::files::create_private_dir(path) {
        Ok(()) => local::private_on_disk("documents directory", path),
        Err(e) => Check::fail(
            format!("documents directory {}", path.display()),
            format!("cannot be created: {e}"),
            format!("create it for the service user: mkdir -m 700 -p {}", checklist::shell_word(path)),
        ),
    }
}
