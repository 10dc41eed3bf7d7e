//! The one integration-test binary: the real application on port 0 over a real database, driven
//! over HTTP, and the real `yongxin` binary driven as a user would. Every HTTP test runs on SQLite,
//! and again on PostgreSQL when `YONGXIN_TEST_POSTGRES_URL` is set.
#![expect(clippy::unwrap_used, reason = "tests")]

mod accounts;
mod appeals;
mod browser;
mod campaigns;
mod cli;
mod consultations;
mod desk;
mod english;
mod mail;
mod meetings;
mod notices;
mod open311;
mod pages;
mod photos;
mod reports;
mod resettlement;
mod resident_path;
mod scorecards;
mod search;
mod selection;
mod selection_day;
mod support;
mod trust;
mod web;
mod work;
