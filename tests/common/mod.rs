//! Helpers shared by the integration tests: where the third-party data in `../shared` is, the
//! loopback mail servers started by `scripts/mail-servers.sh`, the real `medrec` binary run as a
//! daemon, and a small IMAP observer that waits for mail with IDLE rather than sleeping.
#![allow(dead_code)]

pub mod desk;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_imap::Session;
use futures::TryStreamExt;
use medrec::core::inbound::InboundMail;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// True when running in CI, where a missing prerequisite is a failure, not a skip.
fn in_ci() -> bool {
    #[allow(clippy::disallowed_methods)]
    let ci = std::env::var("CI");
    ci.is_ok_and(|v| v == "true" || v == "1")
}

/// `../shared` beside the clone (or `$MEDREC_SHARED_DIR`): the corpora and specs the project
/// reads but never copies. `None`, with a message, where it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)]
    let dir = std::env::var("MEDREC_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("corpus").is_dir() {
        return Some(dir);
    }
    let msg = format!("skipped: shared data not found at {} (set MEDREC_SHARED_DIR)", dir.display());
    assert!(!in_ci(), "{msg}");
    eprintln!("{msg}");
    None
}

/// A vendor's published OpenAPI document in `shared/specs/` (e.g. `telnyx-fax.yaml`).
pub fn spec_file(name: &str) -> Option<PathBuf> {
    let path = shared_dir()?.join("specs").join(name);
    assert!(path.is_file(), "{} is missing from shared/specs", path.display());
    Some(path)
}

/// The `.eml` files under `shared/corpus/<sub>`, sorted, recursively.
pub fn corpus_files(sub: &str) -> Option<Vec<PathBuf>> {
    let root = shared_dir()?.join("corpus").join(sub);
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("corpus dir readable") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Some(out)
}

/// The loopback Postfix + Dovecot from `scripts/mail-servers.sh up`, read from the env file it
/// writes (`$MEDREC_TEST_MAIL_ENV`). Every address exists, with one shared password.
#[derive(Debug, Clone)]
pub struct MailServers {
    pub root: PathBuf,
    pub ca: PathBuf,
    pub host: String,
    pub imap_port: u16,
    pub smtp_port: u16,
    pub submission_port: u16,
    pub password: String,
    pub authserv_id: String,
}

pub fn mail_servers() -> Option<MailServers> {
    #[allow(clippy::disallowed_methods)]
    let file = std::env::var("MEDREC_TEST_MAIL_ENV").ok();
    let Some(text) = file.as_deref().and_then(|f| std::fs::read_to_string(f).ok()) else {
        let msg = "skipped: no mail servers (run the tests with `bash scripts/test.sh`, which starts them)";
        assert!(!in_ci(), "{msg}");
        eprintln!("{msg}");
        return None;
    };
    let vars: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect();
    let get = |k: &str| vars.get(k).cloned().unwrap_or_else(|| panic!("{k} missing from the mail env file"));
    Some(MailServers {
        root: get("MAIL_ROOT").into(),
        ca: get("MAIL_CA").into(),
        host: get("MAIL_HOST"),
        imap_port: get("IMAP_PORT").parse().expect("port"),
        smtp_port: get("SMTP_PORT").parse().expect("port"),
        submission_port: get("SUBMISSION_PORT").parse().expect("port"),
        password: get("MAIL_PASSWORD"),
        authserv_id: get("MAIL_AUTHSERV_ID"),
    })
}

impl MailServers {
    /// Runs `scripts/mail-servers.sh <action>` against these servers (e.g. `stop-imap`).
    pub fn script(&self, action: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mail-servers.sh");
        let status = Command::new("bash")
            .arg(script)
            .arg(action)
            .env("MAIL_ROOT", &self.root)
            .stdin(Stdio::null())
            .status()
            .expect("run mail-servers.sh");
        assert!(status.success(), "mail-servers.sh {action} failed");
    }

    /// Submits `raw` as `user` over the submission port (STARTTLS + AUTH), like a mail client.
    pub async fn submit(&self, user: &str, to: &str, raw: &[u8]) {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let pem = std::fs::read(&self.ca).expect("CA");
        let tls = TlsParameters::builder(self.host.clone())
            .add_root_certificate(Certificate::from_pem(&pem).expect("CA pem"))
            .build_rustls()
            .expect("tls");
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
            .port(self.submission_port)
            .tls(Tls::Required(tls))
            .credentials(Credentials::new(user.into(), self.password.clone()))
            .build();
        let envelope = lettre::address::Envelope::new(Some(user.parse().unwrap()), vec![to.parse().unwrap()]).unwrap();
        transport.send_raw(&envelope, raw).await.expect("submission accepted");
    }

