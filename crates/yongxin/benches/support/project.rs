//! What the benchmarks start from: a migrated SQLite file, a department-staff API token to act
//! with, and a generated subdistrict whose four-village project the shared builder has taken
//! through resettlement, optionally open for selection.
#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::sync::Arc;
use yongxin_domain::Actor;

use yongxin_domain::demo::{generate, DemoSize};
use yongxin_domain::selection::SelectionMode;
use yongxin_domain::Role;
use yongxin_store::{NewProject, NewUser, ProjectId, Store};
use yongxin_store_sqlite::SqliteStore;

/// A migrated SQLite store in `dir` with durable commits, and its URL.
pub async fn sqlite_store(dir: &std::path::Path) -> (String, Arc<dyn Store>) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let sqlite = SqliteStore::open(&url, true).await.unwrap();
    sqlite.migrate().await.unwrap();
    (url, Arc::new(sqlite))
}

/// A department-staff account (`desk`) and an API token for it.
pub async fn staff_token(store: &dyn Store) -> String {
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
    token
}

/// A leader's account (sees the whole subdistrict) named `username`.
pub async fn leader(store: &dyn Store, username: &str) -> yongxin_store::User {
    store
        .create_user(
            &Actor::user("bench"),
            NewUser {
                username: username.into(),
                display_name: username.into(),
                role: Role::Leader,
                password_hash: "x".into(),
                village_id: None,
                household_id: None,
            },
        )
        .await
        .unwrap()
}

/// The generated subdistrict (`seed`, `size`) loaded, a project over its first four villages
/// taken through resettlement to its draw as the demo does it: the project and what was built,
/// with the seconds the resettlement steps took.
pub async fn drawn_project(
    store: &dyn Store,
    seed: u64,
    size: DemoSize,
) -> (ProjectId, yongxin_demo::ResettlementDemo, f64) {
    yongxin_demo::load(store, &generate(seed, size), "x")
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
    let started = std::time::Instant::now();
    let r = yongxin_demo::load_resettlement(store, chrono::Utc::now())
        .await
        .unwrap();
    (project, r, started.elapsed().as_secs_f64())
}

/// What the selection benchmarks work on.
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

/// [`drawn_project`] in `dir`, its online selection open, and a staff token to claim with.
pub async fn open_selection(dir: &std::path::Path, seed: u64, size: DemoSize) -> OpenSelection {
    let (url, store) = sqlite_store(dir).await;
    let (project, r, _) = drawn_project(&*store, seed, size).await;
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
    let token = staff_token(&*store).await;
    OpenSelection {
        url,
        store,
        project,
        selection,
        token,
        counts: (r.households, r.registered, r.units),
    }
}
