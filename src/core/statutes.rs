//! Copy-fee and first-free-copy statutes by state: the citations letters quote and invoices are
//! checked against.
//!
//! A pure data table built from `reference/copy-fee-statutes.md` (Part B.1). Amounts are the
//! maxima for a request made by the patient's attorney under a HIPAA authorization — since
//! *Ciox Health, LLC v. Azar* (D.D.C. 2020) such requests are priced under state law, not the
//! HIPAA patient rate. Every fee schedule carries a [`Certainty`]: where the amounts come from
//! secondary sources or an unknown year, a later invoice check must only advise, never reject.
//!
//! Amounts are in cents. States that adjust by CPI record the year the amounts are for
//! (`amounts_year`); the checker must treat other years as "needs review".

/// How sure we are of a fee schedule's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    /// The statute, rule or agency fee page itself was read.
    Statute,
    /// Secondary sources, truncated text or an unstated year: advisory only.
    Secondary,
}

/// Which providers a fee schedule binds (TX and FL price physicians and hospitals differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Any,
    Physician,
    Hospital,
}

/// What one band of pages may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// So many cents for each page in the band.
    PerPage(u32),
    /// One amount covering every page in the band (TN: $25 for pages 1–5).
    Flat(u32),
}

/// A band of pages: from the page after the previous band's `through_page` up to this one
/// (`None` = no upper end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub through_page: Option<u32>,
    pub charge: Charge,
}

/// How electronic copies are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Electronic {
    /// The statute is silent (HIPAA's cost-based rule only governs the patient's own request).
    NotAddressed,
    /// The paper bands apply to electronic media too (PA).
    SameAsPaper,
    /// A percentage of the paper per-page rate (IL: 50 %).
    PercentOfPaper(u8),
    /// Bands of their own, optionally with a cap on the total (WV, TX physicians, VA).
    Bands { bands: &'static [Band], cap_cents: Option<u32> },
}

/// The most a provider may charge for one request, as far as the reference tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSchedule {
    pub provider: ProviderKind,
    /// Paper copies, in page order.
    pub paper: &'static [Band],
    /// One search/retrieval/handling fee allowed on top of the pages.
    pub search_fee_cents: Option<u32>,
    /// A minimum total the provider may charge (NC: up to $10 including copying).
    pub minimum_cents: Option<u32>,
    /// A certification or affidavit, only when one was asked for.
    pub certification_cents: Option<u32>,
    pub electronic: Electronic,
    /// CPI-adjusted amounts: the year these figures are for.
    pub amounts_year: Option<u16>,
    pub cpi_adjusted: bool,
    pub certainty: Certainty,
}

/// One state's copy-fee law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statute {
    /// Two-letter postal code.
    pub state: &'static str,
    /// What the letter cites, e.g. "KRS 422.317".
    pub citation: &'static str,
    /// Where the facts come from, in one line.
    pub source_note: &'static str,
    /// The patient's first copy is free, and the free copy extends to the attorney the patient
    /// authorizes (KY: *Eriksen v. Gruner & Simms*, 400 S.W.3d 290 (Ky. App. 2013)).
    pub first_copy_free_for_patient_or_attorney: bool,
    /// The request sentence the letter's first paragraph may quote.
    pub letter_sentence: &'static str,
    /// Fee schedules for attorney requests; empty when the reference gives no usable amounts.
    pub fees: &'static [FeeSchedule],
    /// Exceptions and caveats a person checking an invoice should know.
    pub notes: &'static str,
}

/// The request sentence when a state is not in the table, or the letter has no statute.
pub const NEUTRAL_LETTER_SENTENCE: &str = "By way of this correspondence, we hereby request a copy of the patient's \
     medical records pursuant to the patient's right of access under 45 C.F.R. § 164.524.";

/// The statute for a two-letter state code (case-insensitive).
pub fn for_state(code: &str) -> Option<&'static Statute> {
    STATUTES.iter().find(|s| s.state.eq_ignore_ascii_case(code.trim()))
}

const fn per_page(through_page: Option<u32>, cents: u32) -> Band {
    Band { through_page, charge: Charge::PerPage(cents) }
}

const fn flat(through_page: Option<u32>, cents: u32) -> Band {
    Band { through_page, charge: Charge::Flat(cents) }
}

/// A schedule with no extras; entries below override what their statute sets.
const BASE: FeeSchedule = FeeSchedule {
    provider: ProviderKind::Any,
    paper: &[],
    search_fee_cents: None,
    minimum_cents: None,
    certification_cents: None,
    electronic: Electronic::NotAddressed,
    amounts_year: None,
    cpi_adjusted: false,
    certainty: Certainty::Statute,
};

