//! The rules and types of yongxin (用心), free of I/O.
//!
//! Everything here is a pure function of its inputs: identity-number checks, masking, roles and
//! scopes, the audit chain's canonical encoding, roster validation and the deterministic demo
//! subdistrict. Storage and the web call into this crate; it calls nothing outside itself.
#![forbid(unsafe_code)]

/// Declares an enum of stable codes: the enum (serialised as snake_case), `ALL`, `code()` and
/// `parse()`; with `(code, "中文")` pairs also `zh()`, and `parse()` then accepts either form.
macro_rules! code_enum {
    (@base $(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in databases and sent over APIs.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        /// Reads a stored code, exactly (not the Chinese word).
        impl TryFrom<String> for $name {
            type Error = $crate::UnknownCode;

            fn try_from(code: String) -> Result<Self, Self::Error> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == code)
                    .ok_or($crate::UnknownCode { what: stringify!($name), code })
            }
        }
    };
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = ($code:literal, $zh:literal)),+ $(,)? }) => {
        code_enum!(@base $(#[$doc])* $name { $($(#[$vdoc])* $variant = $code),+ });

        impl $name {
            /// The Chinese word rosters use.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Reads a stored code or the Chinese word.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code() == s || v.zh() == s)
            }
        }
    };
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        code_enum!(@base $(#[$doc])* $name { $($(#[$vdoc])* $variant = $code),+ });

        impl $name {
            /// Reads a stored code.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == s.trim())
            }
        }
    };
}

/// A stored code that names no value of its type: written by a newer version, or tampered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {what} not understood: {code}")]
pub struct UnknownCode {
    /// The type the code was read as.
    pub what: &'static str,
    /// The code.
    pub code: String,
}

pub mod actor;
pub mod appeal;
pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod catalogue;
pub mod consultation;
pub mod demo;
pub mod demo_appeals;
pub mod email;
#[doc(hidden)]
pub mod fuzzing;
pub mod hot;
pub mod id_number;
pub mod lottery;
pub mod meeting;
pub mod money;
pub mod notice;
pub mod permission;
pub mod phone;
pub mod photo;
pub mod registry;
pub mod resettlement;
pub mod role;
pub mod roster;
pub mod scorecard;
pub mod selection;
pub mod time;

pub use actor::Actor;
pub use audit::{AuditChainError, AuditEntry, NewAuditEntry};
pub use email::{Email, EmailError};
pub use id_number::{IdNumber, IdNumberError};
pub use permission::Permission;
pub use phone::{Phone, PhoneError};
pub use registry::{Relation, ResidentFlag, Sex, VillageKind};
pub use role::{Role, Scope};
