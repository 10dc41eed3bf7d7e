//! Accounts in SQL: users, sessions, API tokens, sign-in failures and server secrets.

use std::collections::HashMap;

use super::{DbConn, DbResult, DbRow};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use yongxin_domain::Actor;

use yongxin_domain::NewAuditEntry;
use yongxin_store::AccountStore;
use yongxin_store::{
    AccountCode, ApiToken, HouseholdId, NewUser, SignInFailures, StoreError, StoreResult, User,
};

use crate::dialect::write_tx;

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.role, u.village_id, u.household_id, u.email, \
     (u.disabled_at IS NOT NULL) AS disabled";

/// Reads a row of [`USER_COLUMNS`] (its grids are filled in after).
pub(crate) fn user_from(row: &DbRow) -> StoreResult<User> {
    User::from_row(row).db()
}

/// A user's row with their password hash.
#[derive(sqlx::FromRow)]
struct Credentials {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

/// Revokes every live API token of a user inside a write; how many.
pub(crate) async fn revoke_tokens_in(tx: &mut DbConn, user_id: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(Utc::now())
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(done.rows_affected())
}

/// The record of a new account.
fn created_entry(actor: &str, id: i64, u: &NewUser) -> NewAuditEntry {
    NewAuditEntry::new(
        actor.to_owned(),
        "user.create",
        format!("user:{id}"),
        format!("{} ({})", u.username, u.role.code()),
        &serde_json::json!({ "username": u.username, "display_name": u.display_name, "role": u.role.code(), "village_id": u.village_id, "household_id": u.household_id }),
    )
}

/// The user a new account is.
fn new_user(id: i64, u: NewUser) -> User {
    User {
        id,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        village_id: u.village_id,
        household_id: u.household_id,
        grid_ids: vec![],
        email: None,
        disabled: false,
    }
}

/// An account that can never be signed into with a password: until its code is redeemed.
const NO_PASSWORD: &str = "!";

/// Inserts a user inside a write; its id.
async fn insert_user(tx: &mut DbConn, u: &NewUser) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, password_hash, village_id, household_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(u.role.code())
    .bind(&u.password_hash)
    .bind(u.village_id)
    .bind(u.household_id)
    .bind(Utc::now())
    .fetch_one(&mut *tx)
    .await
    .db()
}

