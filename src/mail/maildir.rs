//! The local Maildir inbox, the stand-in for IMAP: messages appear in `new/` (delivered through
//! `tmp/` by whoever writes them) and move to `cur/` once their effects are committed, which is
//! the Maildir way of saying "seen".

use std::fs;
use std::path::{Path, PathBuf};

use super::files::create_private_dir;

pub struct Maildir {
    root: PathBuf,
}

/// One message waiting in `new/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    path: PathBuf,
}

impl Maildir {
    /// Opens the Maildir at `root`, creating `new/`, `cur/` and `tmp/` as needed.
    pub fn open(root: &Path) -> std::io::Result<Maildir> {
        for sub in ["new", "cur", "tmp"] {
            create_private_dir(&root.join(sub))?;
        }
        Ok(Maildir { root: root.to_path_buf() })
    }

    /// The name this inbox is stored under.
    pub fn mailbox_name(&self) -> String {
        format!("maildir:{}", self.root.display())
    }

    /// Messages in `new/`, in delivery order (Maildir names start with the delivery time).
    pub fn waiting(&self) -> std::io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for item in fs::read_dir(self.root.join("new"))? {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !item.file_type()?.is_file() {
                continue;
            }
            entries.push(Entry { name, path: item.path() });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    pub fn read(&self, entry: &Entry) -> std::io::Result<Vec<u8>> {
        fs::read(&entry.path)
    }

    /// Moves a processed message to `cur/` with the Seen flag (`:2,S`).
    pub fn mark_processed(&self, entry: &Entry) -> std::io::Result<()> {
        let base = entry.name.split(':').next().unwrap_or(&entry.name);
        fs::rename(&entry.path, self.root.join("cur").join(format!("{base}:2,S")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_messages_move_to_cur_when_processed() {
        let dir = tempfile::tempdir().unwrap();
        let md = Maildir::open(dir.path()).unwrap();
        fs::write(dir.path().join("new/2.b"), "b").unwrap();
        fs::write(dir.path().join("new/1.a"), "a").unwrap();
        fs::write(dir.path().join("new/.hidden"), "x").unwrap();
        let waiting = md.waiting().unwrap();
        assert_eq!(waiting.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["1.a", "2.b"]);
        assert_eq!(md.read(&waiting[0]).unwrap(), b"a");
        md.mark_processed(&waiting[0]).unwrap();
        assert!(dir.path().join("cur/1.a:2,S").exists());
        assert_eq!(md.waiting().unwrap().len(), 1);
    }
}
