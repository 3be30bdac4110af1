//! Staff commands that need the directory or the requests: `NEW`, `PROVIDER ADD` and
//! `PROVIDER FIND`. Each reads what it needs from the store, lets the core check it, and returns
//! a [`Plan`] that intake stores in one transaction with the message.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::intake::{Intake, Plan, PreparedRequest, StoredFile};
use crate::core::answers;
use crate::core::command::Command;
use crate::core::inbound::{Attachment, InboundMail, answer_to};
use crate::core::new_request::{self, Problem};
use crate::core::new_text;
use crate::core::provider::{self, Method, Resolved, display_fax};
use crate::letters;
use crate::store::Upserted;

/// Carries out `cmd` from `from` (an authenticated staff member).
pub(super) async fn plan(
    intake: &Intake,
    cmd: Command,
    mail: &InboundMail,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Plan> {
    let answer = |body: String| Plan::Answer(answer_to(mail, from, body));
    Ok(match cmd {
        Command::New { confirm } => new_request(intake, mail, from, confirm, now).await?,
        Command::ProviderAdd => answer(provider_add(intake, mail, now).await?),
        Command::ProviderFind(query) => answer(provider_find(intake, &query).await?),
        Command::File(reference) => super::replies::file(intake, mail, from, reference).await?,
        Command::Status(named) => match super::request_commands::target(intake, named, mail) {
            Some(reference) => answer(super::status::status(intake, reference, now).await?),
            None => answer(
                "Which request? Write STATUS MR-1042, or reply STATUS to one of my messages about it. LIST shows \
                 the open requests."
                    .into(),
            ),
        },
        Command::History(named) => match super::request_commands::target(intake, named, mail) {
            Some(reference) => answer(super::status::history(intake, reference).await?),
            None => {
                answer("Which request? Write HISTORY MR-1042, or reply HISTORY to one of my messages about it.".into())
            }
        },
        Command::List(filter) => answer(super::status::list(intake, filter, from, now).await?),
        Command::Help => answer(answers::help(&intake.settings.bot.name)),
        other => super::request_commands::plan(intake, other, mail, from, now).await?,
    })
}

async fn new_request(
    intake: &Intake,
    mail: &InboundMail,
    from: &str,
    confirm: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Plan> {
    let text = new_text::new_text(&mail.text);
    let today = now.with_timezone(&intake.settings.firm.time_zone).date_naive();
    let (form, mut problems) = match new_request::parse(&text, today) {
        Ok(form) => (Some(form), Vec::new()),
        Err(problems) => (None, problems),
    };
    let authorization = authorization(&mail.attachments).map_err(|p| problems.push(p)).ok();
    let provider = match new_request::value_of(&text, "Provider") {
        Some(query) => resolve_provider(intake, &query).await?.map_err(|p| problems.push(p)).ok(),
        None => None,
    };
    if !problems.is_empty() {
        let example = new_request::corrected_example(&text, &problems);
        return Ok(Plan::Answer(answer_to(mail, from, answers::new_request_problems(&problems, &example))));
    }
    let (Some(form), Some(authorization), Some(provider)) = (form, authorization, provider) else {
        anyhow::bail!("a NEW form without problems lacks a part");
    };
    let open = intake.store.open_requests_for(&form.patient_name, form.dob.expose(), provider.id).await?;
    if !open.is_empty() && !confirm {
        let open: Vec<_> = open.iter().map(|o| (o.reference.to_string(), o.state.replace('_', " "))).collect();
        let body = answers::new_request_duplicate(&provider.entry.name, &open);
        return Ok(Plan::Answer(answer_to(mail, from, body)));
    }
    let file = store_file(intake, "authorizations", authorization).await?;
    Ok(Plan::Create(PreparedRequest { form, provider_id: provider.id, owner: from.to_string(), authorization: file }))
}

/// The signed authorization: the first attached PDF that opens. Otherwise, what is wrong.
fn authorization(attachments: &[Attachment]) -> Result<&Attachment, Problem> {
    let pdfs: Vec<&Attachment> = attachments.iter().filter(|a| a.looks_like_pdf()).collect();
    let mut why = None;
    for pdf in &pdfs {
        match letters::inspect_pdf(&pdf.bytes) {
            Ok(_) => return Ok(pdf),
            Err(problem) => why = Some(format!("`{}`: {problem}", pdf.filename)),
        }
    }
    let message = match (why, attachments.is_empty()) {
        (Some(why), _) => format!("{why}; attach the signed HIPAA authorization as a PDF that opens"),
        (None, true) => "no attachment: attach the signed HIPAA authorization as a PDF".into(),
        (None, false) => "none of the attachments is a PDF: attach the signed HIPAA authorization as a PDF".into(),
    };
    Err(Problem { field: "Authorization", message })
}

/// The directory entry a `Provider:` line names, usable for sending.
async fn resolve_provider(intake: &Intake, query: &str) -> anyhow::Result<Result<crate::store::ProviderRow, Problem>> {
    let candidates = intake.store.provider_candidates().await?;
    let problem = |message: String| Ok(Err(Problem { field: "Provider", message }));
    let id = match provider::resolve(query, &candidates) {
        Resolved::One(id) => id,
        Resolved::Unknown(closest) if closest.is_empty() => {
            return problem(format!(
                "`{query}` is not in the provider directory; add it first with PROVIDER ADD (Name:, Fax:, Email:, \
                 City:, State:, Preferred method:)"
            ));
        }
        Resolved::Unknown(closest) => {
            let names: Vec<String> = closest.iter().map(|(id, name)| format!("{name} (#{id})")).collect();
            return problem(format!(
                "`{query}` does not name one provider in the directory; the closest are: {}. Write one of these \
                 names (or its #number), or add the provider with PROVIDER ADD",
                names.join("; ")
            ));
        }
    };
    let Some(row) = intake.store.provider(id).await? else { return problem(format!("provider #{id} is gone")) };
    let e = &row.entry;
    let usable = match e.preferred_method {
        Method::Fax => e.fax.is_some(),
        Method::Email => e.email.is_some(),
        Method::Mail | Method::Portal => false,
    };
    if !usable {
        return problem(format!(
            "{} prefers {}, and I can send only by fax or email; update it with PROVIDER ADD (Name: {}, plus a Fax: \
             or Email: and Preferred method:), or send this request yourself",
            e.name,
            e.preferred_method.as_str(),
            e.name
        ));
    }
    if e.state.is_none() || e.street.is_none() || e.city.is_none() {
        return problem(format!(
            "{} has no full address in the directory, and the letter needs one; complete it with PROVIDER ADD \
             (Name: {}, Street:, City:, State:, Zip:)",
            e.name, e.name
        ));
    }
    Ok(Ok(row))
}

/// Keeps a file under the documents directory, named by its content so a repeat costs nothing.
pub(super) async fn store_file(intake: &Intake, folder: &str, a: &Attachment) -> anyhow::Result<StoredFile> {
    let sha256 = crate::mail::files::sha256_hex(&a.bytes);
    let dir = intake.settings.documents.join(folder);
    let name = format!("{sha256}.pdf");
    let (d, n, bytes) = (dir.clone(), name.clone(), a.bytes.clone());
    tokio::task::spawn_blocking(move || crate::mail::files::write_atomically(&d, &n, &bytes)).await??;
    Ok(StoredFile {
        filename: a.filename.clone(),
        path: dir.join(name).display().to_string(),
        size: a.bytes.len() as i64,
        sha256,
    })
}

async fn provider_add(intake: &Intake, mail: &InboundMail, now: DateTime<Utc>) -> anyhow::Result<String> {
    let text = new_text::new_text(&mail.text);
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    let mut unknown = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((key, value)) = line.split_once(':') else { continue };
        match provider::field_name(key) {
            Some(field) => {
                fields.insert(field, value.trim().to_string());
            }
            None if key.trim().to_ascii_uppercase().starts_with("PROVIDER") => {}
            None => unknown.push(key.trim().to_string()),
        }
    }
    let mut problems = match provider::entry(&fields) {
        Ok(entry) if unknown.is_empty() => {
            let (verb, id) = match intake.store.upsert_provider(&entry, now).await? {
                Upserted::Created(id) => ("Added", id),
                Upserted::Updated(id) => ("Updated", id),
                Upserted::Unchanged(id) => ("Already in the directory, unchanged:", id),
            };
            return Ok(format!("{verb} #{id}:\n\n{}\n", describe(&entry, id)));
        }
        Ok(_) => Vec::new(),
        Err(p) => p,
    };
    for key in unknown {
        problems.push(format!("`{key}` is not a provider field; the fields are {}", provider::FIELDS.join(", ")));
    }
    Ok(format!(
        "I could not add the provider:\n\n{}\n\nA correct example:\n\n    PROVIDER ADD\n    Name: Bluegrass Regional \
         Hospital\n    Department: Health Information Management / ROI\n    Street: 1000 Example Pkwy\n    City: \
         Lexington\n    State: KY\n    Zip: 40503\n    Fax: 859-555-0111\n    Email: roi@bluegrass-regional.example\n    \
         Preferred method: fax\n",
        problems.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n")
    ))
}

async fn provider_find(intake: &Intake, query: &str) -> anyhow::Result<String> {
    let candidates = intake.store.provider_candidates().await?;
    let found = provider::find(query, &candidates, 5);
    if found.is_empty() {
        return Ok(format!(
            "No provider in the directory matches `{query}`. Add one with PROVIDER ADD (Name:, Fax:, Email:, \
             Street:, City:, State:, Zip:, Preferred method:)."
        ));
    }
    let mut out = format!("Providers matching `{query}`:\n");
    for (_, c) in found {
        if let Some(row) = intake.store.provider(c.id).await? {
            out.push('\n');
            out.push_str(&describe(&row.entry, row.id));
            out.push('\n');
        }
    }
    out.push_str("\nUse the name (or #number) on the Provider: line of a NEW request.\n");
    Ok(out)
}

fn describe(e: &provider::ProviderEntry, id: i64) -> String {
    let place = [e.street.as_deref(), e.city.as_deref(), e.state.as_deref(), e.zip.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = vec![format!("#{id} {}", e.name)];
    if let Some(d) = &e.department {
        lines.push(format!("    {d}"));
    }
    if !place.is_empty() {
        lines.push(format!("    {place}"));
    }
    lines.push(format!(
        "    prefers {}; fax {}; email {}",
        e.preferred_method.as_str(),
        e.fax.as_deref().map(display_fax).unwrap_or_else(|| "none".into()),
        e.email.as_deref().unwrap_or("none")
    ));
    lines.join("\n")
}
