//! Where a fax stands, in one vocabulary for every gateway, and the pure mappings from each
//! vendor's words (Telnyx `status` + `failure_reason`, Sinch `status` + `errorType` + `errorCode`)
//! into it. The mapping decides what happens next: retry on our schedule, or tell staff which
//! thing to fix (the number, the document, the account).

/// Why a fax failed, by what a person (or the retry policy) should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// Busy, no answer, no fax tone, dropped call, congestion, service unavailable: try again
    /// later on our own schedule.
    Retryable,
    /// Invalid, unallocated, not in service or not permitted: fix the fax number.
    BadNumber,
    /// Conversion, size, page limit, format: fix the document.
    BadDocument,
    /// Authentication, payment, disabled account: an admin must act.
    Account,
    /// Anything else: tell staff.
    Other,
}

/// A fax's state, normalised across gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaxStatus {
    Queued,
    Sending,
    Delivered { pages: Option<u32> },
    Failed { class: FailureClass, reason: String },
}

impl FaxStatus {
    /// Ordering for out-of-order webhooks: queued < sending < terminal. A status may replace the
    /// stored one only if its rank is higher, so a late `sending` never undoes `delivered`, and
    /// the first terminal state wins.
    pub fn rank(&self) -> u8 {
        match self {
            FaxStatus::Queued => 0,
            FaxStatus::Sending => 1,
            FaxStatus::Delivered { .. } | FaxStatus::Failed { .. } => 2,
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.rank() == 2
    }

    /// True when `self` (newly reported) should replace `current` (stored).
    pub fn supersedes(&self, current: &FaxStatus) -> bool {
        self.rank() > current.rank()
    }
}

/// Every Telnyx status word [`telnyx_status`] names (spec schema `Fax`, property `status`).
pub const TELNYX_STATUSES: [&str; 6] = ["queued", "media.processed", "originated", "sending", "delivered", "failed"];
/// Every Sinch status [`sinch_status`] names (spec schema `FaxStatus`).
pub const SINCH_STATUSES: [&str; 4] = ["QUEUED", "IN_PROGRESS", "COMPLETED", "FAILURE"];
/// The Sinch error types [`sinch_failure_class`] knows (spec schema `ErrorType`).
pub const SINCH_ERROR_TYPES: [&str; 5] =
    ["DOCUMENT_CONVERSION_ERROR", "CALL_ERROR", "FAX_ERROR", "FATAL_ERROR", "GENERAL_ERROR"];
/// The Sinch codes [`sinch_failure_class`] singles out, by the spec schema that lists them.
pub const SINCH_NAMED_CODES: [(&str, i64); 13] = [
    ("CallError", 32),
    ("CallError", 34),
    ("CallError", 49),
    ("FaxError", 46),
    ("FaxError", 133),
    ("FaxError", 113),
    ("FaxError", 7),
    ("FaxError", 25),
    ("FaxError", 31),
    ("FaxError", 68),
    ("FaxError", 75),
    ("FaxError", 79),
    ("FaxError", 119),
];

/// Telnyx `Fax.status` / webhook `payload.status` (with `failure_reason` and `page_count` where
/// the event carries them). Unknown statuses count as queued: the next event or lookup corrects
/// them, and a wrong terminal state could not be undone.
pub fn telnyx_status(status: &str, failure_reason: Option<&str>, pages: Option<u32>) -> FaxStatus {
    match status {
        // outbound: queued → media.processed → originated → sending → delivered | failed
        "queued" | "media.processed" | "originated" => FaxStatus::Queued,
        "sending" => FaxStatus::Sending,
        "delivered" => FaxStatus::Delivered { pages },
        "failed" => {
            let reason = failure_reason.filter(|r| !r.is_empty()).unwrap_or("failed (no reason given)");
            FaxStatus::Failed { class: telnyx_failure_class(reason), reason: reason.to_string() }
        }
        // inbound (initiated | receiving | media.processing | received) and anything new
        _ => FaxStatus::Queued,
    }
}

/// Classifies a Telnyx `failure_reason`. The spec's enum lists only `rejected`; the values
/// below come from Telnyx's support article 4967498 and docs (see fax-gateways.md §A.1.1), and
/// unknown values fall back to keywords, then [`FailureClass::Other`].
pub fn telnyx_failure_class(reason: &str) -> FailureClass {
    use FailureClass::*;
    match reason {
        "fax_initial_communication_timeout"
        | "fax_signaling_error"
        | "receiver_call_dropped"
        | "receiver_communication_error"
        | "receiver_no_response"
        | "receiver_recovery_on_timer_expire"
        | "service_unavailable"
        | "connection_channel_limit_exceeded"
        | "destination_unreachable"
        | "user_busy"
        // Telnyx reports a busy line as a decline or a no-response; retrying a real refusal a
        // few times costs little, while reporting a busy line as a bad number would be wrong.
        | "receiver_decline" => Retryable,
        "receiver_invalid_number_format"
        | "receiver_unallocated_number"
        | "destination_invalid"
        | "destination_not_in_countries_whitelist"
        | "destination_not_in_service_plan" => BadNumber,
        "file_size_limit_exceeded" | "page_count_limit_exceeded" | "file_download_failed" | "file_format_invalid" => {
            BadDocument
        }
        "account_disabled" => Account,
        other => by_keyword(other),
    }
}

fn by_keyword(reason: &str) -> FailureClass {
    let has = |words: &[&str]| words.iter().any(|w| reason.contains(w));
    if has(&["account", "balance", "payment", "insufficient", "unauthorized", "forbidden"]) {
        FailureClass::Account
    } else if has(&["number", "unallocated", "not_in_service", "not_permitted", "whitelist"]) {
        FailureClass::BadNumber
    } else if has(&["file", "media", "page_count", "format", "conversion"]) {
        FailureClass::BadDocument
    } else if has(&["busy", "no_answer", "no_response", "timeout", "dropped", "unavailable", "congestion"]) {
        FailureClass::Retryable
    } else {
        FailureClass::Other
    }
}

/// Sinch `Fax.status` (`QUEUED | IN_PROGRESS | COMPLETED | FAILURE`) with its error fields and
/// page count. For an OUTBOUND fax, FAILURE means no recipient got it.
pub fn sinch_status(
    status: &str,
    error_type: Option<&str>,
    error_code: Option<i64>,
    error_message: Option<&str>,
    pages: Option<u32>,
) -> FaxStatus {
    match status {
        "IN_PROGRESS" => FaxStatus::Sending,
        "COMPLETED" => FaxStatus::Delivered { pages },
        "FAILURE" => {
            let class = sinch_failure_class(error_type.unwrap_or(""), error_code);
            let mut reason = match (error_type, error_code) {
                (Some(t), Some(c)) => format!("{t} {c}"),
                (Some(t), None) => t.to_string(),
                (None, Some(c)) => format!("error {c}"),
                (None, None) => "FAILURE (no error given)".to_string(),
            };
            if let Some(m) = error_message.filter(|m| !m.is_empty()) {
                reason = format!("{reason}: {m}");
            }
            FaxStatus::Failed { class, reason }
        }
        // QUEUED, and anything new: see telnyx_status
        _ => FaxStatus::Queued,
    }
}

/// Classifies a Sinch failure by `errorType` and `errorCode` (the spec's `CallError`, `FaxError`
/// and `DocumentConversionError` schemas list the codes and their meanings).
pub fn sinch_failure_class(error_type: &str, code: Option<i64>) -> FailureClass {
    use FailureClass::*;
    match (error_type, code) {
        ("DOCUMENT_CONVERSION_ERROR", _) => BadDocument,
        // 32 incompatible destination (not a fax line), 34 not operational, 49 not active
        ("CALL_ERROR", Some(32 | 34 | 49)) => BadNumber,
        // 11 dropped, 15 congestion, 16 ring timeout, 17 busy, 19 immediate hangup,
        // 30 no answer from a fax machine, 43 problem establishing connection: "many times you
        // can just try again"
        ("CALL_ERROR", _) => Retryable,
        ("FAX_ERROR", Some(46)) => Account,      // insufficient funds
        ("FAX_ERROR", Some(133)) => BadNumber,   // phone number is not permitted
        ("FAX_ERROR", Some(113)) => BadDocument, // the file was deleted or is not accessible
        // 7/25 the far end cannot take the image size/resolution, 31/68 incompatible machine,
        // 75 cancelled by a user, 79 already complete, 119 simulated: a person should look
        ("FAX_ERROR", Some(7 | 25 | 31 | 68 | 75 | 79 | 119)) => Other,
        // the rest are line and protocol errors (14 and 132: no fax tone, 48: no answer,
        // 76: timeout exceeded, ...), worth another try later
        ("FAX_ERROR", _) => Retryable,
        _ => Other, // FATAL_ERROR, GENERAL_ERROR, anything new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureClass::*;

    #[test]
    fn telnyx_failure_reasons_from_the_support_article() {
        let cases = [
            ("receiver_no_response", Retryable),
            ("fax_initial_communication_timeout", Retryable),
            ("receiver_call_dropped", Retryable),
            ("service_unavailable", Retryable),
            ("receiver_decline", Retryable),
            ("receiver_unallocated_number", BadNumber),
            ("receiver_invalid_number_format", BadNumber),
            ("destination_not_in_countries_whitelist", BadNumber),
            ("file_size_limit_exceeded", BadDocument),
            ("page_count_limit_exceeded", BadDocument),
            ("file_format_invalid", BadDocument),
            ("account_disabled", Account),
            ("rejected", Other),
        ];
        for (reason, class) in cases {
            assert_eq!(telnyx_failure_class(reason), class, "{reason}");
        }
    }

    #[test]
    fn unknown_telnyx_reasons_fall_back_to_keywords() {
        assert_eq!(telnyx_failure_class("receiver_busy_signal"), Retryable);
        assert_eq!(telnyx_failure_class("insufficient_balance"), Account);
        assert_eq!(telnyx_failure_class("media_conversion_failed"), BadDocument);
        assert_eq!(telnyx_failure_class("number_not_in_service"), BadNumber);
        assert_eq!(telnyx_failure_class("something_new"), Other);
    }

    #[test]
    fn telnyx_statuses() {
        assert_eq!(telnyx_status("media.processed", None, None), FaxStatus::Queued);
        assert_eq!(telnyx_status("originated", None, None), FaxStatus::Queued);
        assert_eq!(telnyx_status("sending", None, None), FaxStatus::Sending);
        assert_eq!(telnyx_status("delivered", None, Some(3)), FaxStatus::Delivered { pages: Some(3) });
        assert_eq!(
            telnyx_status("failed", Some("receiver_no_response"), None),
            FaxStatus::Failed { class: Retryable, reason: "receiver_no_response".into() }
        );
        assert!(matches!(telnyx_status("failed", None, None), FaxStatus::Failed { class: Other, .. }));
        assert_eq!(telnyx_status("brand_new_state", None, None), FaxStatus::Queued);
    }

    #[test]
    fn sinch_error_codes() {
        let cases = [
            ("CALL_ERROR", 17, Retryable), // busy
            ("CALL_ERROR", 30, Retryable), // no answer from a fax machine
            ("CALL_ERROR", 15, Retryable), // congestion
            ("CALL_ERROR", 34, BadNumber),
            ("CALL_ERROR", 49, BadNumber),
            ("FAX_ERROR", 132, Retryable), // no fax tone
            ("FAX_ERROR", 14, Retryable),
            ("FAX_ERROR", 48, Retryable),
            ("FAX_ERROR", 46, Account),
            ("FAX_ERROR", 133, BadNumber),
            ("FAX_ERROR", 75, Other),
            ("DOCUMENT_CONVERSION_ERROR", 130, BadDocument),
            ("DOCUMENT_CONVERSION_ERROR", 133, BadDocument),
            ("FATAL_ERROR", 1, Other),
            ("GENERAL_ERROR", 1, Other),
        ];
        for (t, code, class) in cases {
            assert_eq!(sinch_failure_class(t, Some(code)), class, "{t} {code}");
        }
    }

    #[test]
    fn sinch_statuses() {
        assert_eq!(sinch_status("QUEUED", None, None, None, None), FaxStatus::Queued);
        assert_eq!(sinch_status("IN_PROGRESS", None, None, None, None), FaxStatus::Sending);
        assert_eq!(sinch_status("COMPLETED", None, None, None, Some(2)), FaxStatus::Delivered { pages: Some(2) });
        assert_eq!(
            sinch_status("FAILURE", Some("CALL_ERROR"), Some(17), Some("Busy"), None),
            FaxStatus::Failed { class: Retryable, reason: "CALL_ERROR 17: Busy".into() }
        );
    }

    #[test]
    fn terminal_states_outrank_and_never_go_back() {
        let delivered = FaxStatus::Delivered { pages: None };
        let failed = FaxStatus::Failed { class: Other, reason: "x".into() };
        assert!(FaxStatus::Sending.supersedes(&FaxStatus::Queued));
        assert!(delivered.supersedes(&FaxStatus::Sending));
        assert!(!FaxStatus::Sending.supersedes(&delivered));
        assert!(!FaxStatus::Queued.supersedes(&FaxStatus::Queued));
        assert!(!failed.supersedes(&delivered), "the first terminal state wins");
        assert!(delivered.is_terminal() && failed.is_terminal() && !FaxStatus::Sending.is_terminal());
    }
}
