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
        // People's names where a person's name belongs: the sign-in name is only for signing in.
        let display_name = match role {
            Role::Resident => first.members[0].name.clone(),
            Role::VillageOfficer => format!("{}村干部", demo.villages[0].name),
            Role::Admin => "陈静".to_owned(),
            Role::Leader => "刘建国".to_owned(),
            Role::DepartmentStaff => "王芳".to_owned(),
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
    let households: HashMap<String, (i64, i64, i64)> = households_of(store, None)
        .await?
        .into_iter()
        .map(|h| (h.key, (h.id, h.village_id, h.grid_id)))
        .collect();
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

/// Adds the four-village integration project (四村整合项目) and notices of every kind to the
/// demo subdistrict already loaded: its resettlement policy (corrected once), a progress report,
/// a 公示 of the household survey taking objections (some households have objected), an ended
/// straw-burning notice and one scheduled for later; most of the project's households are
/// informed of the policy, some by reading it, most by their grid cadre. Answers how many notices.
pub async fn load_notices(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
    calendar: &yongxin_domain::calendar::WorkingCalendar,
) -> StoreResult<usize> {
    use chrono::Duration;
    use yongxin_domain::appeal::{Channel, Urgency};
    use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};

    let villages = store.villages().await?;
    let project_villages: Vec<i64> = villages
        .iter()
        .filter(|v| v.kind == yongxin_domain::VillageKind::Village)
        .take(4)
        .map(|v| v.id)
        .collect();
    let project = store
        .create_project(
            DEMO_ACTOR,
            crate::NewProject {
                code: "four_villages".into(),
                name: "四村整合项目".into(),
                village_ids: project_villages.clone(),
            },
        )
        .await?;
    let draft = |kind, scope, title: &str, body: &str, publish: Duration, end: Option<Duration>| {
        NoticeDraft {
            kind,
            scope,
            village_ids: if scope == ScopeKind::Villages {
                villages.last().map(|v| vec![v.id]).unwrap_or_default()
            } else {
                vec![]
            },
            project_id: (scope == ScopeKind::Project).then_some(project.id),
            title: title.into(),
            body: body.into(),
            publish_at: now + publish,
            end_at: end.map(|e| now + e),
            objections_until: None,
        }
    };
    // The plain-words summary residents read first states the figures of the policy the project
    // publishes and computes with (docs/policy-example.toml), so the two never disagree; its
    // correction shows how a wrong figure is put right in public.
    let rules = yongxin_domain::resettlement::policy::Policy::from_toml(
        yongxin_domain::resettlement::policy::EXAMPLE_TOML,
    )
    .map_err(StoreError::internal)?;
    let transition = rules
        .transition
        .as_ref()
        .map(|t| t.per_person_month)
        .unwrap_or_default();
    let yuan = |f: yongxin_domain::money::Fen| {
        let s = f.to_string();
        s.strip_suffix(".00").map(str::to_owned).unwrap_or(s)
    };
    let summary = |per_month: yongxin_domain::money::Fen| {
        format!(
            "第一条 本政策适用于四村整合项目范围内东坞村、西坪村、南庄村、北岭村的在册农户。\n\n\
             第二条 安置对象为{}前在本户登记的户籍人口；在外就读学生、现役军人计入安置人口。\n\n\
             第三条 安置面积按每人{}平方米计算，每户不少于{}平方米，可在安置面积基础上优惠购买不超过{}平方米。\n\n\
             第四条 过渡费每人每月{}元，自腾房之日起计至交房之日。\n\n\
             第五条 在规定期限内签约并腾房的，给予提前签约奖励。\n\n\
             每户的核算以《{}》（第 {} 版）为准。",
            rules.eligibility.cutoff.format("%Y年%-m月%-d日"),
            rules.area.per_person.short(),
            rules.area.household_minimum.unwrap_or_default().short(),
            rules.band_limit().unwrap_or_default().short(),
            yuan(per_month),
            rules.title,
            rules.version,
        )
    };
    let policy_text = summary(transition);
    let mut policy = draft(
        NoticeKind::Policy,
        ScopeKind::Project,
        "四村整合项目拆迁安置政策解读",
        &policy_text,
        -Duration::days(60),
        None,
    )
    .checked()
    .map_err(StoreError::internal)?;
    policy.body = summary(yongxin_domain::money::Fen(transition.0 - 5_000));
    let policy = store.create_notice(DEMO_ACTOR, policy).await?;
    store
        .correct_notice(
            DEMO_ACTOR,
            policy.id,
            &policy.title,
            &policy_text,
            &format!(
                "更正过渡费标准：经党工委会议研究，过渡费为每人每月{}元",
                yuan(transition)
            ),
        )
        .await?;
    let drafts = [
        draft(
            NoticeKind::Progress,
            ScopeKind::Subdistrict,
            "四村整合项目进度通报（第三期）",
            "截至本周，50名干部已完成四个村的入户征求意见，安置区选址和户型面积的意见已汇总。\n\n下一步将召开村两委会议、党员大会和村民代表会议审议。",
            -Duration::days(10),
            None,
        ),
        draft(
            NoticeKind::Policy,
            ScopeKind::Subdistrict,
            "关于做好夏秋禁烧工作的通知",
            "严禁在田间地头焚烧秸秆、垃圾。发现焚烧行为请拨打街道值班电话。",
            -Duration::days(120),
            Some(-Duration::days(30)),
        ),
        draft(
            NoticeKind::Progress,
            ScopeKind::Villages,
            "社区道路维修进度",
            "社区主干道将于下周开始分段维修，请居民注意绕行。",
            Duration::days(2),
            None,
        ),
    ];
    let mut count = 1;
    for d in drafts {
        store
            .create_notice(DEMO_ACTOR, d.checked().map_err(StoreError::internal)?)
            .await?;
        count += 1;
    }
    let mut survey = draft(
        NoticeKind::Publication,
        ScopeKind::Project,
        "四村整合项目入户调查结果公示",
        "现将四村整合项目各户人口、房屋面积入户调查结果予以公示（户主姓名以“某”代替）。\n\n\
         对公示结果有异议的，请于公示期内在本页面提出，或向所在村网格员反映。",
        -Duration::days(3),
        Some(Duration::days(27)),
    );
    survey.objections_until = Some(now + Duration::days(4));
    let survey = store
        .create_notice(DEMO_ACTOR, survey.checked().map_err(StoreError::internal)?)
        .await?;

    // The project's households, and who informs them.
    let households = households_of(store, Some(&project_villages)).await?;
    let users = store.users().await?;
    let by = |name: &str| users.iter().find(|u| u.username == name).map(|u| u.id);
    if let (Some(grid), Some(resident)) = (by("grid"), by("resident")) {
        let resident_household = users
            .iter()
            .find(|u| u.username == "resident")
            .and_then(|u| u.household_id);
        // Seven in ten households informed of the policy: the demo resident's by reading it
        // online, the others by the grid cadre in person.
        let informed: Vec<_> = households
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 10 < 7)
            .collect();
        for chunk in informed.chunks(64) {
            let marks = chunk.iter().map(|(i, h)| {
                let (how, user) = if Some(h.id) == resident_household {
                    (crate::InformedHow::Read, resident)
                } else {
                    (crate::InformedHow::Confirmed, grid)
                };
                store.mark_informed(
                    DEMO_ACTOR,
                    policy.id,
                    h.id,
                    how,
                    user,
                    now - Duration::days(50) + Duration::minutes(*i as i64),
                )
            });
            for r in futures_util::future::join_all(marks).await {
                r?;
            }
        }
    }

    // A few households object to the survey's results.
    let category = yongxin_domain::catalogue::objection_category();
    store
        .save_category(DEMO_ACTOR, &category, 1000, false)
        .await?;
    let reasons = [
        "我家户籍人口为5人，公示为4人，孙子今年3月出生已落户。",
        "房屋面积测量漏算了东侧厢房约18平方米。",
        "我家有一名在外就读的大学生，应计入安置人口。",
    ];
    for (h, reason) in households.iter().step_by(97).zip(reasons) {
        let created_at = now - Duration::days(2) + Duration::hours(h.id % 24);
        let due = category.deadlines(Urgency::Normal, created_at, calendar);
        let appeal = crate::NewAppeal {
            category: category.code.clone(),
            urgency: Urgency::Normal,
            channel: Channel::WalkIn,
            title: format!("对《{}》的异议", survey.title),
            description: reason.into(),
            answers: Default::default(),
            address: h.address.clone(),
            latitude: None,
            longitude: None,
            village_id: Some(h.village_id),
            grid_id: Some(h.grid_id),
            household_id: Some(h.id),
            resident_user_id: None,
            contact_name: h.head_name.clone(),
            contact_phone: h.head_phone.clone().unwrap_or_else(|| "13900000000".into()),
            contact_email: None,
            department: category.department.clone(),
            created_at,
            contact_due: due.contact_due,
            resolution_due: due.resolution_due,
        };
        store
            .create_objection("grid", survey.id, appeal)
            .await?
            .map_err(StoreError::internal)?;
    }
    Ok(count + 1)
}

