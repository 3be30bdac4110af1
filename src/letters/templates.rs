//! The Typst template files: the built-in ones compiled into the binary, or a directory of
//! edited ones (a firm can change its letter without a new build). A file missing from the
//! directory falls back to the built-in one.

use std::io;
use std::path::Path;

use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};

use super::LetterError;

/// The request letter.
pub const LETTER: &str = "letter.typ";
/// The records custodian's certification page.
pub const CERTIFICATION: &str = "certification.typ";
/// The fax cover sheet.
pub const FAX_COVER: &str = "fax-cover.typ";
/// A one-page notice about a request already sent (withdrawal, follow-up, resend note).
pub const NOTICE: &str = "notice.typ";
/// Letterhead and page style shared by the others (`#import "letterhead.typ": *`).
pub const LETTERHEAD: &str = "letterhead.typ";

const BUILTIN: [(&str, &str); 5] = [
    (LETTER, include_str!("../../templates/letter.typ")),
    (CERTIFICATION, include_str!("../../templates/certification.typ")),
    (FAX_COVER, include_str!("../../templates/fax-cover.typ")),
    (NOTICE, include_str!("../../templates/notice.typ")),
    (LETTERHEAD, include_str!("../../templates/letterhead.typ")),
];

/// A set of parsed templates. Parsing happens once, here; rendering reuses the sources.
#[derive(Debug, Clone)]
pub struct Templates {
    files: Vec<(&'static str, Source)>,
}

impl Templates {
    /// The templates shipped in `templates/`, compiled in.
    pub fn builtin() -> Self {
        Templates { files: BUILTIN.iter().map(|&(name, text)| (name, source(name, text.to_owned()))).collect() }
    }

    /// Each template from `dir` when the file exists there, else the built-in one.
    pub fn from_dir(dir: &Path) -> Result<Self, LetterError> {
        // A mistyped directory must not silently fall back to the built-in templates.
        if !dir.is_dir() {
            return Err(LetterError::Template { name: dir.display().to_string(), message: "not a directory".into() });
        }
        let mut files = Vec::with_capacity(BUILTIN.len());
        for (name, builtin) in BUILTIN {
            let path = dir.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == io::ErrorKind::NotFound => builtin.to_owned(),
                Err(e) => {
                    return Err(LetterError::Template {
                        name: name.to_owned(),
                        message: format!("{}: {e}", path.display()),
                    });
                }
            };
            files.push((name, source(name, text)));
        }
        Ok(Templates { files })
    }

    /// The parsed template with this file name.
    pub(crate) fn get(&self, id: FileId) -> Option<&Source> {
        self.files.iter().map(|(_, s)| s).find(|s| s.id() == id)
    }
}

/// The file id a template (or the data file) has in the virtual file system.
pub(crate) fn file_id(name: &str) -> FileId {
    // The names are our own constants, all valid relative paths.
    let vpath = VirtualPath::new(name).expect("template and data file names are valid virtual paths");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

fn source(name: &str, text: String) -> Source {
    Source::new(file_id(name), text)
}