/// The table. Keep one entry per state, in the order of the reference.
pub static STATUTES: &[Statute] = &[
    Statute {
        state: "KY",
        citation: "KRS 422.317",
        source_note: "KRS 422.317; OAG 09-009; Eriksen v. Gruner & Simms, 400 S.W.3d 290 (Ky. App. 2013)",
        first_copy_free_for_patient_or_attorney: true,
        letter_sentence: "By way of this correspondence, we hereby request the patient's first free copy of \
             his/her medical records pursuant to KRS 422.317.",
        // The $1.00/page applies to the second and later copies only.
        fees: &[FeeSchedule { paper: &[per_page(None, 100)], ..BASE }],
        notes: "First copy free to the patient and the attorney the patient authorizes; no added fees on the \
             free copy (a mail/fax delivery fee is allowed if free pick-up is offered). Later copies up to \
             $1.00/page.",
    },
    Statute {
        state: "TN",
        citation: "Tenn. Code Ann. § 63-2-102",
        source_note: "T.C.A. § 63-2-102 (eff. 1 Jul 2024) via casetext; hospitals § 68-11-304 (2025 amendment assumed)",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by Tenn. Code Ann. § 63-2-102.",
        fees: &[FeeSchedule {
            paper: &[flat(Some(5), 2500), per_page(None, 50)],
            certification_cents: Some(2000),
            electronic: Electronic::Bands { bands: &[flat(Some(10), 500), per_page(None, 25)], cap_cents: Some(2500) },
            ..BASE
        }],
        notes: "Paper $25 for pages 1-5 then $0.50/page; $20 per radiology film; electronic tiers come from a \
             2025 bill summary (unverified); hospitals under § 68-11-304.",
    },
    Statute {
        state: "OH",
        citation: "Ohio Rev. Code § 3701.741",
        source_note: "ORC 3701.741 and 3701.742 (CPI); amounts from a provider's published schedule, year unstated",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by Ohio Rev. Code § 3701.741.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(10), 147), per_page(Some(50), 76), per_page(None, 30)],
            search_fee_cents: Some(2233),
            cpi_adjusted: true,
            certainty: Certainty::Secondary,
            ..BASE
        }],
        notes: "Amounts change yearly (ODH Medical Records Price Index). Free copy only for BWC, the Industrial \
             Commission, ODJFS, the AG and Social Security claims (3701.741(C)).",
    },
    Statute {
        state: "IN",
        citation: "Ind. Code § 16-39-9; 760 IAC 1-71-3",
        source_note: "760 IAC 1-71-3 via healthinfolaw.org; IC 16-39-9 (in.gov)",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by Ind. Code § 16-39-9 and 760 IAC 1-71-3.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(10), 100), per_page(Some(50), 50), per_page(None, 25)],
            search_fee_cents: Some(2000),
            certification_cents: Some(2000),
            ..BASE
        }],
        notes: "If the optional $20 labor fee is charged, pages 1-10 are free; +$10 for rush (2 working days). \
             X-rays are outside the chapter.",
    },
    Statute {
        state: "WV",
        citation: "W. Va. Code § 16-29-2",
        source_note: "W. Va. Code § 16-29-2 (2019 text) via lexace.ai and legalfix.com",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by W. Va. Code § 16-29-2.",
        fees: &[FeeSchedule {
            paper: &[per_page(None, 40)],
            search_fee_cents: Some(2000),
            certification_cents: Some(1000),
            // The $150 cap includes the search fee.
            electronic: Electronic::Bands { bands: &[per_page(None, 20)], cap_cents: Some(15000) },
            ..BASE
        }],
        notes: "Third-party rates; the patient pays a HIPAA-consistent fee. Electronic total capped at $150 \
             including search.",
    },
    Statute {
        state: "FL",
        citation: "Fla. Stat. § 456.057; Fla. Admin. Code R. 64B8-10.003",
        source_note: "§ 456.057(17), FAC 64B8-10.003 (physicians), § 395.3025 (hospitals) via law-firm summaries",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by Fla. Stat. § 456.057 and Fla. Admin. Code \
             R. 64B8-10.003.",
        fees: &[
            // Whether the attorney is the patient's "legal representative" (64B8-10.004) is litigated;
            // the "other entity" rate is the conservative reading.
            FeeSchedule { provider: ProviderKind::Physician, paper: &[per_page(None, 100)], ..BASE },
            FeeSchedule {
                provider: ProviderKind::Hospital,
                paper: &[per_page(None, 100)],
                certainty: Certainty::Secondary,
                ..BASE
            },
        ],
        notes: "Physicians: patients pay $1.00/page for 1-25 then $0.25; others $1.00/page. Hospitals $1.00/page \
             paper, $2.00 non-paper, +$1 per year of records (unverified).",
    },
    Statute {
        state: "TX",
        citation: "Tex. Occ. Code § 159.008; Tex. Health & Safety Code § 241.154",
        source_note: "22 TAC § 165.2 (physicians) and HSC § 241.154 (hospitals) via healthinfolaw.org, texas.public.law",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by Tex. Occ. Code § 159.008, 22 Tex. Admin. Code \
             § 165.2 and Tex. Health & Safety Code § 241.154.",
        fees: &[
            FeeSchedule {
                provider: ProviderKind::Physician,
                paper: &[flat(Some(20), 2500), per_page(None, 50)],
                certification_cents: Some(1500),
                electronic: Electronic::Bands { bands: &[flat(Some(500), 2500), flat(None, 2500)], cap_cents: None },
                ..BASE
            },
            FeeSchedule {
                provider: ProviderKind::Hospital,
                paper: &[flat(Some(10), 3000), per_page(Some(60), 100), per_page(Some(400), 50), per_page(None, 25)],
                ..BASE
            },
        ],
        notes: "Physicians may not charge search/retrieval. No fee for records supporting disability-benefit \
             claims (HSC § 161.202). Hospital electronic tiers unverified.",
    },
    Statute {
        state: "CA",
        citation: "Cal. Evid. Code § 1158",
        source_note: "Evid. Code § 1158 (SB 588, 2013; enacted amounts not retrieved); H&S Code § 123110 for patients",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records \
             pursuant to Cal. Evid. Code § 1158.",
        fees: &[],
        notes: "Attorney (pre-litigation) costs set by § 1158, current amounts unknown: review every invoice. \
             Subpoenas: § 1563 ($0.10/page, clerical $24/hr).",
    },
    Statute {
        state: "NY",
        citation: "N.Y. Pub. Health Law § 18",
        source_note: "PHL § 18(2)(e) via docsopengovernment.dos.ny.gov; Ortiz v. Ciox (N.Y. 2021)",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records \
             pursuant to N.Y. Pub. Health Law § 18; any charges should not exceed those permitted by that \
             section.",
        fees: &[FeeSchedule { paper: &[per_page(None, 75)], ..BASE }],
        notes: "Up to $0.75/page and never above actual cost; access may not be denied for inability to pay. \
             No private right of action for overcharges (report to DOH/AG).",
    },
    Statute {
        state: "IL",
        citation: "735 ILCS 5/8-2001",
        source_note: "735 ILCS 5/8-2001 (ilga.gov); 2024 amounts from the Illinois Comptroller",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records \
             pursuant to 735 ILCS 5/8-2001.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(25), 130), per_page(Some(50), 87), per_page(None, 43)],
            search_fee_cents: Some(3472),
            electronic: Electronic::PercentOfPaper(50),
            amounts_year: Some(2024),
            cpi_adjusted: true,
            ..BASE
        }],
        notes: "Records kept electronically must be provided electronically on request. X-rays at reasonable \
             cost of duplication.",
    },
    Statute {
        state: "GA",
        citation: "O.C.G.A. § 31-33-3",
        source_note: "O.C.G.A. § 31-33-3; rates effective 1 Jul 2024 from dch.georgia.gov",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by O.C.G.A. § 31-33-3.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(20), 97), per_page(Some(100), 83), per_page(None, 66)],
            search_fee_cents: Some(2588),
            certification_cents: Some(970),
            amounts_year: Some(2024),
            cpi_adjusted: true,
            ..BASE
        }],
        notes: "Rates do not apply to disability-benefit applications or the individual's own request (HIPAA).",
    },
    Statute {
        state: "PA",
        citation: "42 Pa.C.S. § 6152",
        source_note: "42 Pa.C.S. §§ 6152, 6152.1, 6155; 2025 amounts from pa.gov medical-record-fees",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by 42 Pa.C.S. § 6152.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(20), 194), per_page(Some(60), 144), per_page(None, 50)],
            search_fee_cents: Some(2874),
            electronic: Electronic::SameAsPaper,
            amounts_year: Some(2025),
            cpi_adjusted: true,
            ..BASE
        }],
        notes: "No search fee on the requester's own record; flat fees for SSA/needs-based claims (amount \
             unknown). X-rays excluded.",
    },
    Statute {
        state: "NC",
        citation: "N.C. Gen. Stat. § 90-411",
        source_note: "N.C.G.S. § 90-411 via law.onecle.com and healthinfolaw.org",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by N.C. Gen. Stat. § 90-411.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(25), 75), per_page(Some(100), 50), per_page(None, 25)],
            minimum_cents: Some(1000),
            ..BASE
        }],
        notes: "Applies to personal-injury and Social Security disability claims; the fee covers searching, \
             handling, copying and mailing.",
    },
    Statute {
        state: "VA",
        citation: "Va. Code § 8.01-413",
        source_note: "Va. Code § 8.01-413(B) as amended by 2017 HB 1689, via valawyersweekly.com; 2025 HB 1629",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records \
             pursuant to Va. Code § 8.01-413.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(50), 50), per_page(None, 25)],
            search_fee_cents: Some(2000),
            electronic: Electronic::Bands {
                bands: &[per_page(Some(50), 37), per_page(None, 18)],
                cap_cents: Some(16000),
            },
            certainty: Certainty::Secondary,
            ..BASE
        }],
        notes: "One free copy per calendar year to the patient or attorney for Social Security or needs-based \
             benefit claims (2025 HB 1629). Electronic cap figure truncated in the source.",
    },
    Statute {
        state: "MI",
        citation: "MCL 333.26269",
        source_note: "MCL 333.26269 (Medical Records Access Act) via lawserver; current amounts, year unstated",
        first_copy_free_for_patient_or_attorney: false,
        letter_sentence: "By way of this correspondence, we hereby request a copy of the patient's medical records; \
             any charges should not exceed those permitted by MCL 333.26269.",
        fees: &[FeeSchedule {
            paper: &[per_page(Some(20), 153), per_page(Some(50), 77), per_page(None, 31)],
            search_fee_cents: Some(3060),
            cpi_adjusted: true,
            certainty: Certainty::Secondary,
            ..BASE
        }],
        notes: "The initial fee may not be charged to the patient; all fees waived for a medically indigent \
             individual. Non-paper copies at actual cost.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: [&str; 15] =
        ["KY", "TN", "OH", "IN", "WV", "FL", "TX", "CA", "NY", "IL", "GA", "PA", "NC", "VA", "MI"];

    #[test]
    fn kentucky_first_copy_is_free_under_krs_422_317() {
        let ky = for_state("ky").expect("KY is in the table");
        assert!(ky.first_copy_free_for_patient_or_attorney);
        assert_eq!(ky.citation, "KRS 422.317");
        assert!(ky.letter_sentence.contains("first free copy"));
        assert!(ky.letter_sentence.contains("KRS 422.317"));
    }

    #[test]
    fn every_listed_state_has_a_citation_a_source_and_a_sentence() {
        for code in LISTED {
            let s = for_state(code).unwrap_or_else(|| panic!("{code} missing"));
            assert!(!s.citation.is_empty(), "{code} citation");
            assert!(!s.source_note.is_empty(), "{code} source note");
            assert!(s.letter_sentence.starts_with("By way of this correspondence, "), "{code} sentence");
            assert!(s.letter_sentence.ends_with('.'), "{code} sentence ends");
        }
    }

    #[test]
    fn codes_are_unique_two_letter_upper_case() {
        for (i, s) in STATUTES.iter().enumerate() {
            assert!(s.state.len() == 2 && s.state.chars().all(|c| c.is_ascii_uppercase()), "{}", s.state);
            assert!(STATUTES[i + 1..].iter().all(|t| t.state != s.state), "{} twice", s.state);
        }
    }

    #[test]
    fn only_kentucky_is_first_copy_free_and_only_kentucky_cites_krs() {
        for s in STATUTES.iter().filter(|s| s.state != "KY") {
            assert!(!s.first_copy_free_for_patient_or_attorney, "{}", s.state);
            assert!(!s.letter_sentence.contains("KRS"), "{} mentions KRS", s.state);
        }
    }

    #[test]
    fn bands_ascend_and_only_the_last_is_open_ended() {
        let check = |code: &str, bands: &[Band]| {
            let mut last = 0;
            for (i, b) in bands.iter().enumerate() {
                match b.through_page {
                    Some(p) => {
                        assert!(p > last, "{code} bands out of order");
                        last = p;
                    }
                    None => assert_eq!(i, bands.len() - 1, "{code} open band not last"),
                }
            }
        };
        for s in STATUTES {
            for f in s.fees {
                check(s.state, f.paper);
                if let Electronic::Bands { bands, .. } = f.electronic {
                    check(s.state, bands);
                }
                if f.cpi_adjusted && f.certainty == Certainty::Statute {
                    assert!(f.amounts_year.is_some(), "{}: CPI amounts read from the statute need their year", s.state);
                }
            }
        }
    }

    #[test]
    fn unknown_states_are_none_and_the_neutral_sentence_cites_hipaa() {
        assert!(for_state("ZZ").is_none());
        assert!(for_state("").is_none());
        assert!(NEUTRAL_LETTER_SENTENCE.contains("45 C.F.R. § 164.524"));
    }
}