/// Adds consultations to the demo: the closed one on the four-village project's resettlement
/// site and apartment sizes, answered by most of its households (recorded door to door by the
/// grid cadre, some at meetings, the demo resident's online) with its results published, and one
/// open for 30 days from `now`. Answers how many answers were recorded.
pub async fn load_consultations(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<usize> {
    use chrono::Duration;
    use std::collections::BTreeMap;
    use yongxin_domain::consultation::{parse_questions, AnswerChannel, GivenAnswer};
    use yongxin_domain::notice::ScopeKind;

    let project = store
        .projects()
        .await?
        .into_iter()
        .find(|p| p.code == "four_villages");
    let users = store.users().await?;
    let by = |name: &str| users.iter().find(|u| u.username == name);
    let (Some(project), Some(grid), Some(resident)) = (project, by("grid"), by("resident")) else {
        return Ok(0);
    };
    let questions = parse_questions(
        "单选：安置区选址您倾向哪里？\n- 东坞村北（靠近镇区）\n- 西坪村东（靠近学校）\n- 南庄村西（地势较高）\n\
         多选(2)：您家需要哪些户型面积？\n- 90平方米\n- 120平方米\n- 140平方米\n\
         排序：请按优先顺序排列安置区配套\n- 学校\n- 卫生室\n- 农贸市场\n- 老年活动中心\n\
         填空：其他意见和建议",
    )
    .map_err(StoreError::internal)?;
    let site = store
        .create_consultation(
            DEMO_ACTOR,
            crate::NewConsultation {
                title: "四村整合项目安置区选址和户型面积征求意见".into(),
                background: "为做好四村整合项目安置工作，街道组织干部入户征求各户对安置区选址和户型面积的意见，结果将提交村两委会议、党员大会和村民代表会议审议。".into(),
                notice_id: None,
                scope: ScopeKind::Project,
                village_ids: vec![],
                project_id: Some(project.id),
                opens_at: now - Duration::days(50),
                closes_at: now - Duration::days(40),
                questions: questions.clone(),
            },
        )
        .await?;
    let households = households_of(store, Some(&project.village_ids)).await?;
    let q = &site.questions;
    let texts = [
        "希望尽早开工建设。",
        "安置区要有足够的停车位。",
        "老人多，希望一楼优先分给老人户。",
    ];
    // Seventeen households in twenty answered; where they lean follows the village.
    let answering: Vec<(usize, &crate::HouseholdSummary)> = households
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 20 < 17)
        .collect();
    let mut recorded = 0;
    for chunk in answering.chunks(64) {
        let answers = chunk.iter().map(|(i, h)| {
            let mut given = BTreeMap::new();
            let lean = (h.village_id as usize + i) % 7;
            given.insert(
                q[0].id,
                GivenAnswer::Option(q[0].options[[0, 0, 0, 1, 1, 2, 0][lean]].0),
            );
            let sizes = match i % 5 {
                0 => vec![q[1].options[0].0],
                1 | 2 => vec![q[1].options[1].0],
                3 => vec![q[1].options[1].0, q[1].options[2].0],
                _ => vec![q[1].options[0].0, q[1].options[1].0],
            };
            given.insert(q[1].id, GivenAnswer::Options(sizes));
            let mut ranking: Vec<i64> = q[2].options.iter().map(|o| o.0).collect();
            ranking.rotate_left(i % 3);
            given.insert(q[2].id, GivenAnswer::Options(ranking));
            if i % 9 == 0 {
                given.insert(
                    q[3].id,
                    GivenAnswer::Text(texts[(i / 9) % texts.len()].into()),
                );
            }
            let own = resident.household_id == Some(h.id);
            let (channel, user) = if own {
                (AnswerChannel::Online, resident.id)
            } else if i % 6 == 0 {
                (AnswerChannel::Meeting, grid.id)
            } else {
                (AnswerChannel::InPerson, grid.id)
            };
            store.submit_answer(
                if own { "resident" } else { "grid" },
                site.id,
                crate::NewAnswer {
                    household_id: h.id,
                    resident_id: None,
                    channel,
                    recorded_by: user,
                    answered_at: site.opens_at + Duration::minutes(*i as i64 * 7 % (9 * 24 * 60)),
                    given,
                },
            )
        });
        for r in futures_util::future::join_all(answers).await {
            r?.map_err(StoreError::internal)?;
            recorded += 1;
        }
    }
    store
        .create_consultation(
            DEMO_ACTOR,
            crate::NewConsultation {
                title: "村内道路硬化和路灯安装方案征求意见".into(),
                background: "街道计划明年对各村主要道路进行硬化并安装路灯，现征求各户意见。".into(),
                notice_id: None,
                scope: ScopeKind::Subdistrict,
                village_ids: vec![],
                project_id: None,
                opens_at: now,
                closes_at: now + Duration::days(30),
                questions: parse_questions(
                    "单选：您家门前道路最需要的是？\n- 硬化路面\n- 安装路灯\n- 修排水沟\n多选(2)：您希望优先改造的时间段？\n- 春季\n- 夏季\n- 秋季\n- 冬季\n填空：具体位置或其他建议",
                )
                .map_err(StoreError::internal)?,
            },
        )
        .await?;
    Ok(recorded)
}

