//! `medrec backup DIR`: a consistent copy of the database and the documents, taken while the
//! daemon runs, into a new folder `DIR/medrec-backup-<UTC time>/` with a `MANIFEST` of every
//! file's SHA-256; [`restore`] puts one back. The SQL is in `store::backup`.
//!
//! Why the copy is consistent: the database is snapshotted first, then the documents copied.
//! Every document is written (temp name, fsync, rename) *before* the transaction that adds its
//! `documents` row commits, and none is ever changed or deleted afterwards: records,
//! authorizations and corrected documents are named by their SHA-256 (`commands::store_file`),
//! packages by request and second (`package.rs`). So every file the snapshot references was
//! already complete when the snapshot began and is still there when the copy reaches it; files
//! newer than the snapshot come along unreferenced and do no harm. The backup checks this
//! anyway and warns about any referenced document it could not copy with the recorded hash.

pub mod manifest;
pub mod restore;
mod running;

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::config::Settings;
use crate::store::Store;
use crate::store::backup::{DocumentRef, Inspected, inspect};
use manifest::{Entry, Manifest};

pub use restore::restore;

/// The database's name inside a backup folder.
pub const DATABASE: &str = "medrec.sqlite";
/// The documents' folder inside a backup folder.
pub const DOCUMENTS: &str = "documents";

/// What a backup wrote, for the admin.
#[derive(Debug)]
pub struct BackupReport {
    pub folder: PathBuf,
    pub database_bytes: u64,
    pub schema_version: i64,
    pub requests: i64,
    pub documents: usize,
    pub documents_bytes: u64,
    pub elapsed: Duration,
    /// Referenced documents that could not be copied as recorded (paths only).
    pub warnings: Vec<String>,
}

/// Backs up the database and documents of `settings` into a new folder under `dir`.
pub async fn backup(settings: &Settings, dir: &Path) -> anyhow::Result<BackupReport> {
    let started = Instant::now();
    let now = crate::daemon::clock::now();
    if !settings.database.is_file() {
        bail!("there is no database at {}; nothing to back up", settings.database.display());
    }
    if std::path::absolute(dir)?.starts_with(&settings.documents) {
        bail!("{} is inside the documents folder; back up somewhere else", dir.display());
    }
    let folder = new_folder(dir, &format!("medrec-backup-{}", now.format("%Y%m%dT%H%M%SZ")))?;
    let db_copy = folder.join(DATABASE);
    let checked = snapshot(&settings.database, &db_copy).await?;

    // Only now the documents: see the module comment.
    let (root, target) = (settings.documents.clone(), folder.join(DOCUMENTS));
    let documents = tokio::task::spawn_blocking(move || copy_tree(&root, &target)).await??;
    let warnings = unmatched(&checked.documents, &settings.documents, &documents);
    let mut files =
        vec![Entry { sha256: hash_file(&db_copy)?, size: fs::metadata(&db_copy)?.len(), path: DATABASE.into() }];
    files.extend(documents.iter().map(|d| Entry { path: format!("{DOCUMENTS}/{}", d.path), ..d.clone() }));
    let manifest = Manifest {
        medrec_version: env!("CARGO_PKG_VERSION").into(),
        created: now,
        schema_version: checked.schema_version,
        documents_root: settings.documents.clone(),
        files,
    };
    let text = manifest.render().map_err(anyhow::Error::msg)?;
    crate::mail::files::write_atomically(&folder, "MANIFEST", text.as_bytes())?;
    Ok(BackupReport {
        folder,
        database_bytes: manifest.files[0].size,
        schema_version: checked.schema_version,
        requests: checked.requests,
        documents: documents.len(),
        documents_bytes: documents.iter().map(|d| d.size).sum(),
        elapsed: started.elapsed(),
        warnings,
    })
}

/// Creates `dir/name` (and `dir` if needed), owner-only; refuses one that exists.
fn new_folder(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    crate::mail::files::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let folder = dir.join(name);
    match fs::DirBuilder::new().mode(0o700).create(&folder) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; a backup never writes over another (run again in a second)", folder.display())
        }
        other => other.with_context(|| format!("creating {}", folder.display()))?,
    }
    Ok(folder)
}

