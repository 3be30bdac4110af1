//! Typed, validated settings from one TOML file.
//!
//! [`load`] reads the file, rejects unknown keys (naming them), checks every value and reports
//! all problems at once, each saying what is wrong and what is accepted. Relative paths are
//! resolved against the directory of the config file, never the working directory, so the
//! daemon behaves the same under systemd as in a shell.

mod file;
pub mod schedule;
mod secret;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use secret::SecretSource;

use crate::fax::FaxSettings;

use crate::core::authentication::SenderTrust;
use crate::core::inbound::Policy;
use file::ConfigFile;

/// Where the config is looked for when `--config` is not given.
pub const LOCAL_CONFIG: &str = "config/medrec.toml";
pub const SYSTEM_CONFIG: &str = "/etc/medrec/medrec.toml";
/// Where the HTTP server (health, metrics, fax webhooks) listens when `[http] listen` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8088";

#[derive(Debug, Clone)]
pub struct Settings {
    pub source: PathBuf,
    pub firm: Firm,
    pub bot: Bot,
    pub staff: Vec<Staff>,
    pub database: PathBuf,
    pub documents: PathBuf,
    pub inbox: Inbox,
    pub outgoing: Outgoing,
    pub fax: FaxSettings,
    /// Where the HTTP server (health, metrics, webhooks) listens; `None` (`"off"`): no server,
    /// fax status by polling only.
    pub http_listen: Option<std::net::SocketAddr>,
    pub fax_poll: Duration,
    /// Replies classified with less confidence go to staff for triage.
    pub triage_below_confidence: f64,
    /// Invoices above this many cents need prior approval.
    pub approval_required_above_cents: i64,
    pub invoices: Invoices,
    /// Records attached to the owner's notice up to this many bytes in all.
    pub attach_records_up_to: u64,
    pub templates_dir: Option<PathBuf>,
    pub shutdown_deadline: Duration,
    pub log_format: LogFormat,
    /// Follow-ups, reminders, the digest, business hours.
    pub schedule: schedule::Schedule,
}

/// How invoices are approved and paid.
#[derive(Debug, Clone)]
pub struct Invoices {
    /// At or under this many cents: approved without asking.
    pub auto_approve_up_to_cents: i64,
    /// Approvers besides the request's owner, lowercased.
    pub approvers: Vec<String>,
    /// Where approved invoices go for pre-payment; `None`: the owner.
    pub billing_address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Firm {
    pub name: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub phone: String,
    /// E.164.
    pub fax: Option<String>,
    pub website: Option<String>,
    pub mail_domain: String,
    pub time_zone: chrono_tz::Tz,
}

#[derive(Debug, Clone)]
pub struct Bot {
    pub address: String,
    pub name: String,
    pub max_answers_per_hour: u32,
}

#[derive(Debug, Clone)]
pub struct Staff {
    pub address: String,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Inbox {
    pub trust: SenderTrust,
    pub source: InboxSource,
}

#[derive(Debug, Clone)]
pub enum InboxSource {
    Maildir { path: PathBuf, poll_interval: Duration },
    Imap(Imap),
}

/// How a mail connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS, which must succeed.
    StartTls,
    /// No encryption: accepted for loopback hosts only.
    None,
}

#[derive(Debug, Clone)]
pub struct Imap {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: SecretSource,
    pub ca_file: Option<PathBuf>,
    pub folder: String,
    pub processed_folder: String,
    pub idle_timeout: Duration,
    pub poll_interval: Duration,
    pub command_timeout: Duration,
    pub reconnect_max: Duration,
}

#[derive(Debug, Clone)]
pub struct Outgoing {
    pub transport: OutgoingTransport,
    pub retry_max: Duration,
    pub give_up_after: Duration,
}

#[derive(Debug, Clone)]
pub enum OutgoingTransport {
    Directory { path: PathBuf },
    Smtp(Smtp),
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: Option<String>,
    pub password: Option<SecretSource>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl Settings {
    /// Who may command the bot, for the core.
    pub fn policy(&self) -> Policy {
        Policy {
            staff: self.staff.iter().map(|s| s.address.clone()).collect(),
            trust: self.inbox.trust.clone(),
            bot_address: self.bot.address.clone(),
            bot_name: self.bot.name.clone(),
            max_answers_per_hour: self.bot.max_answers_per_hour,
        }
    }

    /// Things that work but deserve an admin's attention; `check-config` prints them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let (SenderTrust::Unverified, InboxSource::Imap(_)) = (&self.inbox.trust, &self.inbox.source) {
            out.push(
                "inbox.sender_trust = \"unverified\" with an IMAP inbox: anyone who writes a staff address in From \
                 can command the bot; use \"verified\" with your mail server's authserv_id"
                    .into(),
            );
        }
        if self.staff.is_empty() {
            out.push("no [[staff]] entries: nobody can command the bot".into());
        }
        for e in self.unreadable_secrets() {
            out.push(format!("secret not readable now ({e}); `medrec run` will refuse to start without it"));
        }
        out
    }

