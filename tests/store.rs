//! The store against real SQLite files: messages are recognised again by place, by Message-ID
//! (also after a UIDVALIDITY change) and by their bytes; an answer is queued in the same
//! transaction as the message it answers; outbox attempts are recorded before they are made; a
//! database from before migration 0004 keeps its outbox when the table is rebuilt.

use chrono::{DateTime, Duration, Utc};
use medrec::store::{Effect, Ingested, NewInbound, NewOutgoing, Place, Store};

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
}

fn inbound<'a>(place: Place, message_id: Option<&'a str>, sha: &'a str, raw: &'a [u8]) -> NewInbound<'a> {
    NewInbound {
        place,
        message_id,
        sha256: sha,
        from: Some("paralegal@denhamlaw.example"),
        subject: "HELP",
        in_reply_to: None,
        status: "answered",
        status_note: None,
        raw,
    }
}

fn imap(uidvalidity: i64, uid: i64) -> Place {
    Place { mailbox: "imap:bot@host:993/INBOX".into(), uidvalidity: Some(uidvalidity), uid: Some(uid) }
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db/medrec.db")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn messages_are_recognised_by_place_id_and_bytes() {
    let (_dir, store) = store().await;
    let first = store.ingest(&inbound(imap(7, 1), Some("<a@x>"), "h1", b"a"), &Effect::Nothing, at(0)).await.unwrap();
    assert!(matches!(first, Ingested::New { .. }));
    assert!(store.seen_place(&imap(7, 1)).await.unwrap());
    assert!(!store.seen_place(&imap(8, 1)).await.unwrap());
    // Same Message-ID after the server renumbered the folder (new UIDVALIDITY).
    let renumbered =
        store.ingest(&inbound(imap(8, 1), Some("<a@x>"), "h1", b"a"), &Effect::Nothing, at(1)).await.unwrap();
    assert_eq!(renumbered, Ingested::Duplicate);
    // No Message-ID: the bytes decide.
    let maildir = Place { mailbox: "maildir:/m".into(), uidvalidity: None, uid: None };
    let once = store.ingest(&inbound(maildir.clone(), None, "h2", b"b"), &Effect::Nothing, at(2)).await.unwrap();
    assert!(matches!(once, Ingested::New { .. }));
    let twice = store.ingest(&inbound(maildir.clone(), None, "h2", b"b"), &Effect::Nothing, at(3)).await.unwrap();
    assert_eq!(twice, Ingested::Duplicate);
    let other = store.ingest(&inbound(maildir, None, "h3", b"c"), &Effect::Nothing, at(4)).await.unwrap();
    assert!(matches!(other, Ingested::New { .. }));
    assert_eq!(store.counts().await.unwrap(), (3, 0, 0));
}

#[tokio::test]
async fn an_answer_is_queued_with_its_message_and_retried_until_sent() {
    let (dir, store) = store().await;
    let recipients = vec!["paralegal@denhamlaw.example".to_string()];
    let answer = NewOutgoing {
        message_id: "<medrec.t@denhamlaw.example>",
        envelope_from: "records@denhamlaw.example",
        recipients: &recipients,
        subject: "Re: HELP",
        in_reply_to: Some("<a@x>"),
        raw: b"answer",
    };
    store
        .ingest(&inbound(imap(7, 1), Some("<a@x>"), "h1", b"a"), &Effect::Answer(answer.clone()), at(0))
        .await
        .unwrap();
    // A duplicate queues nothing more.
    store
        .ingest(&inbound(imap(7, 1), Some("<a@x>"), "h1", b"a"), &Effect::Answer(answer.clone()), at(1))
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap(), (1, 1, 0));

    let due = store.due_emails(at(0), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].recipients, recipients);
    assert_eq!(due[0].raw, b"answer");
    // The attempt and its retry time are written first: a crash now leaves it due at +30 s.
    assert!(store.begin_attempt(due[0].outbox_id, at(30), at(0)).await.unwrap());
    assert!(store.due_emails(at(10), 10).await.unwrap().is_empty());
    assert_eq!(store.next_outbox_due().await.unwrap(), Some(at(30)));
    store.mark_retry(due[0].outbox_id, "421 try later").await.unwrap();
    let again = store.due_emails(at(30) + Duration::seconds(1), 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    store.mark_sent(again[0].outbox_id, at(31)).await.unwrap();
    assert_eq!(store.counts().await.unwrap(), (1, 0, 1));
    assert_eq!(store.next_outbox_due().await.unwrap(), None);

    // Reopening the file finds everything (and runs no migration twice).
    store.close().await;
    let reopened = Store::open(&dir.path().join("db/medrec.db")).await.unwrap();
    assert_eq!(reopened.counts().await.unwrap(), (1, 0, 1));
    assert_eq!(reopened.inbound_status("<a@x>").await.unwrap(), Some(("answered".into(), None)));
}

#[tokio::test]
async fn uidvalidity_changes_are_noticed() {
    let (_dir, store) = store().await;
    assert_eq!(store.note_uidvalidity("imap:x", 7, at(0)).await.unwrap(), None);
    assert_eq!(store.note_uidvalidity("imap:x", 7, at(1)).await.unwrap(), Some(7));
    assert_eq!(store.note_uidvalidity("imap:x", 9, at(2)).await.unwrap(), Some(7));
}

