//! Sends queued email: over SMTP with lettre, or as `.eml` files in a directory (the local
//! stand-in). Failures are classified here, where they happen, as [`SendError::Transient`]
//! (retry later) or [`SendError::Permanent`] (a person must look), so callers never read
//! error strings.

use std::path::PathBuf;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{OutgoingTransport, Smtp, TlsMode};
use crate::store::PendingEmail;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Transient(String),
    Permanent(String),
}

/// The configured way out.
pub enum Sender {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
}

impl Sender {
    /// Builds the sender, reading its password now so a missing secret stops start-up.
    pub fn new(transport: &OutgoingTransport) -> anyhow::Result<Sender> {
        match transport {
            OutgoingTransport::Directory { path } => {
                super::files::create_private_dir(path).with_context(|| format!("creating {}", path.display()))?;
                Ok(Sender::Directory(path.clone()))
            }
            OutgoingTransport::Smtp(s) => smtp(s).map(Sender::Smtp),
        }
    }

    /// Sends one email.
    pub async fn send(&self, email: &PendingEmail) -> Result<(), SendError> {
        match self {
            Sender::Directory(dir) => {
                // Named by outbox id: a retry after a crash rewrites the same file, never a second one.
                let name = format!("{:08}.eml", email.outbox_id);
                let (dir, raw) = (dir.clone(), email.raw.clone());
                tokio::task::spawn_blocking(move || super::files::write_atomically(&dir, &name, &raw))
                    .await
                    .map_err(|e| SendError::Transient(format!("writer task failed: {e}")))?
                    .map(|_| ())
                    .map_err(|e| SendError::Transient(format!("cannot write the outbox file: {e}")))
            }
            Sender::Smtp(transport) => {
                let envelope = envelope(email).map_err(SendError::Permanent)?;
                match transport.send_raw(&envelope, &email.raw).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    Err(e) => Err(SendError::Transient(e.to_string())),
                }
            }
        }
    }

    /// Proves the way out works without sending anything (for `medrec doctor`). SMTP: connects,
    /// says EHLO, upgrades to TLS as configured and logs in when credentials are set (lettre's
    /// `test_connection` opens a connection exactly as a send would, then sends NOOP). Directory:
    /// writes and removes a dot-file, which readers of the outbox skip. `Ok` says what was proven.
    pub async fn check(&self) -> Result<String, String> {
        match self {
            Sender::Smtp(transport) => match transport.test_connection().await {
                Ok(true) => Ok("the server took the connection and answered NOOP".into()),
                Ok(false) => Err("connected, but the server did not answer NOOP".into()),
                Err(e) => Err(e.to_string()),
            },
            Sender::Directory(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || {
                    let probe = super::files::write_atomically(&dir, ".medrec-doctor-probe", b"")?;
                    std::fs::remove_file(probe)
                })
                .await
                .map_err(|e| format!("writer task failed: {e}"))?
                .map(|()| "writable".to_string())
                .map_err(|e| format!("cannot write there: {e}"))
            }
        }
    }
}

fn envelope(email: &PendingEmail) -> Result<Envelope, String> {
    let from = email.envelope_from.parse().map_err(|e| format!("bad sender address: {e}"))?;
    let to = email
        .recipients
        .iter()
        .map(|r| r.parse().map_err(|e| format!("bad recipient address: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(from), to).map_err(|e| e.to_string())
}

fn smtp(s: &Smtp) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let tls_parameters = || -> anyhow::Result<TlsParameters> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(pem) = super::tls::read_ca(s.ca_file.as_deref())? {
            b = b.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        Ok(b.build_rustls()?)
    };
    let tls = match s.tls {
        TlsMode::Implicit => Tls::Wrapper(tls_parameters()?),
        TlsMode::StartTls => Tls::Required(tls_parameters()?),
        TlsMode::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .tls(tls)
        .timeout(Some(s.timeout));
    if let (Some(user), Some(source)) = (&s.user, &s.password) {
        let password = source.load().map_err(anyhow::Error::msg).context("outgoing.smtp password")?;
        builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_string()));
    }
    Ok(builder.build())
}
