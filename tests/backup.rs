//! `medrec backup` and `medrec restore` with the real binary on the embedded default: a backup
//! taken while the daemon is busy creating requests restores elsewhere with every request and
//! document intact; restore refuses a running daemon, an existing database without `--force`,
//! and a tampered backup; backup refuses to write over an existing backup folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::Embedded;
use medrec::core::reference::Reference;
use medrec::store::backup::inspect;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
/// Requests dropped into the inbox, one every 50 ms, while the backup runs.
const REQUESTS: usize = 12;

/// A patient name of its own for each request (the same patient twice would need NEW CONFIRM).
fn patient(i: usize) -> String {
    let (first, last) = (["Maria", "John", "Ana", "Lee"], ["Sample", "Example", "Testcase"]);
    format!("{} {}", first[i % 4], last[i / 4])
}

fn new_request(i: usize) -> Vec<u8> {
    let provider = if i.is_multiple_of(2) { "Bluegrass Regional Hospital" } else { "Central Kentucky Orthopedics" };
    let form = format!(
        "NEW\nPatient: {}\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane\n    Lexington, KY 40507\n\
         Provider: {provider}\nRecords: medical, billing\nFrom: 01/15/2026\nAttorney: J. Denham\n",
        patient(i)
    );
    // A different authorization each time, so each request keeps a document of its own.
    let pdf = common::text_pdf(&[&["AUTHORIZATION FOR RELEASE OF HEALTH INFORMATION - SIGNED", &format!("form {i}")]]);
    common::message_with_attachment(STAFF, BOT, "NEW", &format!("<new-{i}@denhamlaw.example>"), &form, "auth.pdf", &pdf)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn sha256(path: &Path) -> String {
    medrec::mail::files::sha256_hex(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The one backup folder under `dir`.
fn backup_folder(dir: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

/// Runs `medrec backup DIR`; returns the folder it made and what it printed.
fn backup(e: &Embedded, dir: &Path) -> (PathBuf, String) {
    let out = e.medrec(&["backup", &dir.display().to_string()]);
    assert!(out.status.success(), "backup failed: {}", text(&out));
    let folder = backup_folder(dir);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(summary.contains(&format!("Backup written to {}", folder.display())), "{summary}");
    (folder, summary)
}

#[tokio::test]
async fn a_backup_taken_while_requests_arrive_restores_elsewhere_complete() {
    let a = Embedded::new(true);
    let daemon = a.start();
    let root = a.root().to_path_buf();
    let arriving = std::thread::spawn(move || {
        for i in 0..REQUESTS {
            common::drop_mail(&root, &format!("{i}.new"), &new_request(i));
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    a.outbox_files(1); // the first request is done; the daemon is busy with the next ones.
    let backups = a.root().join("backups");
    let (folder, summary) = backup(&a, &backups);
    arriving.join().unwrap();
    a.outbox_files(REQUESTS + REQUESTS / 2); // all done: half emailed (2 messages), half faxed (1).
    assert!(daemon.stop().success());
    assert!(!summary.contains("warning"), "every document the snapshot references was copied: {summary}");

    let snapshot = inspect(&folder.join("medrec.sqlite")).await.unwrap();
    assert!(snapshot.is_intact(), "{:?}", snapshot.integrity);
    assert!(snapshot.requests >= 1, "the snapshot was taken after the first request");
    eprintln!("the backup holds {} of the {REQUESTS} requests", snapshot.requests);
    let mode = |p: &Path| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("medrec.sqlite")), 0o600);
    assert_eq!(mode(&folder.join("MANIFEST")), 0o600);

    // Restored into a fresh install elsewhere: the document paths follow the documents folder.
    let b = Embedded::new(false);
    let out = b.medrec(&["restore", &folder.display().to_string()]);
    assert!(out.status.success(), "restore failed: {}", text(&out));
    assert!(text(&out).contains("systemctl start medrec"), "{}", text(&out));
    for i in 0..REQUESTS {
        assert!(!text(&out).contains(&patient(i)) && !summary.contains(&patient(i)), "patient data in the output");
    }
    let db = b.root().join("var/medrec.db");
    let restored = inspect(&db).await.unwrap();
    assert!(restored.is_intact());
    assert_eq!(restored.requests, snapshot.requests);
    assert_eq!(restored.documents.len(), snapshot.documents.len());
    assert!(!restored.documents.is_empty(), "each request has its authorization at least");
    let (docs_a, docs_b) = (a.root().join("var/documents"), b.root().join("var/documents"));
    for (before, after) in snapshot.documents.iter().zip(&restored.documents) {
        let relative = Path::new(&before.path).strip_prefix(&docs_a).unwrap();
        assert_eq!(Path::new(&after.path), docs_b.join(relative));
        assert_eq!(sha256(Path::new(&after.path)), before.sha256, "{}", after.path);
        assert_eq!(sha256(&docs_a.join(relative)), before.sha256);
    }
    let store = medrec::store::Store::open(&db).await.unwrap();
    for n in 0..snapshot.requests {
        assert!(store.request_detail(Reference(1001 + n)).await.unwrap().is_some(), "MR-{} missing", 1001 + n);
    }
    store.close().await;

    // The restored install runs; restore refuses while it does, even with --force.
    let daemon = b.start();
    let due = b.medrec(&["due"]);
    assert!(due.status.success(), "{}", text(&due));
    let refused = b.medrec(&["restore", "--force", &folder.display().to_string()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("stop the daemon first"), "{}", text(&refused));
    assert!(daemon.stop().success());

    // Stopped: without --force an existing database is refused and left alone; with it, moved aside.
    let before = sha256(&db);
    let refused = b.medrec(&["restore", &folder.display().to_string()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("--force") && text(&refused).contains("nothing was changed"), "{}", text(&refused));
    assert_eq!(sha256(&db), before);
    let out = b.medrec(&["restore", "--force", &folder.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    let names: Vec<String> = std::fs::read_dir(b.root().join("var"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("medrec.db.before-restore-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("documents.before-restore-")), "{names:?}");
    assert!(inspect(&db).await.unwrap().is_intact());
}

/// An install with a database and one document, no daemon needed.
fn small_install() -> Embedded {
    let e = Embedded::new(true);
    let dir = e.root().join("var/documents/MR-1001");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("records.pdf"), common::authorization_pdf()).unwrap();
    e
}

#[test]
fn restore_refuses_a_tampered_backup_and_names_the_file() {
    let a = small_install();
    let (folder, _) = backup(&a, &a.root().join("backups"));
    let document = folder.join("documents/MR-1001/records.pdf");
    let mut bytes = std::fs::read(&document).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&document, bytes).unwrap();

    let b = Embedded::new(false);
    let out = b.medrec(&["restore", &folder.display().to_string()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("documents/MR-1001/records.pdf does not match its MANIFEST"), "{}", text(&out));
    assert!(!b.root().join("var").exists(), "nothing restored");
}

#[test]
fn restore_refuses_a_folder_without_a_manifest() {
    let a = small_install();
    let b = Embedded::new(false);
    let out = b.medrec(&["restore", &a.root().join("var").display().to_string()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no readable MANIFEST"), "{}", text(&out));
}

#[test]
fn backup_never_writes_over_an_existing_backup_folder() {
    let a = small_install();
    let backups = a.root().join("backups");
    // Every name the backup could pick in the next minute is taken already.
    let now = medrec::daemon::clock::now();
    for s in 0..60 {
        let at = now + chrono::TimeDelta::seconds(s);
        std::fs::create_dir_all(backups.join(format!("medrec-backup-{}", at.format("%Y%m%dT%H%M%SZ")))).unwrap();
    }
    let out = a.medrec(&["backup", &backups.display().to_string()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already exists; a backup never writes over another"), "{}", text(&out));
    let written = std::fs::read_dir(&backups).unwrap().filter(|e| e.as_ref().unwrap().path().join("MANIFEST").exists());
    assert_eq!(written.count(), 0);
}
