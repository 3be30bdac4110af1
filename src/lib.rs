//! medrec: runs a law firm's medical-records requests by email and fax.
//!
//! The crate is laid out as a functional core in an imperative shell:
//! - [`core`] holds the pure workflow (command parsing, sender checks, what to answer); it never
//!   does I/O and takes the current time as an argument;
//! - [`store`] owns every line of SQL;
//! - [`mail`] holds one adapter per external mail system (IMAP, Maildir, SMTP, `.eml` outbox);
//! - [`daemon`] wires them into long-running tasks under one cancellation token;
//! - [`config`] turns the TOML file into typed, validated settings.

pub mod admin;
pub mod backup;
pub mod classify_cli;
pub mod config;
pub mod core;
pub mod daemon;
pub mod doctor;
pub mod fax;
pub mod letters;
pub mod mail;
pub mod store;
