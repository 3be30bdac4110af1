//! `medrec classify [--json] FILE.eml...`: classifies stored messages offline with the same
//! code the daemon uses, without a config file or database. `-` reads one message from stdin.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::core::classify::{self, Classification};

/// One output line of `--json`.
#[derive(Serialize)]
struct Line<'a> {
    file: String,
    #[serde(flatten)]
    classification: &'a Classification,
}

/// Classifies every file and prints the results; fails when a file cannot be read.
pub fn run(json: bool, files: &[PathBuf]) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    if !json {
        let _ = writeln!(
            out,
            "{:<40} {:<15} {:<22} {:>10} {:<9} {:>5}  why",
            "file", "kind", "deficiency", "amount", "reference", "conf"
        );
    }
    for file in files {
        let raw = match read(file) {
            Ok(raw) => raw,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let c = classify::classify(&crate::mail::parse::parse(&raw));
        let name = file.display().to_string();
        let written = if json {
            let line = Line { file: name, classification: &c };
            match serde_json::to_string(&line) {
                Ok(s) => writeln!(out, "{s}"),
                Err(e) => writeln!(out, "{{\"file\":{:?},\"error\":{:?}}}", file.display().to_string(), e.to_string()),
            }
        } else {
            writeln!(out, "{}", table_row(&name, &c))
        };
        if written.is_err() {
            // Stdout closed (a pipe into `head`): nothing more to say.
            return ExitCode::SUCCESS;
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn read(file: &Path) -> std::io::Result<Vec<u8>> {
    if file.as_os_str() == "-" {
        let mut raw = Vec::new();
        std::io::stdin().read_to_end(&mut raw)?;
        Ok(raw)
    } else {
        std::fs::read(file)
    }
}

fn table_row(name: &str, c: &Classification) -> String {
    let amount = c.amount_cents.map(crate::core::money::format_cents).unwrap_or_default();
    let reference = c.reference.map(|r| r.to_string()).unwrap_or_default();
    let deficiency = c.deficiency.map(|d| d.as_str()).unwrap_or("");
    let why = c.reasons.first().map(String::as_str).unwrap_or("");
    format!(
        "{name:<40} {:<15} {deficiency:<22} {amount:>10} {reference:<9} {:>5.2}  {why}",
        c.kind.as_str(),
        c.confidence
    )
}
