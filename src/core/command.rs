//! Staff commands: the first line of a staff message's new text (or its subject) parsed into a
//! [`Command`], or into an error that says what is wrong and shows a correct example.
//!
//! [`COMMANDS`] is the one list of what staff can say; the HELP answer and typo suggestions are
//! built from it, so a command added here is documented everywhere at once.

use super::reference::{self, Reference};

/// One entry of the command list: how it is written, an example, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    pub word: &'static str,
    pub usage: &'static str,
    pub example: &'static str,
    pub summary: &'static str,
}

/// Every command of the email interface, in the order HELP lists them.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        word: "NEW",
        usage: "NEW (then Key: value lines)",
        example: "NEW\nPatient: Jane Q. Doe\nProvider: Baptist Health Lexington",
        summary: "start a records request; attach the signed HIPAA authorization as PDF",
    },
    CommandInfo {
        word: "STATUS",
        usage: "STATUS [MR-n]",
        example: "STATUS MR-1042",
        summary: "where a request stands (or reply to one of its messages)",
    },
    CommandInfo {
        word: "LIST",
        usage: "LIST [open|held|deficient|overdue|mine]",
        example: "LIST overdue",
        summary: "requests in a given state",
    },
    CommandInfo {
        word: "HISTORY",
        usage: "HISTORY [MR-n]",
        example: "HISTORY MR-1042",
        summary: "the activity log of a request",
    },
    CommandInfo {
        word: "NOTE",
        usage: "NOTE [MR-n] <text>",
        example: "NOTE Called ROI, they are pulling the chart",
        summary: "add a note to a request's activity log",
    },
    CommandInfo {
        word: "APPROVE",
        usage: "APPROVE [MR-n]",
        example: "APPROVE",
        summary: "approve the invoice held on a request (reply to the approval message, or name the request)",
    },
    CommandInfo {
        word: "DECLINE",
        usage: "DECLINE [MR-n] <reason>",
        example: "DECLINE fee exceeds the KY statute",
        summary: "decline a held invoice",
    },
    CommandInfo {
        word: "RESEND",
        usage: "RESEND [MR-n] (with corrected attachments)",
        example: "RESEND",
        summary: "rebuild the package with the attached documents and send it again",
    },
    CommandInfo {
        word: "RECEIVED",
        usage: "RECEIVED [MR-n]",
        example: "RECEIVED",
        summary: "mark the records received (stops follow-ups)",
    },
    CommandInfo {
        word: "CANCEL",
        usage: "CANCEL [MR-n] <reason>",
        example: "CANCEL client settled",
        summary: "withdraw a request and tell the provider",
    },
    CommandInfo {
        word: "UPDATE",
        usage: "UPDATE [MR-n] from <date>",
        example: "UPDATE from 06/01/2026",
        summary: "a new request for updated records from a date (same patient and provider)",
    },
    CommandInfo {
        word: "REDIRECT",
        usage: "REDIRECT [MR-n]",
        example: "REDIRECT",
        summary: "send a request where the provider asked (reply to the redirect notice)",
    },
    CommandInfo {
        word: "FILE",
        usage: "FILE MR-n",
        example: "FILE MR-1042",
        summary: "file a forwarded or unmatched message on a request",
    },
    CommandInfo {
        word: "PROVIDER ADD",
        usage: "PROVIDER ADD (then Key: value lines)",
        example: "PROVIDER ADD\nName: Baptist Health Lexington\nFax: 859-555-0100",
        summary: "add a provider to the directory",
    },
    CommandInfo {
        word: "PROVIDER FIND",
        usage: "PROVIDER FIND <text>",
        example: "PROVIDER FIND baptist",
        summary: "search the provider directory",
    },
    CommandInfo { word: "HELP", usage: "HELP", example: "HELP", summary: "this list" },
];

/// Which requests `LIST` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    Open,
    Held,
    Deficient,
    Overdue,
    Mine,
}

