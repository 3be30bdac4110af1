//! The `MANIFEST` of a backup folder: what made it, when, and the SHA-256 and size of every file
//! in it, so restore can tell a sound backup from a damaged or tampered one before touching
//! anything. It is written last: a folder without one is an unfinished backup.
//!
//! Plain text, one `key value` line each, the value running to the end of the line:
//!
//! ```text
//! medrec-backup 1
//! medrec-version 0.1.0
//! created 2026-11-23T15:00:00Z
//! schema-version 3
//! documents-root /var/lib/medrec/documents
//! file 9f86d0…15b0 28672 medrec.sqlite
//! file 2c26b4…7ae5 18311 documents/MR-1001/2c26b4…7ae5.pdf
//! ```

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};

/// The first line; the number changes when the format does.
const HEADER: &str = "medrec-backup 1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub medrec_version: String,
    pub created: DateTime<Utc>,
    pub schema_version: i64,
    /// Where the documents were on the machine backed up; the database's paths start with it.
    pub documents_root: PathBuf,
    pub files: Vec<Entry>,
}

/// One file of the backup, by its path relative to the backup folder (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub sha256: String,
    pub size: u64,
    pub path: String,
}

impl Manifest {
    /// The text of the file. Fails on a path that one line cannot hold.
    pub fn render(&self) -> Result<String, String> {
        let root = self.documents_root.to_str().filter(|r| !r.contains('\n'));
        let root = root.ok_or_else(|| format!("{} cannot be written in a MANIFEST", self.documents_root.display()))?;
        let mut out = format!(
            "{HEADER}\nmedrec-version {}\ncreated {}\nschema-version {}\ndocuments-root {root}\n",
            self.medrec_version,
            self.created.format("%Y-%m-%dT%H:%M:%SZ"),
            self.schema_version,
        );
        for f in &self.files {
            check_path(&f.path)?;
            let _ = writeln!(out, "file {} {} {}", f.sha256, f.size, f.path);
        }
        Ok(out)
    }

    /// Reads the text of a MANIFEST; the error names the line that is wrong.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(format!("the first line is not `{HEADER}`"));
        }
        let (mut version, mut created, mut schema, mut root, mut files) = (None, None, None, None, Vec::new());
        for (i, line) in lines {
            let bad = |why: &str| format!("line {}: {why}", i + 1);
            let (key, value) = line.split_once(' ').ok_or_else(|| bad("no value"))?;
            match key {
                "medrec-version" => version = Some(value.to_string()),
                "created" => created = Some(value.parse().map_err(|_| bad("not a UTC time"))?),
                "schema-version" => schema = Some(value.parse().map_err(|_| bad("not a number"))?),
                "documents-root" => root = Some(PathBuf::from(value)),
                "file" => files.push(entry(value).map_err(|e| bad(&e))?),
                _ => return Err(bad(&format!("unknown key `{key}`"))),
            }
        }
        let missing = |key: &str| format!("no `{key}` line");
        Ok(Manifest {
            medrec_version: version.ok_or_else(|| missing("medrec-version"))?,
            created: created.ok_or_else(|| missing("created"))?,
            schema_version: schema.ok_or_else(|| missing("schema-version"))?,
            documents_root: root.ok_or_else(|| missing("documents-root"))?,
            files,
        })
    }
}

fn entry(value: &str) -> Result<Entry, String> {
    let mut parts = value.splitn(3, ' ');
    let (Some(sha256), Some(size), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a file line is `file <sha256> <size> <path>`".into());
    };
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not a SHA-256".into());
    }
    check_path(path)?;
    Ok(Entry { sha256: sha256.to_string(), size: size.parse().map_err(|_| "not a size")?, path: path.to_string() })
}

/// A path must stay inside the backup folder: relative, no `..`, on one line.
fn check_path(path: &str) -> Result<(), String> {
    let inside = !path.is_empty()
        && !path.contains('\n')
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)));
    if inside { Ok(()) } else { Err(format!("`{}` is not a path inside the backup", path.escape_debug())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            medrec_version: "0.1.0".into(),
            created: "2026-11-23T15:00:00Z".parse().unwrap(),
            schema_version: 3,
            documents_root: "/var/lib/medrec/documents".into(),
            files: vec![
                Entry { sha256: "a".repeat(64), size: 28672, path: "medrec.sqlite".into() },
                Entry { sha256: "b".repeat(64), size: 7, path: "documents/MR-1001/signed form (2).pdf".into() },
            ],
        }
    }

    #[test]
    fn renders_then_reads_back_the_same() {
        let text = sample().render().unwrap();
        assert!(text.starts_with("medrec-backup 1\nmedrec-version 0.1.0\ncreated 2026-11-23T15:00:00Z\n"), "{text}");
        assert!(text.ends_with(&format!("file {} 7 documents/MR-1001/signed form (2).pdf\n", "b".repeat(64))));
        assert_eq!(Manifest::parse(&text).unwrap(), sample());
    }

    #[test]
    fn paths_that_leave_the_folder_are_refused_both_ways() {
        for path in ["../etc/passwd", "/etc/passwd", "documents/../../x", "a\nb", ""] {
            let mut m = sample();
            m.files[1].path = path.into();
            assert!(m.render().is_err(), "{path:?} rendered");
        }
        let text = sample().render().unwrap().replace("documents/MR-1001", "../../MR-1001");
        assert!(Manifest::parse(&text).unwrap_err().contains("not a path inside the backup"));
    }

    #[test]
    fn a_damaged_manifest_names_the_line() {
        let text = sample().render().unwrap();
        assert_eq!(Manifest::parse("hello\n").unwrap_err(), "the first line is not `medrec-backup 1`");
        let err = Manifest::parse(&text.replace("schema-version 3", "schema-version three")).unwrap_err();
        assert_eq!(err, "line 4: not a number");
        let err = Manifest::parse(&text.replace(&"a".repeat(64), "abc")).unwrap_err();
        assert_eq!(err, "line 6: not a SHA-256");
        let err = Manifest::parse(&text.replace("created 2026-11-23T15:00:00Z\n", "")).unwrap_err();
        assert_eq!(err, "no `created` line");
        assert!(Manifest::parse(&format!("{text}colour blue\n")).unwrap_err().contains("unknown key `colour`"));
    }
}
