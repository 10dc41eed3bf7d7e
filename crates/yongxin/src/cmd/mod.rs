//! One module per subcommand, each with its arguments and a `run`.

pub mod audit;
pub mod backup;
pub mod check;
pub mod config;
pub mod demo;
pub mod export;
pub mod import;
pub mod lottery;
pub mod migrate;
pub mod open311;
pub mod report;
pub mod search;
pub mod serve;
pub mod user;
