//! The doctor's checklist as data, and how it is printed: pure, so the format is unit-tested
//! and the probes only ever produce [`Check`]s.

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `IMAP login records@mail.example:993`.
    pub name: String,
    pub outcome: Outcome,
}

/// How a check came out. Texts never hold secrets or patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Works; the detail says what was seen.
    Ok(String),
    /// Works, but deserves attention: (what, fix).
    Warn(String, String),
    /// Broken: (what, fix). Any failure makes `medrec doctor` exit non-zero.
    Fail(String, String),
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), outcome: Outcome::Ok(detail.into()) }
    }

    pub fn warn(name: impl Into<String>, what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), outcome: Outcome::Warn(what.into(), fix.into()) }
    }

    pub fn fail(name: impl Into<String>, what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), outcome: Outcome::Fail(what.into(), fix.into()) }
    }

    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Fail(..))
    }
}

/// One check as one line: `[ ok ] name: detail`, `[warn] name: what — fix: fix`, `[FAIL] …`.
pub fn line(check: &Check) -> String {
    let name = &check.name;
    match &check.outcome {
        Outcome::Ok(detail) => format!("[ ok ] {name}: {detail}"),
        Outcome::Warn(what, fix) => format!("[warn] {name}: {what} — fix: {fix}"),
        Outcome::Fail(what, fix) => format!("[FAIL] {name}: {what} — fix: {fix}"),
    }
}

/// The closing line: how many checks failed or warned, or that all passed.
pub fn summary(checks: &[Check]) -> String {
    let failed = checks.iter().filter(|c| c.failed()).count();
    let warned = checks.iter().filter(|c| matches!(c.outcome, Outcome::Warn(..))).count();
    match (failed, warned) {
        (0, 0) => format!("all {} checks passed", checks.len()),
        (0, w) => format!("{} checks passed, {w} with a warning: see the [warn] lines", checks.len()),
        (f, w) => format!(
            "{f} of {} checks failed{}: fix the [FAIL] lines, then run `medrec doctor` again",
            checks.len(),
            if w > 0 { format!(" and {w} warned") } else { String::new() }
        ),
    }
}

/// The whole checklist: one line per check, then the summary.
pub fn render(checks: &[Check]) -> String {
    let mut out: String = checks.iter().map(|c| line(c) + "\n").collect();
    out.push_str(&summary(checks));
    out.push('\n');
    out
}

/// `path` as a shell word, for the `chmod`/`chown` commands in fixes.
pub fn shell_word(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@".contains(&b));
    if plain { text } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checklist_with_every_outcome() {
        let checks = [
            Check::ok("IMAP login alice@127.0.0.1:1143", "folder INBOX (3 messages)"),
            Check::warn("config", "no [[staff]] entries: nobody can command the bot", "edit /etc/medrec/medrec.toml"),
            Check::fail(
                "SMTP authentication at 127.0.0.1:587",
                "535 auth failed",
                "check outgoing.smtp.user and the password in file /etc/medrec/smtp",
            ),
        ];
        assert_eq!(
            render(&checks),
            "[ ok ] IMAP login alice@127.0.0.1:1143: folder INBOX (3 messages)\n\
             [warn] config: no [[staff]] entries: nobody can command the bot — fix: edit /etc/medrec/medrec.toml\n\
             [FAIL] SMTP authentication at 127.0.0.1:587: 535 auth failed — fix: check outgoing.smtp.user and the \
             password in file /etc/medrec/smtp\n\
             1 of 3 checks failed and 1 warned: fix the [FAIL] lines, then run `medrec doctor` again\n"
        );
    }

    #[test]
    fn summaries() {
        let ok = Check::ok("database", "fine");
        let warn = Check::warn("time zone", "odd", "look");
        assert_eq!(summary(&[ok.clone(), ok.clone()]), "all 2 checks passed");
        assert_eq!(summary(&[ok.clone(), warn]), "2 checks passed, 1 with a warning: see the [warn] lines");
        assert_eq!(
            summary(&[ok, Check::fail("x", "y", "z")]),
            "1 of 2 checks failed: fix the [FAIL] lines, then run `medrec doctor` again"
        );
    }

    #[test]
    fn paths_in_fixes_are_quoted_for_the_shell_when_needed() {
        use std::path::Path;
        assert_eq!(shell_word(Path::new("/var/lib/medrec/documents")), "/var/lib/medrec/documents");
        assert_eq!(shell_word(Path::new("/srv/Law Firm/docs")), "'/srv/Law Firm/docs'");
        assert_eq!(shell_word(Path::new("/srv/it's")), r"'/srv/it'\''s'");
    }
}
