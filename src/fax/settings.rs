//! The `[fax]` section of `medrec.toml`: raw serde structs exactly as an admin writes them
//! (unknown keys are errors), and [`validate`], which turns them into [`FaxSettings`] or lists
//! every problem, each saying what is wrong and what is accepted. Secrets (the Telnyx API key,
//! the Sinch key secret and webhook password) come from `*_file` or `*_env`, never the file.

use std::path::PathBuf;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use reqwest::Url;
use serde::Deserialize;

use crate::config::SecretSource;

pub const TELNYX_BASE_URL: &str = "https://api.telnyx.com/v2";
pub const SINCH_BASE_URL: &str = "https://fax.api.sinch.com";
/// Telnyx's `quality` values (spec schema `Quality`).
pub const TELNYX_QUALITIES: [&str; 5] = ["normal", "high", "very_high", "ultra_light", "ultra_dark"];

/// `[fax]`: exactly one of the three gateways.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaxFile {
    /// Write faxes as PDFs into a directory (the local stand-in; nothing is sent).
    #[serde(default)]
    pub directory: Option<DirectoryFile>,
    /// Send through Telnyx Programmable Fax.
    #[serde(default)]
    pub telnyx: Option<TelnyxFile>,
    /// Send through the Sinch Fax API v3.
    #[serde(default)]
    pub sinch: Option<SinchFile>,
}

/// `[fax.directory]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    /// Where the PDFs go, relative to this file's directory unless absolute.
    pub path: String,
}

/// `[fax.telnyx]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelnyxFile {
    /// A file whose first line is the Telnyx API v2 key (e.g. a systemd credential).
    #[serde(default)]
    pub api_key_file: Option<String>,
    /// Or: the environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Rejected with a clear message: secrets never live in this file.
    #[serde(default)]
    pub api_key: Option<toml::Value>,
    /// The Fax Application's id (Mission Control → Programmable Fax), sent as `connection_id`.
    pub connection_id: String,
    /// Our fax number on Telnyx, E.164 (`+18595550199`).
    pub from: String,
    /// The API's base URL; default `https://api.telnyx.com/v2`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The account's webhook public key, base64 (Mission Control → Keys & Credentials → Public
    /// Key). Not a secret; it verifies the Ed25519 signature on every webhook.
    pub public_key: String,
    /// `normal`, `high` (Telnyx's default), `very_high`, `ultra_light` or `ultra_dark`.
    #[serde(default)]
    pub quality: Option<String>,
    /// Seconds before any one API call is abandoned (and retried later); default 60.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Minutes to wait before each new attempt after a busy line, no answer or no fax tone;
    /// default [15, 60, 240]. When they run out, staff are told.
    #[serde(default)]
    pub retry_minutes: Option<Vec<u64>>,
}

/// `[fax.sinch]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinchFile {
    /// The project id (Sinch dashboard → Settings → Projects).
    pub project_id: String,
    /// The access key id (Settings → Access keys); the HTTP Basic user name.
    pub key_id: String,
    /// A file whose first line is the access key secret.
    #[serde(default)]
    pub key_secret_file: Option<String>,
    /// Or: the environment variable holding the key secret.
    #[serde(default)]
    pub key_secret_env: Option<String>,
    /// Rejected with a clear message: secrets never live in this file.
    #[serde(default)]
    pub key_secret: Option<toml::Value>,
    /// Our Sinch fax number, E.164; default: the first number on the account.
    #[serde(default)]
    pub from: Option<String>,
    /// The API's base URL; default `https://fax.api.sinch.com` (or a regional host such as
    /// `https://use1.fax.api.sinch.com`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Where Sinch reports each sent fax's outcome: our `/webhooks/sinch`, as reachable from the
    /// internet, WITHOUT credentials (medrec adds `webhook_user` and the password itself).
    /// Without it, outcomes are found by polling.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The user name Sinch must present on webhooks (also set in the fax service's incoming
    /// webhook URL as `https://user:password@host/webhooks/sinch`).
    pub webhook_user: String,
    /// A file whose first line is the webhook password (long and random).
    #[serde(default)]
    pub webhook_password_file: Option<String>,
    /// Or: the environment variable holding the webhook password.
    #[serde(default)]
    pub webhook_password_env: Option<String>,
    /// Rejected with a clear message: secrets never live in this file.
    #[serde(default)]
    pub webhook_password: Option<toml::Value>,
    /// Seconds before any one API call is abandoned (and retried later); default 60.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Minutes to wait before each new attempt after a busy line, no answer or no fax tone;
    /// default [15, 60, 240].
    #[serde(default)]
    pub retry_minutes: Option<Vec<u64>>,
}

