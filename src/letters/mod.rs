//! Request letters, certification pages, fax cover sheets and notices, typeset with Typst, and the
//! request package merged into one PDF.
//!
//! Typst runs as a library in a closed [`world`]: the templates from `templates/` (or a
//! directory of edited ones, see [`Templates::from_dir`]) and one JSON file holding the data,
//! which the templates read with `json("/data.json")`. Data is never spliced into markup, so a
//! patient called `O'Brien #2 * _x_ $y$` prints exactly so. PDFs are merged with lopdf
//! ([`merge()`]); attachments from outside are checked with [`inspect_pdf`].

mod data;
mod inspect;
mod merge;
mod render;
mod templates;
mod world;

pub use data::{
    Channel, CoverData, LetterData, Letterhead, NoticeData, Patient, Provider, RecordRange, Staff, StatuteText,
};
pub use inspect::{PdfInfo, PdfProblem, inspect_pdf, pdf_text};
pub use merge::merge;
pub use templates::{CERTIFICATION, FAX_COVER, LETTER, LETTERHEAD, NOTICE, Templates};
pub use world::warm_up;

/// Why a letter or package could not be made. None of these is worth retrying: a person must
/// fix the template, the data or the attachment.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// A template does not compile (or cannot be read); `message` is Typst's, with file and line.
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    /// The data cannot fill the letter (e.g. "the letter goes by fax but the provider has no fax").
    #[error("letter data: {0}")]
    Data(String),
    /// Input number `index` (0-based) of a merge is unusable.
    #[error("PDF {index} cannot be merged: {message}")]
    Merge { index: usize, message: String },
    /// The merged PDF could not be written or does not read back.
    #[error("writing the merged PDF: {0}")]
    Write(String),
    /// The signed authorization is unusable.
    #[error("the authorization: {0}")]
    Authorization(PdfProblem),
}

/// The request package: letter, signed authorization, certification page, as one PDF.
#[derive(Debug, Clone)]
pub struct Package {
    pub pdf: Vec<u8>,
    pub pages: u32,
}

/// The request letter.
pub fn render_letter(templates: &Templates, data: &LetterData) -> Result<Vec<u8>, LetterError> {
    data.check().map_err(LetterError::Data)?;
    render::render(templates, LETTER, data)
}

/// The records custodian's certification page, for the provider to sign and return.
pub fn render_certification(templates: &Templates, data: &LetterData) -> Result<Vec<u8>, LetterError> {
    render::render(templates, CERTIFICATION, data)
}

/// The fax cover sheet.
pub fn render_cover(templates: &Templates, data: &CoverData) -> Result<Vec<u8>, LetterError> {
    render::render(templates, FAX_COVER, data)
}

/// A notice about a request already sent (withdrawal, follow-up, resend note), on the letterhead.
pub fn render_notice(templates: &Templates, data: &NoticeData) -> Result<Vec<u8>, LetterError> {
    data.check().map_err(LetterError::Data)?;
    render::render(templates, NOTICE, data)
}

/// Letter, then the authorization as the staff member sent it, then the certification page.
pub fn build_package(
    templates: &Templates,
    data: &LetterData,
    authorization_pdf: &[u8],
) -> Result<Package, LetterError> {
    inspect_pdf(authorization_pdf).map_err(LetterError::Authorization)?;
    let letter = render_letter(templates, data)?;
    let certification = render_certification(templates, data)?;
    let pdf = merge(&[&letter, authorization_pdf, &certification])?;
    let pages = inspect_pdf(&pdf).map_err(|p| LetterError::Write(p.to_string()))?.pages;
    Ok(Package { pdf, pages })
}
