//! Loads a generated demo subdistrict (示范街道) into a store, with one sign-in per role.

use yongxin_domain::demo::DemoSubdistrict;
use yongxin_domain::roster::HouseholdRecord;
use yongxin_domain::Role;

use crate::{HouseholdQuery, NewGrid, NewUser, NewVillage, Store, StoreError, StoreResult};

/// The demo sign-ins, one per role, in the order the demo prints them.
pub const DEMO_ACCOUNTS: [(&str, Role); 6] = [
    ("admin", Role::Admin),
    ("leader", Role::Leader),
    ("staff", Role::DepartmentStaff),
    ("village", Role::VillageOfficer),
    ("grid", Role::GridWorker),
    ("resident", Role::Resident),
];

/// The actor named in the record for everything the demo loader writes.
pub const DEMO_ACTOR: &str = "system:demo";

/// Writes the subdistrict, its villages, grids with cadre accounts, households and the demo
/// sign-ins. Every account gets `password_hash`. The first grid's cadre is `grid`; the head of the
/// first household is `resident`; `village` serves the first village.
pub async fn load(
    store: &dyn Store,
    demo: &DemoSubdistrict,
    password_hash: &str,
) -> StoreResult<()> {
    store.set_subdistrict(DEMO_ACTOR, &demo.name).await?;
    let mut grid_ids: Vec<Vec<i64>> = Vec::new();
    let mut village_ids = Vec::new();
    for (vi, v) in demo.villages.iter().enumerate() {
        let village = store
            .create_village(
                DEMO_ACTOR,
                NewVillage {
                    code: v.code.clone(),
                    name: v.name.clone(),
                    kind: v.kind,
                },
            )
            .await?;
        village_ids.push(village.id);
        let mut ids = Vec::new();
        for (gi, g) in v.grids.iter().enumerate() {
            let grid = store
                .create_grid(
                    DEMO_ACTOR,
                    NewGrid {
                        village_id: village.id,
                        code: g.code.clone(),
                        name: g.name.clone(),
                        cadre_name: g.cadre_name.clone(),
                        cadre_phone: Some(g.cadre_phone.as_str().to_owned()),
                    },
                )
                .await?;
            let username = if vi == 0 && gi == 0 {
                "grid".to_owned()
            } else {
                format!("grid-{}", g.code.to_lowercase())
            };
            let cadre = store
                .create_user(
                    DEMO_ACTOR,
                    NewUser {
                        username,
                        display_name: g.cadre_name.clone(),
                        role: Role::GridWorker,
                        password_hash: password_hash.to_owned(),
                        village_id: Some(village.id),
                        household_id: None,
                    },
                )
                .await?;
            store
                .assign_grid_cadre(DEMO_ACTOR, grid.id, cadre.id)
                .await?;
            ids.push(grid.id);
        }
        grid_ids.push(ids);
    }
    let records: Vec<HouseholdRecord> = demo
        .households
        .iter()
        .map(|h| HouseholdRecord {
            key: h.key.clone(),
            village_id: village_ids[h.village],
            grid_id: grid_ids[h.village][h.grid],
            address: h.address.clone(),
            members: h.members.clone(),
        })
        .collect();
    store.import_households(DEMO_ACTOR, &records).await?;

    let first = demo.households.first().ok_or_else(|| StoreError::Invalid {
        field: "households".into(),
        reason: "the demo has no households".into(),
    })?;
    let page = store
        .search_households(&HouseholdQuery {
            scope: yongxin_domain::Scope::Subdistrict,
            village_id: None,
            grid_id: None,
            text: Some(first.key.clone()),
            page: 1,
            per_page: 1,
        })
        .await?;
    let first_household = page.households.first().map(|h| h.id);
    for (username, role) in DEMO_ACCOUNTS {
        if role == Role::GridWorker {
            continue;
        }
        let display_name = match role {
            Role::Resident => first.members[0].name.clone(),
            Role::VillageOfficer => format!("{}村干部", demo.villages[0].name),
            _ => username.to_owned(),
        };
        store
            .create_user(
                DEMO_ACTOR,
                NewUser {
                    username: username.to_owned(),
                    display_name,
                    role,
                    password_hash: password_hash.to_owned(),
                    village_id: (role == Role::VillageOfficer).then_some(village_ids[0]),
                    household_id: if role == Role::Resident {
                        first_household
                    } else {
                        None
                    },
                },
            )
            .await?;
    }
    Ok(())
}

/// The actor named in the record for defaults written when a database is first opened.
pub const SETUP_ACTOR: &str = "system:setup";

