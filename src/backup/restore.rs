//! `medrec restore FOLDER`: puts a backup back, with the daemon stopped. It checks the backup
//! (every file against its MANIFEST, the database's integrity) before touching anything, never
//! overwrites: an existing database and documents are refused, or with `--force` moved aside to
//! `<name>.before-restore-<time>`. The documents go in first and the database last, each copied
//! under a temporary name and renamed into place.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::manifest::Manifest;
use super::{DATABASE, DOCUMENTS, sibling};
use crate::config::Settings;
use crate::store::backup as db;

/// What a restore did, for the admin.
#[derive(Debug)]
pub struct RestoreReport {
    pub from: PathBuf,
    pub manifest: Manifest,
    pub database: PathBuf,
    pub requests: i64,
    pub documents_dir: PathBuf,
    pub documents: usize,
    /// Where the previous database and documents went (with `--force`).
    pub moved_aside: Vec<PathBuf>,
    /// Document rows pointed at this machine's documents folder.
    pub paths_moved: u64,
}

/// Restores the backup in `from` to the database and documents of `settings`.
pub async fn restore(settings: &Settings, from: &Path, force: bool) -> anyhow::Result<RestoreReport> {
    let (manifest, checked) = verify(from).await?;
    if let Some(who) = super::running::holder(settings) {
        bail!("{who}; stop the daemon first (`systemctl stop medrec`), then restore");
    }
    let stamp = crate::daemon::clock::now().format("%Y%m%dT%H%M%SZ").to_string();
    let (database, documents_dir) = (&settings.database, &settings.documents);
    let moved_aside = clear_the_way(database, documents_dir, force, &stamp)?;

    let staged = sibling(documents_dir, &format!(".restoring-{stamp}"));
    let (source, target, m) = (from.to_path_buf(), staged.clone(), manifest.clone());
    let documents = tokio::task::spawn_blocking(move || copy_documents(&source, &target, &m)).await??;
    fs::rename(&staged, documents_dir)
        .with_context(|| format!("moving the documents into {}", documents_dir.display()))?;

    let staged = sibling(database, &format!(".restoring-{stamp}"));
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::mail::files::create_private_dir(dir)?;
    }
    copy_verified(&from.join(DATABASE), &staged, &manifest.files[0].sha256)?;
    let paths_moved = if manifest.documents_root == *documents_dir {
        0
    } else {
        db::move_documents(&staged, &manifest.documents_root, documents_dir).await?
    };
    fs::rename(&staged, database).with_context(|| format!("moving the database to {}", database.display()))?;
    Ok(RestoreReport {
        from: from.to_path_buf(),
        manifest,
        database: database.clone(),
        requests: checked.requests,
        documents_dir: documents_dir.clone(),
        documents,
        moved_aside,
        paths_moved,
    })
}

