//! Notifications handed to one sender until delivered, and supervision notices (督办) tracked to their answer.

use super::*;
use yongxin_store::{OutboxFilter, OutboxState};

/// The administrators' outbox list filters by state, channel, kind and case; a rating link
/// names an answer notice and is good only while that notice is the case's latest answer.
pub async fn the_outbox_is_listed_by_state_and_names_rating_links(store: Arc<dyn Store>) {
    seeded(&*store).await;
    with_catalogue(&*store).await;
    let (grid, _) = store.user_credentials("grid").await.unwrap().unwrap();
    let a = store
        .create_appeal(&Actor::user("x"), new_appeal("roads", "路灯", None, None))
        .await
        .unwrap();
    let p = AppealPolicy::default();
    let act = |action: AppealAction| {
        let store = store.clone();
        async move {
            store
                .act_on_appeal(&Actor::user("staff"), a.id, action, p)
                .await
                .unwrap()
                .unwrap();
        }
    };
    act(AppealAction::Accept).await;
    act(AppealAction::Assign {
        department: None,
        cadre: Some(grid.id),
    })
    .await;
    act(AppealAction::Answer {
        reply: "修好了".into(),
    })
    .await;
    let all = OutboxFilter::default();
    let (rows, total) = store.outbox_entries(&all, 10, 0).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(
        rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ["resident_answered", "cadre_assigned", "resident_accepted"],
        "newest first"
    );
    let (page2, total2) = store.outbox_entries(&all, 2, 2).await.unwrap();
    assert_eq!((page2.len(), total2), (1, 3));
    let now = Utc::now();
    let claimed = store
        .claim_messages(now, now + Duration::minutes(5), 10)
        .await
        .unwrap();
    store.message_sent(claimed[0].id, now).await.unwrap();
    store
        .message_failed(claimed[1].id, "gateway down", now + Duration::seconds(30))
        .await
        .unwrap();
    let by = |state, channel: Option<&str>| OutboxFilter {
        state,
        channel: channel.map(str::to_owned),
        ..OutboxFilter::default()
    };
    for (filter, want) in [
        (by(Some(OutboxState::Sent), None), vec![claimed[0].id]),
        (by(Some(OutboxState::Failing), None), vec![claimed[1].id]),
        (by(Some(OutboxState::Waiting), None), vec![claimed[2].id]),
        (by(None, Some("user")), vec![claimed[1].id]),
        (by(None, Some("sms")), vec![claimed[2].id, claimed[0].id]),
    ] {
        let (rows, total) = store.outbox_entries(&filter, 10, 0).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            want,
            "{filter:?}"
        );
        assert_eq!(usize::try_from(total).unwrap(), want.len());
    }
    let failing = store
        .outbox_entries(&by(Some(OutboxState::Failing), None), 1, 0)
        .await
        .unwrap()
        .0;
    assert_eq!(failing[0].attempts, 1);
    assert_eq!(failing[0].last_error.as_deref(), Some("gateway down"));
    assert_eq!(OutboxState::of(&failing[0]), OutboxState::Failing);
    let kind = OutboxFilter {
        kind: Some("cadre_assigned".into()),
        appeal_id: Some(a.id),
        ..OutboxFilter::default()
    };
    assert_eq!(store.outbox_entries(&kind, 10, 0).await.unwrap().1, 1);

    let answered = claimed[2].id;
    assert_eq!(
        store.rating_link(answered).await.unwrap(),
        Some((a.id, true))
    );
    assert_eq!(
        store.rating_link(claimed[1].id).await.unwrap(),
        None,
        "only an answer notice is a rating link"
    );
    assert_eq!(store.rating_link(answered + 1000).await.unwrap(), None);
    act(AppealAction::Rate {
        rating: yongxin_domain::appeal::Rating::Dissatisfied,
        reason: Some("没修好".into()),
    })
    .await;
    act(AppealAction::Answer {
        reply: "换了灯泡".into(),
    })
    .await;
    assert_eq!(
        store.rating_link(answered).await.unwrap(),
        Some((a.id, false)),
        "an earlier answer's link is spent"
    );
    let (latest, _) = store
        .outbox_entries(
            &OutboxFilter {
                kind: Some("resident_answered".into()),
                ..OutboxFilter::default()
            },
            1,
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        store.rating_link(latest[0].id).await.unwrap(),
        Some((a.id, true))
    );
}

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
