//! The scheduler's sweep over 100,000 open requests: `cargo bench --bench sweep` (release).
//!
//! Generates a database in a temp dir (20 providers, 100,000 requests submitted over the last
//! 90 days, one package document each), then measures, in milliseconds:
//! the first planning of every request; a steady-state sweep with nothing changed and nothing
//! due (median, min and max of 20, the clock set back before every due step); a sweep after
//! 1,000 requests changed. Prints the query plans of the sweep's queries, times the slowest on
//! their own, and prints the database size.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use medrec::config::OutgoingTransport;
use medrec::daemon::{clock, intake::Intake, schedule};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tokio_util::sync::CancellationToken;

mod support;
use support::{ms, report};

const REQUESTS: i64 = 100_000;
const SPREAD_SECS: i64 = 90 * 86_400;
const RUNS: usize = 20;

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// 20 providers and `REQUESTS` requests (with a package each) submitted from `base` on, in one transaction.
async fn generate(pool: &SqlitePool, base: DateTime<Utc>) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO providers (name, city, fax, email, preferred_method, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
         SELECT 'Provider ' || i, 'Lexington', printf('+1859555%04d', 100 + i), 'roi' || i || '@provider.example',
                CASE WHEN i % 2 = 0 THEN 'email' ELSE 'fax' END, ?1, ?1
         FROM n",
    )
    .bind(text(base))
    .execute(&mut *tx)
    .await?;
    // Request i: submitted at base + i * 90 days / REQUESTS; its state by i % 20 (60% submitted,
    // 15% acknowledged, 5% partial, 5% on hold, 5% deficient, 10% received, half still treating).
    sqlx::query(
        "INSERT INTO requests (state, owner, provider_id, patient_name, patient_address, patient_dob, patient_ssn,
                               still_treating, channel, submitted_at, created_at, updated_at, state_since,
                               follow_up_from)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1),
         t(i, at) AS (SELECT i, strftime('%Y-%m-%dT%H:%M:%S+00:00', ?2 + i * ?3 / ?1, 'unixepoch') FROM n)
         SELECT CASE WHEN i % 20 < 12 THEN 'submitted' WHEN i % 20 < 15 THEN 'acknowledged'
                     WHEN i % 20 = 15 THEN 'partial' WHEN i % 20 = 16 THEN 'on_hold'
                     WHEN i % 20 = 17 THEN 'deficient' ELSE 'received' END,
                CASE WHEN i % 3 = 0 THEN 'attorney@denhamlaw.example' ELSE 'paralegal@denhamlaw.example' END,
                1 + i % 20, 'Patient ' || i, 'x', '1980-01-01', '000000000', i % 40 = 18,
                CASE WHEN (1 + i % 20) % 2 = 0 THEN 'email' ELSE 'fax' END, at, at, at, at, at
         FROM t",
    )
    .bind(REQUESTS)
    .bind(base.timestamp())
    .bind(SPREAD_SECS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO documents (request_id, kind, filename, path, content_type, size, sha256, created_at)
         SELECT id, 'package', 'MR-' || id || '.pdf', 'packages/MR-' || id || '.pdf', 'application/pdf', 123456,
                printf('%064d', id), created_at
         FROM requests",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn count(pool: &SqlitePool, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// `RUNS` sweeps: the milliseconds of each, and the steps done in all.
async fn sweeps(intake: &Intake, cancel: &CancellationToken) -> anyhow::Result<(Vec<f64>, usize)> {
    let (mut samples, mut done) = (Vec::new(), 0);
    for _ in 0..RUNS {
        let start = Instant::now();
        done += schedule::sweep(intake, cancel).await?;
        samples.push(ms(start));
    }
    Ok((samples, done))
}

/// `sql` with `bind` run `RUNS` times; the milliseconds of each.
async fn time_query(pool: &SqlitePool, sql: &'static str, bind: &str) -> anyhow::Result<Vec<f64>> {
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        sqlx::query(sql).bind(bind).fetch_all(pool).await?;
        samples.push(ms(start));
    }
    Ok(samples)
}

