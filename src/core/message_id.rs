//! Our own `Message-ID`s: `<mr-1042.k3j9x2@denhamlaw.example>` for mail about a request,
//! `<medrec.k3j9x2@denhamlaw.example>` otherwise. The reference rides in the id so a provider's
//! reply finds its request through `In-Reply-To` even when they strip our subject.

use super::reference::Reference;

/// Builds a `Message-ID` (with angle brackets). `unique` must be unique per message; the shell
/// draws it at random.
pub fn make(reference: Option<Reference>, unique: &str, domain: &str) -> String {
    match reference {
        Some(r) => format!("<mr-{}.{unique}@{domain}>", r.0),
        None => format!("<medrec.{unique}@{domain}>"),
    }
}

/// The request a `Message-ID` of ours names, if it is ours and names one.
pub fn reference_of(message_id: &str, domain: &str) -> Option<Reference> {
    let id = message_id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, host) = id.rsplit_once('@')?;
    if !host.eq_ignore_ascii_case(domain) {
        return None;
    }
    let (tag, _) = local.split_once('.')?;
    let n = tag.strip_prefix("mr-")?;
    n.parse().ok().map(Reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_reference() {
        let id = make(Some(Reference(1042)), "k3j9", "denhamlaw.example");
        assert_eq!(id, "<mr-1042.k3j9@denhamlaw.example>");
        assert_eq!(reference_of(&id, "denhamlaw.example"), Some(Reference(1042)));
        assert_eq!(reference_of(&id, "other.example"), None);
        assert_eq!(reference_of(&make(None, "k3j9", "d.example"), "d.example"), None);
        assert_eq!(reference_of("<mr-x.1@d.example>", "d.example"), None);
    }
}
