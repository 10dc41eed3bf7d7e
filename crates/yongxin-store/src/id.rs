//! Record ids, one type per aggregate, so that a household's id cannot be passed where a case's
//! is expected. Each is the database's integer key: serialised, bound and read as that integer,
//! shown as it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! record_id {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The integer key.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )+};
}

record_id! {
    /// A household's id (户).
    HouseholdId;
    /// A case's id (诉求). Not its case number, which residents see.
    AppealId;
    /// A resettlement project's id (拆迁安置项目).
    ProjectId;
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_writes_and_shows_as_its_integer() {
        let id: HouseholdId = "42".parse().unwrap();
        assert_eq!(id, HouseholdId(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<HouseholdId>("42").unwrap(), id);
        assert_eq!(i64::from(id), 42);
        assert!("4x".parse::<HouseholdId>().is_err());
    }
}
