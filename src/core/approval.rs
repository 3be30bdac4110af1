//! Invoice approval rules: which invoices are approved without asking, which hold the request
//! for a decision and why, and who may decide.

use super::money::format_cents;

/// What happens to an invoice when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceDecision {
    /// At or under the automatic limit: approved and passed to billing.
    Approve,
    /// Between the automatic limit and the approval limit: approved, and the owner is told.
    ApproveAndTell,
    /// The request goes on hold until an approver decides; the reason, for the approvers.
    Hold(String),
}

/// Decides an invoice of `amount_cents` (`None`: the total could not be read).
pub fn decide(amount_cents: Option<i64>, auto_up_to: i64, required_above: i64, overcharge: bool) -> InvoiceDecision {
    let Some(amount) = amount_cents else {
        return InvoiceDecision::Hold("I could not read its total".into());
    };
    if amount > required_above {
        return InvoiceDecision::Hold(format!("it is above the {} approval limit", format_cents(required_above)));
    }
    if overcharge {
        return InvoiceDecision::Hold("the statute check finds it likely overcharged".into());
    }
    if amount <= auto_up_to { InvoiceDecision::Approve } else { InvoiceDecision::ApproveAndTell }
}

/// Whether `sender` may approve or decline an invoice on a request owned by `owner`.
pub fn may_decide(sender: &str, owner: &str, approvers: &[String]) -> bool {
    sender.eq_ignore_ascii_case(owner) || approvers.iter().any(|a| a.eq_ignore_ascii_case(sender))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_decide_and_an_overcharge_always_holds() {
        assert_eq!(decide(Some(4_500), 30_000, 30_000, false), InvoiceDecision::Approve);
        assert_eq!(decide(Some(30_000), 30_000, 30_000, false), InvoiceDecision::Approve);
        assert!(
            matches!(decide(Some(30_001), 30_000, 30_000, false), InvoiceDecision::Hold(w) if w.contains("$300.00"))
        );
        assert_eq!(decide(Some(20_000), 10_000, 30_000, false), InvoiceDecision::ApproveAndTell);
        assert!(
            matches!(decide(Some(4_500), 30_000, 30_000, true), InvoiceDecision::Hold(w) if w.contains("overcharged"))
        );
        assert!(matches!(decide(None, 30_000, 30_000, false), InvoiceDecision::Hold(_)));
    }

    #[test]
    fn owner_and_approvers_decide() {
        let approvers = vec!["attorney@x.example".to_string()];
        assert!(may_decide("owner@x.example", "Owner@x.example", &approvers));
        assert!(may_decide("attorney@x.example", "owner@x.example", &approvers));
        assert!(!may_decide("intern@x.example", "owner@x.example", &approvers));
    }
}