/// Adds a meeting of every kind to the demo, in the four-village project's first village, with
/// attendance, minutes and resolutions: the committees, the Party members and the representatives
/// decide the resettlement site; a villagers' meeting falls short of its quorum and decides
/// nothing; a hearing on the compensation standards records its advice. Answers how many.
pub async fn load_meetings(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<usize> {
    use chrono::Duration;
    use yongxin_domain::meeting::{MeetingKind, VillagersBasis};

    let Some(project) = store
        .projects()
        .await?
        .into_iter()
        .find(|p| p.code == "four_villages")
    else {
        return Ok(0);
    };
    let Some(&village) = project.village_ids.first() else {
        return Ok(0);
    };
    let heads = store
        .search_households(&HouseholdQuery {
            scope: yongxin_domain::Scope::Subdistrict,
            village_id: Some(village),
            grid_id: None,
            text: None,
            page: 1,
            per_page: 20,
        })
        .await?
        .households;
    let id_numbers = |from: usize, n: usize| {
        heads
            .iter()
            .skip(from)
            .take(n)
            .map(|h| h.head_id_number.clone())
            .collect::<Vec<_>>()
    };
    /// One demo meeting: who, how many come, what it decides, its minutes.
    type Resolved<'a> = Option<(&'a str, f64, f64)>;
    struct Planned<'a> {
        kind: MeetingKind,
        basis: Option<VillagersBasis>,
        title: &'a str,
        members: Vec<String>,
        share: f64,
        resolution: Resolved<'a>,
        minutes: &'a str,
    }
    let planned = |kind, basis, title, members, share, resolution, minutes| Planned {
        kind,
        basis,
        title,
        members,
        share,
        resolution,
        minutes,
    };
    let plan = [
        planned(
            MeetingKind::VillageCommittee,
            None,
            "村两委会议：研究安置区选址意见",
            id_numbers(0, 7),
            0.86,
            Some(("同意将征求意见结果提交党员大会和村民代表会议审议", 0.8, 0.0)),
            "会议通报了入户征求意见结果，逐项讨论了三个选址方案。",
        ),
        planned(
            MeetingKind::PartyMembers,
            None,
            "党员大会：审议安置区选址",
            vec![],
            0.8,
            Some(("同意安置区选址在东坞村北", 0.85, 0.05)),
            "党员围绕选址和户型充分发表意见，一致表示带头支持项目推进。",
        ),
        planned(
            MeetingKind::Representatives,
            None,
            "村民代表会议：表决安置区选址和户型",
            vec![],
            0.8,
            Some((
                "同意安置区选址在东坞村北，户型设90、120、140平方米三种",
                0.75,
                0.1,
            )),
            "村民代表逐一发言，表决时实到代表超过三分之二。",
        ),
        planned(
            MeetingKind::Villagers,
            Some(VillagersBasis::Households),
            "村民会议：通报安置政策",
            vec![],
            0.5,
            None,
            "到会户代表未达到三分之二，会议只通报政策、听取意见，未作表决。",
        ),
        planned(
            MeetingKind::Hearing,
            None,
            "征收补偿标准听证会",
            id_numbers(7, 10),
            0.8,
            Some(("建议附属物补偿标准中增加果树分档", 0.7, 0.1)),
            "听证会听取了村民代表和评估机构的意见。",
        ),
    ];
    let mut held = 0;
    for (i, p) in plan.into_iter().enumerate() {
        let Planned {
            kind,
            basis,
            title,
            members,
            share,
            resolution,
            minutes,
        } = p;
        let meeting = store
            .create_meeting(
                DEMO_ACTOR,
                crate::NewMeeting {
                    kind,
                    village_id: (kind != MeetingKind::Hearing).then_some(village),
                    basis,
                    title: title.into(),
                    held_at: now - Duration::days(38 - 2 * i as i64),
                    place: "东坞村村委会会议室".into(),
                    agenda:
                        "一、通报四村整合项目入户征求意见结果；二、讨论安置区选址和户型；三、表决。"
                            .into(),
                    member_id_numbers: members,
                },
            )
            .await;
        let meeting = match meeting {
            Ok(m) => m,
            // A registry without such members (a small demo) holds no such meeting.
            Err(StoreError::Invalid { .. }) => continue,
            Err(e) => return Err(e),
        };
        let list = store.meeting_members(meeting.id).await?;
        let attending = ((list.len() as f64) * share).ceil() as usize;
        for m in list.iter().take(attending) {
            store
                .sign_in_member(
                    "grid",
                    meeting.id,
                    m.resident_id,
                    if m.resident_id % 3 == 0 {
                        yongxin_domain::meeting::SignInWay::Code
                    } else {
                        yongxin_domain::meeting::SignInWay::Door
                    },
                    meeting.held_at,
                )
                .await?;
        }
        if let Some((text, yes, no)) = resolution {
            let present = attending as f64;
            let votes_for = (present * yes).floor() as u32;
            let against = (present * no).floor() as u32;
            let abstain = (attending as u32).saturating_sub(votes_for + against);
            store
                .add_resolution(DEMO_ACTOR, meeting.id, text, (votes_for, against, abstain))
                .await?
                .map_err(StoreError::internal)?;
        }
        store.save_minutes(DEMO_ACTOR, meeting.id, minutes).await?;
        held += 1;
    }
    Ok(held)
}

