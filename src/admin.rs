//! Admin commands run from the shell: `medrec providers import FILE.csv`,
//! `medrec providers list` and `medrec due`, and the guard that keeps root off the service's state.

use std::path::Path;

use anyhow::Context;

use crate::core::provider::{self, display_fax};
use crate::store::{Store, Upserted};

/// Imports a provider CSV; rows already in the directory are updated, so importing twice
/// changes nothing. Returns whether every row was good.
pub async fn import_providers(store: &Store, file: &Path) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let import = provider::import_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    for (_, entry) in &import.entries {
        match store.upsert_provider(entry, crate::daemon::clock::now()).await? {
            Upserted::Created(_) => created += 1,
            Upserted::Updated(_) => updated += 1,
            Upserted::Unchanged(_) => unchanged += 1,
        }
    }
    println!("{}: {created} added, {updated} updated, {unchanged} unchanged", file.display());
    for (line, problem) in &import.problems {
        println!("line {line}: not imported: {problem}");
    }
    Ok(import.problems.is_empty())
}

/// Prints the directory, one provider per line.
pub async fn list_providers(store: &Store) -> anyhow::Result<()> {
    let rows = store.providers().await?;
    println!("{:>4}  {:<36} {:<16} {:<2} {:<6} {:<15} EMAIL", "ID", "NAME", "CITY", "ST", "PREFER", "FAX");
    for r in &rows {
        let e = &r.entry;
        println!(
            "{:>4}  {:<36} {:<16} {:<2} {:<6} {:<15} {}",
            r.id,
            e.name,
            e.city.as_deref().unwrap_or("-"),
            e.state.as_deref().unwrap_or("-"),
            e.preferred_method.as_str(),
            e.fax.as_deref().map(display_fax).unwrap_or_else(|| "-".into()),
            e.email.as_deref().unwrap_or("-"),
        );
    }
    println!("{} provider(s)", rows.len());
    Ok(())
}

/// Prints what is due, earliest first, after planning the requests changed since the daemon
/// last looked (so it is right even while the daemon is stopped).
pub async fn show_due(store: &Store, settings: &crate::config::Settings, limit: i64) -> anyhow::Result<()> {
    crate::daemon::schedule::replan_changed(store, &settings.schedule).await?;
    let tz = settings.firm.time_zone;
    let rows = store.due_list(None, limit).await?;
    println!("What is due (times {}):", tz.name());
    for row in &rows {
        let at = row.at.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z");
        match row.request {
            Some(reference) => {
                let step =
                    crate::core::schedule::Step::from_key(&row.key).map_or_else(|| row.kind.clone(), |s| s.words());
                println!("  {at}  {:<8} {step}", reference.to_string());
            }
            None => println!("  {at}  {:<8} daily digest to {}", "-", row.detail.as_deref().unwrap_or("-")),
        }
    }
    if rows.is_empty() {
        println!("  nothing");
    }
    Ok(())
}

/// Refuses to work as root on state that belongs to another user (the service's): a database,
/// WAL or document file root created there would lock the service out. Run admin commands as
/// the service user instead (`sudo -u medrec medrec …`).
pub fn refuse_root_on_service_state(database: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if crate::mail::files::effective_uid() != 0 {
        return Ok(());
    }
    let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) else { return Ok(()) };
    let Ok(owner) = std::fs::metadata(dir).map(|m| m.uid()) else { return Ok(()) };
    if owner == 0 {
        return Ok(());
    }
    let name = user_name(owner).unwrap_or_else(|| owner.to_string());
    Err(format!(
        "{} belongs to the user {name}; run this as that user (sudo -u {name} medrec …), not as root: files root \
         created there would lock the service out",
        dir.display()
    ))
}

/// The login name of `uid`, from /etc/passwd.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut fields = l.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}