/// A staff command, parsed and checked for the arguments it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    New { confirm: bool },
    Status(Option<Reference>),
    List(ListFilter),
    History(Option<Reference>),
    Note { reference: Option<Reference>, text: String },
    Approve(Option<Reference>),
    Decline { reference: Option<Reference>, reason: String },
    Resend(Option<Reference>),
    Received(Option<Reference>),
    Cancel { reference: Option<Reference>, reason: String },
    Update { reference: Option<Reference>, from: String },
    Redirect(Option<Reference>),
    File(Reference),
    ProviderAdd,
    ProviderFind(String),
    Help,
}

impl Command {
    /// The entry of [`COMMANDS`] this command belongs to.
    pub fn info(&self) -> &'static CommandInfo {
        let word = match self {
            Command::New { .. } => "NEW",
            Command::Status(_) => "STATUS",
            Command::List(_) => "LIST",
            Command::History(_) => "HISTORY",
            Command::Note { .. } => "NOTE",
            Command::Approve(_) => "APPROVE",
            Command::Decline { .. } => "DECLINE",
            Command::Resend(_) => "RESEND",
            Command::Received(_) => "RECEIVED",
            Command::Cancel { .. } => "CANCEL",
            Command::Update { .. } => "UPDATE",
            Command::Redirect(_) => "REDIRECT",
            Command::File(_) => "FILE",
            Command::ProviderAdd => "PROVIDER ADD",
            Command::ProviderFind(_) => "PROVIDER FIND",
            Command::Help => "HELP",
        };
        lookup(word).expect("every command is listed in COMMANDS")
    }
}

/// Why a line is not a usable command; written for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The line starts with no command word; `suggestion` is a near miss, if any.
    Unknown { word: String, suggestion: Option<&'static CommandInfo> },
    /// A known command with missing or malformed arguments.
    BadArguments { info: &'static CommandInfo, problem: String },
}

fn lookup(word: &str) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.word == word)
}

/// Parses one line. Words are case-insensitive; a trailing `:` or `.` on the command word and
/// extra spaces are tolerated, because people type `Status:` and `help.`.
pub fn parse(line: &str) -> Result<Command, CommandError> {
    let line = line.trim();
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or("");
    let word = first.trim_end_matches([':', '.', ',', '!']).to_ascii_uppercase();
    let rest = line[first.len()..].trim();
    let arg_ref = |info: &'static CommandInfo| -> Result<Option<Reference>, CommandError> {
        if rest.is_empty() {
            return Ok(None);
        }
        rest.split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_end_matches(['.', ','])
            .parse()
            .map(Some)
            .map_err(|problem| CommandError::BadArguments { info, problem })
    };
    let info = |w: &str| lookup(w).expect("listed command");
    // An optional `MR-n` first, then text: `DECLINE MR-1042 too expensive`.
    let (leading_ref, after_ref) = leading_reference(rest);
    let needs_text = |w: &str, what: &str| -> Result<(Option<Reference>, String), CommandError> {
        if after_ref.is_empty() {
            Err(CommandError::BadArguments { info: info(w), problem: format!("{w} needs {what}") })
        } else {
            Ok((leading_ref, after_ref.to_string()))
        }
    };
    let only_ref = |w: &str| -> Result<Option<Reference>, CommandError> {
        match (leading_ref, after_ref.is_empty()) {
            (r, true) => Ok(r),
            (_, false) => arg_ref(info(w)),
        }
    };
    match word.as_str() {
        "NEW" => {
            let confirm = rest.eq_ignore_ascii_case("confirm");
            let is_request = rest.is_empty() || confirm || rest.to_ascii_lowercase().starts_with("request");
            if is_request {
                Ok(Command::New { confirm })
            } else {
                Err(CommandError::BadArguments {
                    info: info("NEW"),
                    problem: "put the request's details on the lines after NEW, one `Key: value` per line".into(),
                })
            }
        }
        "STATUS" => arg_ref(info("STATUS")).map(Command::Status),
        "HISTORY" => arg_ref(info("HISTORY")).map(Command::History),
        "LIST" => parse_list_filter(rest).map(Command::List),
        "NOTE" => needs_text("NOTE", "the text of the note").map(|(reference, text)| Command::Note { reference, text }),
        "APPROVE" | "APPROVED" => only_ref("APPROVE").map(Command::Approve),
        "DECLINE" | "DECLINED" => {
            needs_text("DECLINE", "a reason").map(|(reference, reason)| Command::Decline { reference, reason })
        }
        "RESEND" => only_ref("RESEND").map(Command::Resend),
        "RECEIVED" => only_ref("RECEIVED").map(Command::Received),
        "CANCEL" => needs_text("CANCEL", "a reason").map(|(reference, reason)| Command::Cancel { reference, reason }),
        "UPDATE" => parse_update(leading_ref, after_ref),
        "REDIRECT" => only_ref("REDIRECT").map(Command::Redirect),
        "FILE" => match arg_ref(info("FILE"))? {
            Some(r) => Ok(Command::File(r)),
            None => Err(CommandError::BadArguments {
                info: info("FILE"),
                problem: "FILE needs the request reference, like MR-1042".into(),
            }),
        },
        "PROVIDER" | "PROVIDERS" => parse_provider(rest),
        "HELP" | "?" => Ok(Command::Help),
        _ => Err(CommandError::Unknown { suggestion: suggest(&word), word: first.to_string() }),
    }
}

