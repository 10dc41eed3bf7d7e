//! Accounts, sessions, API tokens and counted sign-in failures.

use super::*;

/// Users, sessions and API tokens.
pub async fn users_sessions_and_tokens(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let (grid_user, hash) = store.user_credentials("grid").await.unwrap().unwrap();
    assert_eq!(hash, HASH);
    assert_eq!(grid_user.role, Role::GridWorker);
    assert_eq!(grid_user.grid_ids.len(), 1);
    assert!(matches!(grid_user.scope(), Scope::Grids(_)));
    let (resident, _) = store.user_credentials("resident").await.unwrap().unwrap();
    assert!(matches!(resident.scope(), Scope::Household(_)));
    let (village, _) = store.user_credentials("village").await.unwrap().unwrap();
    assert!(matches!(village.scope(), Scope::Village(_)));
    assert!(store.user_credentials("nobody").await.unwrap().is_none());

    store
        .set_password(&Actor::user("admin"), grid_user.id, "new-hash")
        .await
        .unwrap();
    assert_eq!(
        store.user_credentials("grid").await.unwrap().unwrap().1,
        "new-hash"
    );

    let now = Utc::now();
    store
        .create_session("tok-live", grid_user.id, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session("tok-old", grid_user.id, now - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .session_user("tok-live", now)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(grid_user.id)
    );
    assert_eq!(store.session_user("tok-old", now).await.unwrap(), None);
    store.delete_session("tok-live").await.unwrap();
    assert_eq!(store.session_user("tok-live", now).await.unwrap(), None);

    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-hash",
            now + Duration::days(90),
        )
        .await
        .unwrap();
    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-old",
            now - Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .api_token_user("api-hash", now)
            .await
            .unwrap()
            .map(|u| u.username),
        Some("resident".into())
    );
    assert_eq!(store.api_token_user("other", now).await.unwrap(), None);
    assert_eq!(
        store.api_token_user("api-old", now).await.unwrap(),
        None,
        "an expired token opens nothing"
    );
    assert_eq!(store.api_tokens(resident.id).await.unwrap().len(), 2);
    let live = store.live_api_token_counts(now).await.unwrap();
    assert_eq!(
        live.get(&resident.id),
        Some(&1),
        "the expired one is not counted"
    );

    // Revoking ends every live token; a password change and disabling do too.
    assert_eq!(
        store
            .revoke_api_tokens(&Actor::user("admin"), resident.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.api_token_user("api-hash", now).await.unwrap(), None);
    assert!(store
        .api_tokens(resident.id)
        .await
        .unwrap()
        .iter()
        .all(|t| t.revoked_at.is_some()));
    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-2",
            now + Duration::days(1),
        )
        .await
        .unwrap();
    store
        .set_password(&Actor::user("admin"), resident.id, "another-hash")
        .await
        .unwrap();
    assert_eq!(store.api_token_user("api-2", now).await.unwrap(), None);
    store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-3",
            now + Duration::days(1),
        )
        .await
        .unwrap();
    store
        .create_session("tok-res", resident.id, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .set_user_disabled(&Actor::user("admin"), resident.id, true)
        .await
        .unwrap();
    assert_eq!(store.api_token_user("api-3", now).await.unwrap(), None);
    assert_eq!(store.session_user("tok-res", now).await.unwrap(), None);
    assert!(store.user_credentials("resident").await.unwrap().is_none());
    assert!(store.user(resident.id).await.unwrap().unwrap().disabled);
    // A token given while disabled would come to life when the account is enabled again.
    assert!(store
        .create_api_token(
            &Actor::user("admin"),
            resident.id,
            "api-4",
            now + Duration::days(1)
        )
        .await
        .is_err());
    store
        .set_user_disabled(&Actor::user("admin"), resident.id, false)
        .await
        .unwrap();
    assert_eq!(store.api_token_user("api-4", now).await.unwrap(), None);
    assert!(store.user_credentials("resident").await.unwrap().is_some());
    assert_eq!(store.server_secret("tracking").await.unwrap().len(), 64);
    assert!(store.server_secret("nothing").await.is_err());

    assert!(store.users().await.unwrap().len() >= 6);
}

/// Failed sign-ins count per account and address, and clear.
pub async fn sign_in_failures_are_counted_per_account_and_address(store: Arc<dyn Store>) {
    let now = Utc::now();
    for i in 0..3 {
        store
            .record_sign_in_failure("admin", "10.0.0.1", now - Duration::minutes(i))
            .await
            .unwrap();
    }
    store
        .record_sign_in_failure("admin", "10.0.0.2", now)
        .await
        .unwrap();
    store
        .record_sign_in_failure("admin", "10.0.0.1", now - Duration::hours(2))
        .await
        .unwrap();
    let f = store
        .sign_in_failures("admin", "10.0.0.1", now - Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(f.count, 3);
    assert!(f.last_at.is_some());
    store
        .clear_sign_in_failures("admin", "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(
        store
            .sign_in_failures("admin", "10.0.0.1", now - Duration::days(1))
            .await
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        store
            .sign_in_failures("admin", "10.0.0.2", now - Duration::days(1))
            .await
            .unwrap()
            .count,
        1
    );
}
