//! The IMAP inbox: connects with TLS (implicit or STARTTLS), lists what waits in the folder,
//! fetches messages without marking them seen, moves processed ones to the `Processed` folder,
//! and waits for new mail with IDLE (RFC 2177), or by polling when the server has no IDLE.
//!
//! Every command runs under a timeout: a dead connection must surface as an error so the
//! watcher reconnects (async-imap has no timeouts of its own, except IDLE's).

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures::TryStreamExt;
use rustls_pki_types::ServerName;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use crate::config::{Imap, TlsMode};

/// Any byte stream a session can run over (plain TCP or TLS).
pub trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapStream for T {}

type Stream = Box<dyn ImapStream>;

/// Why an IMAP step failed. All of them end the connection; the watcher reconnects.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("timed out during {0}")]
    Timeout(&'static str),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("login refused: {0}")]
    Login(String),
    #[error("{0}")]
    Protocol(String),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        ImapError::Protocol(e.to_string())
    }
}

/// How a wait for new mail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// New data, an IDLE timeout or the poll interval: look at the folder again.
    Look,
    /// The daemon is shutting down.
    Cancelled,
}

/// Connection settings with the password and TLS config loaded.
pub struct ImapInbox {
    settings: Imap,
    password: SecretString,
    tls: Arc<rustls::ClientConfig>,
}

/// A logged-in session with the inbox folder selected.
pub struct Connection {
    session: Session<Stream>,
    timeout: Duration,
    can_idle: bool,
    can_move: bool,
    processed: String,
    pub uidvalidity: u32,
}

async fn timed<T, E: Into<ImapError>>(
    dur: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(dur, fut).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(ImapError::Timeout(what)),
    }
}

impl From<std::io::Error> for ImapError {
    fn from(e: std::io::Error) -> Self {
        ImapError::Connect(e.to_string())
    }
}

impl ImapInbox {
    pub fn new(settings: &Imap) -> anyhow::Result<ImapInbox> {
        let password = settings.password.load().map_err(anyhow::Error::msg)?;
        let tls = super::tls::client_config(settings.ca_file.as_deref())?;
        Ok(ImapInbox { settings: settings.clone(), password, tls })
    }

    /// The name this folder is stored under: `imap:user@host:port/folder`.
    pub fn mailbox_name(&self) -> String {
        let s = &self.settings;
        format!("imap:{}@{}:{}/{}", s.user, s.host, s.port, s.folder)
    }

    /// Connects, logs in, creates the processed folder if missing and selects the inbox folder.
    pub async fn connect(&self) -> Result<Connection, ImapError> {
        let s = &self.settings;
        let t = s.command_timeout;
        let tcp = timed(t, "connect", TcpStream::connect((s.host.as_str(), s.port))).await?;
        let client: Client<Stream> = match s.tls {
            TlsMode::None => greeted(Client::new(Box::new(tcp) as Stream), t).await?,
            TlsMode::Implicit => greeted(Client::new(Box::new(self.tls_wrap(tcp).await?) as Stream), t).await?,
            TlsMode::StartTls => {
                let mut plain = greeted(Client::new(tcp), t).await?;
                timed(t, "STARTTLS", plain.run_command_and_check_ok("STARTTLS", None)).await?;
                // RFC 3501 §6.2.1: no new greeting after the TLS handshake.
                Client::new(Box::new(self.tls_wrap(plain.into_inner()).await?) as Stream)
            }
        };
        let mut session = match timed(t, "LOGIN", async {
            client.login(&s.user, self.password.expose_secret()).await.map_err(|(e, _)| ImapError::Login(e.to_string()))
        })
        .await
        {
            Ok(session) => session,
            Err(e) => return Err(e),
        };
        let caps = timed(t, "CAPABILITY", session.capabilities()).await?;
        let (can_idle, can_move) = (caps.has_str("IDLE"), caps.has_str("MOVE"));
        ensure_folder(&mut session, &s.processed_folder, t).await?;
        let mailbox = timed(t, "SELECT", session.select(&s.folder)).await?;
        let uidvalidity = mailbox
            .uid_validity
            .ok_or_else(|| ImapError::Protocol(format!("server sent no UIDVALIDITY for {}", s.folder)))?;
        Ok(Connection { session, timeout: t, can_idle, can_move, processed: s.processed_folder.clone(), uidvalidity })
    }

