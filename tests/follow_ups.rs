//! Follow-ups, reminders and the digest on the embedded default, with the daemon run in this
//! process on a clock the test moves forward: day 14 sends one fax and one email to the
//! provider, day 30 adds the owner's notice, restarts and repeated sweeps send nothing twice, a
//! hold pauses follow-ups and reminds approvers instead, records stop everything, and each staff
//! member's digest lists their own requests.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use common::Embedded;
use medrec::core::inbound::InboundMail;
use medrec::core::reference::Reference;
use medrec::daemon::clock::Clock;
use medrec::store::Store;
use tokio_util::sync::CancellationToken;

const STAFF: &str = "paralegal@denhamlaw.example";
const ATTORNEY: &str = "attorney@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const BLUEGRASS: &str = "roi@bluegrass-regional.example";

/// Monday 2026-10-05 10:00 in New York: the request goes out then.
fn monday_morning() -> DateTime<Utc> {
    "2026-10-05T14:00:00Z".parse().unwrap()
}

/// The embedded default with the daemon running in this process on a test clock.
struct Office {
    e: Embedded,
    clock: Clock,
    running: Option<(CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    dropped: usize,
}

impl Office {
    fn new(at: DateTime<Utc>) -> Office {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let clock = Clock::system();
        clock.set(at);
        let e = Embedded::new(true);
        // A second staff member, who also approves invoices.
        let mut config = std::fs::read_to_string(&e.config).unwrap();
        config.push_str(&format!(
            "\n[[staff]]\naddress = \"{ATTORNEY}\"\nname = \"Demo Attorney\"\ntitle = \"Attorney\"\n"
        ));
        std::fs::write(&e.config, config).unwrap();
        // The inbox is there before the daemon runs, so mail can be dropped at once.
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(e.root().join("var/mail/inbox").join(sub)).unwrap();
        }
        let mut office = Office { e, clock, running: None, dropped: 0 };
        office.start();
        office
    }

    fn start(&mut self) {
        let settings = medrec::config::load(&self.e.config).unwrap();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(medrec::daemon::run_with_clock(settings, cancel.clone(), self.clock.clone()));
        self.running = Some((cancel, task));
    }