/// A consistent copy of the live database at `target`, which passed `PRAGMA integrity_check`.
async fn snapshot(database: &Path, target: &Path) -> anyhow::Result<Inspected> {
    let store = Store::open(database).await?;
    let copied = store.copy_into(target).await;
    store.close().await;
    copied?;
    let checked = inspect(target).await?;
    if !checked.is_intact() {
        bail!(
            "the copy {} failed its integrity check ({}); it is not a backup",
            target.display(),
            checked.integrity[0]
        );
    }
    Ok(checked)
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Backup written to {}: the database ({}, schema version {}, {} request(s), integrity check ok) and {} \
             document(s) ({}), with a MANIFEST of their SHA-256, in {:.2}s. Put it back with `medrec restore {}` \
             while the daemon is stopped.",
            self.folder.display(),
            human_bytes(self.database_bytes),
            self.schema_version,
            self.requests,
            self.documents,
            human_bytes(self.documents_bytes),
            self.elapsed.as_secs_f64(),
            self.folder.display(),
        )?;
        for w in &self.warnings {
            write!(f, "\nwarning: {w}")?;
        }
        Ok(())
    }
}

/// The database's documents the copy does not hold with the recorded SHA-256, as warnings.
fn unmatched(referenced: &[DocumentRef], root: &Path, copied: &[Entry]) -> Vec<String> {
    let copied: std::collections::HashMap<&str, &str> =
        copied.iter().map(|e| (e.path.as_str(), e.sha256.as_str())).collect();
    let mut out = Vec::new();
    for d in referenced {
        let relative = Path::new(&d.path).strip_prefix(root).ok().and_then(Path::to_str);
        let problem = match relative.map(|r| copied.get(r)) {
            None => "is outside the documents folder, so not in the backup",
            Some(None) => "is missing from the documents folder",
            Some(Some(sha)) if *sha != d.sha256 => "differs from the SHA-256 the database recorded",
            Some(Some(_)) => continue,
        };
        out.push(format!("{} {problem}", d.path));
    }
    out
}

/// Copies the regular files under `from` (if it exists) to `to`, which must not exist; returns
/// them by path relative to `from`, sorted. Skips the temp files of writes in progress
/// (`.name.tmp`, see `mail::files::write_atomically`): none is referenced yet.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<Vec<Entry>> {
    fs::DirBuilder::new().mode(0o700).create(to).with_context(|| format!("creating {}", to.display()))?;
    let mut out = Vec::new();
    let mut dirs = vec![String::new()];
    while let Some(rel) = dirs.pop() {
        let Ok(listing) = fs::read_dir(from.join(&rel)) else { continue };
        for item in listing {
            let item = item?;
            let name = item.file_name();
            let name =
                name.to_str().with_context(|| format!("{} has a name that is not UTF-8", item.path().display()))?;
            let path = if rel.is_empty() { name.to_string() } else { format!("{rel}/{name}") };
            let kind = item.file_type()?;
            if kind.is_dir() {
                fs::DirBuilder::new().mode(0o700).create(to.join(&path))?;
                dirs.push(path);
            } else if kind.is_file() && !(name.starts_with('.') && name.ends_with(".tmp")) {
                let (sha256, size) = copy_file(&from.join(&path), &to.join(&path))?;
                out.push(Entry { sha256, size, path });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Copies one file to a new file (owner-only, flushed to disk); returns the SHA-256 and size of
/// the bytes written.
pub(crate) fn copy_file(from: &Path, to: &Path) -> anyhow::Result<(String, u64)> {
    let mut src = fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
    let mut dst = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    let sha = hash_stream(&mut src, |chunk| dst.write_all(chunk))?;
    dst.sync_all()?;
    Ok(sha)
}

/// SHA-256 (hex) of a file.
pub(crate) fn hash_file(path: &Path) -> anyhow::Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hash_stream(&mut file, |_| Ok(()))?.0)
}

/// Reads `src` to the end, handing each chunk to `sink`; returns the hex SHA-256 and length.
fn hash_stream(
    src: &mut impl Read,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<(String, u64)> {
    use sha2::Digest;
    let (mut hasher, mut buf, mut size) = (sha2::Sha256::new(), vec![0u8; 64 * 1024], 0u64);
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        sink(&buf[..n])?;
        size += n as u64;
    }
    Ok((hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(), size))
}

/// `path` with `suffix` added to its file name (`medrec.db` → `medrec.db-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}