    async fn tls_wrap(&self, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
        let name = ServerName::try_from(self.settings.host.clone()).map_err(|e| ImapError::Connect(e.to_string()))?;
        timed(self.settings.command_timeout, "TLS handshake", TlsConnector::from(self.tls.clone()).connect(name, tcp))
            .await
    }
}

async fn greeted<T: ImapStream>(mut client: Client<T>, t: Duration) -> Result<Client<T>, ImapError> {
    match timed(t, "greeting", client.read_response()).await? {
        Some(_) => Ok(client),
        None => Err(ImapError::Connect("server closed the connection before its greeting".into())),
    }
}

/// Creates `folder` unless it exists (RFC 3501 §6.3.3: CREATE of an existing name fails).
async fn ensure_folder(session: &mut Session<Stream>, folder: &str, t: Duration) -> Result<(), ImapError> {
    let exists = {
        let list = timed(t, "LIST", session.list(Some(""), Some(folder))).await?;
        let names: Vec<_> = timed(t, "LIST", list.try_collect::<Vec<_>>()).await?;
        names.iter().any(|n| n.name() == folder)
    };
    if !exists {
        timed(t, "CREATE", session.create(folder)).await?;
    }
    Ok(())
}

impl Connection {
    /// UIDs of every message in the folder, oldest first.
    pub async fn uids(&mut self) -> Result<Vec<u32>, ImapError> {
        let set = timed(self.timeout, "UID SEARCH", self.session.uid_search("ALL")).await?;
        let mut uids: Vec<u32> = set.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The full message, without setting `\Seen`. `None` if it vanished meanwhile.
    pub async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, ImapError> {
        let t = self.timeout;
        let stream = timed(t, "UID FETCH", self.session.uid_fetch(uid.to_string(), "BODY.PEEK[]")).await?;
        let fetches: Vec<_> = timed(t, "UID FETCH", stream.try_collect::<Vec<_>>()).await?;
        Ok(fetches.iter().find(|f| f.uid == Some(uid)).and_then(|f| f.body()).map(<[u8]>::to_vec))
    }

    /// Moves a message to the processed folder (RFC 6851 MOVE, or COPY + delete + expunge).
    pub async fn move_to_processed(&mut self, uid: u32) -> Result<(), ImapError> {
        let t = self.timeout;
        let set = uid.to_string();
        if self.can_move {
            timed(t, "UID MOVE", self.session.uid_mv(&set, &self.processed)).await?;
            return Ok(());
        }
        timed(t, "UID COPY", self.session.uid_copy(&set, &self.processed)).await?;
        {
            let updates = timed(t, "UID STORE", self.session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")).await?;
            timed(t, "UID STORE", updates.try_collect::<Vec<_>>()).await?;
        }
        let expunged = timed(t, "UID EXPUNGE", self.session.uid_expunge(&set)).await?;
        timed(t, "UID EXPUNGE", expunged.try_collect::<Vec<_>>()).await?;
        Ok(())
    }

    /// Waits for new mail: IDLE up to `idle_timeout` when the server offers it, otherwise a
    /// NOOP after `poll_interval`. Returns the connection for the next round.
    pub async fn wait(
        self,
        cancel: &CancellationToken,
        idle_timeout: Duration,
        poll_interval: Duration,
    ) -> Result<(Connection, Wake), ImapError> {
        let Connection { session, timeout, can_idle, can_move, processed, uidvalidity } = self;
        let rebuild =
            |session| Connection { session, timeout, can_idle, can_move, processed: processed.clone(), uidvalidity };
        if !can_idle {
            let mut session = session;
            let wake = tokio::select! {
                _ = tokio::time::sleep(poll_interval) => Wake::Look,
                _ = cancel.cancelled() => Wake::Cancelled,
            };
            if wake == Wake::Look {
                timed(timeout, "NOOP", session.noop()).await?;
            }
            return Ok((rebuild(session), wake));
        }
        let mut idle = session.idle();
        timed(timeout, "IDLE", idle.init()).await?;
        let wake = {
            let (waiting, _interrupt) = idle.wait_with_timeout(idle_timeout);
            tokio::select! {
                r = waiting => match r {
                    Ok(IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt) => Wake::Look,
                    Err(e) => return Err(e.into()),
                },
                _ = cancel.cancelled() => Wake::Cancelled,
            }
        };
        let session = timed(timeout, "DONE", idle.done()).await?;
        Ok((rebuild(session), wake))
    }

    /// Logs out politely, within the command timeout.
    pub async fn logout(mut self) {
        let _ = timed(self.timeout, "LOGOUT", self.session.logout()).await;
    }
}
