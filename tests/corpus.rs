//! Real-world mail from `../shared/corpus` through intake: nothing panics, everything is
//! stored, and no automatic mail (bounces, auto-replies, reports) is ever answered.

mod common;

use std::sync::Arc;

use medrec::core::authentication::SenderTrust;
use medrec::daemon::intake::Intake;
use medrec::store::{Ingested, Place, Store};

/// Intake on the shipped embedded default, with a fresh database in `dir`.
async fn intake(dir: &std::path::Path) -> Intake {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/medrec.toml");
    let mut settings = medrec::config::load(&config).expect("shipped config");
    settings.documents = dir.join("documents");
    let store = Store::open(&dir.join("medrec.db")).await.expect("store");
    let mut intake = Intake::new(
        store,
        Arc::new(settings),
        Arc::new(tokio::sync::Notify::new()),
        medrec::daemon::clock::Clock::system(),
    )
    .expect("intake");
    intake.policy.trust = SenderTrust::Unverified;
    intake
}

#[tokio::test]
async fn every_mime_oddity_is_stored_without_a_panic() {
    let Some(files) = common::corpus_files("mime-oddities") else { return };
    assert!(files.len() >= 31, "expected the 31 mime-oddities, found {}", files.len());
    let dir = tempfile::tempdir().unwrap();
    let intake = intake(dir.path()).await;
    let (mut stored, mut duplicates) = (0i64, 0usize);
    for (i, file) in files.iter().enumerate() {
        let raw = std::fs::read(file).unwrap();
        let place = Place { mailbox: "corpus".into(), uidvalidity: Some(1), uid: Some(i as i64 + 1) };
        match intake.take(place, &raw).await.unwrap_or_else(|e| panic!("{}: {e:#}", file.display())) {
            Ingested::New { .. } => stored += 1,
            // Two fixtures may legitimately share a Message-ID; they are recognised, not lost.
            Ingested::Duplicate => {
                eprintln!("{} recognised as a duplicate", file.display());
                duplicates += 1;
            }
            Ingested::Stale => panic!("{}: take() plans again until the request holds still", file.display()),
        }
    }
    let (inbound, _, _) = intake.store.counts().await.unwrap();
    assert_eq!(inbound, stored);
    assert_eq!(stored as usize + duplicates, files.len());
    // Only byte-identical fixtures (malformed/009 and 011 are) may be recognised as repeats.
    let distinct: std::collections::HashSet<_> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(stored as usize, distinct.len(), "every distinct message is stored");
}

#[tokio::test]
async fn bounces_and_auto_replies_are_never_answered() {
    let (Some(bounces), Some(not_bounces)) = (common::corpus_files("bounces"), common::corpus_files("not-bounces"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut intake = intake(dir.path()).await;
    let mut automatic = 0;
    for file in bounces.iter().chain(&not_bounces) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let raw = std::fs::read(file).unwrap();
        let mail = medrec::mail::parse::parse(&raw);
        // Make the sender staff, so only the automatic-mail rules stand between it and an answer.
        intake.policy.staff = mail.from.clone().into_iter().collect();
        let is_person = name.starts_with("is-not-bounce");
        let detected = medrec::core::automatic::detect(&mail);
        assert_eq!(detected.is_none(), is_person, "{name}: detected {detected:?}");
        if !is_person {
            automatic += 1;
            let place = Place { mailbox: "corpus".into(), uidvalidity: None, uid: None };
            intake.take(place, &raw).await.unwrap();
        }
    }
    assert_eq!(automatic, bounces.len() + not_bounces.len() - 2);
    let (_, pending, sent) = intake.store.counts().await.unwrap();
    assert_eq!((pending, sent), (0, 0), "an automatic message was answered");
}

#[test]
fn every_real_bounce_reads_as_a_failure_and_the_look_alikes_do_not() {
    let (Some(bounces), Some(not_bounces)) = (common::corpus_files("bounces"), common::corpus_files("not-bounces"))
    else {
        return;
    };
    use medrec::core::bounce::{self, Delivery};
    let read = |file: &std::path::Path| {
        let raw = std::fs::read(file).unwrap();
        bounce::read(&medrec::mail::parse::parse(&raw), &String::from_utf8_lossy(&raw))
    };
    let mut missed = Vec::new();
    for file in &bounces {
        match read(file) {
            Some(r) if r.delivery == Delivery::Failed => {}
            other => missed.push(format!("{}: {other:?}", file.file_name().unwrap().to_string_lossy())),
        }
    }
    assert!(
        missed.is_empty(),
        "{} of {} bounces not read as failures:\n{}",
        missed.len(),
        bounces.len(),
        missed.join("\n")
    );
    for file in &not_bounces {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let got = read(file);
        let ok = match name.as_str() {
            "lhost-zoho-04.eml" => got.as_ref().is_some_and(|r| r.delivery == Delivery::Delayed),
            _ => got.is_none(),
        };
        assert!(ok, "{name}: {got:?}");
    }
}
