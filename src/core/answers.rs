//! The text of the bot's answers to staff, rendered from the files in `templates/` (compiled
//! into the binary, so the daemon never depends on its working directory).

use minijinja::{Environment, context};

use super::command::{COMMANDS, CommandError, CommandInfo};

const HELP: &str = include_str!("../../templates/help.txt");
const COMMAND_ERROR: &str = include_str!("../../templates/command_error.txt");
const NOT_AVAILABLE: &str = include_str!("../../templates/not_available.txt");

fn render(name: &str, source: &str, ctx: minijinja::Value) -> String {
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
    render("command_error.txt", COMMAND_ERROR, context! { problem, example => example.map(|e| e.example) })
}

/// The answer to a command this build does not carry out yet.
pub fn not_available(info: &CommandInfo) -> String {
    render("not_available.txt", NOT_AVAILABLE, context! { word => info.word })
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