#[tokio::test]
async fn regression_confirmations_and_notices_do_not_count_against_the_loop_guard() {
    let (_dir, store) = store().await;
    let staff = vec!["paralegal@denhamlaw.example".to_string()];
    let mail = |id: &'static str| NewOutgoing {
        message_id: id,
        envelope_from: "records@denhamlaw.example",
        recipients: &staff,
        subject: "x",
        in_reply_to: None,
        raw: b"x",
    };
    store.queue_notice(&mail("<n1@denhamlaw.example>"), None, at(0)).await.unwrap();
    store.queue_notice(&mail("<n2@denhamlaw.example>"), None, at(0)).await.unwrap();
    assert_eq!(store.answers_to_since("paralegal@denhamlaw.example", at(-60)).await.unwrap(), 0);
    store
        .ingest(&inbound(imap(7, 1), Some("<a@x>"), "h1", b"a"), &Effect::Answer(mail("<a1@denhamlaw.example>")), at(0))
        .await
        .unwrap();
    assert_eq!(store.answers_to_since("paralegal@denhamlaw.example", at(-60)).await.unwrap(), 1);
}

#[tokio::test]
async fn providers_are_added_updated_or_left_unchanged_by_name_and_city() {
    use medrec::core::provider::{Method, ProviderEntry};
    use medrec::store::Upserted;
    let (_dir, store) = store().await;
    let mut e = ProviderEntry {
        name: "Bluegrass Regional Hospital".into(),
        department: None,
        street: Some("1 Example Way".into()),
        city: Some("Lexington".into()),
        state: Some("KY".into()),
        zip: None,
        phone: None,
        fax: Some("+18595550111".into()),
        email: None,
        preferred_method: Method::Fax,
        notes: None,
    };
    let Upserted::Created(id) = store.upsert_provider(&e, at(0)).await.unwrap() else { panic!("not created") };
    assert_eq!(store.upsert_provider(&e, at(1)).await.unwrap(), Upserted::Unchanged(id));
    // Same facility written differently: the same entry, updated.
    e.name = "BLUEGRASS regional hospital".into();
    e.fax = Some("+18595550199".into());
    assert_eq!(store.upsert_provider(&e, at(2)).await.unwrap(), Upserted::Updated(id));
    assert_eq!(store.provider(id).await.unwrap().unwrap().entry.fax.as_deref(), Some("+18595550199"));
    // Another city is another entry.
    e.city = Some("Louisville".into());
    assert!(matches!(store.upsert_provider(&e, at(3)).await.unwrap(), Upserted::Created(other) if other != id));
    assert_eq!(store.providers().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_schema_3_database_keeps_its_outbox_through_the_withdrawn_state_migration() {
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("medrec.db");
    // A database as the release before migration 0004 left it, with one entry of each kind.
    let options = SqliteConnectOptions::from_str("sqlite:").unwrap().filename(&path).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before.migrations.iter().filter(|m| m.version <= 3).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO outbox (channel, purpose, recipients, state, attempts, next_attempt_at, last_error, gateway_id,
             fax_status, created_at, sent_at, step)
         VALUES ('fax', 'notice', '+18595550100', 'sent', 2, '2026-01-02T00:00:00Z', NULL, 'g-1', 'delivered',
                 '2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z', 'follow_up/1/fax/+18595550100'),
                ('email', 'answer', 'a@x.example', 'pending', 1, '2026-01-03T00:00:00Z', '421 later', NULL, NULL,
                 '2026-01-01T00:00:00Z', NULL, NULL),
                ('email', 'answer', 'b@x.example', 'failed', 5, '2026-01-04T00:00:00Z', '550 no', NULL, NULL,
                 '2026-01-01T00:00:00Z', NULL, NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.next_outbox_due().await.unwrap(), Some("2026-01-03T00:00:00Z".parse().unwrap()));
    store.close().await;

    let pool = sqlx::SqlitePool::connect_with(SqliteConnectOptions::from_str("sqlite:").unwrap().filename(&path))
        .await
        .unwrap();
    // Every column of each row, in one line: "-" for NULL.
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT channel || ' ' || purpose || ' ' || recipients || ' ' || state || ' ' || attempts || ' '
             || next_attempt_at || ' ' || coalesce(last_error, '-') || ' ' || coalesce(gateway_id, '-') || ' '
             || coalesce(fax_status, '-') || ' ' || created_at || ' ' || coalesce(sent_at, '-') || ' '
             || coalesce(step, '-') || ' ' || coalesce(attempt_started_at, '-')
         FROM outbox ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            "fax notice +18595550100 sent 2 2026-01-02T00:00:00Z - g-1 delivered 2026-01-01T00:00:00Z \
             2026-01-01T00:05:00Z follow_up/1/fax/+18595550100 -",
            "email answer a@x.example pending 1 2026-01-03T00:00:00Z 421 later - - 2026-01-01T00:00:00Z - - -",
            "email answer b@x.example failed 5 2026-01-04T00:00:00Z 550 no - - 2026-01-01T00:00:00Z - - -",
        ]
    );
    // The rebuilt table takes the new state, and still refuses one it does not know.
    sqlx::query("UPDATE outbox SET state = 'withdrawn' WHERE id = 2").execute(&pool).await.unwrap();
    assert!(sqlx::query("UPDATE outbox SET state = 'lost' WHERE id = 2").execute(&pool).await.is_err());
    let unique =
        sqlx::query("UPDATE outbox SET step = 'follow_up/1/fax/+18595550100' WHERE id = 3").execute(&pool).await;
    assert!(unique.is_err(), "the step index is unique again");
}