fn parse_list_filter(rest: &str) -> Result<ListFilter, CommandError> {
    match rest.to_ascii_lowercase().as_str() {
        "" | "open" => Ok(ListFilter::Open),
        "held" | "on hold" | "hold" => Ok(ListFilter::Held),
        "deficient" => Ok(ListFilter::Deficient),
        "overdue" => Ok(ListFilter::Overdue),
        "mine" => Ok(ListFilter::Mine),
        other => Err(CommandError::BadArguments {
            info: lookup("LIST").expect("listed"),
            problem: format!("`{other}` is not a list; choose one of open, held, deficient, overdue, mine"),
        }),
    }
}

/// `MR-1042 rest…` → (Some(MR-1042), "rest…"); otherwise (None, the whole text).
fn leading_reference(rest: &str) -> (Option<Reference>, &str) {
    let first = rest.split_whitespace().next().unwrap_or("");
    match first.trim_end_matches([',', ':', '.']).parse::<Reference>() {
        Ok(r) => (Some(r), rest[first.len()..].trim()),
        Err(_) => (None, rest),
    }
}

fn parse_update(reference: Option<Reference>, rest: &str) -> Result<Command, CommandError> {
    let lower = rest.to_ascii_lowercase();
    match lower.strip_prefix("from") {
        Some(date) if !date.trim().is_empty() => Ok(Command::Update { reference, from: rest[4..].trim().to_string() }),
        _ => Err(CommandError::BadArguments {
            info: lookup("UPDATE").expect("listed"),
            problem: "UPDATE needs the date the updated records start from".into(),
        }),
    }
}

