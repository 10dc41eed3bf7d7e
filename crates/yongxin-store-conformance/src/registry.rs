//! The registry: villages, grids, households, searches within a scope, imports and typed conflicts.

use super::*;

/// A new store is empty and its record verifies.
pub async fn empty_store_has_no_registry_and_a_valid_record(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert_eq!(store.subdistrict().await.unwrap(), None);
    assert!(store.villages().await.unwrap().is_empty());
    assert_eq!(store.audit_head().await.unwrap(), None);
    let verified = store.verify_audit().await.unwrap().unwrap();
    assert_eq!(verified.entries, 0);
}

/// What goes in comes out, and every kind of search finds it.
pub async fn registry_round_trips_and_searches(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    assert_eq!(
        store.subdistrict().await.unwrap().as_deref(),
        Some("示范街道")
    );
    let villages = store.villages().await.unwrap();
    assert_eq!(villages.len(), demo.villages.len());
    assert_eq!(villages[0].code, "V01");
    assert_eq!(villages[0].kind, VillageKind::Village);
    let per_village = demo.households.iter().filter(|h| h.village == 0).count() as i64;
    assert_eq!(villages[0].household_count, per_village);
    assert_eq!(
        villages.iter().map(|v| v.resident_count).sum::<i64>(),
        demo.resident_count() as i64
    );
    let grids = store.grids(Some(villages[0].id)).await.unwrap();
    assert_eq!(grids.len(), demo.villages[0].grids.len());
    assert_eq!(grids[0].cadre_name, demo.villages[0].grids[0].cadre_name);
    assert!(grids[0].cadre_user_id.is_some());

    let all = store
        .search_households(&query(Scope::Subdistrict))
        .await
        .unwrap();
    assert_eq!(all.total, demo.households.len() as i64);
    assert_eq!(all.households.len(), 20.min(demo.households.len()));

    let target = &demo.households[3];
    let member = target.members.last().unwrap();
    let find = |text: String| {
        let store = store.clone();
        async move {
            let mut q = query(Scope::Subdistrict);
            q.text = Some(text);
            store.search_households(&q).await.unwrap()
        }
    };
    for text in [
        member.name.clone(),
        target.address.clone(),
        member.id_number.last4().to_owned(),
        target.key.clone(),
    ] {
        let page = find(text.clone()).await;
        assert!(
            page.households.iter().any(|h| h.key == target.key),
            "search {text} misses {}",
            target.key
        );
    }
    if let Some(phone) = target.members.iter().find_map(|m| m.phone.clone()) {
        let page = find(phone.last4().to_owned()).await;
        assert!(page.households.iter().any(|h| h.key == target.key));
    }
    assert_eq!(find("不存在的名字".into()).await.total, 0);

    let mut paged = query(Scope::Subdistrict);
    paged.per_page = 2;
    paged.page = 2;
    let page2 = store.search_households(&paged).await.unwrap();
    assert_eq!(page2.households.len(), 2);
    assert_eq!(page2.households[0].id, all.households[2].id);

    let id = all
        .households
        .iter()
        .find(|h| h.key == target.key)
        .map(|h| h.id);
    let id = match id {
        Some(id) => id,
        None => find(target.key.clone()).await.households[0].id,
    };
    let detail = store.household(id).await.unwrap();
    assert_eq!(detail.members.len(), target.members.len());
    assert_eq!(detail.members[0].relation, Relation::Head);
    assert_eq!(detail.summary.head_name, target.members[0].name);
    assert_eq!(detail.members[0].id_number, target.members[0].id_number);
    // Records keep the numbers as checked values whose printed form is masked, so a record
    // written to a log does not carry them.
    let printed = format!("{detail:?}");
    assert!(!printed.contains(target.members[0].id_number.as_str()));
    assert!(printed.contains(&target.members[0].id_number.masked()));
    assert_eq!(detail.members[0].flags, target.members[0].flags);
    assert_eq!(
        detail.grid.cadre_name,
        demo.villages[target.village].grids[target.grid].cadre_name
    );

    let roster = store.roster().await.unwrap();
    assert_eq!(roster.len(), demo.resident_count());
    assert_eq!(roster[0].household_key, demo.households[0].key);
}

