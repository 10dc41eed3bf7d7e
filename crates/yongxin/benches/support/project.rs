//! The benchmarks' project open for selection: a generated subdistrict in a SQLite file, the
//! four-village project taken through resettlement as the demo does it, its online selection open,
//! and a department-staff API token to claim with.

use std::sync::Arc;
use yongxin_domain::Actor;

use yongxin_domain::demo::{generate, DemoSize};
use yongxin_domain::selection::SelectionMode;
use yongxin_domain::Role;
use yongxin_store::{NewProject, NewUser, ProjectId, Store};
use yongxin_store_sqlite::SqliteStore;

/// What the benchmark works on.
#[allow(dead_code, reason = "each benchmark uses part of it")]
pub struct OpenSelection {
    /// The database URL.
    pub url: String,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The project.
    pub project: ProjectId,
    /// Its online selection.
    pub selection: i64,
    /// A staff member's API token.
    pub token: String,
    /// Households and those on the list, apartments.
    pub counts: (usize, usize, usize),
}

/// Builds it in `dir` with `size` villages' worth of households (the project takes four villages).
pub async fn open_selection(dir: &std::path::Path, seed: u64, size: DemoSize) -> OpenSelection {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let sqlite = SqliteStore::open(&url, true).await.unwrap();
    sqlite.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    yongxin_demo::load(&*store, &generate(seed, size), "x")
        .await
        .unwrap();
    let villages: Vec<i64> = store
        .villages()
        .await
        .unwrap()
        .iter()
        .take(4)
        .map(|v| v.id)
        .collect();
    let project = store
        .create_project(
            &Actor::user("bench"),
            NewProject {
                code: "bench".into(),
                name: "四村整合项目".into(),
                village_ids: villages,
            },
        )
        .await
        .unwrap()
        .id;
    let r = yongxin_demo::load_resettlement(&*store, chrono::Utc::now())
        .await
        .unwrap();
    yongxin_demo::load_selection(&*store, chrono::Utc::now())
        .await
        .unwrap();
    let selection = store
        .selections(Some(project))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.mode == SelectionMode::Online)
        .unwrap()
        .id;
    let staff = store
        .create_user(
            &Actor::user("bench"),
            NewUser {
                username: "desk".into(),
                display_name: "desk".into(),
                role: Role::DepartmentStaff,
                password_hash: "x".into(),
                village_id: None,
                household_id: None,
            },
        )
        .await
        .unwrap();
    let token = yongxin_web::auth::random_token();
    store
        .create_api_token(
            &Actor::user("bench"),
            staff.id,
            &yongxin_web::auth::token_hash(&token),
            chrono::Utc::now() + chrono::Duration::days(90),
        )
        .await
        .unwrap();
    OpenSelection {
        url,
        store,
        project,
        selection,
        token,
        counts: (r.households, r.registered, r.units),
    }
}
