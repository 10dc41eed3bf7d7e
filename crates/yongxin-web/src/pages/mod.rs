//! Server-rendered pages. Each module owns the handlers of one area; templates live in
//! `templates/`, strings in the message catalogs.

pub mod admin;
pub mod appeals;
pub mod categories;
pub mod consultations;
pub mod meetings;
pub mod notices;
pub mod projects;
pub mod registry;
pub mod resettlement;
pub mod selection;