    async fn stop(&mut self) {
        let (cancel, task) = self.running.take().expect("running");
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    fn drop_mail(&mut self, raw: Vec<u8>) {
        self.dropped += 1;
        self.e.drop_mail(&format!("{}.eml", self.dropped), &raw);
    }

    /// A NEW from `owner` for Bluegrass (fax and email known; the package goes by email).
    fn new_request(&mut self, owner: &str, patient: &str) {
        let form = format!(
            "NEW\nPatient: {patient}\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY \
             40507\nProvider: Bluegrass Regional Hospital\nRecords: medical\nFrom: 01/15/2026\n"
        );
        let id = format!("<new-{}@denhamlaw.example>", self.dropped);
        let pdf = common::authorization_pdf();
        self.drop_mail(common::message_with_attachment(owner, BOT, "NEW", &id, &form, "authorization.pdf", &pdf));
    }

    async fn store(&self) -> Store {
        Store::open(&self.e.root().join("var/medrec.db")).await.unwrap()
    }

    async fn state(&self, reference: i64) -> String {
        let store = self.store().await;
        let state = store.request_detail(Reference(reference)).await.unwrap().unwrap().state;
        store.close().await;
        state
    }

    /// Waits until request `reference` is in `state`.
    async fn wait_state(&self, reference: i64, state: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.state(reference).await != state {
            assert!(Instant::now() < deadline, "MR-{reference} never became {state}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every outgoing email so far that satisfies `want`.
    fn sent(&self, want: impl Fn(&InboundMail) -> bool) -> Vec<InboundMail> {
        let dir = self.e.root().join("var/mail/outbox");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().map(|f| medrec::mail::parse::parse(&std::fs::read(f).unwrap())).filter(|m| want(m)).collect()
    }

    /// Waits until `n` outgoing emails satisfy `want`, and returns them.
    async fn wait_sent(&self, n: usize, want: impl Fn(&InboundMail) -> bool) -> Vec<InboundMail> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = self.sent(&want);
            if found.len() >= n {
                return found;
            }
            assert!(Instant::now() < deadline, "{n} emails expected, found {}", found.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The faxes written so far.
    fn faxes(&self) -> Vec<PathBuf> {
        let dir = self.e.root().join("var/fax/outbox");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "pdf")).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    async fn wait_faxes(&self, n: usize) -> Vec<PathBuf> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = self.faxes();
            if found.len() >= n {
                return found;
            }
            assert!(Instant::now() < deadline, "{n} faxes expected, found {}", found.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The keys of the steps done on `reference`, and the activity log's follow-up lines.
    async fn log(&self, reference: i64, kind: &str) -> Vec<String> {
        let store = self.store().await;
        let events = store.events(Reference(reference)).await.unwrap();
        store.close().await;
        events.into_iter().filter(|(_, k, _, _)| k == kind).map(|(_, _, _, d)| d).collect()
    }

    /// Runs one sweep in this process, as the daemon's scheduler does.
    async fn sweep(&self) -> usize {
        let settings = Arc::new(medrec::config::load(&self.e.config).unwrap());
        let store = self.store().await;
        let intake = medrec::daemon::intake::Intake::new(
            store.clone(),
            settings,
            Arc::new(tokio::sync::Notify::new()),
            self.clock.clone(),
        )
        .unwrap();
        let done = medrec::daemon::schedule::sweep(&intake, &CancellationToken::new()).await.unwrap();
        store.close().await;
        done
    }
}

fn to(address: &str) -> impl Fn(&InboundMail) -> bool + '_ {
    move |m| m.header("To").is_some_and(|t| t.contains(address))
}

fn follow_up_to(address: &str) -> impl Fn(&InboundMail) -> bool + '_ {
    move |m| to(address)(m) && m.subject.contains("Follow-up")
}

#[tokio::test(flavor = "multi_thread")]
async fn day_14_follows_up_by_fax_and_email_once_and_day_30_tells_the_owner() {
    let mut office = Office::new(monday_morning());
    office.new_request(STAFF, "Maria Sample");
    let package = office.wait_sent(1, to(BLUEGRASS)).await.remove(0);
    office.wait_state(1001, "submitted").await;
    office.stop().await;

    // Day 14 (Monday October 19, 10:00). Two sweeps at once, as after a crash and a restart
    // racing: one follow-up by fax and one by email, queued once.
    office.clock.advance(TimeDelta::days(14));
    let (a, b) = tokio::join!(office.sweep(), office.sweep());
    assert_eq!(a + b, 1, "the day-14 step is done exactly once");
    assert_eq!(office.sweep().await, 0, "a third sweep finds nothing due");
    office.start();
    let emails = office.wait_sent(1, follow_up_to(BLUEGRASS)).await;
    let faxes = office.wait_faxes(1).await;
    assert_eq!((emails.len(), faxes.len()), (1, 1));
    let email = &emails[0];
    assert_eq!(email.in_reply_to, package.message_id, "threaded to the original package");
    assert!(email.subject.contains("please confirm receipt"), "{}", email.subject);
    assert!(email.text.contains("On October 5, 2026 we sent you a request"), "{}", email.text);
    let names: Vec<&str> = email.attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names.len(), 2, "follow-up letter and the original package: {names:?}");
    assert!(names[0].contains("follow-up-1") && names[1].contains("MR-1001-request"), "{names:?}");
    let fax_text = common::pdf_text(&std::fs::read(&faxes[0]).unwrap());
    for expected in ["Follow-up: please confirm receipt", "MR-1001", "October 5, 2026", "signed authorization"] {
        assert!(fax_text.contains(expected), "{expected} missing from the fax:\n{fax_text}");
    }
    let log = office.log(1001, "follow_up").await;
    assert!(log.iter().any(|l| l.contains("by fax to (859) 555-0111")), "{log:?}");
    let by_email = format!("by email to {BLUEGRASS}, Message-ID {}", email.message_id.as_deref().unwrap());
    assert!(log.iter().any(|l| l.contains(&by_email)), "{log:?}");
    assert!(office.sent(to(STAFF)).iter().all(|m| !m.subject.contains("Records due")), "nothing to staff yet");

    // A restart, then day 30 (Wednesday November 4, 10:00 EST after the fall-back): the provider is chased again and the
    // owner is told; nothing of day 14 goes twice.
    office.stop().await;
    office.start();
    office.clock.set("2026-11-04T15:01:00Z".parse().unwrap());
    let emails = office.wait_sent(2, follow_up_to(BLUEGRASS)).await;
    office.wait_faxes(2).await;
    let notice = office.wait_sent(1, |m| to(STAFF)(m) && m.subject.contains("Records due")).await;
    assert!(emails[1].subject.contains("records now due"), "{}", emails[1].subject);
    let words = notice[0].text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("are due: 30 days have passed since the request went out on October 5, 2026"), "{words}");
    assert!(words.contains("by fax to (859) 555-0111 and by email to"), "{words}");
    office.stop().await;
    assert_eq!(office.sent(follow_up_to(BLUEGRASS)).len(), 2);
    assert_eq!(office.faxes().len(), 2);
    assert_eq!(office.sent(|m| m.subject.contains("Records due")).len(), 1);
    // `medrec due` names what comes next.
    let out = office.e.medrec(&["due"]);
    let due = String::from_utf8_lossy(&out.stdout);
    // Follow-up 2 went at 10:01, so follow-up 3 is a full 14 days later.
    assert!(due.contains("Wed 2026-11-18 10:01 EST  MR-1001  follow-up 3"), "{due}");
    assert!(due.contains("Fri 2026-12-04 10:00 EST  MR-1001  escalation to the owner"), "{due}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hold_pauses_follow_ups_and_reminds_instead_until_approved() {
    let mut office = Office::new(monday_morning());
    office.new_request(STAFF, "Maria Sample");
    let package = office.wait_sent(1, to(BLUEGRASS)).await.remove(0);
    office.wait_state(1001, "submitted").await;
    let invoice = common::text_pdf(&[&["INVOICE", "Release of information fee", "Amount due: $450.00"]]);
    let headers = [format!("In-Reply-To: {}", package.message_id.clone().unwrap())];
    let reply = common::message_with_attachment(
        BLUEGRASS,
        BOT,
        "Re: records request",
        "<invoice-1@bluegrass-regional.example>",
        "Please find our invoice attached. Payment is required before release.",
        "invoice.pdf",
        &invoice,
    );
    let reply = [format!("{}\r\n", headers[0]).into_bytes(), reply].concat();
    office.drop_mail(reply);
    office.wait_state(1001, "on_hold").await;

    // Day 14 while on hold: no follow-up; one approval reminder (two business days after the
    // hold), threaded to the approval request so a one-word APPROVE answers it.
    office.clock.advance(TimeDelta::days(14));
    let reminders = office.wait_sent(1, |m| m.subject.contains("Reminder: invoice waiting")).await;
    assert!(reminders[0].text.contains("$450.00"), "{}", reminders[0].text);
    assert_eq!(office.sweep().await, 0);
    assert!(office.sent(follow_up_to(BLUEGRASS)).is_empty(), "follow-ups pause while on hold");
    assert_eq!(office.sent(|m| m.subject.contains("Reminder: invoice waiting")).len(), 1);

    let approve = common::message(
        STAFF,
        BOT,
        "Re: Reminder",
        "<approve-1@denhamlaw.example>",
        "APPROVE\n",
        &[&format!("In-Reply-To: {}", reminders[0].message_id.clone().unwrap())],
    );
    office.drop_mail(approve);
    office.wait_state(1001, "acknowledged").await;
    // A fresh clock: the first follow-up comes 14 days after the approval (Monday November 2,
    // 10:00 EST), not at once.
    assert_eq!(office.sweep().await, 0);
    office.clock.set("2026-11-02T15:05:00Z".parse().unwrap());
    let emails = office.wait_sent(1, follow_up_to(BLUEGRASS)).await;
    assert!(emails[0].subject.contains("please confirm receipt"), "{}", emails[0].subject);
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn records_received_stop_every_follow_up() {
    let mut office = Office::new(monday_morning());
    office.new_request(STAFF, "Maria Sample");
    let package = office.wait_sent(1, to(BLUEGRASS)).await.remove(0);
    office.wait_state(1001, "submitted").await;
    let records = common::text_pdf(&[&["MEDICAL RECORDS", "Patient: Maria Sample", "Progress notes"]]);
    let reply = common::message_with_attachment(
        BLUEGRASS,
        BOT,
        "Re: records request",
        "<records-1@bluegrass-regional.example>",
        "Attached are the complete medical records you requested.",
        "records.pdf",
        &records,
    );
    let reply = [format!("In-Reply-To: {}\r\n", package.message_id.clone().unwrap()).into_bytes(), reply].concat();
    office.drop_mail(reply);
    office.wait_state(1001, "received").await;
    office.stop().await;
    for days in [14, 16, 30] {
        office.clock.advance(TimeDelta::days(days));
        assert_eq!(office.sweep().await, 0, "nothing is due {days} days on");
    }
    assert!(office.sent(follow_up_to(BLUEGRASS)).is_empty());
    assert!(office.sent(|m| m.subject.contains("Decision needed")).is_empty());
    assert!(office.faxes().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn each_staff_member_gets_a_digest_of_their_own_requests() {
    let mut office = Office::new(monday_morning());
    office.new_request(STAFF, "Maria Sample");
    office.new_request(ATTORNEY, "Jordan Example");
    office.wait_sent(2, to(BLUEGRASS)).await;
    office.wait_state(1001, "submitted").await;
    office.wait_state(1002, "submitted").await;
    // Tuesday 07:30: the digests go out.
    office.clock.set("2026-10-06T11:31:00Z".parse().unwrap());
    let mine = office.wait_sent(1, |m| to(STAFF)(m) && m.subject.starts_with("Records requests digest")).await;
    let theirs = office.wait_sent(1, |m| to(ATTORNEY)(m) && m.subject.starts_with("Records requests digest")).await;
    office.stop().await;
    let (mine, theirs) = (&mine[0].text, &theirs[0].text);
    assert!(mine.contains("MR-1001  Maria Sample, Bluegrass Regional Hospital: sent 10/05/2026"), "{mine}");
    assert!(!mine.contains("MR-1002"), "{mine}");
    assert!(theirs.contains("MR-1002  Jordan Example"), "{theirs}");
    assert!(!theirs.contains("MR-1001"), "{theirs}");
    assert!(mine.contains("next: follow-up 10/19/2026"), "{mine}");
    assert!(mine.contains("Went out since"), "{mine}");
    assert!(mine.contains("package sent by email to roi@bluegrass-regional.example"), "{mine}");
}
