//! The local stand-in gateway: each fax becomes `<dir>/<reference>-<idempotency_key>.pdf`,
//! written atomically, and counts as delivered at once. The embedded default config uses it so a
//! fresh install works without a vendor account; nothing leaves the machine.

use std::path::{Path, PathBuf};

use super::{FaxError, FaxJob, FaxStatus, Submitted};

#[derive(Debug, Clone)]
pub struct Directory {
    path: PathBuf,
}

impl Directory {
    /// Creates the directory (private to the service user) if needed.
    pub fn new(path: &Path) -> Result<Directory, String> {
        crate::mail::files::create_private_dir(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(Directory { path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the PDF; a resend of the same attempt (same key) rewrites the same file.
    pub async fn submit(&self, job: &FaxJob) -> Result<Submitted, FaxError> {
        // reference and key are checked tokens (letters, digits, '-', '_'): no path tricks
        let name = format!("{}-{}.pdf", job.reference, job.idempotency_key);
        let (dir, file, pdf) = (self.path.clone(), name.clone(), job.pdf.clone());
        tokio::task::spawn_blocking(move || crate::mail::files::write_atomically(&dir, &file, &pdf))
            .await
            .map_err(|e| FaxError::Transient(format!("fax directory writer failed: {e}")))?
            .map_err(|e| FaxError::Transient(format!("cannot write the fax file: {e}")))?;
        Ok(Submitted { gateway_id: name })
    }

    /// The file an earlier attempt of `job` wrote, if any.
    pub fn find_sent(&self, job: &FaxJob) -> Option<Submitted> {
        let name = format!("{}-{}.pdf", job.reference, job.idempotency_key);
        self.path.join(&name).is_file().then_some(Submitted { gateway_id: name })
    }

    /// Delivered if the file is there.
    pub fn lookup(&self, gateway_id: &str) -> Result<FaxStatus, FaxError> {
        // only names submit could have made: no separators, no dot-files, nothing outside the folder
        let safe = gateway_id.strip_suffix(".pdf").is_some_and(|stem| {
            !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if safe && self.path.join(gateway_id).is_file() {
            Ok(FaxStatus::Delivered { pages: None })
        } else {
            Err(FaxError::Permanent(format!("no fax {gateway_id:?} in {}", self.path.display())))
        }
    }
}
