//! The shape of `medrec.toml`, exactly as written by an admin. Unknown keys are errors
//! (`deny_unknown_fields`), so a typo never silently falls back to a default. These raw values
//! are checked and turned into [`super::Settings`] by `super::validate`.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub firm: FirmFile,
    pub bot: BotFile,
    #[serde(default)]
    pub staff: Vec<StaffFile>,
    pub storage: StorageFile,
    pub inbox: InboxFile,
    pub outgoing: OutgoingFile,
    pub fax: crate::fax::settings::FaxFile,
    #[serde(default)]
    pub invoices: InvoicesFile,
    #[serde(default)]
    pub letters: LettersFile,
    #[serde(default)]
    pub http: HttpFile,
    #[serde(default)]
    pub replies: RepliesFile,
    #[serde(default)]
    pub daemon: DaemonFile,
    #[serde(default)]
    pub schedule: super::schedule::ScheduleFile,
}

/// Provider replies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepliesFile {
    /// Records are attached to the owner's notice up to this many megabytes in all (default 10);
    /// beyond it the notice lists the files.
    #[serde(default)]
    pub attach_records_up_to_mb: Option<u64>,
    /// A reply classified with less confidence than this (0..1, default 0.5) goes to staff for
    /// triage even when it matches a request.
    #[serde(default)]
    pub triage_below_confidence: Option<f64>,
}

/// The small HTTP server for the fax gateways' webhooks.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    /// Address to listen on, e.g. `127.0.0.1:8088` (behind a TLS-terminating proxy). Without it,
    /// no server runs and fax delivery is learnt by polling the gateway.
    #[serde(default)]
    pub listen: Option<String>,
    /// How often to ask the gateway about faxes still in flight, in seconds (default 300).
    #[serde(default)]
    pub fax_poll_secs: Option<u64>,
}

/// Invoice handling.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoicesFile {
    /// Invoices above this amount (dollars, e.g. "300.00") need prior approval; letters say so.
    #[serde(default)]
    pub approval_required_above: Option<String>,
    /// Invoices at or under this amount are approved without asking (default: the approval limit).
    #[serde(default)]
    pub auto_approve_up_to: Option<String>,
    /// Who approves held invoices besides the request's owner (staff addresses, e.g. attorneys).
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Where approved invoices go for pre-payment (default: the request's owner).
    #[serde(default)]
    pub billing_address: Option<String>,
}

/// The request letters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LettersFile {
    /// A directory with edited copies of `letter.typ`, `certification.typ`, `fax-cover.typ`, `notice.typ`
    /// (and `letterhead.typ`); files missing there come from the built-in templates.
    #[serde(default)]
    pub templates_dir: Option<String>,
}

/// The firm's letterhead and where it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmFile {
    pub name: String,
    pub street: String,
    pub city: String,
    /// Two-letter state code; picks the copy-fee statute of the request letter.
    pub state: String,
    pub zip: String,
    pub phone: String,
    /// The firm's fax number, printed on fax cover sheets for faxing back.
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// Domain of the bot's `Message-ID`s, e.g. `denhamlaw.example`.
    pub mail_domain: String,
    /// IANA time zone for business days and hours, e.g. `America/New_York`.
    pub time_zone: String,
}

/// The bot's own mailbox.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotFile {
    pub address: String,
    pub name: String,
    /// Answers to one address per hour before the bot stops answering it (loop guard).
    #[serde(default)]
    pub max_answers_per_hour: Option<u32>,
}

/// One staff member allowed to command the bot.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffFile {
    pub address: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageFile {
    pub database: String,
    pub documents: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxFile {
    /// `verified` (require a passing Authentication-Results from `authserv_id`) or `unverified`.
    pub sender_trust: String,
    #[serde(default)]
    pub authserv_id: Option<String>,
    #[serde(default)]
    pub maildir: Option<MaildirFile>,
    #[serde(default)]
    pub imap: Option<ImapFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaildirFile {
    pub path: String,
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapFile {
    pub host: String,
    pub port: u16,
    /// `implicit` (IMAPS), `starttls`, or `none` (loopback only).
    pub tls: String,
    pub user: String,
    #[serde(default)]
    pub password_file: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    /// Rejected with a clear message: secrets never live in this file.
    #[serde(default)]
    pub password: Option<toml::Value>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default = "default_inbox_folder")]
    pub folder: String,
    #[serde(default = "default_processed_folder")]
    pub processed_folder: String,
    #[serde(default)]
    pub idle_timeout_secs: Option<u64>,
    #[serde(default)]
    pub poll_interval_secs: Option<u64>,
    #[serde(default)]
    pub command_timeout_secs: Option<u64>,
    #[serde(default)]
    pub reconnect_max_secs: Option<u64>,
}

fn default_inbox_folder() -> String {
    "INBOX".into()
}

fn default_processed_folder() -> String {
    "Processed".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingFile {
    #[serde(default)]
    pub directory: Option<DirectoryFile>,
    #[serde(default)]
    pub smtp: Option<SmtpFile>,
    #[serde(default)]
    pub retry_max_secs: Option<u64>,
    #[serde(default)]
    pub give_up_after_hours: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub host: String,
    pub port: u16,
    /// `implicit` (SMTPS, 465), `starttls` (587), or `none` (loopback only).
    pub tls: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password_file: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password: Option<toml::Value>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonFile {
    #[serde(default)]
    pub shutdown_deadline_secs: Option<u64>,
    /// `human` or `json`.
    #[serde(default)]
    pub log_format: Option<String>,
}
