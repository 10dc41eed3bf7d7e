//! `TestApp`: the application served on port 0 with a small demo subdistrict loaded.

use std::sync::{Arc, OnceLock};
use yongxin_domain::Actor;

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use yongxin_domain::demo::{generate, DemoSize, DemoSubdistrict};
use yongxin_domain::Role;
use yongxin_search::AppealIndex;
use yongxin_store::{HouseholdId, ProjectId, Store};
use yongxin_store_postgres::PostgresStore;
use yongxin_store_sqlite::SqliteStore;
use yongxin_web::{AppState, WebSettings};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Argon2id of "demo", computed once for the whole run.
fn demo_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| yongxin_web::auth::hash_password("demo").unwrap())
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub demo: DemoSubdistrict,
    /// This node's full-text index.
    pub search: AppealIndex,
    /// How to open another connection to the same database (another app node).
    database: Database,
    /// The temporary directories of the database file and the index, removed with the last node
    /// that uses them.
    _dirs: Arc<Vec<tempfile::TempDir>>,
}

#[derive(Clone)]
enum Database {
    Sqlite(String),
    Postgres { url: String, schema: String },
}

impl Database {
    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Database::Sqlite(url) => Arc::new(SqliteStore::open(url, false).await.unwrap()),
            Database::Postgres { url, schema } => Arc::new(
                PostgresStore::open_in_schema(url, Some(schema))
                    .await
                    .unwrap(),
            ),
        }
    }
}