    /// Relays `raw` through the plain, unauthenticated port, like mail from the internet.
    pub async fn relay(&self, from: &str, to: &str, raw: &[u8]) {
        use lettre::transport::smtp::client::Tls;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
            .port(self.smtp_port)
            .tls(Tls::None)
            .build();
        let envelope = lettre::address::Envelope::new(Some(from.parse().unwrap()), vec![to.parse().unwrap()]).unwrap();
        transport.send_raw(&envelope, raw).await.expect("relay accepted");
    }

    /// Opens an IMAP session (STARTTLS) for `user` with `folder` selected.
    pub async fn open(&self, user: &str, folder: &str) -> Mailbox {
        let config = medrec::mail::tls::client_config(Some(&self.ca)).expect("tls config");
        let tcp = TcpStream::connect((self.host.as_str(), self.imap_port)).await.expect("connect");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        client.run_command_and_check_ok("STARTTLS", None).await.expect("STARTTLS");
        let name = rustls_pki_types::ServerName::try_from(self.host.clone()).unwrap();
        let tls = tokio_rustls::TlsConnector::from(config).connect(name, client.into_inner()).await.expect("tls");
        let mut session =
            async_imap::Client::new(tls).login(user, &self.password).await.map_err(|(e, _)| e).expect("login");
        if session.select(folder).await.is_err() {
            session.create(folder).await.expect("create folder");
            session.select(folder).await.expect("select");
        }
        Mailbox { session: Some(session) }
    }

    /// The bot's config sections for these servers: IMAP in, SMTP submission out.
    pub fn bot_sections(&self, dir: &Path, bot: &str, trust: &str) -> String {
        let password = secret_file(dir, "mail-password", &self.password);
        format!(
            "[inbox]\nsender_trust = \"{trust}\"\nauthserv_id = \"{authserv}\"\n\n\
             [inbox.imap]\nhost = \"{host}\"\nport = {imap}\ntls = \"starttls\"\nuser = \"{bot}\"\n\
             password_file = \"{pw}\"\nca_file = \"{ca}\"\nidle_timeout_secs = 60\ncommand_timeout_secs = 10\n\
             reconnect_max_secs = 2\n\n\
             [outgoing.smtp]\nhost = \"{host}\"\nport = {sub}\ntls = \"starttls\"\nuser = \"{bot}\"\n\
             password_file = \"{pw}\"\nca_file = \"{ca}\"\ntimeout_secs = 10\n",
            authserv = self.authserv_id,
            host = self.host,
            imap = self.imap_port,
            sub = self.submission_port,
            pw = password.display(),
            ca = self.ca.display(),
        )
    }
}

/// A bot and a staff member with mailboxes of their own, and a config for the bot on the
/// loopback servers; `trust` is the inbox's `sender_trust`.
pub struct BotOnServers {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub bot: String,
    pub staff: String,
}

impl BotOnServers {
    pub fn new(servers: &MailServers, trust: &str) -> BotOnServers {
        let (bot, staff) = (unique_address("bot"), unique_address("staff"));
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), &bot, &staff, &servers.bot_sections(dir.path(), &bot, trust));
        BotOnServers { dir, config, bot, staff }
    }

    /// Imports a provider directory given as CSV text, through the CLI.
    pub fn import_providers(&self, csv: &str) {
        let file = self.dir.path().join("providers.csv");
        std::fs::write(&file, csv).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_medrec"))
            .args(["providers", "import"])
            .arg(&file)
            .arg("--config")
            .arg(&self.config)
            .output()
            .unwrap();
        assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Starts the daemon and waits until it watches the inbox; returns it with its log position.
    pub fn start(&self) -> (Daemon, usize) {
        let daemon = Daemon::start(&self.config);
        let at = daemon.wait_for_log("waiting for new mail", 0, Duration::from_secs(30));
        (daemon, at)
    }
}

/// A unique address for one test, so parallel tests never share a mailbox.
pub fn unique_address(role: &str) -> String {
    format!("{role}-{}@denhamlaw.example", medrec::mail::compose::unique_token())
}

