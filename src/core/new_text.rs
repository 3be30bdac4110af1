//! Finds the new text of a reply: what the sender wrote, without what they quoted or their
//! signature. Commands are read from its first line. Later issues deepen this for provider
//! replies; this covers the common mail clients' quoting.

/// The sender's own lines, top to bottom, up to the first quote marker or signature.
pub fn new_text(body: &str) -> String {
    let mut out = Vec::new();
    let lines: Vec<&str> = body.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if starts_quote(t, lines.get(i + 1).map(|l| l.trim())) {
            break;
        }
        out.push(line.trim_end());
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// The first non-empty line of the new text.
pub fn first_line(body: &str) -> String {
    let text = new_text(body);
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
}

fn starts_quote(line: &str, next: Option<&str>) -> bool {
    let lower = line.to_ascii_lowercase();
    line.starts_with('>')
        || line == "--"
        || line == "-- "
        || lower.starts_with("-----original message-----")
        || lower.starts_with("-------- original message")
        || lower.starts_with("---------- forwarded message")
        || lower.starts_with("begin forwarded message")
        || (lower.starts_with("on ") && lower.ends_with("wrote:"))
        // Outlook's and Gmail's quoted headers: "From: Name <addr>" then "Sent:" or "Date:". Not a
        // `NEW` form's "From: 01/15/2026" followed by "To: present".
        || (lower.starts_with("from:")
            && next.is_some_and(|n| {
                let n = n.to_ascii_lowercase();
                n.starts_with("sent:") || n.starts_with("date:")
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_usual_quote_markers() {
        assert_eq!(first_line("\n\n  HELP  \nthanks\n"), "HELP");
        assert_eq!(new_text("STATUS\n\nOn Mon, 2 Mar 2026, Bot wrote:\n> NEW\n"), "STATUS");
        assert_eq!(new_text("APPROVE\n-----Original Message-----\nFrom: x"), "APPROVE");
        assert_eq!(new_text("RECEIVED\nFrom: Bot <b@x.example>\nSent: Monday\nTo: me"), "RECEIVED");
        assert_eq!(new_text("OK\n\nFrom: Bot <b@x.example>\nDate: Mon, 2 Mar 2026\nSubject: x"), "OK");
        assert_eq!(new_text("NOTE called them\n-- \nJane\nParalegal"), "NOTE called them");
        assert_eq!(first_line("> quoted only"), "");
    }

    #[test]
    fn regression_new_form_from_and_to_lines_are_not_an_outlook_header() {
        let form = "NEW\nPatient: Jane Doe\nFrom: 01/15/2026\nTo: present\nProvider: X";
        assert_eq!(new_text(form), form);
    }

    #[test]
    fn a_from_line_inside_text_is_not_a_quote() {
        assert_eq!(new_text("NOTE From: the ROI desk\nmore"), "NOTE From: the ROI desk\nmore");
    }
}
