//! Server-rendered pages. Each module owns the handlers of one area; templates live in
//! `templates/`, strings in the message catalogs.

pub mod selection;