/// Keeps a code for a user inside a write, replacing an unused one.
async fn keep_code(tx: &mut DbConn, user_id: i64, code: &AccountCode) -> StoreResult<()> {
    sqlx::query("DELETE FROM account_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .db()?;
    sqlx::query(
        "INSERT INTO account_codes (user_id, code_hash, purpose, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(&code.code_hash)
    .bind(if code.reset { "reset" } else { "activation" })
    .bind(Utc::now())
    .bind(code.expires_at)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

/// Ends a user's sessions and API tokens inside a write; how many tokens.
async fn end_sessions(tx: &mut DbConn, user_id: i64) -> StoreResult<u64> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .db()?;
    revoke_tokens_in(tx, user_id).await
}

impl StoreImpl {
    async fn load_grid_ids(&self, mut user: User) -> StoreResult<User> {
        user.grid_ids =
            sqlx::query_scalar("SELECT id FROM grids WHERE cadre_user_id = $1 ORDER BY id")
                .bind(user.id)
                .fetch_all(&self.pool)
                .await
                .db()?;
        Ok(user)
    }

    async fn user_where(
        &self,
        sql_tail: &str,
        value: &str,
        now: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} {sql_tail}");
        let mut query = sqlx::query(&sql).bind(value.to_owned());
        if let Some(now) = now {
            query = query.bind(now);
        }
        match query.fetch_optional(&self.pool).await.db()? {
            Some(row) => Ok(Some(self.load_grid_ids(user_from(&row)?).await?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl AccountStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_user(&self, actor: &Actor, u: NewUser) -> StoreResult<User> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let id = insert_user(&mut *tx, &u).await?;
            let entry = created_entry(&actor, id, &u);
            Ok((new_user(id, u.clone()), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        // A disabled account signs in with no password.
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1 AND u.disabled_at IS NULL");
        let Some(row) = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .db()?
        else {
            return Ok(None);
        };
        let Credentials {
            user,
            password_hash,
        } = Credentials::from_row(&row).db()?;
        Ok(Some((self.load_grid_ids(user).await?, password_hash)))
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn issue_account_code(
        &self,
        actor: &Actor,
        user_id: i64,
        code: &AccountCode,
    ) -> StoreResult<()> {
        let (actor, code) = (actor.to_string(), code.clone());
        write_tx!(self, |tx| {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            if exists.is_none() {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            keep_code(&mut *tx, user_id, &code).await?;
            let mut revoked = 0;
            if code.reset {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(NO_PASSWORD)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                revoked = end_sessions(&mut *tx, user_id).await?;
            }
            let entry = NewAuditEntry::new(
                actor,
                if code.reset {
                    "user.reset_code"
                } else {
                    "user.activation_code"
                },
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "expires_at": code.expires_at, "tokens_revoked": revoked }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn redeem_account_code(
        &self,
        username: &str,
        code_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (username, code_hash, hash) = (
            username.to_owned(),
            code_hash.to_owned(),
            password_hash.to_owned(),
        );
        write_tx!(self, |tx| {
            let user: Option<i64> = sqlx::query_scalar(
                "SELECT u.id FROM users u JOIN account_codes c ON c.user_id = u.id \
                 WHERE u.username = $1 AND u.disabled_at IS NULL AND c.code_hash = $2 AND c.expires_at > $3",
            )
            .bind(&username)
            .bind(&code_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let Some(id) = user else {
                return Ok((false, Vec::new()));
            };
            sqlx::query("DELETE FROM account_codes WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            let revoked = end_sessions(&mut *tx, id).await?;
            let entry = NewAuditEntry::new(
                format!("user:{username}"),
                "user.code_redeemed",
                format!("user:{id}"),
                "",
                &serde_json::json!({ "tokens_revoked": revoked }),
            );
            Ok((true, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn set_user_role(
        &self,
        actor: &Actor,
        user_id: i64,
        role: yongxin_domain::Role,
        village_id: Option<i64>,
        household_id: Option<HouseholdId>,
    ) -> StoreResult<()> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE users SET role = $1, village_id = $2, household_id = $3 WHERE id = $4",
            )
            .bind(role.code())
            .bind(village_id)
            .bind(household_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "user.set_role",
                format!("user:{user_id}"),
                role.code(),
                &serde_json::json!({ "role": role.code(), "village_id": village_id, "household_id": household_id }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_accounts(
        &self,
        actor: &Actor,
        accounts: Vec<(NewUser, AccountCode)>,
    ) -> StoreResult<Vec<User>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let mut users = Vec::with_capacity(accounts.len());
            let mut entries = Vec::with_capacity(accounts.len() * 2);
            for (u, code) in &accounts {
                let id = insert_user(&mut *tx, u).await?;
                keep_code(&mut *tx, id, code).await?;
                entries.push(created_entry(&actor, id, u));
                entries.push(NewAuditEntry::new(
                    actor.clone(),
                    "user.activation_code",
                    format!("user:{id}"),
                    "",
                    &serde_json::json!({ "expires_at": code.expires_at }),
                ));
                users.push(new_user(id, u.clone()));
            }
            Ok((users, entries))
        })
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
    ) -> StoreResult<()> {
        let (actor, hash) = (actor.to_string(), password_hash.to_owned());
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            // Every session and API token of the user ends with the old password.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let revoked = revoke_tokens_in(&mut *tx, user_id).await?;
            let entry = NewAuditEntry::new(
                actor,
                "user.set_password",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "tokens_revoked": revoked }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn set_user_email(
        &self,
        actor: &Actor,
        user_id: i64,
        email: Option<&str>,
    ) -> StoreResult<()> {
        let (actor, email) = (actor.to_string(), email.map(str::to_owned));
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                .bind(&email)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "user.set_email",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "email": email }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        match sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
        {
            Some(row) => Ok(Some(self.load_grid_ids(user_from(&row)?).await?)),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username, u.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.db()?;
        let mut grids: HashMap<i64, Vec<i64>> = HashMap::new();
        let rows_of_grids: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, cadre_user_id FROM grids WHERE cadre_user_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        for (grid, cadre) in rows_of_grids {
            grids.entry(cadre).or_default().push(grid);
        }
        rows.iter()
            .map(|r| {
                let mut u = user_from(r)?;
                u.grid_ids = grids.remove(&u.id).unwrap_or_default();
                Ok(u)
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        write_tx!(self, |tx| {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(&token_hash)
                .bind(user_id)
                .bind(Utc::now())
                .bind(expires_at)
                .execute(&mut *tx)
                .await
                .db()?;
            // Expired sessions are swept as new ones open, so the table never grows without bound.
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        self.user_where("FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL", token_hash, Some(now))
            .await
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        write_tx!(self, |tx| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&token_hash)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (actor, hash) = (actor.to_string(), token_hash.to_owned());
        write_tx!(self, |tx| {
            // A disabled account gets none: enabling it again must not bring one to life.
            let inserted = sqlx::query(
                "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) \
                 SELECT $1, id, $3, $4 FROM users WHERE id = $2 AND disabled_at IS NULL",
            )
            .bind(&hash)
            .bind(user_id)
            .bind(Utc::now())
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::Invalid {
                    field: "user".into(),
                    reason: format!("user {user_id} does not exist or is disabled"),
                });
            }
            let entry = NewAuditEntry::new(
                actor,
                "user.create_token",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "token_hash": hash, "expires_at": expires_at }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn api_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        self.user_where(
            "FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
            token_hash,
            Some(now),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>> {
        sqlx::query_as("SELECT created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at, token_hash")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn live_api_token_counts(&self, now: DateTime<Utc>) -> StoreResult<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT user_id, COUNT(*) FROM api_tokens \
             WHERE revoked_at IS NULL AND expires_at > $1 GROUP BY user_id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().collect())
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn revoke_api_tokens(&self, actor: &Actor, user_id: i64) -> StoreResult<u64> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let revoked = revoke_tokens_in(&mut *tx, user_id).await?;
            let entry = NewAuditEntry::new(
                actor,
                "user.revoke_tokens",
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "revoked": revoked }),
            );
            Ok((revoked, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(user_id), err(level = "debug"))]
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: i64,
        disabled: bool,
    ) -> StoreResult<()> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let at = disabled.then(Utc::now);
            let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
                .bind(at)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: format!("user {user_id}"),
                });
            }
            let mut revoked = 0;
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                revoked = revoke_tokens_in(&mut *tx, user_id).await?;
            }
            let action = if disabled {
                "user.disable"
            } else {
                "user.enable"
            };
            let entry = NewAuditEntry::new(
                actor,
                action,
                format!("user:{user_id}"),
                "",
                &serde_json::json!({ "tokens_revoked": revoked }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn server_secret(&self, name: &str) -> StoreResult<String> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        match value {
            Some(v) => Ok(v),
            None => Err(StoreError::NotFound {
                what: format!("server secret {name}"),
            }),
        }
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn sign_in_failures(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<SignInFailures> {
        sqlx::query_as(
            "SELECT COUNT(*) AS n, MAX(at) AS last_at FROM sign_in_failures WHERE username = $1 AND address = $2 AND at > $3",
        )
        .bind(username)
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn record_sign_in_failure(
        &self,
        username: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (username, address) = (username.to_owned(), address.to_owned());
        write_tx!(self, |tx| {
            sqlx::query("INSERT INTO sign_in_failures (username, address, at) VALUES ($1, $2, $3)")
                .bind(&username)
                .bind(&address)
                .bind(at)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn clear_sign_in_failures(&self, username: &str, address: &str) -> StoreResult<()> {
        let (username, address) = (username.to_owned(), address.to_owned());
        write_tx!(self, |tx| {
            sqlx::query("DELETE FROM sign_in_failures WHERE username = $1 AND address = $2")
                .bind(&username)
                .bind(&address)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }
}
