//! The store conformance suite on SQLite, a fresh file per test.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use yongxin_store::AuditLog;
use yongxin_store_conformance::Fresh;
use yongxin_store_sqlite::SqliteStore;

async fn fresh() -> Option<Fresh> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = SqliteStore::open(&url, true).await.unwrap();
    store.migrate().await.unwrap();
    Some(Fresh {
        store: Arc::new(store),
        keep: Some(Box::new(dir)),
    })
}

yongxin_store_conformance::conformance_tests!(fresh());

#[tokio::test]
async fn a_missing_file_is_not_created_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("absent.db").display());
    let err = SqliteStore::open(&url, false).await.unwrap_err();
    assert!(
        matches!(err, yongxin_store::StoreError::NotFound { .. }),
        "{err:?}"
    );
    assert!(!dir.path().join("absent.db").exists());
}

#[tokio::test]
async fn the_database_is_opened_for_durability() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("d.db").display());
    let store = SqliteStore::open(&url, true).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
}

#[tokio::test]
async fn tampering_with_the_record_is_detected() {
    let Fresh { store, keep: _dir } = fresh().await.unwrap();
    let demo = yongxin_domain::demo::generate(1, yongxin_domain::demo::DemoSize::SMALL);
    yongxin_demo::load(&*store, &demo, "x").await.unwrap();
    assert!(store.verify_audit().await.unwrap().is_ok());
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let sqlite = SqliteStore::open(&url, true).await.unwrap();
    sqlite.migrate().await.unwrap();
    yongxin_demo::load(&sqlite, &demo, "x").await.unwrap();
    sqlx::query("UPDATE audit_log SET summary = 'forged' WHERE seq = 7")
        .execute(sqlite.pool())
        .await
        .unwrap();
    let err = sqlite.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(err.first_bad_seq(), 7);
}