/// Every household of some villages (of all with `None`), in village and key order.
async fn households_of(
    store: &dyn Store,
    villages: Option<&[i64]>,
) -> StoreResult<Vec<crate::HouseholdSummary>> {
    let villages: Vec<Option<i64>> = match villages {
        Some(v) => v.iter().copied().map(Some).collect(),
        None => vec![None],
    };
    let mut households = Vec::new();
    for v in villages {
        let mut page = 1;
        loop {
            let found = store
                .search_households(&HouseholdQuery {
                    scope: yongxin_domain::Scope::Subdistrict,
                    village_id: v,
                    grid_id: None,
                    text: None,
                    page,
                    per_page: 500,
                })
                .await?;
            let done = found.households.len() < 500;
            households.extend(found.households);
            if done {
                break;
            }
            page += 1;
        }
    }
    Ok(households)
}

/// What the resettlement demo wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResettlementDemo {
    /// Households of the project.
    pub households: usize,
    /// Of which registered.
    pub registered: usize,
    /// Apartments in the catalogue.
    pub units: usize,
}

/// A household's preferred layouts as the demo registers them: combinations of one to three
/// layouts within the limit, picked by the household's id among those that use most of the
/// entitlement.
fn demo_layouts(
    policy: &yongxin_domain::resettlement::policy::Policy,
    entitled: yongxin_domain::money::Qty,
    pick: i64,
) -> Vec<String> {
    use yongxin_domain::money::Qty;
    let limit =
        yongxin_domain::resettlement::entitlement::limit_area(policy, entitled).unwrap_or(entitled);
    let layouts = &policy.layouts;
    let mut combos: Vec<(Qty, Vec<String>)> = Vec::new();
    for (i, a) in layouts.iter().enumerate() {
        combos.push((a.area, vec![a.code.clone()]));
        for (j, b) in layouts.iter().enumerate().skip(i) {
            combos.push((a.area + b.area, vec![a.code.clone(), b.code.clone()]));
            for c in layouts.iter().skip(j) {
                combos.push((
                    a.area + b.area + c.area,
                    vec![a.code.clone(), b.code.clone(), c.code.clone()],
                ));
            }
        }
    }
    combos.retain(|(area, _)| *area <= limit);
    let best = combos.iter().map(|(a, _)| *a).max().unwrap_or(Qty::ZERO);
    let mut near: Vec<&(Qty, Vec<String>)> = combos
        .iter()
        .filter(|(a, _)| *a + Qty::whole(30) >= best.min(entitled))
        .collect();
    // Families rarely take three flats when one or two will do.
    if near.iter().any(|(_, c)| c.len() <= 2) {
        near.retain(|(_, c)| c.len() <= 2);
    }
    match near.len() {
        0 => Vec::new(),
        n => near[usize::try_from(pick).unwrap_or(0) % n].1.clone(),
    }
}

