//! Reply classification: what a provider's answer to a records request is (records, invoice,
//! deficiency and why, no records, acknowledgment, redirect, auto-reply, bounce or other), the
//! invoice total, the `MR-n` reference, a confidence and the reasons a person can check.
//!
//! Pure: no I/O, no clock. PDF attachments are read with [`crate::letters::pdf_text`] (CPU
//! only, panic-guarded) by [`classify`], or by the reader given to [`classify_with`].
//!
//! The steps: delivery reports first (a final failure is a `bounce`; a delay is only an
//! `auto_reply`); then the message is cut into parts — subject, new text, a forwarded message,
//! attachment text and names — with quoted text and our own request letter left out
//! ([`evidence`]); vocabulary phrases score every kind in every part ([`engine`]); automatic
//! mail starts `auto_reply` with a head start the words must beat; the best kind above the
//! threshold wins, else `other`. The vocabulary lives in `vocabulary.toml`.

mod engine;
mod evidence;
mod invoice;
mod matcher;
mod vocabulary;

use serde::{Deserialize, Serialize};

pub use evidence::html_to_text;

use super::inbound::InboundMail;
use super::reference::Reference;

/// What a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Records,
    Invoice,
    Deficiency,
    NoRecords,
    Acknowledgment,
    Redirect,
    AutoReply,
    Bounce,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Records,
        Kind::Invoice,
        Kind::Deficiency,
        Kind::NoRecords,
        Kind::Acknowledgment,
        Kind::Redirect,
        Kind::AutoReply,
        Kind::Bounce,
        Kind::Other,
    ];

    /// The word used in JSON, the database and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Records => "records",
            Kind::Invoice => "invoice",
            Kind::Deficiency => "deficiency",
            Kind::NoRecords => "no_records",
            Kind::Acknowledgment => "acknowledgment",
            Kind::Redirect => "redirect",
            Kind::AutoReply => "auto_reply",
            Kind::Bounce => "bounce",
            Kind::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("`{s}` is not a reply kind"))
    }
}

/// Why a facility will not process a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deficiency {
    FacilityForm,
    PatientAddress,
    NameMismatch,
    AuthorizationExpired,
    Signature,
    MissingInformation,
    LegalAuthority,
    Other,
}

impl Deficiency {
    pub const ALL: [Deficiency; 8] = [
        Deficiency::FacilityForm,
        Deficiency::PatientAddress,
        Deficiency::NameMismatch,
        Deficiency::AuthorizationExpired,
        Deficiency::Signature,
        Deficiency::MissingInformation,
        Deficiency::LegalAuthority,
        Deficiency::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Deficiency::FacilityForm => "facility_form",
            Deficiency::PatientAddress => "patient_address",
            Deficiency::NameMismatch => "name_mismatch",
            Deficiency::AuthorizationExpired => "authorization_expired",
            Deficiency::Signature => "signature",
            Deficiency::MissingInformation => "missing_information",
            Deficiency::LegalAuthority => "legal_authority",
            Deficiency::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Deficiency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Deficiency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Deficiency::ALL.into_iter().find(|d| d.as_str() == s).ok_or_else(|| format!("`{s}` is not a deficiency reason"))
    }
}

/// The classifier's verdict on one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub kind: Kind,
    /// Set exactly when `kind` is `Deficiency`.
    pub deficiency: Option<Deficiency>,
    /// The total now due, set only for invoices (0 for "no charge").
    pub amount_cents: Option<i64>,
    #[serde(serialize_with = "serialize_reference")]
    pub reference: Option<Reference>,
    /// 0..=1.
    pub confidence: f64,
    /// Why, in words: the rules that fired and what they saw.
    pub reasons: Vec<String>,
}

fn serialize_reference<S: serde::Serializer>(r: &Option<Reference>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&r.to_string()),
        None => s.serialize_none(),
    }
}

/// Classifies `mail`, reading PDF attachments with [`crate::letters::pdf_text`].
pub fn classify(mail: &InboundMail) -> Classification {
    classify_with(mail, &|bytes: &[u8]| crate::letters::pdf_text(bytes).ok())
}

/// Classifies `mail`, reading PDF attachments with `pdf_text` (`None` when a PDF has no text).
pub fn classify_with(mail: &InboundMail, pdf_text: &dyn Fn(&[u8]) -> Option<String>) -> Classification {
    engine::classify(mail, vocabulary::get(), pdf_text)
}

#[cfg(test)]
mod tests;
