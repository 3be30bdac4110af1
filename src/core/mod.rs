//! The pure core: everything here is a function of its inputs (time included), with no I/O,
//! no async runtime and no database, so it can be tested exhaustively.

pub mod answers;
pub mod approval;
pub mod authentication;
pub mod automatic;
pub mod bounce;
pub mod calendar;
pub mod classify;
pub mod command;
pub mod coverage;
pub mod dates;
pub mod eta;
pub mod fee_check;
pub mod inbound;
pub mod lifecycle;
pub mod matching;
pub mod message_id;
pub mod money;
pub mod new_request;
pub mod new_text;
pub mod notices;
pub mod patient;
pub mod provider;
pub mod redirect;
pub mod reference;
pub mod reminders;
pub mod schedule;
pub mod statutes;
