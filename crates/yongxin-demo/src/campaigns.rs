//! The demo's door-to-door campaigns (入户走访), as the essay tells them: fifty cadres asked every
//! household of the four villages about the site and the flat sizes (their answers are the
//! consultation's), forty registered every household in ten days and finished on the ninth with
//! the few never at home found by their village officer, and this week's straw-burning
//! inspection (夏秋禁烧) is under way in every village and grid, every grid worker with doors
//! still to knock on.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use yongxin_domain::campaign::{
    local_day, visit_fingerprint, walking_order, AssignmentWay, CampaignKind, Period, Rules,
    Target, VisitContent, VisitOutcome,
};
use yongxin_domain::consultation::GivenAnswer;
use yongxin_domain::{Actor, Role};
use yongxin_store::{
    Campaign, CampaignForm, HouseholdId, HouseholdSummary, NewAppeal, NewCampaign, NewUser,
    NewVisit, Store, StoreError, StoreResult, User,
};

use crate::demo_actor;

/// How many cadres went door to door in the essay's consultation drive.
pub const DRIVE_CADRES: usize = 50;
/// How many registered the households for house selection.
pub const REGISTRATION_CADRES: usize = 40;

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 17] = [
    "志强", "秀英", "建军", "丽娟", "海涛", "春梅", "国庆", "晓燕", "文斌", "桂兰", "振华", "玉珍",
    "德明", "红霞", "立新", "淑芬", "永刚",
];

/// The cadres of the drives: the grid workers, their village officer, the office's
/// staff and leader, and as many subdistrict cadres (下沉干部, `cadre01`…) as make fifty. Creates
/// the accounts that are missing; answers all fifty.
pub async fn load_drive_cadres(store: &dyn Store, password_hash: &str) -> StoreResult<Vec<User>> {
    let users = store.users().await?;
    let mut cadres = drive_cadres(store, DRIVE_CADRES).await?;
    let mut n = 1;
    while cadres.len() < DRIVE_CADRES {
        let username = format!("cadre{n:02}");
        let user = match users.iter().find(|u| u.username == username) {
            Some(u) => u.clone(),
            None => {
                store
                    .create_user(
                        &demo_actor(),
                        NewUser {
                            username,
                            display_name: format!(
                                "{}{}",
                                SURNAMES[(n * 5) % SURNAMES.len()],
                                GIVEN[(n * 7) % GIVEN.len()]
                            ),
                            role: Role::DepartmentStaff,
                            password_hash: password_hash.to_owned(),
                            village_id: None,
                            household_id: None,
                        },
                    )
                    .await?
            }
        };
        cadres.push(user);
        n += 1;
    }
    Ok(cadres)
}

/// A campaign under way in the demo: who visits which household.
pub(crate) struct Drive {
    pub(crate) campaign: Campaign,
    cadre_of: HashMap<HouseholdId, User>,
}

/// Households in walking order: grid, then address as a person walks it.
fn walked(households: &[HouseholdSummary]) -> Vec<HouseholdSummary> {
    let mut h = households.to_vec();
    h.sort_by(|a, b| {
        a.grid_id
            .cmp(&b.grid_id)
            .then_with(|| walking_order(&a.address, &b.address))
    });
    h
}