fn parse_provider(rest: &str) -> Result<Command, CommandError> {
    let (sub, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match sub.to_ascii_uppercase().as_str() {
        "ADD" => Ok(Command::ProviderAdd),
        "FIND" | "SEARCH" if !text.trim().is_empty() => Ok(Command::ProviderFind(text.trim().to_string())),
        "FIND" | "SEARCH" => Err(CommandError::BadArguments {
            info: lookup("PROVIDER FIND").expect("listed"),
            problem: "PROVIDER FIND needs some text to look for (a name or a city)".into(),
        }),
        _ => Err(CommandError::Unknown {
            word: format!("PROVIDER {sub}").trim().to_string(),
            suggestion: lookup("PROVIDER FIND"),
        }),
    }
}

/// The command word closest to a typo, when it is close enough to be what was meant.
fn suggest(word: &str) -> Option<&'static CommandInfo> {
    if word.is_empty() {
        return None;
    }
    COMMANDS
        .iter()
        .map(|c| (edit_distance(word, c.word.split(' ').next().unwrap_or(c.word)), c))
        .filter(|(d, _)| *d <= 2 && *d < word.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over bytes; command words are ASCII.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Finds the command in a staff message: the first line of its new text, else its subject
/// (without `Re:`/`Fwd:` prefixes and `[MR-n]` tags). The first line wins when it parses.
pub fn find(first_line: &str, subject: &str) -> Result<Command, CommandError> {
    match parse(first_line) {
        Ok(cmd) => Ok(cmd),
        // A known command word with bad arguments is what the sender meant: say so.
        Err(e @ CommandError::BadArguments { .. }) => Err(e),
        Err(line_error) => match parse(&clean_subject(subject)) {
            Ok(cmd) => Ok(cmd),
            Err(subject_error) if first_line.trim().is_empty() => Err(subject_error),
            Err(_) => Err(line_error),
        },
    }
}

/// A subject without reply/forward prefixes and request tags: `Re: [MR-12] STATUS` → `STATUS`.
pub fn clean_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let before = s;
        for prefix in ["re:", "fw:", "fwd:", "aw:", "wg:"] {
            if s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
                s = s[prefix.len()..].trim_start();
            }
        }
        if let Some(rest) = s.strip_prefix('[')
            && let Some((tag, after)) = rest.split_once(']')
            && reference::find_in(tag).is_some()
        {
            s = after.trim_start();
        }
        if s == before {
            return s.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_command_parses_from_its_example() {
        for info in COMMANDS {
            let first_line = info.example.lines().next().unwrap();
            let cmd = parse(first_line).unwrap_or_else(|e| panic!("{}: {e:?}", info.word));
            assert_eq!(cmd.info().word, info.word);
        }
    }

    #[test]
    fn words_are_case_insensitive_and_tolerate_punctuation() {
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse("  Help.  "), Ok(Command::Help));
        assert_eq!(parse("Status: MR-12"), Ok(Command::Status(Some(Reference(12)))));
        assert_eq!(parse("New request"), Ok(Command::New { confirm: false }));
        assert_eq!(parse("NEW CONFIRM"), Ok(Command::New { confirm: true }));
        assert_eq!(parse("list on hold"), Ok(Command::List(ListFilter::Held)));
        assert_eq!(parse("provider find  Baptist  "), Ok(Command::ProviderFind("Baptist".into())));
    }

    #[test]
    fn missing_arguments_say_what_is_needed() {
        let Err(CommandError::BadArguments { info, problem }) = parse("DECLINE") else { panic!() };
        assert_eq!(info.word, "DECLINE");
        assert!(problem.contains("reason"));
        assert!(matches!(parse("FILE"), Err(CommandError::BadArguments { .. })));
        assert!(matches!(parse("STATUS 1042"), Err(CommandError::BadArguments { .. })));
        assert!(matches!(parse("LIST everything"), Err(CommandError::BadArguments { .. })));
        assert!(matches!(parse("UPDATE"), Err(CommandError::BadArguments { .. })));
    }

    #[test]
    fn typos_get_a_suggestion() {
        let Err(CommandError::Unknown { suggestion, .. }) = parse("STAUTS MR-1") else { panic!() };
        assert_eq!(suggestion.map(|c| c.word), Some("STATUS"));
        let Err(CommandError::Unknown { suggestion, .. }) = parse("Thanks so much") else { panic!() };
        assert_eq!(suggestion, None);
        let Err(CommandError::Unknown { suggestion, .. }) = parse("HLEP") else { panic!() };
        assert_eq!(suggestion.map(|c| c.word), Some("HELP"));
    }

    #[test]
    fn subject_is_used_when_the_first_line_is_not_a_command() {
        assert_eq!(find("", "help"), Ok(Command::Help));
        assert_eq!(find("Hi, can you send me the list?", "Re: [MR-5] HELP"), Ok(Command::Help));
        assert_eq!(find("STATUS", "Re: [MR-5] something"), Ok(Command::Status(None)));
        assert!(matches!(find("hello there", "a question"), Err(CommandError::Unknown { .. })));
        assert_eq!(clean_subject("RE: Fwd: [MR-77] status"), "status");
    }
}