/// Gives a database without a service catalogue the default one.
pub async fn ensure_catalogue(store: &dyn Store) -> StoreResult<()> {
    if store.categories().await?.is_empty() {
        for (i, c) in yongxin_domain::catalogue::default_catalogue()
            .iter()
            .enumerate()
        {
            store.save_category(SETUP_ACTOR, c, i as i64, true).await?;
        }
    }
    Ok(())
}

/// Stores generated appeals for the demo subdistrict already loaded: each is filed by its
/// household's head, dispatched by `staff` to the category's department and the household's grid
/// cadre, who contacts, notes and answers; ratings come from the household.
pub async fn load_appeals(
    store: &dyn Store,
    demo: &DemoSubdistrict,
    appeals: &[yongxin_domain::demo_appeals::DemoAppeal],
    policy: yongxin_domain::appeal::AppealPolicy,
    calendar: &yongxin_domain::calendar::WorkingCalendar,
) -> StoreResult<u64> {
    use std::collections::HashMap;
    use yongxin_domain::appeal::{AppealAction, Channel};
    use yongxin_domain::demo_appeals::DemoActor;

    let catalogue: HashMap<String, yongxin_domain::catalogue::Category> = store
        .categories()
        .await?
        .into_iter()
        .map(|(c, _)| (c.code.clone(), c))
        .collect();
    let mut households: HashMap<String, (i64, i64, i64)> = HashMap::new();
    let mut page = 1;
    loop {
        let q = HouseholdQuery {
            scope: yongxin_domain::Scope::Subdistrict,
            village_id: None,
            grid_id: None,
            text: None,
            page,
            per_page: 500,
        };
        let found = store.search_households(&q).await?;
        let done = found.households.len() < 500;
        for h in found.households {
            households.insert(h.key, (h.id, h.village_id, h.grid_id));
        }
        if done {
            break;
        }
        page += 1;
    }
    let users: HashMap<i64, String> = store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    let cadres: HashMap<i64, (i64, String)> = store
        .grids(None)
        .await?
        .into_iter()
        .filter_map(|g| {
            g.cadre_user_id
                .map(|c| (g.id, (c, users.get(&c).cloned().unwrap_or_default())))
        })
        .collect();
    let mut batch = Vec::new();
    let mut stored = 0;
    for a in appeals {
        // Households without any phone cannot be called back; the next one that can files instead.
        let Some(h) = (0..demo.households.len())
            .map(|k| &demo.households[(a.household + k) % demo.households.len()])
            .find(|h| h.members.iter().any(|m| m.phone.is_some()))
        else {
            continue;
        };
        let (Some(&(household_id, village_id, grid_id)), Some(category)) =
            (households.get(&h.key), catalogue.get(a.category))
        else {
            continue;
        };
        let Some(phone) = h.members.iter().find_map(|m| m.phone.clone()) else {
            continue;
        };
        let (cadre_id, cadre_name) = cadres.get(&grid_id).cloned().unwrap_or((0, "grid".into()));
        let due = category.deadlines(a.urgency, a.created_at, calendar);
        let history = a
            .steps
            .iter()
            .map(|(at, who, action)| {
                let action = match action {
                    AppealAction::Assign { .. } => AppealAction::Assign {
                        department: Some(category.department.clone()),
                        cadre: (cadre_id > 0).then_some(cadre_id),
                    },
                    other => other.clone(),
                };
                let actor = match who {
                    DemoActor::Staff => "staff".to_owned(),
                    DemoActor::GridCadre => cadre_name.clone(),
                    DemoActor::Resident => format!("household:{}", h.key),
                };
                (*at, actor, action)
            })
            .collect();
        batch.push(crate::ImportedAppeal {
            appeal: crate::NewAppeal {
                category: category.code.clone(),
                urgency: a.urgency,
                channel: if a.household % 3 == 0 {
                    Channel::Phone
                } else {
                    Channel::Web
                },
                title: a.title.clone(),
                description: a.description.clone(),
                answers: a.answers.clone(),
                address: h.address.clone(),
                latitude: None,
                longitude: None,
                village_id: Some(village_id),
                grid_id: Some(grid_id),
                household_id: Some(household_id),
                resident_user_id: None,
                contact_name: h.members[0].name.clone(),
                contact_phone: phone.as_str().to_owned(),
                contact_email: None,
                department: category.department.clone(),
                created_at: a.created_at,
                contact_due: due.contact_due,
                resolution_due: due.resolution_due,
            },
            submitted_by: format!("household:{}", h.key),
            history,
        });
        if batch.len() == 2000 {
            stored += store
                .import_appeals(DEMO_ACTOR, std::mem::take(&mut batch), policy)
                .await?;
        }
    }
    if !batch.is_empty() {
        stored += store.import_appeals(DEMO_ACTOR, batch, policy).await?;
    }
    Ok(stored)
}
