//! The text of what the schedule sends: the follow-up to the provider, the records-due notice and
//! the escalation to the owner, the approval, deficiency and update reminders, and the daily
//! digest. Rendered from `templates/schedule/` (compiled in); each takes a plain data struct.

use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;

use super::answers::render;

macro_rules! text {
    ($(#[$doc:meta])* $fn:ident, $data:ident, $file:literal) => {
        $(#[$doc])*
        pub fn $fn(data: &$data) -> String {
            render($file, include_str!(concat!("../../templates/schedule/", $file)), Value::from(Serde(data)))
        }
    };
}

/// About one request, as every schedule text names it.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    /// When the request went out, "October 5, 2026".
    pub sent: String,
    /// Days since then.
    pub days: i64,
    /// What has not arrived yet, "radiology"; empty when nothing did.
    pub missing: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    #[serde(flatten)]
    pub about: About,
    pub records_due: bool,
    pub reply_to: String,
    pub approval_limit: String,
    pub staff: String,
    pub firm: String,
    pub firm_phone: String,
}
text!(
    /// To the provider: did you receive our request; or, the records are due.
    follow_up,
    FollowUp,
    "follow_up.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct RecordsDue {
    #[serde(flatten)]
    pub about: About,
    /// "by fax to (859) 555-0100 and by email to roi@…"
    pub channels: String,
    pub repeat_days: i64,
}
text!(
    /// To the owner: the records are due and the provider was chased.
    records_due,
    RecordsDue,
    "records_due.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    #[serde(flatten)]
    pub about: About,
    pub follow_ups: u32,
    pub repeat_days: i64,
}
text!(
    /// To the owner: no records after many follow-ups; a person decides.
    escalation,
    Escalation,
    "escalation.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalReminder {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub amount: String,
    pub since: String,
}
text!(
    /// To the owner and approvers: an invoice still waits for a decision.
    approval_reminder,
    ApprovalReminder,
    "approval_reminder.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct DeficiencyReminder {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub since: String,
    /// What the provider needs, "a facility-specific authorization form".
    pub reason: String,
}
text!(
    /// To the owner: a deficiency is still open.
    deficiency_reminder,
    DeficiencyReminder,
    "deficiency_reminder.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct UpdateReminder {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub received: String,
    /// The date to ask updates from, as UPDATE reads it: "11/02/2026".
    pub from: String,
    pub days: i64,
}
text!(
    /// To the owner: the client was still treating; time to ask for updated records?
    update_reminder,
    UpdateReminder,
    "update_reminder.txt"
);

/// One titled list of the digest.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub date: String,
    /// Only the sections with lines.
    pub sections: Vec<Section>,
    pub since: String,
    pub went_out: Vec<String>,
    pub arrived: Vec<String>,
}
text!(
    /// To each staff member on business mornings.
    digest,
    Digest,
    "digest.txt"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn about(missing: &str) -> About {
        About {
            reference: "MR-1001".into(),
            patient: "Maria Sample".into(),
            provider: "Bluegrass Regional".into(),
            sent: "October 5, 2026".into(),
            days: 30,
            missing: missing.into(),
        }
    }

    #[test]
    fn the_follow_up_asks_for_confirmation_first_and_says_due_later() {
        let mut f = FollowUp {
            about: about(""),
            records_due: false,
            reply_to: "records@denhamlaw.example".into(),
            approval_limit: "$300.00".into(),
            staff: "Demo Paralegal".into(),
            firm: "Denham".into(),
            firm_phone: "859-900-2278".into(),
        };
        let first = follow_up(&f);
        assert!(first.contains("our\nreference MR-1001.\nPlease confirm that you received it"), "{first}");
        assert!(!first.contains("outstanding"), "{first}");
        f.records_due = true;
        f.about.missing = "radiology".into();
        let due = follow_up(&f);
        assert!(due.contains("The records are now due: 30 days have passed"), "{due}");
        assert!(due.contains("MR-1001.\nThe records are now due"), "{due}");
        assert!(due.contains("request.\n\nStill outstanding: radiology.\n\nThe original request"), "{due}");
    }

    #[test]
    fn the_digest_lists_sections_and_says_nothing_when_nothing_happened() {
        let d = Digest {
            date: "Monday, November 23, 2026".into(),
            sections: vec![Section { title: "On hold".into(), lines: vec!["MR-1001 Maria Sample".into()] }],
            since: "Friday 7:30 AM".into(),
            went_out: vec![],
            arrived: vec!["MR-1002 invoice from X".into()],
        };
        let text = digest(&d);
        assert!(text.contains("\n\nOn hold (1):\n  MR-1001 Maria Sample\n"), "{text}");
        assert!(text.contains("Went out since Friday 7:30 AM:\n  nothing\n"), "{text}");
        assert!(text.contains("Arrived since Friday 7:30 AM:\n  MR-1002 invoice from X\n"), "{text}");
        let empty = digest(&Digest { sections: vec![], ..d });
        assert!(empty.contains("You have no open requests."), "{empty}");
    }
}
