//! Decides whether a message's sender is authenticated, from the `Authentication-Results`
//! header (RFC 8601) that the firm's own mail server stamps on incoming mail.
//!
//! Only a header carrying the configured `authserv-id` is read, and only the topmost such
//! header: the receiving server adds its own above anything the sender wrote, and RFC 8601 §5
//! asks it to remove forged ones that claim its id. A pass counts only when it is aligned with
//! the `From` address: DMARC for the From domain, DKIM signed by the From domain, or SMTP AUTH
//! (`auth=pass`, RFC 8601 §2.7.4) by the From address itself.

/// How much the inbox trusts the `From` of its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderTrust {
    /// Require a passing, aligned `Authentication-Results` from this authserv-id.
    Verified { authserv_id: String },
    /// Take `From` as it is: only for a local Maildir fed by trusted processes.
    Unverified,
}

/// The outcome for one message, with the reason in words for logs and staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    Passed(String),
    Failed(String),
    NotChecked,
}

impl Authentication {
    pub fn is_trusted(&self) -> bool {
        matches!(self, Authentication::Passed(_) | Authentication::NotChecked)
    }
}

/// Checks `from` against the message's headers (in order, top first).
pub fn check(from: &str, headers: &[(String, String)], trust: &SenderTrust) -> Authentication {
    let SenderTrust::Verified { authserv_id } = trust else {
        return Authentication::NotChecked;
    };
    let ours = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| parse(value))
        .find(|r| r.authserv_id.eq_ignore_ascii_case(authserv_id));
    let Some(results) = ours else {
        return Authentication::Failed(format!("no Authentication-Results from {authserv_id}"));
    };
    let from = from.trim().to_ascii_lowercase();
    let from_domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    for m in &results.methods {
        if m.result != "pass" {
            continue;
        }
        let prop = |name: &str| m.props.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let aligned = match m.method.as_str() {
            "dmarc" => prop("header.from").is_some_and(|d| d == from_domain),
            "dkim" => prop("header.d").is_some_and(|d| domain_aligned(from_domain, d)),
            "auth" => prop("smtp.auth").is_some_and(|u| u == from),
            _ => false,
        };
        if aligned {
            return Authentication::Passed(m.method.clone());
        }
    }
    Authentication::Failed(format!("no aligned dmarc, dkim or auth pass from {authserv_id}"))
}

/// Relaxed alignment (RFC 7489 §3.1.1): the signing domain is the From domain or a parent.
fn domain_aligned(from_domain: &str, signer: &str) -> bool {
    !signer.is_empty() && (from_domain == signer || from_domain.ends_with(&format!(".{signer}")))
}

#[derive(Debug, Default, PartialEq)]
struct Results {
    authserv_id: String,
    methods: Vec<MethodResult>,
}

#[derive(Debug, Default, PartialEq)]
struct MethodResult {
    method: String,
    result: String,
    props: Vec<(String, String)>,
}

/// Parses one header value; comments in parentheses are dropped, names lowercased.
fn parse(value: &str) -> Results {
    let text = strip_comments(value);
    let mut parts = text.split(';');
    let authserv_id = parts.next().unwrap_or("").split_whitespace().next().unwrap_or("").to_string();
    let methods = parts
        .filter_map(|part| {
            let mut tokens = part.split_whitespace();
            let (method, result) = tokens.next()?.split_once('=')?;
            let method = method.split('/').next().unwrap_or(method).to_ascii_lowercase();
            let props = tokens
                .filter_map(|t| t.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_ascii_lowercase()))
                .collect();
            Some(MethodResult { method, result: result.to_ascii_lowercase(), props })
        })
        .collect();
    Results { authserv_id, methods }
}

fn strip_comments(value: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> Vec<(String, String)> {
        values.iter().map(|v| ("Authentication-Results".to_string(), v.to_string())).collect()
    }

    fn ours() -> SenderTrust {
        SenderTrust::Verified { authserv_id: "mx.denhamlaw.example".into() }
    }

    #[test]
    fn aligned_dmarc_dkim_or_auth_passes() {
        let from = "Paralegal@DenhamLaw.example";
        let dmarc = headers(&["mx.denhamlaw.example; dmarc=pass (p=reject) header.from=denhamlaw.example"]);
        assert_eq!(check(from, &dmarc, &ours()), Authentication::Passed("dmarc".into()));
        let dkim = headers(&["mx.denhamlaw.example 1; dkim=pass header.d=denhamlaw.example header.s=s1"]);
        assert_eq!(check(from, &dkim, &ours()), Authentication::Passed("dkim".into()));
        let auth = headers(&["mx.denhamlaw.example; auth=pass smtp.auth=paralegal@denhamlaw.example"]);
        assert_eq!(check(from, &auth, &ours()), Authentication::Passed("auth".into()));
    }

    #[test]
    fn unaligned_or_failed_results_do_not_pass() {
        let from = "paralegal@denhamlaw.example";
        for value in [
            "mx.denhamlaw.example; dkim=pass header.d=evil.example",
            "mx.denhamlaw.example; dmarc=fail header.from=denhamlaw.example",
            "mx.denhamlaw.example; auth=pass smtp.auth=intern@denhamlaw.example",
            "mx.denhamlaw.example; spf=pass smtp.mailfrom=denhamlaw.example",
            "mx.denhamlaw.example; none",
        ] {
            assert!(!check(from, &headers(&[value]), &ours()).is_trusted(), "{value}");
        }
    }

    #[test]
    fn only_our_topmost_header_counts() {
        let from = "paralegal@denhamlaw.example";
        // A forged pass from another server id is ignored.
        let forged = headers(&["evil.example; dmarc=pass header.from=denhamlaw.example"]);
        assert!(!check(from, &forged, &ours()).is_trusted());
        // Our server's verdict sits above a forged one the sender wrote.
        let stacked = headers(&[
            "mx.denhamlaw.example; auth=none",
            "mx.denhamlaw.example; dmarc=pass header.from=denhamlaw.example",
        ]);
        assert!(!check(from, &stacked, &ours()).is_trusted());
    }

    #[test]
    fn unverified_inbox_trusts_from() {
        assert_eq!(check("a@b.example", &[], &SenderTrust::Unverified), Authentication::NotChecked);
    }

    #[test]
    fn subdomain_signatures_align_relaxed() {
        assert!(domain_aligned("mail.denhamlaw.example", "denhamlaw.example"));
        assert!(!domain_aligned("denhamlaw.example", "mail.denhamlaw.example"));
        assert!(!domain_aligned("xdenhamlaw.example", "denhamlaw.example"));
    }
}
