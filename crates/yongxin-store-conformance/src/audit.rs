//! The audit record: one valid chain however writers interleave or fail.

use super::*;

/// Every change leaves an entry; the chain verifies and the head matches.
pub async fn every_change_is_recorded_in_a_valid_chain(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    let (head_seq, head_hash) = store.audit_head().await.unwrap().unwrap();
    // subdistrict + villages + grids (grid, cadre user, assignment) + households + 5 users
    let grids: usize = demo.villages.iter().map(|v| v.grids.len()).sum();
    let expected = 1 + demo.villages.len() + 3 * grids + demo.households.len() + 5;
    assert_eq!(head_seq, expected as i64);
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, expected as u64);
    assert_eq!(verified.head_hash, head_hash);

    let recorded = store
        .record(vec![
            NewAuditEntry::new(
                "admin",
                "resident.view_full",
                "household:1",
                "viewed",
                &serde_json::json!({}),
            ),
            NewAuditEntry::new(
                "admin",
                "resident.view_full",
                "household:2",
                "viewed",
                &serde_json::json!({}),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(recorded[0].seq, head_seq + 1);
    assert_eq!(recorded[0].prev_hash, head_hash);
    assert_eq!(recorded[1].prev_hash, recorded[0].hash);
    let recent = store.recent_audit_entries(2).await.unwrap();
    assert_eq!(recent[0].seq, head_seq + 2);
    assert_eq!(recent[0], recorded[1]);
    let imports = store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(
        imports
            .iter()
            .filter(|e| e.action == "household.import")
            .count(),
        demo.households.len()
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// Many writers at once still make one unbroken chain.
pub async fn concurrent_writers_keep_one_chain(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record(vec![NewAuditEntry::new(
                        "t",
                        "test.write",
                        format!("n:{i}"),
                        "",
                        &serde_json::json!(i),
                    )])
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, 40);
}

/// Writes that fail (here: duplicate codes) change nothing and leave the writes committed beside
/// them, and the record, intact.
pub async fn a_failed_write_leaves_concurrent_writes_intact(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                // Every third village reuses the code of the one before it.
                let code = if i % 3 == 2 {
                    format!("C{:02}", i - 1)
                } else {
                    format!("C{i:02}")
                };
                store
                    .create_village(
                        &Actor::user("t"),
                        NewVillage {
                            code,
                            name: format!("村{i:02}"),
                            kind: VillageKind::Village,
                        },
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    // Which of a pair wins depends on arrival order; exactly one of each pair does.
    assert_eq!((ok, conflicts), (20, 10));
    let villages = store.villages().await.unwrap();
    assert_eq!(villages.len(), 20);
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, 20, "only committed writes are recorded");
}

/// The week's head is published once, however often or from however many nodes it is asked for,
/// and the record verifies against it.
pub async fn the_weeks_head_is_published_once(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let (seq, hash) = store.audit_head().await.unwrap().unwrap();
    let now = Utc::now();
    let draft = || {
        yongxin_domain::audit::head_notice("2026-W50", seq, &hash, now)
            .checked()
            .unwrap()
    };
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (store, hash, d) = (store.clone(), hash.clone(), draft());
        tasks.push(tokio::spawn(async move {
            store
                .publish_audit_head(&Actor::system("audit-publish"), "2026-W50", (seq, &hash), d)
                .await
        }));
    }
    let mut published = Vec::new();
    for t in tasks {
        // A node that lost the race is told so (a conflict) and publishes nothing.
        if let Ok(p) = t.await.unwrap() {
            published.push(p);
        }
    }
    assert!(!published.is_empty());
    assert_eq!(
        published.iter().filter(|(_, new)| *new).count(),
        1,
        "one notice"
    );
    let ids: std::collections::BTreeSet<i64> = published.iter().map(|(n, _)| n.id).collect();
    assert_eq!(ids.len(), 1);
    let heads = store.published_audit_heads().await.unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!((heads[0].1, heads[0].2.as_str()), (seq, hash.as_str()));
    let verified = store.verify_audit_against(&hash).await.unwrap().unwrap();
    assert_eq!(verified.published_at, Some(seq));
}
