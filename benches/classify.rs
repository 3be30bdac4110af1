//! Classification throughput, single thread: every labelled fixture and every message of
//! `../shared/corpus` (when present), parsed once, then classified round after round for about
//! two seconds. Prints messages per second for classification alone and for parse + classify.
//!
//! `cargo bench --bench classify` (release; the target is ≥ 5,000 messages/s per core), or
//! `cargo bench --bench classify --profile dev` for a quick, slower reading.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use medrec::core::classify;

fn eml_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            eml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(p);
        }
    }
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    eml_files(&manifest.join("tests/fixtures/replies"), &mut files);
    let fixtures = files.len();
    eml_files(&manifest.join("../shared/corpus"), &mut files);
    let raws: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    let mails: Vec<_> = raws.iter().map(|r| medrec::mail::parse::parse(r)).collect();
    println!("{} messages ({fixtures} fixtures, {} corpus)", mails.len(), mails.len() - fixtures);

    let budget = Duration::from_secs(2);
    let (mut n, start) = (0usize, Instant::now());
    let mut kinds = 0usize;
    while start.elapsed() < budget {
        for m in &mails {
            kinds += classify::classify(m).kind as usize;
            n += 1;
        }
    }
    let classify_only = rate(n, start.elapsed());

    let (mut n2, start) = (0usize, Instant::now());
    while start.elapsed() < budget {
        for r in &raws {
            kinds += classify::classify(&medrec::mail::parse::parse(r)).kind as usize;
            n2 += 1;
        }
    }
    let with_parse = rate(n2, start.elapsed());
    std::hint::black_box(kinds);
    let profile = if cfg!(debug_assertions) { "dev (unoptimised)" } else { "release" };
    println!("classify:         {classify_only:>10.0} messages/s ({n} in one thread, {profile})");
    println!("parse + classify: {with_parse:>10.0} messages/s ({n2} in one thread, {profile})");
}