/// Village, grid and household scopes see only their part.
pub async fn scopes_limit_what_a_search_returns(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    let villages = store.villages().await.unwrap();
    let v2 = &villages[1];
    let page = store
        .search_households(&query(Scope::Village(v2.id)))
        .await
        .unwrap();
    assert_eq!(
        page.total,
        demo.households.iter().filter(|h| h.village == 1).count() as i64
    );
    assert!(page.households.iter().all(|h| h.village_id == v2.id));

    let grid = &store.grids(Some(v2.id)).await.unwrap()[0];
    let page = store
        .search_households(&query(Scope::Grids(vec![grid.id])))
        .await
        .unwrap();
    assert!(page.total > 0);
    assert!(page.households.iter().all(|h| h.grid_id == grid.id));

    let one = page.households[0].id;
    let page = store
        .search_households(&query(Scope::Household(one.get())))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(
        store
            .search_households(&query(Scope::Nothing))
            .await
            .unwrap()
            .total,
        0
    );

    // A filter outside the scope finds nothing rather than widening it.
    let mut q = query(Scope::Village(v2.id));
    q.village_id = Some(villages[0].id);
    assert_eq!(store.search_households(&q).await.unwrap().total, 0);
}

/// Importing a known household key replaces its members.
pub async fn reimport_replaces_members(store: Arc<dyn Store>) {
    let demo = seeded(&*store).await;
    let lookup = store.registry_lookup().await.unwrap();
    let h = &demo.households[0];
    let village_id = lookup.villages[&demo.villages[0].code];
    let grid_id = lookup.grids[&(village_id, demo.villages[0].grids[0].code.clone())];
    let head_only = HouseholdRecord {
        key: h.key.clone(),
        village_id,
        grid_id,
        address: "新地址8号".into(),
        members: vec![h.members[0].clone()],
    };
    let before = store.audit_head().await.unwrap().unwrap().0;
    let summary = store
        .import_households(&Actor::user("admin"), &[head_only])
        .await
        .unwrap();
    assert_eq!(
        (
            summary.households_created,
            summary.households_updated,
            summary.residents
        ),
        (0, 1, 1)
    );
    let mut q = query(Scope::Subdistrict);
    q.text = Some(h.key.clone());
    let found = store.search_households(&q).await.unwrap();
    let detail = store.household(found.households[0].id).await.unwrap();
    assert_eq!(detail.members.len(), 1);
    assert_eq!(detail.summary.address, "新地址8号");
    assert!(store.audit_head().await.unwrap().unwrap().0 > before);
    assert_eq!(
        store.registry_lookup().await.unwrap().registered_ids.len(),
        demo.resident_count() - h.members.len() + 1
    );
}

/// Unique rules and missing rows surface as typed errors.
pub async fn conflicts_and_missing_rows_are_typed(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let dup = store
        .create_village(
            &Actor::user("admin"),
            NewVillage {
                code: "V01".into(),
                name: "另一个村".into(),
                kind: VillageKind::Village,
            },
        )
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict { conflict: Conflict::Duplicate { table }, source: Some(_) }) if table == "villages"),
        "the same conflict on every backend, with the driver's error kept: {dup:?}"
    );
    let dup = store
        .create_user(
            &Actor::user("admin"),
            NewUser {
                username: "admin".into(),
                display_name: "x".into(),
                role: Role::Admin,
                password_hash: HASH.into(),
                village_id: None,
                household_id: None,
            },
        )
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict { conflict: Conflict::Duplicate { table }, .. }) if table == "users"),
        "{dup:?}"
    );
    assert!(matches!(
        store.household(HouseholdId(987_654)).await,
        Err(StoreError::NotFound { .. })
    ));
}