/// A plain message with CRLF line ends, as a mail client would send it.
pub fn message(from: &str, to: &str, subject: &str, message_id: &str, body: &str, extra_headers: &[&str]) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 -0500\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    );
    for h in extra_headers {
        m.push_str(h);
        m.push_str("\r\n");
    }
    m.push_str("\r\n");
    m.push_str(&body.replace('\n', "\r\n"));
    m.into_bytes()
}

/// Answers among `mails` to the message `id`.
pub fn answers_to<'a>(mails: &'a [InboundMail], id: &str) -> Vec<&'a InboundMail> {
    mails.iter().filter(|m| m.in_reply_to.as_deref() == Some(id)).collect()
}

/// An IMAP folder the test watches.
pub struct Mailbox {
    session: Option<Session<TlsStream<TcpStream>>>,
}

impl Mailbox {
    fn session(&mut self) -> &mut Session<TlsStream<TcpStream>> {
        self.session.as_mut().expect("session")
    }

    /// Every message in the folder, in UID order.
    pub async fn all(&mut self) -> Vec<InboundMail> {
        let s = self.session();
        s.noop().await.expect("noop");
        let mut uids: Vec<u32> = s.uid_search("ALL").await.expect("search").into_iter().collect();
        uids.sort_unstable();
        let mut out = Vec::new();
        for uid in uids {
            let stream = s.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.expect("fetch");
            let fetches: Vec<_> = stream.try_collect().await.expect("fetch");
            out.extend(fetches.iter().filter_map(|f| f.body()).map(medrec::mail::parse::parse));
        }
        out
    }

    /// Waits (with IDLE) until `done` holds for the folder's messages; panics after `limit`.
    pub async fn wait_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&[InboundMail]) -> bool,
    ) -> Vec<InboundMail> {
        let deadline = Instant::now() + limit;
        loop {
            let mails = self.all().await;
            if done(&mails) {
                return mails;
            }
            let left = deadline.checked_duration_since(Instant::now()).unwrap_or_else(|| {
                panic!("condition not met within {limit:?}; the folder holds {} message(s)", mails.len())
            });
            let session = self.session.take().expect("session");
            let mut idle = session.idle();
            idle.init().await.expect("IDLE");
            let (wait, _stop) = idle.wait_with_timeout(left.min(Duration::from_secs(5)));
            wait.await.expect("IDLE wait");
            self.session = Some(idle.done().await.expect("DONE"));
        }
    }
}