    /// Why each secret that cannot be read now cannot be (never the secret itself).
    pub fn unreadable_secrets(&self) -> Vec<String> {
        self.secret_sources().into_iter().filter_map(|(_, s)| s.load().err()).collect()
    }

    /// Every secret the config names, with its config key.
    pub fn secret_sources(&self) -> Vec<(&'static str, &SecretSource)> {
        let mut v = Vec::new();
        if let InboxSource::Imap(i) = &self.inbox.source {
            v.push(("inbox.imap.password", &i.password));
        }
        if let OutgoingTransport::Smtp(Smtp { password: Some(p), .. }) = &self.outgoing.transport {
            v.push(("outgoing.smtp.password", p));
        }
        v.extend(self.fax.secret_sources());
        v
    }

    /// A short summary without secrets, for `check-config` and the start-up log.
    pub fn summary(&self) -> String {
        let inbox = match &self.inbox.source {
            InboxSource::Maildir { path, .. } => format!("maildir {}", path.display()),
            InboxSource::Imap(i) => format!("imap {}@{}:{} ({:?}) folder {}", i.user, i.host, i.port, i.tls, i.folder),
        };
        let outgoing = match &self.outgoing.transport {
            OutgoingTransport::Directory { path } => format!("directory {}", path.display()),
            OutgoingTransport::Smtp(s) => format!("smtp {}:{} ({:?})", s.host, s.port, s.tls),
        };
        let trust = match &self.inbox.trust {
            SenderTrust::Verified { authserv_id } => format!("verified by {authserv_id}"),
            SenderTrust::Unverified => "unverified".into(),
        };
        format!(
            "config:    {}\nfirm:      {} ({}, {})\nbot:       {}\nstaff:     {} address(es)\ndatabase:  {}\n\
             documents: {}\ninbox:     {inbox}; senders {trust}\noutgoing:  {outgoing}\nfax:       {}\nhttp:      {}\n\
             schedule:  {}",
            self.source.display(),
            self.firm.name,
            self.firm.state,
            self.firm.time_zone,
            self.bot.address,
            self.staff.len(),
            self.database.display(),
            self.documents.display(),
            self.fax.summary(),
            self.http_listen.map_or("off (fax status by polling)".to_string(), |a| format!(
                "http://{a} (/healthz, /readyz, /metrics, fax webhooks)"
            )),
            self.schedule.summary(),
        )
    }
}

/// Everything wrong with a config file, one line each.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} has {} problem(s):", self.path.display(), self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  - {}", p.replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The config path to use: the one given, else `./config/medrec.toml` if present, else `/etc`.
pub fn choose_path(given: Option<&Path>) -> PathBuf {
    match given {
        Some(p) => p.to_path_buf(),
        None if Path::new(LOCAL_CONFIG).exists() => PathBuf::from(LOCAL_CONFIG),
        None => PathBuf::from(SYSTEM_CONFIG),
    }
}

/// Reads and validates the config file at `path`.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let fail = |problems| ConfigError { path: path.to_path_buf(), problems };
    let text = std::fs::read_to_string(path).map_err(|e| fail(vec![format!("cannot read the file: {e}")]))?;
    let raw: ConfigFile = toml::from_str(&text).map_err(|e| fail(vec![e.to_string().trim().to_string()]))?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut check = Checker { base, problems: Vec::new() };
    let settings = validate(raw, absolute, &mut check);
    if check.problems.is_empty() { Ok(settings) } else { Err(fail(check.problems)) }
}

/// Collects problems while turning raw values into typed ones.
struct Checker {
    base: PathBuf,
    problems: Vec<String>,
}

impl Checker {
    fn problem(&mut self, p: impl Into<String>) {
        self.problems.push(p.into());
    }

