//! The service catalogue and the working-day calendars in SQL.

use super::{corrupt, DbResult};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::Utc;
use yongxin_domain::Actor;

use yongxin_domain::catalogue::Category;
use yongxin_domain::NewAuditEntry;
use yongxin_store::CatalogueStore;
use yongxin_store::{StoreError, StoreResult};

use crate::dialect::write_tx;

#[async_trait]
impl CatalogueStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn categories(&self) -> StoreResult<Vec<(Category, bool)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT definition, active FROM categories ORDER BY position, code")
                .fetch_all(&self.pool)
                .await
                .db()?;
        rows.into_iter()
            .map(|(definition, active)| {
                let category: Category = serde_json::from_str(&definition)
                    .map_err(|_| corrupt("category", &definition))?;
                Ok((category, active != 0))
            })
            .collect()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn save_category(
        &self,
        actor: &Actor,
        category: &Category,
        position: i64,
        active: bool,
    ) -> StoreResult<()> {
        let actor = actor.to_string();
        let definition = serde_json::to_string(category).map_err(StoreError::internal)?;
        let code = category.code.clone();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO categories (code, position, definition, active) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET position = excluded.position, definition = excluded.definition, active = excluded.active",
            )
            .bind(&code)
            .bind(position)
            .bind(&definition)
            .bind(i64::from(active))
            .execute(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "category.save",
                format!("category:{code}"),
                code.clone(),
                &serde_json::json!({ "definition": definition, "position": position, "active": active }),
            );
            Ok(((), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn calendar_years(&self) -> StoreResult<Vec<(i32, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT year, source FROM calendar_years ORDER BY year")
                .fetch_all(&self.pool)
                .await
                .db()?;
        rows.into_iter()
            .map(|(year, source)| {
                Ok((
                    i32::try_from(year).map_err(|_| corrupt("year", &year.to_string()))?,
                    source,
                ))
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(year), err(level = "debug"))]
    async fn save_calendar_year(&self, actor: &Actor, year: i32, source: &str) -> StoreResult<()> {
        let (actor, source) = (actor.to_string(), source.to_owned());
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO calendar_years (year, source, loaded_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = excluded.loaded_at",
            )
            .bind(i64::from(year))
            .bind(&source)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "calendar.load",
                format!("calendar:{year}"),
                year.to_string(),
                &serde_json::json!({ "source": source }),
            );
            Ok(((), vec![entry]))
        })
    }
}