/// Serves a store on port 0 with its own index directory, as one app node; returns the address,
/// the index and its directory (removed when dropped).
async fn serve_node(store: Arc<dyn Store>) -> (String, AppealIndex, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let search = AppealIndex::open(&dir.path().join("search")).unwrap();
    tokio::spawn(
        search
            .clone()
            .follow(store.clone(), yongxin_web::background::SEARCH_FOLLOW_EVERY),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(store, WebSettings::default()).with_search(search.clone());
    tokio::spawn(yongxin_web::serve(listener, yongxin_web::router(state)));
    (base, search, dir)
}

impl TestApp {
    /// A fresh database with the small demo, served on port 0; `None` when the backend is not
    /// available here (PostgreSQL without its variable).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        let mut dirs = Vec::new();
        let (store, database): (Arc<dyn Store>, Database) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("app.db").display());
                dirs.push(dir);
                let s = SqliteStore::open(&url, true).await.unwrap();
                s.migrate().await.unwrap();
                (Arc::new(s), Database::Sqlite(url))
            }
            Backend::Postgres => {
                let Ok(url) = std::env::var("YONGXIN_TEST_POSTGRES_URL") else {
                    eprintln!("skipped: YONGXIN_TEST_POSTGRES_URL is not set");
                    return None;
                };
                let s = PostgresStore::open_for_test(&url).await.unwrap();
                let schema: String = sqlx::query_scalar("SELECT current_schema()")
                    .fetch_one(s.pool())
                    .await
                    .unwrap();
                (Arc::new(s), Database::Postgres { url, schema })
            }
        };
        let demo = generate(7, DemoSize::SMALL);
        yongxin_demo::load(&*store, &demo, demo_hash())
            .await
            .unwrap();
        yongxin_demo::ensure_catalogue(&*store).await.unwrap();
        let (base, search, index_dir) = serve_node(store.clone()).await;
        dirs.push(index_dir);
        Some(TestApp {
            base,
            store,
            demo,
            search,
            database,
            _dirs: Arc::new(dirs),
        })
    }

    /// Waits until this node's index has followed the audit chain to its head.
    pub async fn search_caught_up(&self) {
        let head = self.store.audit_head().await.unwrap().map_or(0, |h| h.0);
        let started = std::time::Instant::now();
        while !(self.search.is_ready() && self.search.indexed_through() >= Some(head)) {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "index stuck at {:?} of {head}",
                self.search.indexed_through()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Another app node on the same database, with its own connections and index.
    pub async fn another_node(&self) -> TestApp {
        let store = self.database.open().await;
        let (base, search, index_dir) = serve_node(store.clone()).await;
        TestApp {
            base,
            store,
            demo: self.demo.clone(),
            search,
            database: self.database.clone(),
            _dirs: Arc::new(vec![index_dir]),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// Every text value the database holds (SQLite only), one after another with a line break
    /// between: what a page may show as data rather than as its own words.
    pub async fn stored_texts(&self) -> String {
        use sqlx::{Connection, Row};
        let Database::Sqlite(url) = &self.database else {
            panic!("stored_texts reads a SQLite database");
        };
        let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        let mut texts = String::new();
        for table in tables {
            let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
                .fetch_all(&mut db)
                .await
                .unwrap();
            for row in rows {
                for i in 0..row.len() {
                    if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                        texts.push_str(&text);
                        texts.push('\n');
                    }
                }
            }
        }
        texts
    }

    /// The id of a demo user (`grid`, `admin`, …).
    pub async fn user_id(&self, username: &str) -> i64 {
        self.store
            .user_credentials(username)
            .await
            .unwrap()
            .unwrap()
            .0
            .id
    }

    /// Fetches a page and returns the CSRF token its forms carry.
    pub async fn csrf(&self, client: &Client) -> String {
        let html = client
            .get(self.url("/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        html[start..start + 64].to_owned()
    }

    /// Signs in with a password; returns the client and the sign-in response.
    pub async fn sign_in_with(&self, username: &str, password: &str) -> (Client, Response) {
        let client = self.client();
        let csrf = self.csrf(&client).await;
        let res = client
            .post(self.url("/sign-in"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        (client, res)
    }

    /// An API token for a demo account, valid until `expires_at`.
    pub async fn api_token(
        &self,
        username: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let token = yongxin_web::auth::random_token();
        let id = self.user_id(username).await;
        self.store
            .create_api_token(
                &Actor::user("test"),
                id,
                &yongxin_web::auth::token_hash(&token),
                expires_at,
            )
            .await
            .unwrap();
        token
    }

    /// A signed-in client for a demo account.
    pub async fn sign_in_as(&self, role: Role) -> Client {
        let name = yongxin_demo::DEMO_ACCOUNTS
            .iter()
            .find(|(_, r)| *r == role)
            .unwrap()
            .0;
        let (client, res) = self.sign_in_with(name, "demo").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in of {name}");
        client
    }

    /// How many households a village has.
    pub async fn households_in(&self, village: i64) -> i64 {
        self.store
            .search_households(&yongxin_store::HouseholdQuery {
                scope: yongxin_domain::Scope::Subdistrict,
                village_id: Some(village),
                grid_id: None,
                text: None,
                page: 1,
                per_page: 1,
            })
            .await
            .unwrap()
            .total
    }

    /// A published 公示 to the subdistrict, an open consultation of one single-choice question and
    /// a villagers' meeting of the resident's village: their ids.
    pub async fn sample_disclosure(&self) -> (i64, i64, i64) {
        use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind};
        let now = chrono::Utc::now();
        let notice = self
            .store
            .create_notice(
                &Actor::user("admin"),
                NoticeDraft {
                    kind: NoticeKind::Publication,
                    scope: ScopeKind::Subdistrict,
                    village_ids: vec![],
                    project_id: None,
                    title: "公示".into(),
                    body: "正文".into(),
                    publish_at: now,
                    end_at: None,
                    objections_until: None,
                }
                .checked()
                .unwrap(),
            )
            .await
            .unwrap()
            .id;
        let consultation = self
            .store
            .create_consultation(
                &Actor::user("admin"),
                yongxin_store::NewConsultation {
                    title: "征求意见".into(),
                    background: "背景".into(),
                    notice_id: None,
                    scope: ScopeKind::Subdistrict,
                    village_ids: vec![],
                    project_id: None,
                    opens_at: now,
                    closes_at: now + chrono::Duration::days(1),
                    questions: yongxin_domain::consultation::parse_questions(
                        "单选：问\n- 甲\n- 乙",
                    )
                    .unwrap(),
                },
            )
            .await
            .unwrap()
            .id;
        let (own, _) = self.household_ids().await;
        let meeting = self
            .store
            .create_meeting(
                &Actor::user("admin"),
                yongxin_store::NewMeeting {
                    kind: yongxin_domain::meeting::MeetingKind::Villagers,
                    village_id: Some(self.store.household(own).await.unwrap().summary.village_id),
                    basis: Some(yongxin_domain::meeting::VillagersBasis::Households),
                    title: "村民会议".into(),
                    held_at: now,
                    place: "村委会".into(),
                    agenda: "议程".into(),
                    member_id_numbers: vec![],
                },
            )
            .await
            .unwrap()
            .id;
        (notice, consultation, meeting)
    }

    /// A resettlement project over these villages taken through the store by the shared builder
    /// to `stage` (at least its results 公示, objection window closed): every household registered
    /// by the leader with the combination `layouts` (or its first layout, when the whole is over
    /// its limit) but `unregistered`, which is assessed from nothing; drawn with seed 123456.
    /// Answers the project, its households in key order and the results notice.
    pub async fn project_to(
        &self,
        code: &str,
        villages: Vec<i64>,
        unregistered: Option<HouseholdId>,
        layouts: &[&str],
        stage: yongxin_demo::Stage,
    ) -> (ProjectId, Vec<HouseholdId>, i64) {
        let leader = self
            .store
            .user_credentials("leader")
            .await
            .unwrap()
            .unwrap()
            .0;
        let project = self
            .store
            .create_project(
                &Actor::user("leader"),
                yongxin_store::NewProject {
                    code: code.into(),
                    name: format!("{code}整合项目"),
                    village_ids: villages,
                },
            )
            .await
            .unwrap()
            .id;
        let plan = yongxin_demo::ProjectPlan {
            project,
            actor: Actor::user("leader"),
            registering: yongxin_demo::Registering::Combination {
                layouts,
                by: &leader,
            },
            unregistered,
            measured: false,
            seed: "123456",
            now: chrono::Utc::now(),
        };
        let run = yongxin_demo::take_project(&*self.store, &plan, stage)
            .await
            .unwrap();
        (project, run.households, run.results_notice.unwrap())
    }

    /// Opens an online selection of a project in 选房 for an hour to everyone on the list: its id.
    pub async fn open_online_selection(&self, pid: ProjectId) -> i64 {
        let now = chrono::Utc::now();
        self.store
            .create_selection(
                &Actor::user("leader"),
                yongxin_store::NewSelection {
                    project_id: pid,
                    mode: yongxin_domain::selection::SelectionMode::Online,
                    starts_at: now - chrono::Duration::minutes(1),
                    ends_at: now + chrono::Duration::hours(1),
                    waves: vec![],
                    time_limit_seconds: 300,
                    return_seconds: yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
                },
            )
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// A project over the villages of `household_ids()` taken to `stage` (at least its results
    /// 公示), every household but the resident's registered (layout C). Answers the project, its
    /// households in key order and the results notice.
    pub async fn sample_project(
        &self,
        stage: yongxin_demo::Stage,
    ) -> (ProjectId, Vec<HouseholdId>, i64) {
        let (own, other) = self.household_ids().await;
        let villages = vec![
            self.store.household(own).await.unwrap().summary.village_id,
            self.store
                .household(other)
                .await
                .unwrap()
                .summary
                .village_id,
        ];
        self.project_to("sample", villages, Some(own), &["C"], stage)
            .await
    }

    /// [`Self::sample_project`] in 选房, open for online selection: the project and the selection.
    pub async fn sample_selection(&self) -> (ProjectId, i64) {
        let (pid, _, _) = self.sample_project(yongxin_demo::Stage::Selection).await;
        (pid, self.open_online_selection(pid).await)
    }

    /// A straw-burning inspection campaign (秸秆禁烧排查) of today over every village, by grid,
    /// without a form; answers its id.
    pub async fn sample_campaign(&self) -> i64 {
        let today = yongxin_domain::campaign::local_day(chrono::Utc::now());
        self.store
            .create_campaign(
                &yongxin_domain::Actor::user("staff"),
                yongxin_store::NewCampaign {
                    title: "秸秆禁烧排查".into(),
                    kind: yongxin_domain::campaign::CampaignKind::Inspection,
                    description: String::new(),
                    period: yongxin_domain::campaign::Period::new(today, today).unwrap(),
                    notice_id: None,
                    project_id: None,
                    form: yongxin_store::CampaignForm::None,
                    assignment: yongxin_domain::campaign::AssignmentWay::Grid,
                    target: yongxin_domain::campaign::Target::Villages(
                        self.store
                            .villages()
                            .await
                            .unwrap()
                            .iter()
                            .map(|v| v.id)
                            .collect(),
                    ),
                    rules: yongxin_domain::campaign::Rules::default(),
                },
            )
            .await
            .unwrap()
            .id
    }

    /// Ids of a household in the first grid (the resident's own) and one in another village.
    pub async fn household_ids(&self) -> (HouseholdId, HouseholdId) {
        let resident = self
            .store
            .user_credentials("resident")
            .await
            .unwrap()
            .unwrap()
            .0;
        let own = resident.household_id.unwrap();
        let q = yongxin_store::HouseholdQuery {
            scope: yongxin_domain::Scope::Subdistrict,
            village_id: None,
            grid_id: None,
            text: Some(
                self.demo
                    .households
                    .iter()
                    .find(|h| h.village == 1)
                    .unwrap()
                    .key
                    .clone(),
            ),
            page: 1,
            per_page: 1,
        };
        let other = self.store.search_households(&q).await.unwrap().households[0].id;
        (own, other)
    }
}

/// POSTs JSON and returns the status and the JSON answer (null when there is none).
pub async fn post_json(
    client: &Client,
    url: String,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = client.post(url).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// POSTs a form with the client's CSRF token.
pub async fn post_form(
    app: &TestApp,
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    let csrf = app.csrf(client).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    client.post(app.url(path)).form(&form).send().await.unwrap()
}

/// GETs a page and returns its text.
pub async fn page(client: &Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// GETs a URL and returns the status code.
pub async fn status(client: &Client, url: String) -> reqwest::StatusCode {
    client.get(url).send().await.unwrap().status()
}

/// GETs a JSON document.
pub async fn json(client: &Client, url: String) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Runs each listed test once per backend.
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(
                    not(postgres_tests),
                    ignore = "needs PostgreSQL: set YONGXIN_TEST_POSTGRES_URL when building the tests"
                )]
                async fn $name() {
                    if let Some(app) = $crate::support::TestApp::spawn($crate::support::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )+
        }
    };
}

/// A case taken by phone at the desk, filed and due at the given times, with no answers to extra
/// questions; tests change what else they need.
pub fn phoned_appeal(
    category: &str,
    title: &str,
    created_at: chrono::DateTime<chrono::Utc>,
    contact_due: chrono::DateTime<chrono::Utc>,
    resolution_due: chrono::DateTime<chrono::Utc>,
) -> yongxin_store::NewAppeal {
    yongxin_store::NewAppeal {
        category: category.into(),
        urgency: yongxin_domain::appeal::Urgency::Normal,
        channel: yongxin_domain::appeal::Channel::Phone,
        title: title.into(),
        description: title.into(),
        answers: Default::default(),
        address: String::new(),
        latitude: None,
        longitude: None,
        village_id: None,
        grid_id: None,
        household_id: None,
        resident_user_id: None,
        contact_name: "钱七".into(),
        contact_phone: "13700000000".into(),
        contact_email: None,
        department: "城市管理办公室".into(),
        created_at,
        contact_due,
        resolution_due,
    }
}

/// Records what it is asked to send; fails while `down` is set (a gateway outage).
#[derive(Default)]
pub struct RecordingGateway {
    /// What was sent, in order.
    pub sent: std::sync::Mutex<Vec<yongxin_web::background::Delivery>>,
    /// Set: every send fails.
    pub down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl yongxin_web::background::MessageSender for RecordingGateway {
    async fn send(&self, m: &yongxin_web::background::Delivery) -> Result<(), String> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("gateway unreachable".into());
        }
        self.sent.lock().unwrap().push(m.clone());
        Ok(())
    }
}

/// Stores `count` generated appeals (a year of them, seeded) for the demo subdistrict.
pub async fn load_generated_appeals(app: &TestApp, seed: u64, count: usize) {
    let today = chrono::Utc::now()
        .with_timezone(&yongxin_domain::time::shanghai())
        .date_naive();
    let appeals = yongxin_domain::demo_appeals::generate_appeals(
        seed,
        app.demo.households.len(),
        today,
        count,
    );
    yongxin_demo::load_appeals(
        &*app.store,
        &app.demo,
        &appeals,
        yongxin_domain::appeal::AppealPolicy::default(),
        &yongxin_domain::calendar::WorkingCalendar::official(),
    )
    .await
    .unwrap();
}