    fn path(&self, p: &str) -> PathBuf {
        resolve(&self.base, p)
    }

    fn non_empty(&mut self, key: &str, value: &str) -> String {
        if value.trim().is_empty() {
            self.problem(format!("{key} is empty; give a value"));
        }
        value.trim().to_string()
    }

    fn address(&mut self, key: &str, value: &str) -> String {
        let v = value.trim().to_ascii_lowercase();
        let ok = v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !v.contains(char::is_whitespace)
        }) && v.matches('@').count() == 1;
        if !ok {
            self.problem(format!("{key} = \"{value}\" is not an email address (like paralegal@denhamlaw.example)"));
        }
        v
    }

    fn tls(&mut self, key: &str, value: &str, host: &str) -> TlsMode {
        let mode = match value {
            "implicit" => TlsMode::Implicit,
            "starttls" => TlsMode::StartTls,
            "none" => TlsMode::None,
            other => {
                self.problem(format!(
                    "{key} = \"{other}\" is not accepted; use \"implicit\", \"starttls\" or \"none\""
                ));
                return TlsMode::Implicit;
            }
        };
        if mode == TlsMode::None && !is_loopback(host) {
            self.problem(format!(
                "{key} = \"none\" is allowed only for a loopback host (127.0.0.1, ::1, localhost), not {host}"
            ));
        }
        mode
    }

    fn secret(&mut self, key: &str, file: Option<&str>, env: Option<&str>, inline: bool) -> Option<SecretSource> {
        if inline {
            self.problem(format!(
                "{key}.password: secrets are not allowed in the config file; use {key}.password_file (a file or \
                 systemd credential) or {key}.password_env (an environment variable)"
            ));
        }
        match (file, env) {
            (Some(f), None) => Some(SecretSource::File(self.path(f))),
            (None, Some(v)) => Some(SecretSource::Env(v.to_string())),
            (Some(_), Some(_)) => {
                self.problem(format!("{key}: give password_file or password_env, not both"));
                None
            }
            (None, None) => None,
        }
    }
}

/// A path from the config: absolute as given; `%d/NAME` is the systemd credential NAME
/// (`$CREDENTIALS_DIRECTORY/NAME` under systemd, else `credentials/NAME` beside the config file,
/// where admin commands run outside the service find the same secret); anything else is
/// relative to the config file's directory.
fn resolve(base: &Path, p: &str) -> PathBuf {
    if let Some(name) = p.strip_prefix("%d/") {
        // The one place the config reads the environment: systemd's credentials directory.
        let dir = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty());
        return match dir {
            Some(dir) => PathBuf::from(dir).join(name),
            None => lexical(&base.join("credentials").join(name)),
        };
    }
    let path = Path::new(p);
    if path.is_absolute() { path.to_path_buf() } else { lexical(&base.join(path)) }
}

/// `a/b/../c` → `a/c`, without touching the file system (the path may not exist yet).
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn secs(value: Option<u64>, default: u64) -> Duration {
    Duration::from_secs(value.unwrap_or(default))
}

