//! The store conformance suite on PostgreSQL, a fresh schema per test. Runs when
//! `YONGXIN_TEST_POSTGRES_URL` names a server; otherwise each test says it was skipped.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use yongxin_store::Store;
use yongxin_store_postgres::PostgresStore;

async fn fresh() -> Option<Arc<dyn Store>> {
    let Ok(url) = std::env::var("YONGXIN_TEST_POSTGRES_URL") else {
        eprintln!("skipped: YONGXIN_TEST_POSTGRES_URL is not set");
        return None;
    };
    let schema = format!("yx_test_{:016x}", rand::random::<u64>());
    let store = PostgresStore::open_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some(Arc::new(store))
}

yongxin_store::conformance_tests!(fresh());

#[tokio::test]
async fn tampering_with_the_record_is_detected() {
    let Some(url) = std::env::var("YONGXIN_TEST_POSTGRES_URL").ok() else {
        eprintln!("skipped: YONGXIN_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("yx_test_{:016x}", rand::random::<u64>());
    let store = PostgresStore::open_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let demo = yongxin_domain::demo::generate(1, yongxin_domain::demo::DemoSize::SMALL);
    yongxin_store::demo::load(&store, &demo, "x").await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(store.pool())
        .await
        .unwrap();
    let err = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(err.first_bad_seq(), 5);
}
