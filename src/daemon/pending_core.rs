//! Temporary stand-ins for core readers being written; removed when they land.
#![allow(dead_code, unused_variables)]
pub mod coverage {
    use crate::core::new_request::RecordType;
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Coverage {
        pub received: Vec<RecordType>,
        pub awaiting_media: Vec<RecordType>,
        pub missing: Vec<RecordType>,
    }
    impl Coverage {
        pub fn is_complete(&self) -> bool {
            self.missing.is_empty() && self.awaiting_media.is_empty()
        }
        pub fn gaps_in_words(&self) -> String {
            String::new()
        }
    }
    pub fn judge(requested: &[RecordType], already: &[RecordType], new_text: &str, attachment_text: &str) -> Coverage {
        Coverage { received: requested.to_vec(), ..Coverage::default() }
    }
}
pub mod eta {
    pub fn read(text: &str, received_on: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        None
    }
}
pub mod redirect {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Redirect {
        pub email: Option<String>,
        pub fax: Option<String>,
        pub portal: Option<String>,
        pub vendor: Option<&'static str>,
    }
    impl Redirect {
        pub fn is_empty(&self) -> bool {
            true
        }
        pub fn describe(&self) -> Vec<String> {
            Vec::new()
        }
    }
    pub fn read(text: &str, known: &[&str]) -> Redirect {
        Redirect::default()
    }
}
pub mod fee_check {
    #[derive(Debug, Clone, PartialEq)]
    pub struct InvoiceFacts {
        pub amount_cents: i64,
        pub pages: Option<u32>,
        pub electronic: bool,
        pub certification_requested: bool,
    }
    #[derive(Debug, Clone, PartialEq)]
    pub enum Verdict {
        Overcharge { allowed_cents: i64, billed_cents: i64, citation: &'static str, why: String },
        Within { allowed_cents: i64, citation: &'static str },
        Advisory { citation: &'static str, why: String },
        Unknown { why: String },
    }
    pub fn check(
        state: Option<&str>,
        provider: crate::core::statutes::ProviderKind,
        facts: &InvoiceFacts,
        first_copy: bool,
        year: i32,
    ) -> Verdict {
        Verdict::Unknown { why: String::new() }
    }
    pub fn describe(v: &Verdict) -> String {
        String::new()
    }
    pub fn pages_in(text: &str) -> Option<u32> {
        None
    }
}