fn validate(raw: ConfigFile, source: PathBuf, c: &mut Checker) -> Settings {
    let f = raw.firm;
    let time_zone = f.time_zone.parse().unwrap_or_else(|_| {
        c.problem(format!("firm.time_zone = \"{}\" is not an IANA time zone (like America/New_York)", f.time_zone));
        chrono_tz::America::New_York
    });
    let state = f.state.trim().to_ascii_uppercase();
    if state.len() != 2 || !state.bytes().all(|b| b.is_ascii_alphabetic()) {
        c.problem(format!("firm.state = \"{}\" is not a two-letter state code (like KY)", f.state));
    }
    let mail_domain = f.mail_domain.trim().to_ascii_lowercase();
    if !mail_domain.contains('.') || mail_domain.contains(['@', ' ', '<', '>']) {
        c.problem(format!("firm.mail_domain = \"{}\" is not a domain (like denhamlaw.example)", f.mail_domain));
    }
    let firm = Firm {
        name: c.non_empty("firm.name", &f.name),
        street: c.non_empty("firm.street", &f.street),
        city: c.non_empty("firm.city", &f.city),
        zip: c.non_empty("firm.zip", &f.zip),
        phone: c.non_empty("firm.phone", &f.phone),
        state,
        fax: f
            .fax
            .as_deref()
            .and_then(|v| crate::core::provider::us_fax(v).map_err(|e| c.problem(format!("firm.fax: {e}"))).ok()),
        website: f.website,
        mail_domain,
        time_zone,
    };
    let bot = Bot {
        address: c.address("bot.address", &raw.bot.address),
        name: c.non_empty("bot.name", &raw.bot.name),
        max_answers_per_hour: raw.bot.max_answers_per_hour.unwrap_or(30),
    };
    if bot.max_answers_per_hour == 0 {
        c.problem("bot.max_answers_per_hour = 0 would silence the bot; give 1 or more (default 30)");
    }
    let staff = raw
        .staff
        .into_iter()
        .enumerate()
        .map(|(i, s)| Staff {
            address: c.address(&format!("staff[{i}].address"), &s.address),
            name: c.non_empty(&format!("staff[{i}].name"), &s.name),
            title: s.title,
            phone: s.phone,
        })
        .collect::<Vec<_>>();
    if staff.iter().any(|s| s.address == bot.address) {
        c.problem("bot.address is also listed as staff; the bot would answer itself");
    }
    let inbox = validate_inbox(raw.inbox, c);
    let outgoing = validate_outgoing(raw.outgoing, c);
    let base = c.base.clone();
    let fax = crate::fax::settings::validate(raw.fax, &|p| resolve(&base, p)).unwrap_or_else(|problems| {
        c.problems.extend(problems);
        FaxSettings::Directory { path: PathBuf::new() }
    });
    let http_listen = match raw.http.listen.as_deref().unwrap_or(DEFAULT_LISTEN) {
        "off" => None,
        a => a
            .parse::<std::net::SocketAddr>()
            .map_err(|_| {
                c.problem(format!(
                    "http.listen = \"{a}\" is not an address with a port (like 127.0.0.1:8088), or \"off\""
                ))
            })
            .ok(),
    };
    let log_format = match raw.daemon.log_format.as_deref() {
        None | Some("human") => LogFormat::Human,
        Some("json") => LogFormat::Json,
        Some(other) => {
            c.problem(format!("daemon.log_format = \"{other}\" is not accepted; use \"human\" or \"json\""));
            LogFormat::Human
        }
    };
    let approval_required_above_cents = match raw.invoices.approval_required_above.as_deref() {
        None => 30_000,
        Some(v) => crate::core::money::parse_cents(v).unwrap_or_else(|e| {
            c.problem(format!("invoices.approval_required_above: {e}"));
            30_000
        }),
    };
    let auto_approve_up_to_cents = match raw.invoices.auto_approve_up_to.as_deref() {
        None => approval_required_above_cents,
        Some(v) => crate::core::money::parse_cents(v).unwrap_or_else(|e| {
            c.problem(format!("invoices.auto_approve_up_to: {e}"));
            approval_required_above_cents
        }),
    };
    if auto_approve_up_to_cents > approval_required_above_cents {
        c.problem(
            "invoices.auto_approve_up_to is above invoices.approval_required_above; an invoice cannot be both \
             approved without asking and held for approval"
                .to_string(),
        );
    }
    let staff_addresses: Vec<&str> = staff.iter().map(|s| s.address.as_str()).collect();
    let approvers: Vec<String> = raw.invoices.approvers.iter().map(|a| a.trim().to_ascii_lowercase()).collect();
    for a in &approvers {
        if !staff_addresses.contains(&a.as_str()) {
            c.problem(format!(
                "invoices.approvers: \"{a}\" is not a [[staff]] address; approvers must be staff, who can send commands"
            ));
        }
    }
    let billing_address = raw.invoices.billing_address.map(|a| a.trim().to_ascii_lowercase());
    if let Some(b) = billing_address.as_deref().filter(|b| !b.contains('@')) {
        c.problem(format!("invoices.billing_address = \"{b}\" is not an email address"));
    }
    let invoices = Invoices { auto_approve_up_to_cents, approvers, billing_address };
    let attach_records_up_to = raw.replies.attach_records_up_to_mb.unwrap_or(10) * 1024 * 1024;
    let triage_below_confidence = raw.replies.triage_below_confidence.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&triage_below_confidence) {
        c.problem(format!("replies.triage_below_confidence = {triage_below_confidence} is not between 0 and 1"));
    }
    let schedule = schedule::validate(raw.schedule, time_zone, &mut c.problems);
    Settings {
        schedule,
        approval_required_above_cents,
        invoices,
        attach_records_up_to,
        templates_dir: raw.letters.templates_dir.map(|d| c.path(&d)),
        source,
        database: c.path(&raw.storage.database),
        documents: c.path(&raw.storage.documents),
        firm,
        bot,
        staff,
        inbox,
        outgoing,
        fax,
        http_listen,
        fax_poll: secs(raw.http.fax_poll_secs, 300),
        triage_below_confidence,
        shutdown_deadline: secs(raw.daemon.shutdown_deadline_secs, 20),
        log_format,
    }
}

