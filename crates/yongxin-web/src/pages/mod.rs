//! Server-rendered pages. Each module owns the handlers of one area; templates live in
//! `templates/`, strings in the message catalogs.

pub mod admin;
pub mod appeals;
pub mod calendar;
pub mod categories;
pub mod consultations;
pub mod home;
pub mod meetings;
pub mod notices;
pub mod open311_keys;
pub mod projects;
pub mod registry;
pub mod resettlement;
pub mod selection;
pub mod session;
