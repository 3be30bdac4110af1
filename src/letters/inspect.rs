//! Looking into PDFs we did not make: is an attachment a usable PDF (for intake), and what text
//! does it hold (for tests and, later, classification).
//!
//! Nothing here may panic on hostile bytes: lopdf runs inside `catch_unwind`, and stream
//! decompression is bounded.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use lopdf::{Document, LoadOptions};

/// Decompressed-size limit per stream and per page: a scanned page is a few MB, a bomb is not.
const MAX_DECOMPRESSED: usize = 64 * 1024 * 1024;

/// How far into the file the `%PDF-` header may start (readers tolerate leading junk).
const HEADER_WINDOW: usize = 1024;

/// What intake needs to know about a PDF that opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfInfo {
    pub pages: u32,
}

/// Why an attachment cannot be used, in words a staff member can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfProblem {
    /// No `%PDF-` header: a Word file, an image, an HTML page…
    NotPdf,
    /// Needs a password to open.
    Encrypted,
    /// Starts like a PDF but cannot be read (truncated, damaged); the detail is lopdf's.
    DoesNotOpen(String),
    /// Opens, but has no pages.
    NoPages,
}

impl fmt::Display for PdfProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdfProblem::NotPdf => f.write_str("the attachment is not a PDF"),
            PdfProblem::Encrypted => f.write_str("the PDF is password-protected; please send it without a password"),
            PdfProblem::DoesNotOpen(detail) => write!(f, "the PDF is damaged and does not open ({detail})"),
            PdfProblem::NoPages => f.write_str("the PDF has no pages"),
        }
    }
}

impl std::error::Error for PdfProblem {}

/// Checks that `bytes` is a PDF that opens and has pages.
pub fn inspect_pdf(bytes: &[u8]) -> Result<PdfInfo, PdfProblem> {
    let doc = load(bytes)?;
    match u32::try_from(doc.get_pages().len()) {
        Ok(0) => Err(PdfProblem::NoPages),
        Ok(pages) => Ok(PdfInfo { pages }),
        Err(_) => Err(PdfProblem::DoesNotOpen("too many pages".into())),
    }
}

/// The text of every page, pages separated by a form feed (as `pdftotext` does).
///
/// lopdf reads text drawn with simple and Identity-H fonts that carry a `ToUnicode` map (Typst's
/// output, most office software); scans have no text at all.
pub fn pdf_text(bytes: &[u8]) -> Result<String, PdfProblem> {
    let doc = load(bytes)?;
    let pages: Vec<u32> = doc.get_pages().into_keys().collect();
    let chunks = guarded(|| {
        pages.iter().map(|&p| doc.extract_text_with_limit(&[p], MAX_DECOMPRESSED).unwrap_or_default()).collect()
    })
    .unwrap_or_else(|_| Vec::<String>::new());
    Ok(chunks.join("\x0c"))
}

/// Opens a PDF, classifying why it does not open.
pub(crate) fn load(bytes: &[u8]) -> Result<Document, PdfProblem> {
    let window = &bytes[..bytes.len().min(HEADER_WINDOW)];
    if !window.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfProblem::NotPdf);
    }
    let options = LoadOptions { max_decompressed_size: Some(MAX_DECOMPRESSED), ..LoadOptions::default() };
    let loaded = guarded(|| Document::load_mem_with_options(bytes, options));
    match loaded {
        // lopdf opens files encrypted with an empty user password (common: "no printing"
        // restrictions from portals); those read fine. Anything still encrypted needs a password.
        Ok(Ok(doc)) if doc.is_encrypted() && !doc.was_encrypted() => Err(PdfProblem::Encrypted),
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_))) => Err(PdfProblem::Encrypted),
        Ok(Err(e)) if declares_encryption(bytes) => Err(PdfProblem::DoesNotOpen(format!("encrypted: {e}"))),
        Ok(Err(e)) => Err(PdfProblem::DoesNotOpen(e.to_string())),
        Err(()) => Err(PdfProblem::DoesNotOpen("the file's structure is invalid".into())),
    }
}

fn declares_encryption(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

/// Runs lopdf, turning a panic on malformed input into an error.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny valid one-page PDF, hand-written (xref offsets computed below).
    fn minimal_pdf() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> >>",
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        out
    }

    #[test]
    fn a_minimal_pdf_has_one_page() {
        assert_eq!(inspect_pdf(&minimal_pdf()), Ok(PdfInfo { pages: 1 }));
    }

    #[test]
    fn non_pdfs_are_named_as_such() {
        assert_eq!(inspect_pdf(b""), Err(PdfProblem::NotPdf));
        assert_eq!(inspect_pdf(b"PK\x03\x04 a docx"), Err(PdfProblem::NotPdf));
        assert_eq!(inspect_pdf(b"<html><body>hi</body></html>"), Err(PdfProblem::NotPdf));
    }

    #[test]
    fn a_header_alone_does_not_open() {
        assert!(matches!(inspect_pdf(b"%PDF-1.7\n"), Err(PdfProblem::DoesNotOpen(_) | PdfProblem::NoPages)));
    }

    #[test]
    fn problems_read_as_sentences() {
        assert_eq!(PdfProblem::NotPdf.to_string(), "the attachment is not a PDF");
        assert!(PdfProblem::Encrypted.to_string().contains("password"));
    }

    /// Random bytes, truncations and single-byte corruptions of a valid PDF: never a panic.
    #[test]
    fn garbage_never_panics() {
        let good = minimal_pdf();
        let mut rng = fastrand::Rng::with_seed(0x6d65_6472_6563);
        for _ in 0..300 {
            let len = rng.usize(0..2048);
            let mut noise: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let _ = inspect_pdf(&noise);
            noise.splice(0..0, b"%PDF-1.7\n".iter().copied());
            let _ = inspect_pdf(&noise);
            let _ = pdf_text(&noise);
        }
        for cut in 0..good.len() {
            let _ = inspect_pdf(&good[..cut]);
        }
        for _ in 0..300 {
            let mut bad = good.clone();
            let at = rng.usize(0..bad.len());
            bad[at] = rng.u8(..);
            let _ = inspect_pdf(&bad);
            let _ = pdf_text(&bad);
        }
    }
}
