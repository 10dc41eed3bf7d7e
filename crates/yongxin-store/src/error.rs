//! Store errors. Backends translate their driver's errors into these in one place each; nothing
//! above the store ever sees a database error type.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for (`household 12`).
        what: String,
    },
    /// The change would break a uniqueness rule.
    #[error("{what} already exists")]
    Conflict {
        /// What collided (`user name admin`).
        what: String,
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
    Unavailable(String),
    /// Anything else; the message is for logs, not users.
    #[error("database error: {0}")]
    Internal(String),
}
