//! Compiling one template with its data to PDF, and turning Typst's diagnostics into an error
//! that names the template, the file and line, and Typst's message.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;
use typst::World;
use typst::diag::SourceDiagnostic;
use typst::foundations::Smart;
use typst::syntax::DiagSpanKind;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use super::LetterError;
use super::templates::Templates;
use super::world::LetterWorld;

/// How many compilations a cached result may go unused before comemo drops it. Keeps the
/// daemon's memory flat while the fonts and templates, used every time, stay cached.
const CACHE_MAX_AGE: usize = 10;

/// Typesets `template` with `data` (serialized to `/data.json`) into PDF bytes.
pub(crate) fn render<T: Serialize>(templates: &Templates, template: &str, data: &T) -> Result<Vec<u8>, LetterError> {
    let json = serde_json::to_vec(data).map_err(|e| LetterError::Data(e.to_string()))?;
    // The PDF's /ID comes from the template and the data, and there is no timestamp: the same
    // inputs give the same bytes (reproducible packages and tests), different letters differ.
    let mut hasher = DefaultHasher::new();
    json.hash(&mut hasher);
    let ident = format!("medrec/{template}/{:016x}", hasher.finish());
    let world = LetterWorld::new(templates, template, json);
    let compiled = typst::compile::<PagedDocument>(&world).output;
    typst::comemo::evict(CACHE_MAX_AGE);
    let document = compiled.map_err(|errors| template_error(&world, template, &errors))?;
    let options = PdfOptions { ident: Smart::Custom(ident), ..PdfOptions::default() };
    typst_pdf::pdf(&document, &options).map_err(|errors| template_error(&world, template, &errors))
}

fn template_error(world: &LetterWorld<'_>, template: &str, errors: &[SourceDiagnostic]) -> LetterError {
    let message = errors.iter().map(|e| describe(world, e)).collect::<Vec<_>>().join("; ");
    LetterError::Template { name: template.to_owned(), message }
}

/// "letterhead.typ:12:5: unknown variable: firm (hint: …)".
fn describe(world: &LetterWorld<'_>, error: &SourceDiagnostic) -> String {
    let place = match error.span.get() {
        DiagSpanKind::Detached => None,
        DiagSpanKind::Number { id, .. } | DiagSpanKind::Range { id, .. } => {
            let name = id.vpath().get_without_slash().to_owned();
            let line = typst::WorldExt::range(world, error.span)
                .and_then(|range| world.source(id).ok()?.lines().byte_to_line_column(range.start));
            Some(match line {
                Some((line, column)) => format!("{name}:{}:{}", line + 1, column + 1),
                None => name,
            })
        }
    };
    let mut text = match place {
        Some(place) => format!("{place}: {}", error.message),
        None => error.message.to_string(),
    };
    for hint in &error.hints {
        text.push_str(&format!(" (hint: {})", hint.v));
    }
    text
}
