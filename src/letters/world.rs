//! The Typst `World` a template is compiled in: the templates and one JSON data file, nothing
//! else. No file system, no packages, no clock, so output depends only on the inputs.
//!
//! The standard library and the fonts (typst-kit's embedded Libertinus Serif, New Computer
//! Modern, DejaVu Sans Mono) are built once per process and shared by every render.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_kit::fonts::FontStore;

use super::templates::{Templates, file_id};

/// Where the template finds its data: `json("/data.json")`.
pub(crate) const DATA_FILE: &str = "data.json";

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::builder().build()));

static FONTS: LazyLock<FontStore> = LazyLock::new(|| {
    let mut fonts = FontStore::new();
    fonts.extend(typst_kit::fonts::embedded());
    fonts
});

/// Loads fonts and the library ahead of the first render (the daemon calls it at start-up).
pub fn warm_up() {
    LazyLock::force(&LIBRARY);
    LazyLock::force(&FONTS);
}

/// One compilation: a main template, the others it may import, and the data.
pub(crate) struct LetterWorld<'a> {
    templates: &'a Templates,
    main: FileId,
    data_id: FileId,
    data: Bytes,
}

impl<'a> LetterWorld<'a> {
    pub(crate) fn new(templates: &'a Templates, main: &str, data: Vec<u8>) -> Self {
        LetterWorld { templates, main: file_id(main), data_id: file_id(DATA_FILE), data: Bytes::new(data) }
    }
}

impl World for LetterWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        FONTS.book()
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.templates.get(id) {
            Some(source) => Ok(source.clone()),
            None if id == self.data_id => Err(FileError::NotSource),
            None => Err(not_found(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            return Ok(self.data.clone());
        }
        match self.templates.get(id) {
            Some(source) => Ok(Bytes::from_string(source.clone())),
            None => Err(not_found(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.font(index)
    }

    /// No clock: templates get their dates as data, so a render is reproducible.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}