fn validate_inbox(raw: file::InboxFile, c: &mut Checker) -> Inbox {
    let trust = match (raw.sender_trust.as_str(), raw.authserv_id) {
        ("verified", Some(id)) if !id.trim().is_empty() => SenderTrust::Verified { authserv_id: id.trim().to_string() },
        ("verified", _) => {
            c.problem("inbox.sender_trust = \"verified\" needs inbox.authserv_id (the id your mail server writes in Authentication-Results)");
            SenderTrust::Unverified
        }
        ("unverified", _) => SenderTrust::Unverified,
        (other, _) => {
            c.problem(format!("inbox.sender_trust = \"{other}\" is not accepted; use \"verified\" or \"unverified\""));
            SenderTrust::Unverified
        }
    };
    let source = match (raw.maildir, raw.imap) {
        (Some(m), None) => InboxSource::Maildir {
            path: c.path(&m.path),
            poll_interval: Duration::from_millis(m.poll_interval_ms.unwrap_or(500).max(50)),
        },
        (None, Some(i)) => {
            let tls = c.tls("inbox.imap.tls", &i.tls, &i.host);
            let password =
                c.secret("inbox.imap", i.password_file.as_deref(), i.password_env.as_deref(), i.password.is_some());
            if password.is_none() && i.password.is_none() {
                c.problem("inbox.imap needs password_file or password_env");
            }
            if i.folder == i.processed_folder {
                c.problem("inbox.imap.processed_folder must differ from inbox.imap.folder");
            }
            InboxSource::Imap(Imap {
                host: c.non_empty("inbox.imap.host", &i.host),
                port: i.port,
                tls,
                user: c.non_empty("inbox.imap.user", &i.user),
                password: password.unwrap_or(SecretSource::Env(String::new())),
                ca_file: i.ca_file.map(|p| c.path(&p)),
                folder: i.folder,
                processed_folder: i.processed_folder,
                idle_timeout: secs(i.idle_timeout_secs, 300),
                poll_interval: secs(i.poll_interval_secs, 60),
                command_timeout: secs(i.command_timeout_secs, 30),
                reconnect_max: secs(i.reconnect_max_secs, 60),
            })
        }
        _ => {
            c.problem("[inbox] needs exactly one of [inbox.maildir] or [inbox.imap]");
            InboxSource::Maildir { path: PathBuf::new(), poll_interval: Duration::from_millis(500) }
        }
    };
    Inbox { trust, source }
}

fn validate_outgoing(raw: file::OutgoingFile, c: &mut Checker) -> Outgoing {
    let transport = match (raw.directory, raw.smtp) {
        (Some(d), None) => OutgoingTransport::Directory { path: c.path(&d.path) },
        (None, Some(s)) => {
            let tls = c.tls("outgoing.smtp.tls", &s.tls, &s.host);
            let password =
                c.secret("outgoing.smtp", s.password_file.as_deref(), s.password_env.as_deref(), s.password.is_some());
            if s.user.is_some() != password.is_some() && s.password.is_none() {
                c.problem("outgoing.smtp: give both user and a password (password_file or password_env), or neither");
            }
            OutgoingTransport::Smtp(Smtp {
                host: c.non_empty("outgoing.smtp.host", &s.host),
                port: s.port,
                tls,
                user: s.user,
                password,
                ca_file: s.ca_file.map(|p| c.path(&p)),
                timeout: secs(s.timeout_secs, 30),
            })
        }
        _ => {
            c.problem("[outgoing] needs exactly one of [outgoing.directory] or [outgoing.smtp]");
            OutgoingTransport::Directory { path: PathBuf::new() }
        }
    };
    Outgoing {
        transport,
        retry_max: secs(raw.retry_max_secs, 3600),
        give_up_after: Duration::from_secs(3600 * raw.give_up_after_hours.unwrap_or(48)),
    }
}