/// The validated `[fax]` section.
#[derive(Debug, Clone)]
pub enum FaxSettings {
    Directory { path: PathBuf },
    Telnyx(TelnyxSettings),
    Sinch(SinchSettings),
}

#[derive(Debug, Clone)]
pub struct TelnyxSettings {
    pub api_key: SecretSource,
    pub connection_id: String,
    pub from: String,
    /// Without a trailing slash.
    pub base_url: String,
    pub public_key: VerifyingKey,
    pub quality: Option<String>,
    pub timeout: Duration,
    pub retry_schedule: Vec<Duration>,
}

#[derive(Debug, Clone)]
pub struct SinchSettings {
    pub project_id: String,
    pub key_id: String,
    pub key_secret: SecretSource,
    pub from: Option<String>,
    /// Without a trailing slash.
    pub base_url: String,
    /// Without credentials.
    pub callback_url: Option<Url>,
    pub webhook_user: String,
    pub webhook_password: SecretSource,
    pub timeout: Duration,
    pub retry_schedule: Vec<Duration>,
}

impl FaxSettings {
    /// The secrets the gateway needs, for `check-config` to try reading.
    pub fn secret_sources(&self) -> Vec<(&'static str, &SecretSource)> {
        match self {
            FaxSettings::Directory { .. } => vec![],
            FaxSettings::Telnyx(t) => vec![("fax.telnyx.api_key", &t.api_key)],
            FaxSettings::Sinch(s) => {
                vec![("fax.sinch.key_secret", &s.key_secret), ("fax.sinch.webhook_password", &s.webhook_password)]
            }
        }
    }

    /// One line without secrets, for `check-config` and the start-up log.
    pub fn summary(&self) -> String {
        match self {
            FaxSettings::Directory { path } => format!("directory {}", path.display()),
            FaxSettings::Telnyx(t) => format!("telnyx {} connection {} from {}", t.base_url, t.connection_id, t.from),
            FaxSettings::Sinch(s) => format!(
                "sinch {} project {} from {}; callbacks {}",
                s.base_url,
                s.project_id,
                s.from.as_deref().unwrap_or("(first number on the account)"),
                s.callback_url.as_ref().map_or("off (polling)".to_string(), |u| u.to_string()),
            ),
        }
    }
}

/// Checks the raw `[fax]` section; `path` resolves a path from the file against the config
/// file's directory.
pub fn validate(raw: FaxFile, path: &dyn Fn(&str) -> PathBuf) -> Result<FaxSettings, Vec<String>> {
    let mut p = Problems(Vec::new());
    let settings = match (raw.directory, raw.telnyx, raw.sinch) {
        (Some(d), None, None) => Some(FaxSettings::Directory { path: path(&d.path) }),
        (None, Some(t), None) => telnyx(t, path, &mut p).map(FaxSettings::Telnyx),
        (None, None, Some(s)) => sinch(s, path, &mut p).map(FaxSettings::Sinch),
        _ => {
            p.add("[fax] needs exactly one of [fax.directory] (PDFs in a folder), [fax.telnyx] or [fax.sinch]");
            None
        }
    };
    match settings {
        Some(s) if p.0.is_empty() => Ok(s),
        _ => Err(p.0),
    }
}

struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }
}

fn telnyx(t: TelnyxFile, path: &dyn Fn(&str) -> PathBuf, p: &mut Problems) -> Option<TelnyxSettings> {
    let api_key = secret(p, "fax.telnyx", "api_key", (t.api_key_file, t.api_key_env, t.api_key.is_some()), path);
    let public_key = public_key(&t.public_key).map_err(|e| p.add(format!("fax.telnyx.public_key: {e}"))).ok();
    let quality = t.quality.filter(|q| {
        let ok = TELNYX_QUALITIES.contains(&q.as_str());
        if !ok {
            p.add(format!("fax.telnyx.quality = \"{q}\" is not accepted; use one of {}", TELNYX_QUALITIES.join(", ")));
        }
        ok
    });
    let settings = TelnyxSettings {
        connection_id: non_empty(p, "fax.telnyx.connection_id", &t.connection_id),
        from: e164(p, "fax.telnyx.from", &t.from),
        base_url: base_url(p, "fax.telnyx.base_url", t.base_url.as_deref().unwrap_or(TELNYX_BASE_URL)),
        quality,
        timeout: timeout(p, "fax.telnyx.timeout_secs", t.timeout_secs),
        retry_schedule: schedule(p, "fax.telnyx.retry_minutes", t.retry_minutes),
        api_key: api_key?,
        public_key: public_key?,
    };
    Some(settings)
}