/// Takes the four-village project through resettlement: the example policy published (and its
/// catalogue of about 2,500 apartments), most households registered by their grid cadres (the
/// demo resident online), every household assessed with structures and fixtures, the results
/// published and their objection window closed, the list frozen and drawn with a public seed.
pub async fn load_resettlement(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<ResettlementDemo> {
    use futures_util::stream::{self, TryStreamExt};
    use yongxin_domain::money::Qty;
    use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
    use yongxin_domain::resettlement::entitlement::{
        eligible_members, entitled_area, CountedFixture, MeasuredStructure, MemberFacts,
    };
    use yongxin_domain::resettlement::policy::{Policy, StructureKind, EXAMPLE_TOML};
    use yongxin_domain::resettlement::Phase;

    let refused =
        |what: &str, e: yongxin_domain::resettlement::ResettlementError| StoreError::Invalid {
            field: what.into(),
            reason: e.to_string(),
        };
    let Some(project) = store.projects().await?.into_iter().next() else {
        return Ok(ResettlementDemo {
            households: 0,
            registered: 0,
            units: 0,
        });
    };
    let pid = project.id;
    let policy = Policy::from_toml(EXAMPLE_TOML).map_err(|e| StoreError::Invalid {
        field: "policy".into(),
        reason: e.to_string(),
    })?;
    let draft = |kind: NoticeKind,
                 title: String,
                 body: String,
                 days_ago: i64,
                 objection_days: Option<i64>| NoticeDraft {
        kind,
        scope: ScopeKind::Project,
        village_ids: Vec::new(),
        project_id: Some(pid),
        title,
        body,
        publish_at: now - chrono::Duration::days(days_ago),
        end_at: None,
        objections_until: objection_days
            .map(|d| now - chrono::Duration::days(days_ago) + chrono::Duration::days(d)),
    };
    store
        .publish_policy(
            DEMO_ACTOR,
            pid,
            EXAMPLE_TOML,
            draft(
                NoticeKind::Policy,
                format!("{}（第 1 版）", policy.title),
                yongxin_domain::resettlement::policy_text(
                    &policy,
                    &format!("/projects/{pid}/policy/{}/source.toml", policy.version),
                ),
                60,
                None,
            ),
        )
        .await?
        .map_err(|e| refused("policy", e))?;
    store
        .move_phase(
            DEMO_ACTOR,
            pid,
            Phase::Registration,
            "政策宣讲完毕，开始选房登记",
        )
        .await?
        .map_err(|e| refused("phase", e))?;

    let households = households_of(store, Some(&project.village_ids)).await?;
    let users = store.users().await?;
    let cadre_of = |grid: i64| {
        users
            .iter()
            .find(|u| u.role == Role::GridWorker && u.grid_ids.contains(&grid))
    };
    let resident = users.iter().find(|u| u.role == Role::Resident);
    // About one household in seventeen has not registered yet: the dashboard shows who.
    let registering: Vec<(&crate::HouseholdSummary, &crate::User, bool)> = households
        .iter()
        .filter(|h| h.id % 17 != 5)
        .filter_map(
            |h| match resident.filter(|r| r.household_id == Some(h.id)) {
                Some(r) => Some((h, r, false)),
                None => cadre_of(h.grid_id).map(|c| (h, c, true)),
            },
        )
        .collect();
    let registered = stream::iter(registering.iter().map(Ok::<_, StoreError>))
        .map_ok(|(h, by, in_person)| {
            let policy = &policy;
            async move {
                let detail = store.household(h.id).await?;
                let facts: Vec<MemberFacts> =
                    detail.members.iter().map(MemberFacts::from).collect();
                // The demo's policy and registry give no household an area beyond the bound.
                let Ok((_, area)) = entitled_area(policy, &eligible_members(policy, &facts)) else {
                    return Ok(0usize);
                };
                let layouts = demo_layouts(policy, area, h.id);
                if layouts.is_empty() {
                    return Ok(0usize);
                }
                store
                    .register(DEMO_ACTOR, pid, h.id, layouts, by, *in_person)
                    .await?
                    .map_err(|e| refused("registration", e))?;
                Ok(1)
            }
        })
        .try_buffer_unordered(16)
        .try_fold(0, |n, one| async move { Ok(n + one) })
        .await?;

    store
        .move_phase(DEMO_ACTOR, pid, Phase::Assessment, "登记基本完成，入户评估")
        .await?
        .map_err(|e| refused("phase", e))?;
    let conditions = [
        (StructureKind::BrickConcrete, "一等"),
        (StructureKind::BrickConcrete, "二等"),
        (StructureKind::BrickWood, "一等"),
        (StructureKind::BrickWood, "二等"),
    ];
    stream::iter(households.iter().map(Ok::<_, StoreError>))
        .try_for_each_concurrent(16, |h| {
            let policy = &policy;
            async move {
                let mut inputs = match store.assessment(pid, h.id).await? {
                    Some(a) => a.inputs,
                    None => {
                        let detail = store.household(h.id).await?;
                        let facts: Vec<MemberFacts> =
                            detail.members.iter().map(MemberFacts::from).collect();
                        yongxin_domain::resettlement::entitlement::HouseholdInputs {
                            members: eligible_members(policy, &facts),
                            ..Default::default()
                        }
                    }
                };
                // Measured areas and counts vary with the household, deterministically.
                let k = h.id;
                let (kind, condition) = conditions[usize::try_from(k % 4).unwrap_or(0)];
                inputs.structures = vec![MeasuredStructure {
                    kind,
                    condition: condition.into(),
                    area: Qty(9_000 + (k * 7_919) % 15_000),
                }];
                if k % 3 == 0 {
                    inputs.structures.push(MeasuredStructure {
                        kind: StructureKind::Simple,
                        condition: "一般".into(),
                        area: Qty(1_200 + (k * 131) % 2_500),
                    });
                }
                inputs.fixtures = vec![CountedFixture {
                    code: "yard".into(),
                    quantity: Qty(3_000 + (k * 577) % 9_000),
                }];
                if k % 2 == 0 {
                    inputs.fixtures.push(CountedFixture {
                        code: "well".into(),
                        quantity: Qty::whole(1),
                    });
                }
                inputs.fixtures.push(CountedFixture {
                    code: "tree_large".into(),
                    quantity: Qty::whole(k % 6),
                });
                inputs.fixtures.push(CountedFixture {
                    code: "tree_small".into(),
                    quantity: Qty::whole((k * 3) % 11),
                });
                store
                    .save_assessment(DEMO_ACTOR, pid, h.id, inputs, None)
                    .await?
                    .map_err(|e| refused("assessment", e))?;
                Ok(())
            }
        })
        .await?;

    let rows: Vec<_> = store
        .all_project_households(pid)
        .await?
        .into_iter()
        .map(crate::ProjectHousehold::published)
        .collect();
    let body = yongxin_domain::resettlement::results_text(&project.name, policy.version, &rows);
    store
        .publish_results(
            DEMO_ACTOR,
            pid,
            draft(
                NoticeKind::Publication,
                format!("{}入户评估结果公示", project.name),
                body,
                12,
                Some(7),
            ),
        )
        .await?
        .map_err(|e| refused("results", e))?;
    store
        .move_phase(DEMO_ACTOR, pid, Phase::Lottery, "公示期满，异议已全部答复")
        .await?
        .map_err(|e| refused("phase", e))?;
    store
        .freeze_lottery(
            DEMO_ACTOR,
            pid,
            "选房当日由公证员现场摇出六位数字，当场录入并公布摇号结果。",
            &lottery_parties(1).0,
            draft(
                NoticeKind::Progress,
                format!("{}摇号名单冻结公告", project.name),
                String::new(),
                2,
                None,
            ),
        )
        .await?
        .map_err(|e| refused("freeze", e))?;
    store
        .draw_lottery(DEMO_ACTOR, pid, "386201", &lottery_parties(1).1, None)
        .await?
        .map_err(|e| refused("draw", e))?;
    Ok(ResettlementDemo {
        households: households.len(),
        registered,
        units: policy.units().len(),
    })
}

/// The parties of a demo or test lottery, each with the value it reveals at the draw: the office,
/// the residents' representatives and the notary. Their commitments are the SHA-256 of the
/// values; a real draw's parties keep their values to themselves until the day.
pub fn lottery_parties(
    round: u32,
) -> (
    yongxin_domain::lottery::SeedCommitment,
    Vec<yongxin_domain::lottery::Reveal>,
) {
    use yongxin_domain::lottery::{commitment_of, CommittedParty, Reveal, SeedCommitment};
    let reveals: Vec<Reveal> = ["街道办", "村民代表", "公证处"]
        .iter()
        .enumerate()
        .map(|(i, party)| Reveal {
            party: (*party).to_owned(),
            secret: format!("demo-{round}-{i}-{}", party.len() * 7919),
        })
        .collect();
    let parties = reveals
        .iter()
        .map(|r| CommittedParty {
            party: r.party.clone(),
            sha256: commitment_of(&r.secret),
        })
        .collect();
    // Three distinct, well-formed parties: the constructor cannot refuse them.
    #[expect(clippy::expect_used, reason = "fixed, valid parties")]
    let commitment = SeedCommitment::new(parties).expect("demo parties are valid");
    (commitment, reveals)
}

/// Opens the four-village project's selection: the project moves to 选房; a selection day from now
/// for eight hours (five minutes per household) and an online selection open from now for 24
/// hours, no waves; the first twenty households in lottery order have chosen units of their
/// registered layouts online (confirmed by staff on their behalf), and the selection day calls the
/// others from the first who has not chosen, so the board and the operator's screen show real state. Answers how many households chose.
pub async fn load_selection(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<usize> {
    use yongxin_domain::resettlement::Phase;
    use yongxin_domain::selection::SelectionMode;
    let Some(project) = store.projects().await?.into_iter().next() else {
        return Ok(0);
    };
    let pid = project.id;
    let invalid = |what: &str, reason: String| StoreError::Invalid {
        field: what.into(),
        reason,
    };
    store
        .move_phase(DEMO_ACTOR, pid, Phase::Selection, "摇号完成，进入选房")
        .await?
        .map_err(|e| invalid("phase", e.to_string()))?;
    let selection = |mode, hours| crate::NewSelection {
        project_id: pid,
        mode,
        starts_at: now,
        ends_at: now + chrono::Duration::hours(hours),
        waves: Vec::new(),
        time_limit_seconds: 300,
        return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
    };
    let online = store
        .create_selection(DEMO_ACTOR, selection(SelectionMode::Online, 24))
        .await?
        .map_err(|e| invalid("selection", e.to_string()))?;
    let users = store.users().await?;
    let Some(staff) = users.iter().find(|u| u.role == Role::DepartmentStaff) else {
        return Ok(0);
    };
    let units = store.unit_states(pid).await?;
    let mut taken = std::collections::HashSet::new();
    let mut chose = 0;
    let mut order: Vec<(i64, i64, Vec<String>)> = store
        .all_project_households(pid)
        .await?
        .into_iter()
        .filter_map(|h| Some((h.lottery_order?, h.household.id, h.registered?)))
        .collect();
    order.sort_unstable();
    for (_, household, layouts) in order.into_iter().take(20) {
        let mut pick = Vec::new();
        for layout in &layouts {
            if let Some(u) = units
                .iter()
                .find(|u| &u.layout == layout && !taken.contains(&u.id) && !pick.contains(&u.id))
            {
                pick.push(u.id);
            }
        }
        if pick.len() != layouts.len() {
            continue;
        }
        if store
            .claim(DEMO_ACTOR, online.id, household, pick.clone(), staff, true)
            .await?
            .is_ok()
        {
            taken.extend(pick);
            chose += 1;
        }
    }
    // The selection day calls the others in lottery order, from the first who has not chosen.
    store
        .create_selection(DEMO_ACTOR, selection(SelectionMode::Onsite, 8))
        .await?
        .map_err(|e| invalid("selection", e.to_string()))?;
    Ok(chose)
}