async fn explain(pool: &SqlitePool, sql: &str, binds: &[&str]) -> anyhow::Result<()> {
    let mut query =
        sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
    for b in binds {
        query = query.bind(*b);
    }
    println!("  {}", sql.split_whitespace().collect::<Vec<_>>().join(" "));
    for (_, _, _, detail) in query.fetch_all(pool).await? {
        println!("      {detail}");
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let mut settings = medrec::config::load(&repo.join("config/medrec.toml")).unwrap();
    settings.database = dir.join("medrec.db");
    settings.documents = dir.join("documents");
    settings.fax = medrec::fax::FaxSettings::Directory { path: dir.join("fax") };
    settings.outgoing.transport = OutgoingTransport::Directory { path: dir.join("outbox") };

    let store = medrec::store::Store::open(&settings.database).await?;
    let options = SqliteConnectOptions::new()
        .filename(&settings.database)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;

    let now = clock::now();
    let base = DateTime::from_timestamp(now.timestamp() - SPREAD_SECS, 0).unwrap();
    let start = Instant::now();
    generate(&pool, base).await?;
    println!("generated {REQUESTS} requests in {:.0} ms (submitted {} .. {})", ms(start), text(base), text(now));

    let start = Instant::now();
    let planned = schedule::replan_changed(&store, &settings.schedule).await?;
    let took = ms(start);
    let open = count(&pool, "SELECT count(*) FROM due WHERE done_at IS NULL").await?;
    println!("(a) first planning: {took:.0} ms for {planned} requests, {open} open due rows");

    // Before every due step: nothing is due, so a sweep only re-plans and looks.
    let clock = clock::Clock::system();
    clock.set(base + TimeDelta::hours(1));
    let intake = Intake::new(store.clone(), Arc::new(settings.clone()), Arc::new(tokio::sync::Notify::new()), clock)?;
    let cancel = CancellationToken::new();
    let (samples, done) = sweeps(&intake, &cancel).await?;
    report("(b) sweep, nothing changed", samples);
    println!("    steps done over {RUNS} sweeps: {done}");
    assert_eq!(done, 0, "the clock was set before every due step");

    let later = text(now + TimeDelta::minutes(1));
    let touched =
        sqlx::query("UPDATE requests SET updated_at = ?1 WHERE id % 100 = 0").bind(&later).execute(&pool).await?;
    let start = Instant::now();
    let done = schedule::sweep(&intake, &cancel).await?;
    println!("(c) sweep after {} requests changed: {:.1} ms, {done} steps done", touched.rows_affected(), ms(start));
    let start = Instant::now();
    let again = schedule::replan_changed(&store, &settings.schedule).await?;
    println!("    re-plan right after, nothing changed: {again} requests re-planned in {:.1} ms", ms(start));
    let open = count(&pool, "SELECT count(*) FROM due WHERE done_at IS NULL").await?;
    println!("    open due rows: {open}");

    println!("(d) query plans:");
    let at = text(now);
    explain(
        &pool,
        "SELECT request_id, kind, key, due_at, detail FROM due
         WHERE done_at IS NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
        &[&at, "200"],
    )
    .await?;
    explain(&pool, "SELECT min(due_at) FROM due WHERE done_at IS NULL", &[]).await?;
    explain(&pool, "SELECT id, updated_at FROM requests WHERE updated_at >= ?1 ORDER BY updated_at, id", &[&at])
        .await?;
    explain(
        &pool,
        "SELECT key, done_at FROM due WHERE request_id = ?1 AND done_at IS NOT NULL AND key IS NOT NULL",
        &["50000"],
    )
    .await?;
    // The rest of what re-planning one request runs.
    explain(
        &pool,
        "SELECT state, coalesce(state_since, updated_at), follow_up_from, eta, still_treating,
             EXISTS (SELECT 1 FROM request_events WHERE request_id = ?1 AND kind = 'update_requested')
         FROM requests WHERE id = ?1",
        &["50000"],
    )
    .await?;
    explain(&pool, "DELETE FROM due WHERE request_id = ?1 AND done_at IS NULL", &["50000"]).await?;

    let digests = r#"DELETE FROM due WHERE kind = 'digest' AND done_at IS NULL
             AND detail NOT IN (SELECT value FROM json_each(?1))"#;
    explain(&pool, digests, &[r#"["paralegal@denhamlaw.example"]"#]).await?;

    println!("(e) a quiet sweep's slowest queries alone:");
    let mark = text(now + TimeDelta::minutes(2));
    let changed = "SELECT id, updated_at FROM requests WHERE updated_at >= ?1 ORDER BY updated_at, id";
    report("changed since the mark", time_query(&pool, changed, &mark).await?);
    report("drop digests (deletes none)", time_query(&pool, digests, r#"["paralegal@denhamlaw.example"]"#).await?);
    // One later change moves the mark past the 1,000 that share it, so a sweep re-plans one again.
    sqlx::query("UPDATE requests SET updated_at = ?1 WHERE id = 1001").bind(&mark).execute(&pool).await?;
    schedule::sweep(&intake, &cancel).await?;
    let (samples, done) = sweeps(&intake, &cancel).await?;
    report("(f) sweep, nothing changed, mark past the bulk change", samples);
    assert_eq!(done, 0);

    pool.close().await;
    store.close().await;
    let size = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    println!("database: {:.1} MB (+ {:.1} MB WAL)", size("medrec.db") as f64 / 1e6, size("medrec.db-wal") as f64 / 1e6);
    Ok(())
}