fn sinch(s: SinchFile, path: &dyn Fn(&str) -> PathBuf, p: &mut Problems) -> Option<SinchSettings> {
    let key_secret =
        secret(p, "fax.sinch", "key_secret", (s.key_secret_file, s.key_secret_env, s.key_secret.is_some()), path);
    let webhook_password = secret(
        p,
        "fax.sinch",
        "webhook_password",
        (s.webhook_password_file, s.webhook_password_env, s.webhook_password.is_some()),
        path,
    );
    let project_id = non_empty(p, "fax.sinch.project_id", &s.project_id);
    if !project_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        p.add(format!("fax.sinch.project_id = \"{project_id}\" is not a project id (letters, digits and dashes)"));
    }
    let callback_url = s.callback_url.as_deref().and_then(|u| {
        let url = http_url(p, "fax.sinch.callback_url", u)?;
        if !url.username().is_empty() || url.password().is_some() {
            p.add(
                "fax.sinch.callback_url must not contain credentials; give them as webhook_user and \
                 webhook_password_file (or webhook_password_env)",
            );
        }
        Some(url)
    });
    let settings = SinchSettings {
        project_id,
        key_id: basic_user(p, "fax.sinch.key_id", &s.key_id),
        from: s.from.as_deref().map(|f| e164(p, "fax.sinch.from", f)),
        base_url: base_url(p, "fax.sinch.base_url", s.base_url.as_deref().unwrap_or(SINCH_BASE_URL)),
        callback_url,
        webhook_user: basic_user(p, "fax.sinch.webhook_user", &s.webhook_user),
        timeout: timeout(p, "fax.sinch.timeout_secs", s.timeout_secs),
        retry_schedule: schedule(p, "fax.sinch.retry_minutes", s.retry_minutes),
        key_secret: key_secret?,
        webhook_password: webhook_password?,
    };
    Some(settings)
}

/// `(file, env, inline given)` → the source, or a problem.
fn secret(
    p: &mut Problems,
    section: &str,
    name: &str,
    (file, env, inline): (Option<String>, Option<String>, bool),
    path: &dyn Fn(&str) -> PathBuf,
) -> Option<SecretSource> {
    if inline {
        p.add(format!(
            "{section}.{name}: secrets are not allowed in the config file; use {name}_file (a file or systemd \
             credential) or {name}_env (an environment variable)"
        ));
        return None;
    }
    match (file, env) {
        (Some(f), None) => Some(SecretSource::File(path(&f))),
        (None, Some(v)) if !v.trim().is_empty() => Some(SecretSource::Env(v.trim().to_string())),
        (Some(_), Some(_)) => {
            p.add(format!("{section}: give {name}_file or {name}_env, not both"));
            None
        }
        _ => {
            p.add(format!("{section} needs {name}_file (a file holding the secret) or {name}_env (a variable)"));
            None
        }
    }
}

fn non_empty(p: &mut Problems, key: &str, value: &str) -> String {
    if value.trim().is_empty() {
        p.add(format!("{key} is empty; give a value"));
    }
    value.trim().to_string()
}

fn basic_user(p: &mut Problems, key: &str, value: &str) -> String {
    let v = non_empty(p, key, value);
    if v.contains(':') {
        p.add(format!("{key} must not contain ':' (it is an HTTP Basic user name)"));
    }
    v
}

fn e164(p: &mut Problems, key: &str, value: &str) -> String {
    if !super::is_e164(value.trim()) {
        p.add(format!("{key} = \"{value}\" is not an E.164 number (+, country code, number: +18595550199)"));
    }
    value.trim().to_string()
}

/// An absolute http(s) URL: https, or plain http to a loopback host (test mocks).
fn http_url(p: &mut Problems, key: &str, value: &str) -> Option<Url> {
    let url = Url::parse(value.trim())
        .map_err(|e| p.add(format!("{key} = \"{value}\" is not a URL ({e}); give one like https://host/path")))
        .ok()?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => p.add(format!("{key} = \"{value}\" must use https (plain http is accepted for loopback hosts only)")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        p.add(format!("{key} = \"{value}\" must not have a query or fragment"));
    }
    Some(url)
}

fn base_url(p: &mut Problems, key: &str, value: &str) -> String {
    if let Some(url) = http_url(p, key, value)
        && (!url.username().is_empty() || url.password().is_some())
    {
        p.add(format!("{key} must not contain credentials"));
    }
    value.trim().trim_end_matches('/').to_string()
}

fn timeout(p: &mut Problems, key: &str, secs: Option<u64>) -> Duration {
    let secs = secs.unwrap_or(60);
    if !(1..=600).contains(&secs) {
        p.add(format!("{key} = {secs} is out of range; give 1 to 600 seconds (default 60)"));
    }
    Duration::from_secs(secs)
}

