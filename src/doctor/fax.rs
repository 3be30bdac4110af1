//! The fax gateway check: builds the gateway as the daemon does (reading its secrets), then
//! makes one read-only call with the credentials (the stand-in directory: a probe file).

use crate::fax::{FaxError, FaxGateway, FaxSettings};

use super::checklist::{Check, shell_word};

pub async fn gateway(settings: &FaxSettings) -> Check {
    let name = name(settings);
    let gateway = match FaxGateway::new(settings) {
        Ok(g) => g,
        Err(e) => return Check::fail(name, e, fix(settings, false)),
    };
    match gateway.check().await {
        Ok(detail) => Check::ok(name, detail),
        Err(FaxError::Transient(e)) => Check::fail(name, e, fix(settings, true)),
        Err(FaxError::Permanent(e)) => Check::fail(name, e, fix(settings, false)),
    }
}

fn name(settings: &FaxSettings) -> String {
    match settings {
        FaxSettings::Telnyx(_) => "fax gateway Telnyx".into(),
        FaxSettings::Sinch(_) => "fax gateway Sinch".into(),
        FaxSettings::Directory { path } => format!("fax directory {}", path.display()),
    }
}

/// What to look at; `unreachable`: the gateway did not answer (a timeout, no connection, 5xx).
fn fix(settings: &FaxSettings, unreachable: bool) -> String {
    match settings {
        FaxSettings::Directory { path } => format!("make {} writable by this user", shell_word(path)),
        FaxSettings::Telnyx(t) if unreachable => reach("fax.telnyx.base_url", &t.base_url),
        FaxSettings::Sinch(s) if unreachable => reach("fax.sinch.base_url", &s.base_url),
        FaxSettings::Telnyx(t) => format!(
            "check that the key in {} is a current Telnyx API v2 key (Mission Control → Keys & Credentials) and \
             fax.telnyx.base_url ({})",
            t.api_key, t.base_url
        ),
        FaxSettings::Sinch(s) => format!(
            "check fax.sinch.project_id ({}), key_id ({}) and the key secret in {} (Sinch dashboard → Settings → \
             Access keys), and fax.sinch.base_url ({})",
            s.project_id, s.key_id, s.key_secret, s.base_url
        ),
    }
}

fn reach(key: &str, base_url: &str) -> String {
    format!("check {key} ({base_url}) and that this machine can reach it (firewall, proxy), then try again")
}
