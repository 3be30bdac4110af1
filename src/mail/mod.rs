//! Adapters to the mail systems: one module per system, each with its local stand-in.
//! - inbound: [`imap`] (a real server) and [`maildir`] (a local directory);
//! - outbound: [`send`] (SMTP via lettre, or a directory of `.eml` files);
//! - [`parse`] and [`compose`] turn bytes into the core's types and back.

pub mod compose;
pub mod files;
pub mod imap;
pub mod maildir;
pub mod parse;
pub mod send;
pub mod tls;