fn schedule(p: &mut Problems, key: &str, minutes: Option<Vec<u64>>) -> Vec<Duration> {
    let Some(minutes) = minutes else { return super::retry::DEFAULT_SCHEDULE.to_vec() };
    if minutes.len() > 10 || minutes.iter().any(|m| !(1..=7 * 24 * 60).contains(m)) {
        p.add(format!(
            "{key} = {minutes:?} is not accepted; give at most 10 waits of 1 to 10080 minutes each, like [15, 60, 240] \
             ([] for no retries)"
        ));
    }
    minutes.into_iter().map(|m| Duration::from_secs(m * 60)).collect()
}

/// Telnyx's public key as shown in the portal: base64 of the 32-byte Ed25519 key.
pub fn public_key(text: &str) -> Result<VerifyingKey, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| "not base64; paste the key exactly as Mission Control shows it".to_string())?;
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|b: Vec<u8>| format!("{} bytes; an Ed25519 public key is 32", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FaxSettings, Vec<String>> {
        let raw: FaxFile = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        validate(raw, &|p| PathBuf::from("/etc/medrec").join(p))
    }

    const KEY: &str = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";

    #[test]
    fn a_telnyx_section_with_defaults() {
        let s = parse(&format!(
            "[telnyx]\napi_key_file = \"telnyx.key\"\nconnection_id = \"234423\"\nfrom = \"+18595550199\"\n\
             public_key = \"{KEY}\"\n"
        ))
        .unwrap();
        let FaxSettings::Telnyx(t) = s else { panic!("not telnyx") };
        assert_eq!(t.api_key, SecretSource::File("/etc/medrec/telnyx.key".into()));
        assert_eq!(t.base_url, TELNYX_BASE_URL);
        assert_eq!(t.timeout, Duration::from_secs(60));
        assert_eq!(t.retry_schedule, super::super::retry::DEFAULT_SCHEDULE.to_vec());
    }

    #[test]
    fn a_sinch_section() {
        let s = parse(
            "[sinch]\nproject_id = \"ae00f005-e392\"\nkey_id = \"k1\"\nkey_secret_env = \"SINCH_SECRET\"\n\
             callback_url = \"https://medrec.example/webhooks/sinch\"\nwebhook_user = \"sinch\"\n\
             webhook_password_file = \"/run/credentials/medrec/sinch-webhook\"\nretry_minutes = [5, 30]\n\
             base_url = \"http://127.0.0.1:14011/\"\n",
        )
        .unwrap();
        let summary = s.summary();
        assert!(summary.contains("callbacks https://medrec.example/webhooks/sinch"), "{summary}");
        let FaxSettings::Sinch(s) = s else { panic!("not sinch") };
        assert_eq!(s.key_secret, SecretSource::Env("SINCH_SECRET".into()));
        assert_eq!(s.base_url, "http://127.0.0.1:14011");
        assert_eq!(s.retry_schedule, vec![Duration::from_secs(300), Duration::from_secs(1800)]);
    }

    #[test]
    fn every_problem_is_named_with_what_is_accepted() {
        let problems = parse(
            "[telnyx]\napi_key = \"KEY123\"\nconnection_id = \"\"\nfrom = \"859-555-0199\"\npublic_key = \"abc\"\n\
             quality = \"superfine\"\nbase_url = \"http://api.telnyx.com/v2\"\ntimeout_secs = 0\n",
        )
        .unwrap_err();
        let all = problems.join("\n");
        for needle in [
            "api_key: secrets are not allowed",
            "connection_id is empty",
            "not an E.164 number",
            "public_key",
            "use one of normal, high",
            "must use https",
            "1 to 600 seconds",
        ] {
            assert!(all.contains(needle), "no problem mentions {needle:?}:\n{all}");
        }
    }

    #[test]
    fn sinch_callback_must_not_hold_the_password() {
        let problems = parse(
            "[sinch]\nproject_id = \"p\"\nkey_id = \"k\"\nkey_secret_env = \"S\"\nwebhook_user = \"u\"\n\
             webhook_password_env = \"W\"\ncallback_url = \"https://u:secret@medrec.example/webhooks/sinch\"\n",
        )
        .unwrap_err();
        assert!(problems.iter().any(|p| p.contains("must not contain credentials")), "{problems:?}");
    }

    #[test]
    fn exactly_one_gateway_and_no_unknown_keys() {
        let none = parse("").unwrap_err();
        assert!(none[0].contains("exactly one of"), "{none:?}");
        let typo = parse("[directory]\npath = \"x\"\nspeed = 1\n").unwrap_err();
        assert!(typo[0].contains("unknown field `speed`"), "{typo:?}");
        assert!(matches!(parse("[directory]\npath = \"fax\"\n"), Ok(FaxSettings::Directory { .. })));
    }
}
