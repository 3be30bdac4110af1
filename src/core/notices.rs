//! The text of the notices the bot sends when a reply or a command changes a request: approval
//! requests, billing, deficiencies, records, no records, redirects, impersonation warnings and
//! withdrawals. Rendered from `templates/notices/` (compiled in); each takes a plain data struct.

use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;

use super::answers::render;

macro_rules! notice {
    ($(#[$doc:meta])* $fn:ident, $data:ident, $file:literal) => {
        $(#[$doc])*
        pub fn $fn(data: &$data) -> String {
            render($file, include_str!(concat!("../../templates/notices/", $file)), Value::from(Serde(data)))
        }
    };
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRequest {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub amount: String,
    /// "it is above the $300.00 approval limit", "the statute check finds it likely overcharged"
    pub why_held: String,
    pub fee_check: String,
    /// The amount of the invoice this one replaces, if any.
    pub superseded: Option<String>,
    /// The invoice is attached as a file (else the original message is).
    pub attached: bool,
    pub approvers: String,
}
notice!(
    /// To the owner and approvers: an invoice holds the request.
    approval_request,
    ApprovalRequest,
    "approval_request.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct Billing {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub payee: Vec<String>,
    pub amount: String,
    /// "by paralegal@… on November 23, 2026", "automatically (at or under $300.00)"
    pub approved: String,
    pub fee_check: String,
    pub owner: String,
}
notice!(
    /// To billing: an approved invoice to pre-pay.
    billing,
    Billing,
    "billing.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct DeficiencyNotice {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub reason: String,
    pub what_to_send: String,
    pub provider_words: String,
    pub attachments: String,
    pub channel: String,
}
notice!(
    /// To the owner, at once: the provider refuses the request as it is.
    deficiency,
    DeficiencyNotice,
    "deficiency.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct RecordsNotice {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub complete: bool,
    pub gaps: String,
    pub received: String,
    pub flag: Option<String>,
    pub attached: String,
    pub listed: String,
}
notice!(
    /// To the owner: records arrived, all or some.
    records,
    RecordsNotice,
    "records.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct NoRecordsNotice {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub provider_words: String,
    pub attached: bool,
}
notice!(
    /// To the owner: the provider has no records; the request is closed.
    no_records,
    NoRecordsNotice,
    "no_records.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct RedirectNotice {
    pub reference: String,
    pub patient: String,
    pub provider: String,
    pub vendor: Option<String>,
    pub ways: Vec<String>,
    pub provider_words: String,
    /// What REDIRECT would set ("fax (859) 555-0142"); empty when only a portal is known.
    pub sendable: String,
}
notice!(
    /// To the owner: the provider wants the request sent elsewhere.
    redirect,
    RedirectNotice,
    "redirect.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct Impersonation {
    pub address: String,
    pub received: String,
    pub subject: String,
    pub why: String,
}
notice!(
    /// To a staff member: a message claiming their address failed authentication.
    impersonation,
    Impersonation,
    "impersonation.txt"
);

#[derive(Debug, Clone, Serialize)]
pub struct Withdrawal {
    pub reference: String,
    pub patient: String,
    pub sent: String,
    pub reply_to: String,
    pub staff: String,
    pub firm: String,
    pub firm_phone: String,
}
notice!(
    /// To the provider: the request is withdrawn (`CANCEL`).
    withdrawal,
    Withdrawal,
    "withdrawal.txt"
);

/// Provider text quoted in a notice: indented, at most `limit` characters.
pub fn quote(text: &str, limit: usize) -> String {
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(limit).collect();
    if out.len() < trimmed.len() {
        out.push_str(" [...]");
    }
    if out.is_empty() {
        return "    (no text; see the attachment)".into();
    }
    out.lines().map(|l| format!("    {l}").trim_end().to_string()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_request_names_amount_reason_and_how_to_answer() {
        let text = approval_request(&ApprovalRequest {
            reference: "MR-1001".into(),
            patient: "Jane Doe".into(),
            provider: "Bluegrass Regional Hospital".into(),
            amount: "$450.00".into(),
            why_held: "it is above the $300.00 approval limit".into(),
            fee_check: "within KRS 422.317".into(),
            superseded: Some("$500.00".into()),
            attached: true,
            approvers: "paralegal@x.example".into(),
        });
        for want in ["$450.00", "ON HOLD", "APPROVE", "DECLINE <reason>", "replaces the earlier one of $500.00"] {
            assert!(text.contains(want), "{want} in {text}");
        }
    }

    #[test]
    fn records_notice_says_what_is_missing_only_when_partial() {
        let mut data = RecordsNotice {
            reference: "MR-1".into(),
            patient: "P".into(),
            provider: "H".into(),
            complete: false,
            gaps: "radiology".into(),
            received: "medical, billing".into(),
            flag: None,
            attached: "records.pdf".into(),
            listed: String::new(),
        };
        let text = records(&data);
        assert!(text.contains("Still missing: radiology."));
        assert!(!text.contains("Too large"));
        data.complete = true;
        assert!(!records(&data).contains("Still missing"));
    }

    #[test]
    fn quotes_are_indented_and_cut() {
        assert_eq!(quote("a\nb", 100), "    a\n    b");
        assert!(quote(&"x".repeat(50), 10).ends_with("[...]"));
        assert!(quote("  ", 10).contains("no text"));
    }
}
