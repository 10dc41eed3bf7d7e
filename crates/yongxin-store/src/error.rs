//! Store errors. Backends translate their driver's errors into these in one place each; nothing
//! above the store ever sees a database error type, but every error keeps its cause for the logs.

/// The failure underneath a store error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for (`household 12`).
        what: String,
    },
    /// The change collided with what is stored, the same way on every backend.
    #[error("{conflict}")]
    Conflict {
        /// With what.
        conflict: Conflict,
        /// The driver's error, when it reported the collision.
        #[source]
        source: Option<Cause>,
    },
    /// A value the store refuses.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// The database could not be reached or timed out.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// Anything else; the message is for logs, not users.
    #[error("database error: {0}")]
    Internal(#[source] Cause),
}

/// What a change collided with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// A row of this table already holds the same unique value (a user name, a village code, …).
    #[error("a row of {table} with the same unique value exists")]
    Duplicate {
        /// The table, as both backends name it.
        table: String,
    },
    /// Another claim took one of the units first; the claim was undone.
    #[error("another claim took a unit first")]
    ClaimLostRace,
    /// The thing was answered already (a supervision notice).
    #[error("answered already")]
    AlreadyAnswered,
}

impl StoreError {
    /// A failure that is nobody's input: a bug, a corrupt record, a driver error.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        StoreError::Internal(cause.into())
    }

    /// The database could not be reached.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        StoreError::Unavailable(cause.into())
    }

    /// A collision found by the store's own checks rather than a constraint.
    pub fn conflict(conflict: Conflict) -> Self {
        StoreError::Conflict {
            conflict,
            source: None,
        }
    }
}
