//! The daemon's own intake, store, senders and scheduler, driven one step at a time on the
//! embedded default (no daemon process): a test holds the outbox or the schedule exactly where
//! its case needs them, then runs the senders and reads what left.

use std::sync::Arc;

use chrono::Duration;
use medrec::core::inbound::InboundMail;
use medrec::core::reference::Reference;
use medrec::daemon::intake::Intake;
use medrec::fax::FaxGateway;
use medrec::mail::send::Sender;
use medrec::store::{Place, Store};
use tokio_util::sync::CancellationToken;

use super::Embedded;

pub const STAFF: &str = "paralegal@denhamlaw.example";
pub const BOT: &str = "records@denhamlaw.example";
pub const BLUEGRASS: &str = "roi@bluegrass-regional.example";

pub struct Desk {
    pub e: Embedded,
    pub intake: Intake,
    pub store: Store,
    pub sender: Sender,
    pub gateway: FaxGateway,
    taken: u32,
}

impl Desk {
    pub async fn new() -> Desk {
        let e = Embedded::new(true);
        let settings = medrec::config::load(&e.config).unwrap();
        let store = Store::open(&settings.database).await.unwrap();
        let sender = Sender::new(&settings.outgoing.transport).unwrap();
        let gateway = FaxGateway::new(&settings.fax).unwrap();
        let intake = Intake::new(
            store.clone(),
            Arc::new(settings),
            Arc::new(tokio::sync::Notify::new()),
            medrec::daemon::clock::Clock::system(),
        )
        .unwrap();
        Desk { e, intake, store, sender, gateway, taken: 0 }
    }

    pub async fn take(&mut self, raw: Vec<u8>) {
        self.taken += 1;
        let place = Place { mailbox: "test".into(), uidvalidity: Some(1), uid: Some(self.taken.into()) };
        self.intake.take(place, &raw).await.unwrap();
    }

    /// A NEW for `provider`; its package is queued, and nothing is sent.
    pub async fn new_request(&mut self, provider: &str) {
        let form = format!(
            "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY \
             40507\nProvider: {provider}\nRecords: medical\nFrom: 01/15/2026\n"
        );
        let pdf = super::authorization_pdf();
        let raw = super::message_with_attachment(STAFF, BOT, "NEW", "<new@denhamlaw.example>", &form, "auth.pdf", &pdf);
        self.take(raw).await;
        assert_eq!(self.state().await, "submitting");
    }

    /// A staff message whose first line is `text`, with Message-ID `id`.
    pub async fn command(&mut self, text: &str, id: &str) {
        self.take(super::message(STAFF, BOT, "Re: [MR-1001]", id, &format!("{text}\n"), &[])).await;
    }

    pub async fn state(&self) -> String {
        self.store.request_detail(Reference(1001)).await.unwrap().unwrap().state
    }

    /// Runs both senders once over everything due; returns the emails that left.
    pub async fn send_all(&self) -> Vec<InboundMail> {
        let stop = CancellationToken::new();
        medrec::daemon::deliver::send_due(&self.intake, &self.sender, &stop).await.unwrap();
        medrec::daemon::fax::send_due(&self.intake, &self.gateway, &stop).await.unwrap();
        let dir = self.e.root().join("var/mail/outbox");
        let mut files: Vec<_> =
            std::fs::read_dir(dir).map(|d| d.map(|f| f.unwrap().path()).collect()).unwrap_or_default();
        files.sort();
        files.iter().map(|f| medrec::mail::parse::parse(&std::fs::read(f).unwrap())).collect()
    }

    /// The PDFs the fax stand-in was given.
    pub fn faxes(&self) -> Vec<String> {
        let dir = self.e.root().join("var/fax/outbox");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| d.map(|f| f.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.retain(|n| n.ends_with(".pdf"));
        names
    }

    /// Outbox entries of `channel` in `state`.
    pub async fn count(&self, channel: &str, state: &str) -> i64 {
        let sends = self.store.figures().await.unwrap().sends;
        sends.iter().find(|(labels, _)| labels[..] == [channel, state]).map_or(0, |(_, n)| *n)
    }

    /// The package's outbox entry, taken by a sender (as if it were being handed over now).
    pub async fn take_package_for_sending(&self, channel: &str) -> i64 {
        let now = medrec::daemon::clock::now();
        let id = match channel {
            "email" => {
                let due = self.store.due_emails(now, 10).await.unwrap();
                due.iter().find(|m| m.recipients.iter().any(|r| r == BLUEGRASS)).expect("the package is due").outbox_id
            }
            _ => self.store.due_faxes(now, 10).await.unwrap().pop().expect("the package fax is due").outbox_id,
        };
        assert!(self.store.begin_attempt(id, now - Duration::seconds(1), now).await.unwrap());
        id
    }
}

/// The answer to the message `id` among `mails`.
pub fn answer_to<'a>(mails: &'a [InboundMail], id: &str) -> &'a InboundMail {
    mails.iter().find(|m| m.in_reply_to.as_deref() == Some(id)).unwrap_or_else(|| panic!("no answer to {id}"))
}
