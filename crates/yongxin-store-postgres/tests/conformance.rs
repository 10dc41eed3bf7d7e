//! The store conformance suite on PostgreSQL, a fresh schema per test. Runs when
//! `YONGXIN_TEST_POSTGRES_URL` names a server when the tests are built; otherwise every test is
//! reported ignored, with the reason.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use yongxin_store::{AuditLog, Store};
use yongxin_store_postgres::PostgresStore;

async fn fresh() -> Option<Arc<dyn Store>> {
    let Ok(url) = std::env::var("YONGXIN_TEST_POSTGRES_URL") else {
        eprintln!("skipped: YONGXIN_TEST_POSTGRES_URL is not set");
        return None;
    };
    let store = PostgresStore::open_for_test(&url).await.unwrap();
    Some(Arc::new(store))
}

yongxin_store_conformance::conformance_tests!(
    fresh(),
    #[cfg_attr(
        not(postgres_tests),
        ignore = "needs PostgreSQL: set YONGXIN_TEST_POSTGRES_URL when building the tests"
    )]
);

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set YONGXIN_TEST_POSTGRES_URL when building the tests"
)]
async fn tampering_with_the_record_is_detected() {
    let Some(url) = std::env::var("YONGXIN_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: YONGXIN_TEST_POSTGRES_URL is not set");
        return;
    };
    let store = PostgresStore::open_for_test(&url).await.unwrap();
    let demo = yongxin_domain::demo::generate(1, yongxin_domain::demo::DemoSize::SMALL);
    yongxin_demo::load(&store, &demo, "x").await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(store.pool())
        .await
        .unwrap();
    let err = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(err.first_bad_seq(), 5);
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs PostgreSQL: set YONGXIN_TEST_POSTGRES_URL when building the tests"
)]
async fn schemas_left_by_old_test_runs_are_dropped() {
    let Some(url) = std::env::var("YONGXIN_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: YONGXIN_TEST_POSTGRES_URL is not set");
        return;
    };
    let first = PostgresStore::open_for_test(&url).await.unwrap();
    sqlx::query("CREATE SCHEMA IF NOT EXISTS yx_test_1000_old")
        .execute(first.pool())
        .await
        .unwrap();
    let second = PostgresStore::open_for_test(&url).await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_namespace WHERE nspname = 'yx_test_1000_old'")
            .fetch_one(second.pool())
            .await
            .unwrap();
    assert_eq!(left, 0);
}
