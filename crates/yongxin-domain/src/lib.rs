//! The rules and types of yongxin (用心), free of I/O.
//!
//! Everything here is a pure function of its inputs: identity-number checks, masking, roles and
//! scopes, the audit chain's canonical encoding, roster validation and the deterministic demo
//! subdistrict. Storage and the web call into this crate; it calls nothing outside itself.
#![forbid(unsafe_code)]

pub mod appeal;
pub mod audit;
pub mod calendar;
pub mod catalogue;
pub mod demo;
pub mod demo_appeals;
pub mod hot;
pub mod id_number;
pub mod phone;
pub mod registry;
pub mod role;
pub mod roster;
pub mod time;

pub use audit::{AuditChainError, AuditEntry, NewAuditEntry};
pub use id_number::{IdNumber, IdNumberError};
pub use phone::{Phone, PhoneError};
pub use registry::{Relation, ResidentFlag, Sex, VillageKind};
pub use role::{Role, Scope};