/// Makes room for the restore: refuses an existing database (with its `-wal`/`-shm`) or
/// documents unless `force`, else moves them aside; returns where they went.
fn clear_the_way(database: &Path, documents_dir: &Path, force: bool, stamp: &str) -> anyhow::Result<Vec<PathBuf>> {
    let old: Vec<&str> = ["", "-wal", "-shm"].into_iter().filter(|s| sibling(database, s).exists()).collect();
    let old_documents = fs::read_dir(documents_dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if !force && (!old.is_empty() || old_documents) {
        let there = match (old.is_empty(), old_documents) {
            (false, true) => {
                format!("a database at {} and documents in {}", database.display(), documents_dir.display())
            }
            (false, false) => format!("a database at {}", database.display()),
            _ => format!("documents in {}", documents_dir.display()),
        };
        bail!(
            "found {there}: restore never writes over them, and nothing was changed. To replace them, run it again with \
             --force, which first moves them aside to <name>.before-restore-<time>"
        );
    }
    // Moved aside with their -wal/-shm, renamed the way SQLite expects, so the old database
    // still opens as it was, uncheckpointed transactions included.
    let aside = sibling(database, &format!(".before-restore-{stamp}"));
    let mut moved = Vec::new();
    for suffix in old {
        moved.push(move_aside(&sibling(database, suffix), &sibling(&aside, suffix))?);
    }
    if old_documents {
        moved.push(move_aside(documents_dir, &sibling(documents_dir, &format!(".before-restore-{stamp}")))?);
    } else if documents_dir.exists() {
        fs::remove_dir(documents_dir).with_context(|| format!("removing the empty {}", documents_dir.display()))?;
    }
    Ok(moved)
}

/// Reads the MANIFEST and checks every file it lists, then the database: nothing is restored
/// from a backup that is damaged, tampered with, unfinished, or newer than this medrec.
async fn verify(from: &Path) -> anyhow::Result<(Manifest, db::Inspected)> {
    let text = fs::read_to_string(from.join("MANIFEST")).with_context(|| {
        format!("{} has no readable MANIFEST: it is not a medrec backup, or an unfinished one", from.display())
    })?;
    let manifest =
        Manifest::parse(&text).map_err(|e| anyhow::anyhow!("{}/MANIFEST is damaged: {e}", from.display()))?;
    if manifest.files.first().is_none_or(|f| f.path != DATABASE) {
        bail!("{}/MANIFEST does not list {DATABASE} first", from.display());
    }
    let (dir, m) = (from.to_path_buf(), manifest.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for f in &m.files {
            let path = dir.join(&f.path);
            let meta = fs::symlink_metadata(&path).with_context(|| format!("the backup is missing {}", f.path))?;
            if !meta.is_file() || meta.len() != f.size || super::hash_file(&path)? != f.sha256 {
                bail!("the backup is damaged: {} does not match its MANIFEST (size or SHA-256)", f.path);
            }
        }
        Ok(())
    })
    .await??;
    let checked = db::inspect(&from.join(DATABASE)).await?;
    if !checked.is_intact() {
        bail!("the backup's database fails its integrity check: {}", checked.integrity.join("; "));
    }
    if checked.schema_version > db::latest_schema_version() {
        bail!(
            "the backup has schema version {}, newer than this medrec knows ({}): restore it with medrec {} or later",
            checked.schema_version,
            db::latest_schema_version(),
            manifest.medrec_version
        );
    }
    Ok((manifest, checked))
}

/// Copies the MANIFEST's documents into `to` (a new folder), checking each hash again as it
/// goes: the backup may have changed since [`verify`] read it.
fn copy_documents(from: &Path, to: &Path, manifest: &Manifest) -> anyhow::Result<usize> {
    crate::mail::files::create_private_dir(to)?;
    let mut count = 0;
    for f in &manifest.files {
        let Some(relative) = f.path.strip_prefix(&format!("{DOCUMENTS}/")) else { continue };
        let target = to.join(relative);
        if let Some(dir) = target.parent() {
            crate::mail::files::create_private_dir(dir)?;
        }
        copy_verified(&from.join(&f.path), &target, &f.sha256)?;
        count += 1;
    }
    Ok(count)
}

fn copy_verified(from: &Path, to: &Path, sha256: &str) -> anyhow::Result<()> {
    if super::copy_file(from, to)?.0 != sha256 {
        bail!("{} changed while it was being restored", from.display());
    }
    Ok(())
}

fn move_aside(from: &Path, to: &Path) -> anyhow::Result<PathBuf> {
    if to.exists() {
        bail!("{} already exists; wait a second and run again", to.display());
    }
    fs::rename(from, to).with_context(|| format!("moving {} aside to {}", from.display(), to.display()))?;
    Ok(to.to_path_buf())
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.manifest;
        writeln!(
            f,
            "Restored {} (made {} by medrec {}, schema version {}; every file matched its MANIFEST, integrity check ok):",
            self.from.display(),
            m.created.format("%Y-%m-%d %H:%M:%SZ"),
            m.medrec_version,
            m.schema_version
        )?;
        writeln!(f, "  database:  {} ({} request(s))", self.database.display(), self.requests)?;
        writeln!(f, "  documents: {} ({} file(s))", self.documents_dir.display(), self.documents)?;
        if self.paths_moved > 0 {
            writeln!(
                f,
                "  {} document path(s) in the database moved from {} to {}",
                self.paths_moved,
                m.documents_root.display(),
                self.documents_dir.display()
            )?;
        }
        for p in &self.moved_aside {
            writeln!(f, "  moved aside: {}", p.display())?;
        }
        write!(f, "Start the daemon: `systemctl start medrec` (it brings the schema up to date if it is older).")
    }
}
