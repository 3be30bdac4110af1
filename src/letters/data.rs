//! What the templates are filled with: plain serializable structs, handed to Typst as JSON
//! (`/data.json`), never pasted into markup, so any name renders literally.

use std::fmt;

use serde::Serialize;

use crate::core::statutes;

/// The firm's letterhead, from `[firm]` in the config.
#[derive(Debug, Clone, Serialize)]
pub struct Letterhead {
    pub name: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub phone: String,
    pub website: Option<String>,
    /// The firm's fax number, printed when known (the fax cover's fax-back line).
    pub fax: Option<String>,
}

/// The staff member the request is sent for.
#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub name: String,
    pub email: String,
    pub direct_line: String,
    /// e.g. "Paralegal"; the letter signs "{title} to {attorney}".
    pub title: String,
}

/// The records custodian the letter is addressed to.
#[derive(Debug, Clone, Serialize)]
pub struct Provider {
    pub name: String,
    /// Defaults to "Medical Records Department/ROI" in the letter when absent.
    pub department: Option<String>,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    /// As it should be printed, e.g. "(859) 555-0100".
    pub fax: Option<String>,
    pub email: Option<String>,
}

/// How the package goes out; the letter's "Via fax: …" / "Via email: …" line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Fax,
    Email,
}

/// The patient. `Debug` hides every field: patient data never reaches a log.
#[derive(Clone, Serialize)]
pub struct Patient {
    pub name: String,
    pub address_lines: Vec<String>,
    /// Already formatted, e.g. "03/14/1985".
    pub dob: String,
    /// Already formatted, e.g. "123-45-6789".
    pub ssn: String,
}

impl fmt::Debug for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Patient { <redacted> }")
    }
}

/// One record type requested and its date range, e.g. "Medical Records" from "01/02/2025" to
/// "Present".
#[derive(Debug, Clone, Serialize)]
pub struct RecordRange {
    pub label: String,
    pub from: String,
    pub to: String,
}

/// The statute the request sentence cites.
#[derive(Debug, Clone, Serialize)]
pub struct StatuteText {
    pub citation: String,
    /// A whole sentence, starting "By way of this correspondence, …".
    pub sentence: String,
}

impl StatuteText {
    /// The provider's state's entry from [`statutes`]; `None` lets the letter use its neutral
    /// HIPAA right-of-access sentence.
    pub fn for_state(code: &str) -> Option<Self> {
        statutes::for_state(code)
            .map(|s| StatuteText { citation: s.citation.to_owned(), sentence: s.letter_sentence.to_owned() })
    }
}

/// Everything the request letter and the certification page show.
#[derive(Debug, Clone, Serialize)]
pub struct LetterData {
    pub firm: Letterhead,
    pub staff: Staff,
    pub attorney: String,
    /// Already formatted, e.g. "November 23, 2026".
    pub date: String,
    /// "MR-1001".
    pub reference: String,
    /// The bot's mailbox, where providers should reply.
    pub reply_to: String,
    pub provider: Provider,
    pub channel: Channel,
    pub patient: Patient,
    pub records: Vec<RecordRange>,
    /// "Facility Treatment Received from:".
    pub facility: String,
    /// The invoice approval limit as printed, e.g. "$300.00".
    pub approval_limit: String,
    pub statute: Option<StatuteText>,
}

impl LetterData {
    /// What must hold before the letter can be typeset; the message names the missing piece.
    pub(crate) fn check(&self) -> Result<(), String> {
        let via = match self.channel {
            Channel::Fax => ("fax", &self.provider.fax),
            Channel::Email => ("email", &self.provider.email),
        };
        if via.1.as_deref().is_none_or(|v| v.trim().is_empty()) {
            return Err(format!("the letter goes by {} but the provider has no {} on file", via.0, via.0));
        }
        if self.records.is_empty() {
            return Err("no record types requested".into());
        }
        Ok(())
    }
}

/// The fax cover sheet.
#[derive(Debug, Clone, Serialize)]
pub struct CoverData {
    pub firm: Letterhead,
    /// The staff member sending, for the "From" line.
    pub from: String,
    /// Where the provider can fax back or call.
    pub fax_back: String,
    pub to_name: String,
    pub to_department: Option<String>,
    pub to_fax: String,
    pub date: String,
    /// Pages including the cover.
    pub pages: u32,
    pub reference: String,
    pub reply_to: String,
    /// A short line under "Re:", e.g. "Medical records request".
    pub subject: String,
}

/// A one-page notice to a provider about a request already sent: a withdrawal, a follow-up, a
/// resend cover note. The caller writes the words (`title`, `paragraphs`); the template adds
/// letterhead, address, "Re:" block, closing and signature. `Debug` shows only the reference,
/// date and provider: the patient, title and paragraphs are free text that may name the patient.
#[derive(Clone, Serialize)]
pub struct NoticeData {
    pub firm: Letterhead,
    pub staff: Staff,
    /// Already formatted, e.g. "November 23, 2026".
    pub date: String,
    /// "MR-1042".
    pub reference: String,
    /// The bot's mailbox, where providers should reply.
    pub reply_to: String,
    /// Its fax, else its email, is printed as the "Via …" line.
    pub provider: Provider,
    pub patient_name: String,
    /// Already formatted, e.g. "03/14/1985".
    pub patient_dob: String,
    /// The bold line under "Re:", e.g. "Request withdrawn".
    pub title: String,
    /// Plain text, one entry per paragraph; at least one.
    pub paragraphs: Vec<String>,
}

impl NoticeData {
    /// What must hold before the notice can be typeset; the message names the missing piece.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.paragraphs.is_empty() {
            return Err("the notice has no paragraphs".into());
        }
        if let Some(i) = self.paragraphs.iter().position(|p| p.trim().is_empty()) {
            return Err(format!("paragraph {} of the notice is empty", i + 1));
        }
        Ok(())
    }
}

impl fmt::Debug for NoticeData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoticeData")
            .field("reference", &self.reference)
            .field("date", &self.date)
            .field("provider", &self.provider.name)
            .field("patient", &"<redacted>")
            .field("paragraphs", &self.paragraphs.len())
            .finish_non_exhaustive()
    }
}