/// The `medrec` binary running as a daemon, its log lines collected as they come.
pub struct Daemon {
    child: Child,
    log: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Daemon {
    pub fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, &[], &[])
    }

    /// Starts `medrec [flags] run --config CONFIG` with extra environment variables.
    pub fn start_with(config: &Path, flags: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_medrec"))
            .args(flags)
            .args(["run", "--config"])
            .arg(config)
            .env("MEDREC_LOG", "medrec=debug")
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start medrec");
        let log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[medrec] {line}");
                sink.0.lock().unwrap().push(line);
                sink.1.notify_all();
            }
        });
        Daemon { child, log }
    }

    /// Blocks until a log line after line `from` contains `needle`; returns its index.
    pub fn wait_for_log(&self, needle: &str, from: usize, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        let (lines, cv) = &*self.log;
        let mut guard = lines.lock().unwrap();
        loop {
            if let Some(i) = guard.iter().skip(from).position(|l| l.contains(needle)) {
                return from + i;
            }
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("no log line with {needle:?} within {limit:?}"));
            guard = cv.wait_timeout(guard, left).unwrap().0;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address the daemon's HTTP server listens on, from its start-up log line.
    pub fn http_address(&self) -> std::net::SocketAddr {
        let at = self.wait_for_log("http server listening", 0, Duration::from_secs(30));
        let line = &self.log_lines()[at];
        let addr = line.split("addr=").nth(1).or_else(|| line.split("\"addr\":").nth(1)).expect("addr in the log line");
        let addr = addr.trim_start_matches('"').split(['"', ' ']).next().unwrap();
        addr.parse().unwrap_or_else(|_| panic!("no address in {line}"))
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: i32) {
        // SAFETY: signals our own child process by its pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// SIGKILL: no drain, no cleanup, as in a power cut or the OOM killer.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL medrec");
        self.child.wait().expect("wait for medrec");
    }

    /// Waits for the daemon to exit by itself.
    pub fn wait(mut self) -> ExitStatus {
        self.child.wait().expect("wait for medrec")
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.log.0.lock().unwrap().clone()
    }

    /// SIGTERM, then wait for the exit.
    pub fn stop(mut self) -> ExitStatus {
        // SAFETY: signals our own child process by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().expect("wait for medrec")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The HTTP server of a test daemon: loopback, on a port the system picks (logged at start).
pub const TEST_HTTP: &str = "\n[http]\nlisten = \"127.0.0.1:0\"\n";

/// Writes a test config into `dir`: the shipped embedded default with the given bot and staff
/// addresses, and its `[inbox]`, `[outgoing]` and `[fax]` sections replaced by `sections`.
pub fn write_config(dir: &Path, bot: &str, staff: &str, sections: &str) -> PathBuf {
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/medrec.toml")).unwrap();
    let head = shipped
        .split("\n[inbox]")
        .next()
        .unwrap()
        .replace("../var/", "var/")
        .replace("records@denhamlaw.example", bot)
        .replace("paralegal@denhamlaw.example", staff);
    let http = if sections.contains("[http]") { "" } else { TEST_HTTP };
    let config = format!(
        "{head}\n{sections}\n[fax.directory]\npath = \"var/fax/outbox\"\n\n[daemon]\nshutdown_deadline_secs = 10\n{http}"
    );
    let path = dir.join("medrec.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Imports `csv` (a provider directory) with `medrec providers import` under `config`.
pub fn import_providers(config: &Path, csv: &str) {
    let file = config.with_file_name("providers.csv");
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_medrec"))
        .args(["providers", "import"])
        .arg(&file)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A private file holding `secret`, for `password_file`.
pub fn secret_file(dir: &Path, name: &str, secret: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, secret).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// A one-page PDF standing in for a signed HIPAA authorization (made here; nothing shipped).
pub fn authorization_pdf() -> Vec<u8> {
    text_pdf(&[&["AUTHORIZATION FOR RELEASE OF HEALTH INFORMATION - SIGNED"]])
}

/// A PDF with the given pages, each a list of text lines (Helvetica), made with lopdf.
pub fn text_pdf(pages: &[&[&str]]) -> Vec<u8> {
    use lopdf::{Dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"Type1".to_vec())),
        ("BaseFont", Object::Name(b"Helvetica".to_vec())),
    ]));
    let resources = doc.add_object(Dictionary::from_iter([(
        "Font",
        Object::Dictionary(Dictionary::from_iter([("F1", Object::Reference(font))])),
    )]));
    let mut kids = Vec::new();
    for lines in pages {
        let mut content = String::from("BT /F1 11 Tf 72 740 Td 14 TL\n");
        for line in *lines {
            let escaped = line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
            content.push_str(&format!("({escaped}) Tj T*\n"));
        }
        content.push_str("ET");
        let content = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
        kids.push(Object::Reference(doc.add_object(Dictionary::from_iter([
            ("Type", Object::Name(b"Page".to_vec())),
            ("Parent", Object::Reference(pages_id)),
            ("Contents", Object::Reference(content)),
        ]))));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Pages".to_vec())),
            ("Kids", Object::Array(kids)),
            ("Count", Object::Integer(count)),
            ("MediaBox", Object::Array(vec![0.into(), 0.into(), 612.into(), 792.into()])),
            ("Resources", Object::Reference(resources)),
        ])),
    );
    let catalog = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Catalog".to_vec())),
        ("Pages", Object::Reference(pages_id)),
    ]));
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// A message with one attachment, as a mail client sends it (built with lettre).
pub fn message_with_attachment(
    from: &str,
    to: &str,
    subject: &str,
    message_id: &str,
    body: &str,
    name: &str,
    bytes: &[u8],
) -> Vec<u8> {
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let parts = MultiPart::mixed().singlepart(SinglePart::plain(body.to_string())).singlepart(
        Attachment::new(name.to_string()).body(bytes.to_vec(), ContentType::parse("application/pdf").unwrap()),
    );
    lettre::Message::builder()
        .from(from.parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .message_id(Some(message_id.to_string()))
        .multipart(parts)
        .unwrap()
        .formatted()
}

/// The text of a PDF, by `pdftotext` (poppler-utils, installed by `.ci/run`).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out =
        Command::new("pdftotext").args(["-layout"]).arg(&path).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Prism mocks from `scripts/prism.sh up` (vendor OpenAPI specs): their base URLs, read
/// from the env file it writes (`$MEDREC_TEST_PRISM_ENV`).
pub fn prism_telnyx_url() -> Option<String> {
    #[allow(clippy::disallowed_methods)]
    let file = std::env::var("MEDREC_TEST_PRISM_ENV").ok();
    let Some(text) = file.as_deref().and_then(|f| std::fs::read_to_string(f).ok()) else {
        let msg = "skipped: no Prism mock servers (run the tests with `bash scripts/test.sh`, which starts them)";
        assert!(!in_ci(), "{msg}");
        eprintln!("{msg}");
        return None;
    };
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export ")?.split_once('='))
        .find(|(k, _)| *k == "PRISM_TELNYX_URL")
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// `GET path` on `addr` over plain HTTP/1.0: the status code and the body.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the daemon's HTTP server");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// A free loopback port (bound and released; good enough for a test's own listener).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The shipped embedded default in a temp dir, as in a clean clone (`config/medrec.toml`, with
/// `var/` beside it), optionally with the sample provider directory imported.
pub struct Embedded {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Embedded {
    pub fn new(with_providers: bool) -> Embedded {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("config")).unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = dir.path().join("config/medrec.toml");
        std::fs::copy(repo.join("config/medrec.toml"), &config).unwrap();
        // Tests run side by side: each daemon's HTTP server on a port of its own.
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(TEST_HTTP);
        std::fs::write(&config, text).unwrap();
        let embedded = Embedded { dir, config };
        if with_providers {
            let out = embedded.medrec(&[
                "providers",
                "import",
                &repo.join("config/providers.sample.csv").display().to_string(),
            ]);
            assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
        }
        embedded
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `medrec ARGS --config <this config>`.
    pub fn medrec(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_medrec")).args(args).arg("--config").arg(&self.config).output().unwrap()
    }

    /// Starts the daemon and waits until it watches the inbox.
    pub fn start(&self) -> Daemon {
        let daemon = Daemon::start(&self.config);
        daemon.wait_for_log("watching the local Maildir inbox", 0, Duration::from_secs(30));
        daemon
    }

    /// Delivers like an MDA: written under `tmp/`, then renamed into `new/`.
    pub fn drop_mail(&self, name: &str, raw: &[u8]) {
        drop_mail(self.root(), name, raw);
    }

    /// The `.eml` files in the outbox once there are at least `n`, in order.
    pub fn outbox_files(&self, n: usize) -> Vec<PathBuf> {
        let limit = Duration::from_secs(60);
        let deadline = Instant::now() + limit;
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(self.root().join("var/mail/outbox"))
                .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
                .unwrap_or_default();
            if files.len() >= n {
                files.sort();
                return files;
            }
            assert!(
                Instant::now() < deadline,
                "{n} outgoing message(s) expected within {limit:?}, found {}",
                files.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The outbox's messages once there are at least `n`, parsed.
    pub fn outbox(&self, n: usize) -> Vec<InboundMail> {
        self.outbox_files(n).iter().map(|f| medrec::mail::parse::parse(&std::fs::read(f).unwrap())).collect()
    }
}

/// Delivers `raw` into the Maildir inbox under `root/var/mail/inbox`, as an MDA does.
pub fn drop_mail(root: &Path, name: &str, raw: &[u8]) {
    let inbox = root.join("var/mail/inbox");
    std::fs::write(inbox.join("tmp").join(name), raw).unwrap();
    std::fs::rename(inbox.join("tmp").join(name), inbox.join("new").join(name)).unwrap();
}

/// Dovecot's delivery time (seconds since the epoch, from its Maildir file name
/// `<secs>.M<usecs>P…`) of the one message under `maildir`, in the inbox or `Processed`, that
/// contains `needle`. For the latency benches.
pub fn delivered_at(maildir: &Path, needle: &str) -> f64 {
    for folder in [maildir.to_path_buf(), maildir.join(".Processed")] {
        for sub in ["cur", "new"] {
            let Ok(dir) = std::fs::read_dir(folder.join(sub)) else { continue };
            for entry in dir.map(Result::unwrap) {
                let bytes = std::fs::read(entry.path()).unwrap();
                if String::from_utf8_lossy(&bytes).contains(needle) {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let (secs, rest) = name.split_once(".M").expect("Dovecot maildir name");
                    let usecs: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    return secs.parse::<f64>().unwrap() + usecs.parse::<f64>().unwrap() / 1e6;
                }
            }
        }
    }
    panic!("{needle} not found under {}", maildir.display());
}

/// The Maildir of `address` on the loopback servers rooted at `root`.
pub fn maildir_of(root: &Path, address: &str) -> PathBuf {
    let (local, domain) = address.split_once('@').unwrap();
    root.join("mail").join(domain).join(local).join("Maildir")
}
