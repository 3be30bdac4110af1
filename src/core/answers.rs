//! The text of the bot's answers to staff, rendered from the files in `templates/` (compiled
//! into the binary, so the daemon never depends on its working directory).

use minijinja::{Environment, context};

use super::command::{COMMANDS, CommandError, CommandInfo};
use super::new_request::Problem;

const HELP: &str = include_str!("../../templates/help.txt");
const COMMAND_ERROR: &str = include_str!("../../templates/command_error.txt");
const NEW_PROBLEMS: &str = include_str!("../../templates/new_request_problems.txt");
const NEW_DUPLICATE: &str = include_str!("../../templates/new_request_duplicate.txt");
const PROVIDER_REQUEST: &str = include_str!("../../templates/provider_request.txt");
const CONFIRMATION: &str = include_str!("../../templates/confirmation.txt");

pub(super) fn render(name: &str, source: &str, ctx: minijinja::Value) -> String {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build();
    env.set_syntax(syntax.expect("static syntax settings are valid"));
    // The templates ship with the binary and are covered by tests; a failure here is a bug.
    env.add_template(name, source).expect("shipped template parses");
    env.get_template(name).and_then(|t| t.render(ctx)).expect("shipped template renders")
}

/// The HELP answer: every command with a one-line example.
pub fn help(bot_name: &str) -> String {
    let commands: Vec<_> =
        COMMANDS.iter().map(|c| context! { usage => c.usage, summary => c.summary, example => c.example }).collect();
    render("help.txt", HELP, context! { bot_name, commands })
}

/// The answer to a message whose command could not be understood.
pub fn command_error(error: &CommandError) -> String {
    let (problem, example): (String, Option<&CommandInfo>) = match error {
        CommandError::Unknown { word, suggestion: Some(s) } => {
            (format!("`{word}` is not a command; did you mean {}?", s.word), Some(s))
        }
        CommandError::Unknown { word, suggestion: None } if word.is_empty() => {
            ("the message has no command on its first line or in its subject".into(), None)
        }
        CommandError::Unknown { word, suggestion: None } => (format!("`{word}` is not a command I know"), None),
        CommandError::BadArguments { info, problem } => (problem.clone(), Some(*info)),
    };
    let problem = if problem.ends_with(['.', '?', '!']) { problem } else { format!("{problem}.") };
    render("command_error.txt", COMMAND_ERROR, context! { problem, example => example.map(|e| e.example) })
}

/// The answer to a `NEW` that cannot become a request yet: every problem, then the corrected form.
pub fn new_request_problems(problems: &[Problem], example: &str) -> String {
    let problems: Vec<_> =
        problems.iter().map(|p| context! { field => p.field, message => p.message.clone() }).collect();
    render("new_request_problems.txt", NEW_PROBLEMS, context! { problems, example })
}

/// The answer to a `NEW` for a patient with an open request at the same provider.
pub fn new_request_duplicate(provider: &str, open: &[(String, String)]) -> String {
    let open: Vec<_> = open.iter().map(|(reference, state)| context! { reference, state }).collect();
    render("new_request_duplicate.txt", NEW_DUPLICATE, context! { provider, open })
}

/// What a provider's email says around the attached package. Never SSN or DOB.
pub struct ProviderRequest<'a> {
    pub patient: &'a str,
    pub reference: &'a str,
    pub reply_to: &'a str,
    pub staff: &'a str,
    pub firm: &'a str,
    pub firm_phone: &'a str,
}

pub fn provider_request(r: &ProviderRequest<'_>) -> String {
    render(
        "provider_request.txt",
        PROVIDER_REQUEST,
        context! { patient => r.patient, reference => r.reference, reply_to => r.reply_to, staff => r.staff,
        firm => r.firm, firm_phone => r.firm_phone },
    )
}

/// The owner's confirmation that a request went out.
pub struct Confirmation<'a> {
    pub reference: &'a str,
    pub patient: &'a str,
    pub provider: &'a str,
    pub channel: &'a str,
    pub channel_is_fax: bool,
    pub queued: &'a str,
    pub pages: u32,
}

pub fn confirmation(c: &Confirmation<'_>) -> String {
    render(
        "confirmation.txt",
        CONFIRMATION,
        context! { reference => c.reference, patient => c.patient, provider => c.provider, channel => c.channel,
        channel_is_fax => c.channel_is_fax, queued => c.queued, pages => c.pages },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::command::parse;

    #[test]
    fn help_lists_every_command_with_an_example() {
        let text = help("Records Bot");
        for c in COMMANDS {
            assert!(text.contains(c.usage), "{} missing", c.word);
            assert!(text.contains(c.example.lines().next().unwrap()), "{} example missing", c.word);
        }
    }

    #[test]
    fn new_request_problems_list_each_and_indent_the_example() {
        let problems = vec![
            Problem { field: "SSN", message: "an SSN has 9 digits".into() },
            Problem { field: "Authorization", message: "attach the signed HIPAA authorization as a PDF".into() },
        ];
        let text = new_request_problems(&problems, "NEW\nPatient: Jane Doe");
        assert!(text.contains("- SSN: an SSN has 9 digits\n- Authorization: attach"), "{text}");
        assert!(text.contains("    NEW\n    Patient: Jane Doe"), "{text}");
        assert!(text.contains("Nothing has been sent to any provider"));
    }

    #[test]
    fn errors_name_the_problem_and_show_an_example() {
        let text = command_error(&parse("DECLINE").unwrap_err());
        assert!(text.contains("DECLINE needs a reason"), "{text}");
        assert!(text.contains("    DECLINE fee exceeds"), "{text}");
        let text = command_error(&parse("STAUTS").unwrap_err());
        assert!(text.contains("did you mean STATUS?"), "{text}");
        let text = command_error(&parse("").unwrap_err());
        assert!(text.contains("no command"), "{text}");
    }
}
