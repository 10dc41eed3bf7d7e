//! Notifications handed to one sender until delivered, and supervision notices (督办) tracked to their answer.

use super::*;

/// Notices of a case wait in the outbox; claims lease them, failures come back later, delivered
/// ones are gone, and concurrent senders never get the same message.
pub async fn the_outbox_hands_each_message_to_one_sender_until_delivered(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let a = store
        .create_appeal(&Actor::user("x"), new_appeal("roads", "路灯", None, None))
        .await
        .unwrap();
    let p = AppealPolicy::default();
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: None,
            cadre: Some(grid.id),
        },
        AppealAction::Answer {
            reply: "修好了".into(),
        },
    ] {
        store
            .act_on_appeal(&Actor::user("staff"), a.id, action, p)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(store.pending_messages().await.unwrap(), 3);
    let now = Utc::now();
    let claimed = store
        .claim_messages(now, now + Duration::minutes(5), 10)
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = claimed
        .iter()
        .map(|m| (m.kind.as_str(), m.recipient.as_str()))
        .collect();
    let cadre = format!("user:{}", grid.id);
    assert_eq!(
        kinds,
        vec![
            ("resident_accepted", "sms:13912345678"),
            ("cadre_assigned", cadre.as_str()),
            ("resident_answered", "sms:13912345678")
        ]
    );
    assert!(
        store
            .claim_messages(now, now + Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    store.message_sent(claimed[0].id, now).await.unwrap();
    store
        .message_failed(claimed[1].id, "gateway down", now + Duration::seconds(30))
        .await
        .unwrap();
    let later = now + Duration::minutes(1);
    let again = store
        .claim_messages(later, later + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
        vec![(claimed[1].id, 1)],
        "the failed one is retried; the third is still leased"
    );
    assert_eq!(store.pending_messages().await.unwrap(), 2);

    // Two senders at once split the due messages between them.
    let far = now + Duration::hours(1);
    let (x, y) = tokio::join!(
        store.claim_messages(far, far + Duration::minutes(5), 1),
        store.claim_messages(far, far + Duration::minutes(5), 1)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.len() + y.len(), 2);
    assert_ne!(x[0].id, y[0].id);

    assert!(store
        .unrated_answered_before(now + Duration::days(1), 10)
        .await
        .unwrap()
        .contains(&a.id));
    assert!(store
        .unrated_answered_before(now - Duration::days(1), 10)
        .await
        .unwrap()
        .is_empty());

    // A resident who gave an e-mail address is told by e-mail; a cadre's address is kept on
    // their account, read back with it, and can be cleared.
    let mut by_mail = new_appeal("roads", "井盖缺失", None, None);
    by_mail.contact_email = Some("zhang.san@example.cn".into());
    let b = store
        .create_appeal(&Actor::user("x"), by_mail)
        .await
        .unwrap();
    assert_eq!(b.contact_email.as_deref(), Some("zhang.san@example.cn"));
    store
        .act_on_appeal(&Actor::user("staff"), b.id, AppealAction::Accept, p)
        .await
        .unwrap()
        .unwrap();
    let mailed = store
        .claim_messages(far, far + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(
        mailed
            .iter()
            .map(|m| (m.kind.as_str(), m.recipient.as_str()))
            .collect::<Vec<_>>(),
        vec![("resident_accepted", "email:zhang.san@example.cn")]
    );
    store
        .set_user_email(&Actor::user("admin"), grid.id, Some("wangge@example.cn"))
        .await
        .unwrap();
    let read = store.user(grid.id).await.unwrap().unwrap();
    assert_eq!(read.email.as_deref(), Some("wangge@example.cn"));
    assert!(!read.grid_ids.is_empty(), "read with its grids");
    store
        .set_user_email(&Actor::user("admin"), grid.id, None)
        .await
        .unwrap();
    assert_eq!(store.user(grid.id).await.unwrap().unwrap().email, None);
    assert!(store.user(i64::MAX).await.unwrap().is_none());
    assert!(matches!(
        store
            .set_user_email(&Actor::user("admin"), i64::MAX, None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A 督办单 is issued, notifies the handler, appears as open, and is answered once.
pub async fn supervision_notices_are_tracked_to_their_answer(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let a = store
        .create_appeal(&Actor::user("x"), new_appeal("roads", "路灯", None, None))
        .await
        .unwrap();
    for action in [
        AppealAction::Accept,
        AppealAction::Assign {
            department: None,
            cadre: Some(grid.id),
        },
    ] {
        store
            .act_on_appeal(&Actor::user("staff"), a.id, action, AppealPolicy::default())
            .await
            .unwrap()
            .unwrap();
    }
    let before = store.pending_messages().await.unwrap();
    let due = Utc::now() + Duration::days(2);
    let n = store
        .issue_supervision(&Actor::user("leader"), a.id, "请于两日内办结并报告", due)
        .await
        .unwrap();
    assert_eq!(
        (n.appeal_id, n.issued_by.as_str(), n.answered_at),
        (a.id, "leader", None)
    );
    assert_eq!(
        store.pending_messages().await.unwrap(),
        before + 1,
        "the handler hears of it"
    );
    assert_eq!(
        store.open_supervision_notices(10).await.unwrap(),
        vec![n.clone()]
    );
    let answered = store
        .answer_supervision(&Actor::user("grid"), n.id, "已办结")
        .await
        .unwrap();
    assert_eq!(
        (answered.answered_by.as_deref(), answered.answer.as_deref()),
        (Some("grid"), Some("已办结"))
    );
    assert!(store.open_supervision_notices(10).await.unwrap().is_empty());
    assert!(matches!(
        store
            .answer_supervision(&Actor::user("grid"), n.id, "再答")
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.supervision_notices(a.id).await.unwrap(),
        vec![answered]
    );
    assert!(matches!(
        store
            .issue_supervision(&Actor::user("leader"), AppealId(987_654), "x", due)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.verify_audit().await.unwrap().is_ok());
}
