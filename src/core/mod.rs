//! The pure core: everything here is a function of its inputs (time included), with no I/O,
//! no async runtime and no database, so it can be tested exhaustively.

pub mod answers;
pub mod authentication;
pub mod automatic;
pub mod bounce;
pub mod classify;
pub mod command;
pub mod dates;
pub mod inbound;
pub mod matching;
pub mod message_id;
pub mod money;
pub mod new_request;
pub mod new_text;
pub mod patient;
pub mod provider;
pub mod reference;
pub mod statutes;