/// Ten in the morning, Shanghai time, `offset` days after `day`, plus `minutes`.
fn at(day: NaiveDate, offset: i64, minutes: i64) -> DateTime<Utc> {
    yongxin_domain::time::shanghai()
        .from_local_datetime(&(day + Duration::days(offset)).and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
        + Duration::hours(9)
        + Duration::minutes(minutes % (10 * 60))
}

impl Drive {
    /// Creates a campaign and, assigned by hand, splits its households among the cadres in
    /// walking blocks.
    pub(crate) async fn start(
        store: &dyn Store,
        campaign: NewCampaign,
        households: &[HouseholdSummary],
        cadres: &[User],
    ) -> StoreResult<Drive> {
        let campaign = store.create_campaign(&demo_actor(), campaign).await?;
        let mut cadre_of = HashMap::new();
        if campaign.assignment == AssignmentWay::Hand && !cadres.is_empty() {
            let walked = walked(households);
            let block = walked.len().div_ceil(cadres.len()).max(1);
            for (chunk, cadre) in walked.chunks(block).zip(cadres) {
                let ids: Vec<HouseholdId> = chunk.iter().map(|h| h.id).collect();
                store
                    .assign_campaign_households(&demo_actor(), campaign.id, &ids, Some(cadre.id))
                    .await?;
                for h in chunk {
                    cadre_of.insert(h.id, cadre.clone());
                }
            }
        }
        Ok(Drive { campaign, cadre_of })
    }

    /// The cadre who visits a household (its grid's cadre when assigned by grid).
    fn cadre(&self, h: HouseholdId) -> Option<&User> {
        self.cadre_of.get(&h)
    }

    /// Records a visit by `cadre` as a phone would send it.
    pub(crate) async fn visit(
        &self,
        store: &dyn Store,
        cadre: &User,
        h: HouseholdId,
        (visited_at, outcome): (DateTime<Utc>, VisitOutcome),
        answers: BTreeMap<i64, GivenAnswer>,
        concerns: Vec<NewAppeal>,
    ) -> StoreResult<()> {
        let texts: Vec<(String, String)> = concerns
            .iter()
            .map(|c| (c.category.clone(), c.description.clone()))
            .collect();
        let fingerprint = visit_fingerprint(&VisitContent {
            household_id: h.get(),
            visited_at,
            outcome,
            members: &[],
            answers: &answers,
            note: "",
            concerns: &texts,
            photos: &[],
        });
        let visit = NewVisit {
            client_id: format!("demo-{}-{}-{}", self.campaign.id, h, visited_at.timestamp()),
            fingerprint,
            household_id: h,
            cadre_user_id: cadre.id,
            scope_covers: true,
            visited_at,
            outcome,
            members: Vec::new(),
            answers,
            note: String::new(),
            concerns,
            photos: Vec::new(),
        };
        store
            .record_visit(&Actor::user(&cadre.username), self.campaign.id, visit)
            .await?
            .map(|_| ())
            .map_err(StoreError::internal)
    }
}

/// The consultation drive (征求意见入户): the project's households, split among the fifty cadres,
/// over the consultation's ten days; its visits record the in-person answers.
pub(crate) async fn consultation_drive(
    store: &dyn Store,
    project: &yongxin_store::Project,
    site: &yongxin_store::Consultation,
    households: &[HouseholdSummary],
) -> StoreResult<Drive> {
    let cadres = drive_cadres(store, DRIVE_CADRES).await?;
    let first = local_day(site.opens_at);
    Drive::start(
        store,
        NewCampaign {
            title: "四村整合项目安置意见入户征求".into(),
            kind: CampaignKind::Survey,
            description:
                "50名干部逐户征求安置区选址和户型面积意见，每户都要走到；答卷即征求意见的结果。"
                    .into(),
            period: Period::new(first, first + Duration::days(9)).map_err(StoreError::internal)?,
            notice_id: None,
            project_id: Some(project.id),
            form: CampaignForm::Consultation(site.id),
            assignment: AssignmentWay::Hand,
            target: Target::Project(project.id.get()),
            rules: Rules::default(),
        },
        households,
        &cadres,
    )
    .await
}

/// Records a consultation drive's visit: the household met, with its in-person answers.
pub(crate) async fn drive_visit(
    store: &dyn Store,
    drive: &Drive,
    h: HouseholdId,
    at_time: DateTime<Utc>,
    answers: BTreeMap<i64, GivenAnswer>,
) -> StoreResult<()> {
    let Some(cadre) = drive.cadre(h).cloned() else {
        return Ok(());
    };
    drive
        .visit(
            store,
            &cadre,
            h,
            (at_time, VisitOutcome::Met),
            answers,
            Vec::new(),
        )
        .await
}

/// Visits every household of the drive not visited yet (those who answered online or at a
/// meeting, and those who would not answer), met within the consultation's days.
pub(crate) async fn finish_consultation_drive(
    store: &dyn Store,
    drive: &Drive,
    households: &[HouseholdSummary],
) -> StoreResult<()> {
    let first = drive.campaign.starts_on;
    let mut left = Vec::new();
    for (i, h) in households.iter().enumerate() {
        let visited = store
            .campaign_household(drive.campaign.id, h.id)
            .await?
            .is_some_and(|p| p.attempts > 0);
        if !visited {
            left.push((i, h.id));
        }
    }
    for chunk in left.chunks(64) {
        let visits = chunk.iter().map(|(i, h)| {
            drive_visit(
                store,
                drive,
                *h,
                at(first, (*i as i64) % 9, (*i as i64) * 13),
                BTreeMap::new(),
            )
        });
        for r in futures_util::future::join_all(visits).await {
            r?;
        }
    }
    Ok(())
}

/// The first `n` cadres who knock on doors, in the order of their accounts: grid workers, the
/// village officer, the office's staff and leader, then the subdistrict cadres.
async fn drive_cadres(store: &dyn Store, n: usize) -> StoreResult<Vec<User>> {
    let users = store.users().await?;
    let mut cadres: Vec<User> = users
        .iter()
        .filter(|u| {
            matches!(
                u.role,
                Role::GridWorker | Role::VillageOfficer | Role::DepartmentStaff | Role::Leader
            )
        })
        .cloned()
        .collect();
    cadres.truncate(n);
    Ok(cadres)
}

/// A visit the loader will record: household, cadre, when, outcome, concerns raised.
type PlannedVisit = (
    HouseholdId,
    User,
    DateTime<Utc>,
    VisitOutcome,
    Vec<NewAppeal>,
);

/// What the campaigns loader did.
#[derive(Debug, Clone, Copy, Default)]
pub struct CampaignDemo {
    /// Campaigns created here (the consultation drive comes with the consultations).
    pub campaigns: usize,
    /// Visits recorded here.
    pub visits: usize,
}

/// The registration drive (入户登记, done) on the four-village project and this week's
/// straw-burning inspection over the whole subdistrict (under way).
pub async fn load_campaigns(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<CampaignDemo> {
    let mut done = CampaignDemo::default();
    let Some(project) = store
        .projects()
        .await?
        .into_iter()
        .find(|p| p.code == "four_villages")
    else {
        return Ok(done);
    };
    let households = crate::households_of(store, Some(&project.village_ids)).await?;
    let today = local_day(now);

    // Registration: forty cadres, ten days, done on the ninth. Six households of the first
    // village are never at home on three days and go to their village officer, who finds them.
    let cadres = drive_cadres(store, REGISTRATION_CADRES).await?;
    let first = today - Duration::days(38);
    let registration = Drive::start(
        store,
        NewCampaign {
            title: "四村整合项目选房登记入户".into(),
            kind: CampaignKind::Registration,
            description: "40名干部十天内逐户完成选房登记，不在家的户三次未遇转村干部跟进。".into(),
            period: Period::new(first, first + Duration::days(9)).map_err(StoreError::internal)?,
            notice_id: None,
            project_id: Some(project.id),
            form: CampaignForm::None,
            assignment: AssignmentWay::Hand,
            target: Target::Project(project.id.get()),
            rules: Rules::default(),
        },
        &households,
        &cadres,
    )
    .await?;
    done.campaigns += 1;
    let officer = store
        .users()
        .await?
        .into_iter()
        .find(|u| u.role == Role::VillageOfficer);
    let away: Vec<HouseholdId> = households
        .iter()
        .filter(|h| {
            officer
                .as_ref()
                .is_some_and(|o| o.village_id == Some(h.village_id))
        })
        .skip(10)
        .step_by(37)
        .take(6)
        .map(|h| h.id)
        .collect();
    let mut plan: Vec<(HouseholdId, User, DateTime<Utc>, VisitOutcome)> = Vec::new();
    for (i, h) in walked(&households).iter().enumerate() {
        let Some(cadre) = registration.cadre(h.id).cloned() else {
            continue;
        };
        let minutes = (i as i64) * 11;
        if away.contains(&h.id) {
            for day in [1, 3, 5] {
                plan.push((
                    h.id,
                    cadre.clone(),
                    at(first, day, minutes),
                    VisitOutcome::NotHome,
                ));
            }
        } else {
            plan.push((
                h.id,
                cadre,
                at(first, (i as i64) % 8, minutes),
                VisitOutcome::Met,
            ));
        }
    }
    for chunk in plan.chunks(64) {
        let visits = chunk.iter().map(|(h, cadre, t, o)| {
            registration.visit(store, cadre, *h, (*t, *o), BTreeMap::new(), Vec::new())
        });
        for r in futures_util::future::join_all(visits).await {
            r?;
            done.visits += 1;
        }
    }
    if let Some(officer) = &officer {
        for (i, h) in away.iter().enumerate() {
            registration
                .visit(
                    store,
                    officer,
                    *h,
                    (at(first, 8, (i as i64) * 40), VisitOutcome::Met),
                    BTreeMap::new(),
                    Vec::new(),
                )
                .await?;
            done.visits += 1;
        }
    }

    // Straw burning, this week, every village and grid by grid: a little over half of each
    // grid's households visited in the three days past, in walking order.
    let notice = store
        .notices(&yongxin_store::NoticeQuery {
            page: 1,
            per_page: 100,
            ..yongxin_store::NoticeQuery::default()
        })
        .await?
        .notices
        .into_iter()
        .find(|n| n.title.contains("禁烧"))
        .map(|n| n.id);
    let villages: Vec<i64> = store.villages().await?.iter().map(|v| v.id).collect();
    let straw = store
        .create_campaign(
            &demo_actor(),
            NewCampaign {
                title: "夏秋禁烧入户宣传排查".into(),
                kind: CampaignKind::Inspection,
                description: "逐户宣传禁烧政策，查看院内及田间秸秆堆放，发现隐患当场登记。".into(),
                period: Period::new(today - Duration::days(3), today + Duration::days(3))
                    .map_err(StoreError::internal)?,
                notice_id: notice,
                project_id: None,
                form: CampaignForm::None,
                assignment: AssignmentWay::Grid,
                target: Target::Villages(villages),
                rules: Rules {
                    reached_on_refused: true,
                    ..Rules::default()
                },
            },
        )
        .await?;
    done.campaigns += 1;
    let straw = Drive {
        campaign: straw,
        cadre_of: HashMap::new(),
    };
    let everyone = crate::households_of(store, None).await?;
    let grids = store.grids(None).await?;
    let users = store.users().await?;
    let mut by_grid: BTreeMap<i64, Vec<HouseholdSummary>> = BTreeMap::new();
    for h in everyone {
        by_grid.entry(h.grid_id).or_default().push(h);
    }
    let calendar = yongxin_domain::calendar::WorkingCalendar::official();
    let category = yongxin_domain::catalogue::default_catalogue()
        .into_iter()
        .find(|c| c.code == "straw_burning");
    let mut plan: Vec<PlannedVisit> = Vec::new();
    for (g, (grid_id, households)) in by_grid.iter().enumerate() {
        let Some(cadre) = grids
            .iter()
            .find(|g| g.id == *grid_id)
            .and_then(|g| g.cadre_user_id)
            .and_then(|id| users.iter().find(|u| u.id == id))
        else {
            continue;
        };
        let walked = walked(households);
        let visit_now = walked.len() * 11 / 20;
        for (i, h) in walked.iter().take(visit_now).enumerate() {
            let t = at(
                today,
                -3 + (i as i64 * 3 / visit_now.max(1) as i64),
                i as i64 * 4,
            );
            let outcome = match i % 20 {
                7 => VisitOutcome::NotHome,
                13 => VisitOutcome::Refused,
                _ => VisitOutcome::Met,
            };
            // A door in every few grids reports straw heaped where it could burn.
            let concerns = match (&category, g % 4 == 1 && i == 21) {
                (Some(cat), true) => {
                    let due = cat.deadlines(yongxin_domain::appeal::Urgency::Normal, t, &calendar);
                    let description = format!("{}附近田边堆放大量秸秆，存在焚烧隐患", h.address);
                    vec![NewAppeal {
                        category: cat.code.clone(),
                        urgency: yongxin_domain::appeal::Urgency::Normal,
                        channel: yongxin_domain::appeal::Channel::Visit,
                        title: description.chars().take(30).collect(),
                        description,
                        answers: BTreeMap::from([("location".to_owned(), vec![h.address.clone()])]),
                        address: h.address.clone(),
                        latitude: None,
                        longitude: None,
                        village_id: Some(h.village_id),
                        grid_id: Some(h.grid_id),
                        household_id: Some(h.id),
                        resident_user_id: None,
                        contact_name: h.head_name.clone(),
                        contact_phone: h
                            .head_phone
                            .as_ref()
                            .map(|p| p.as_str().to_owned())
                            .unwrap_or_else(|| "13800000000".into()),
                        contact_email: None,
                        department: cat.department.clone(),
                        created_at: t,
                        contact_due: due.contact_due,
                        resolution_due: due.resolution_due,
                    }]
                }
                _ => Vec::new(),
            };
            plan.push((h.id, cadre.clone(), t, outcome, concerns));
        }
    }
    for chunk in plan.chunks(64) {
        let visits = chunk.iter().map(|(h, cadre, t, o, concerns)| {
            straw.visit(
                store,
                cadre,
                *h,
                (*t, *o),
                BTreeMap::new(),
                concerns.clone(),
            )
        });
        for r in futures_util::future::join_all(visits).await {
            r?;
            done.visits += 1;
        }
    }
    Ok(done)
}
