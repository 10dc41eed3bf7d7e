//! The `yongxin` binary as a user runs it (SQLite).

use reqwest::StatusCode;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use yongxin_store::{HouseholdId, ProjectId};

fn yongxin(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env_remove("YONGXIN_DATABASE_URL")
        .output()
        .unwrap()
}

/// `yongxin export residents --full --as admin`, the importable roster in full.
fn export_full(db: &str, format: &str, to: &Path) -> Output {
    yongxin(
        db,
        &[
            "export",
            "residents",
            "--format",
            format,
            "--full",
            "--as",
            "admin",
            "-o",
            to.to_str().unwrap(),
        ],
    )
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// A fresh demo database (full size, as a user gets it).
fn demo(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args(["demo", "--no-serve", "--appeals", "0", "--data-dir"])
        .arg(dir)
        .env_remove("YONGXIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3220 households"),
        "{}",
        text(&out.stdout)
    );
    format!("sqlite://{}", dir.join("yongxin.db").display())
}

#[test]
fn export_then_import_round_trips_and_bad_rosters_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let first: PathBuf = dir.path().join("first.csv");
    let out = export_full(&db, "csv", &first);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&first).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "CSV starts with a BOM");
    assert_eq!(text(&bytes).lines().count(), 1 + 10602);

    let xlsx = dir.path().join("roster.xlsx");
    let out = export_full(&db, "xlsx", &xlsx);
    assert!(out.status.success());
    let out = yongxin(&db, &["import", "households", xlsx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 households added, 3220 updated, 10602 residents"),
        "{}",
        text(&out.stdout)
    );

    let second = dir.path().join("second.csv");
    assert!(export_full(&db, "csv", &second).status.success());
    assert_eq!(
        std::fs::read(&second).unwrap(),
        bytes,
        "export → import → export is the identity"
    );

    // A masked export cannot be imported: every identity number is refused, nothing changes.
    let masked = dir.path().join("masked.csv");
    assert!(yongxin(
        &db,
        &[
            "export",
            "residents",
            "--format",
            "csv",
            "-o",
            masked.to_str().unwrap()
        ]
    )
    .status
    .success());
    assert!(text(&std::fs::read(&masked).unwrap()).contains("********"));
    let before = text(&yongxin(&db, &["audit", "verify"]).stdout);
    let out = yongxin(&db, &["import", "households", masked.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("nothing was imported") && err.contains("第 2 行，身份证号"),
        "{err}"
    );
    assert_eq!(text(&yongxin(&db, &["audit", "verify"]).stdout), before);

    // Only an administrator may export in full.
    let out = yongxin(
        &db,
        &[
            "export",
            "households",
            "--full",
            "--as",
            "staff",
            "-o",
            dir.path().join("x.xlsx").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not an administrator"));
}

#[test]
fn audit_verify_names_the_first_tampered_entry() {
    // 3,317 entries from the registry, 21 from the default catalogue, 1,302 from the project's
    // notices (the project, five notices and a correction, 1,288 informed households, the
    // objection category, three objections as two entries each), 1,568 from consultations
    // (two, 1,564 answers, the results published as a notice and recorded on the consultation)
    // 339 from meetings (five, 315 sign-ins, four resolutions, five minutes, each published
    // as a notice and recorded on the meeting) and 8,887 from resettlement (the policy with its
    // notice and phase, four more phase changes, 1,732 registrations of three entries each —
    // members assessed, result, registration —, 1,840 assessments of two, the results notice with
    // its phase, the freeze with its notice, the draw), 23 from selection (the phase, two
    // selections, twenty claims) and 7,267 from the door-to-door campaigns: 19 drive cadres'
    // accounts; the consultation drive (created, 50 cadres' assignments, 1,840 visits); the
    // registration drive (created, 40 assignments, 1,858 visits, six escalations); the
    // straw-burning inspection (created, 1,764 visits, 7 cases from concerns, 1,680 households
    // marked informed of the ban's notice).
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let out = yongxin(&db, &["audit", "verify"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("22724 entries") && stdout.contains("head hash: "),
        "{stdout}"
    );

    // The head published as this week's notice, once: the record holds it.
    let out = yongxin(&db, &["audit", "publish"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.starts_with("published notice"), "{said}");
    let head_line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("head hash: "))
        .unwrap()
        .to_owned();
    let published = said
        .lines()
        .find_map(|l| l.split_once("head hash ").map(|(_, h)| h.trim().to_owned()))
        .unwrap();
    assert_eq!(published, head_line, "the head as it stood when published");
    let again = yongxin(&db, &["audit", "publish"]);
    assert!(
        text(&again.stdout).starts_with("already published as"),
        "{}",
        text(&again.stdout)
    );
    let out = yongxin(&db, &["audit", "verify", "--head", &published]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("published head"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = yongxin_store_sqlite::SqliteStore::open(&db, false)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 100")
            .execute(s.pool())
            .await
            .unwrap();
    });
    let out = yongxin(&db, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("sequence 100"),
        "{}",
        text(&out.stderr)
    );

    // Someone with the database goes further: rewrites entry 100 and rehashes everything after
    // it, head included. The chain verifies again — but no longer holds the head published
    // before the rewrite.
    rt.block_on(async {
        let s = yongxin_store_sqlite::SqliteStore::open(&db, false)
            .await
            .unwrap();
        let entries = yongxin_store::AuditLog::audit_entries(&s, 98, 1_000_000)
            .await
            .unwrap();
        let mut prev = entries[0].hash.clone();
        for mut e in entries.into_iter().skip(1) {
            e.prev_hash = prev;
            e.hash = e.compute_hash();
            sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .bind(e.seq)
                .execute(s.pool())
                .await
                .unwrap();
            prev = e.hash;
        }
        sqlx::query("UPDATE audit_head SET hash = $1")
            .bind(&prev)
            .execute(s.pool())
            .await
            .unwrap();
    });
    let out = yongxin(&db, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = yongxin(&db, &["audit", "verify", "--head", &published]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("NOT in this record"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_schemes_and_missing_files_are_refused() {
    let out = yongxin("mysql://root@localhost/x", &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unsupported database URL"));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.db");
    let out = yongxin(
        &format!("sqlite://{}", missing.display()),
        &["audit", "verify"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not found"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists(), "verify must not create a database");
    let out = yongxin(&format!("sqlite://{}", missing.display()), &["migrate"]);
    assert!(out.status.success());
    assert!(missing.exists());
}

#[test]
fn users_are_added_with_a_password_from_stdin_and_tokens_print_last() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args([
            "--database-url",
            &db,
            "user",
            "add",
            "wang",
            "--role",
            "village_officer",
            "--village",
            "V02",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"long-enough-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = yongxin(&db, &["user", "token", "wang"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let token = stdout.lines().last().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let out = yongxin(&db, &["user", "add", "x", "--role", "emperor"]);
    assert!(text(&out.stderr).contains("unknown role"));

    let out = yongxin(&db, &["user", "email", "wang", "Wang@Example.CN"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = yongxin(&db, &["user", "email", "wang", "wang at example"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not an e-mail address"));
    let stored = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>("SELECT email FROM users WHERE username = 'wang'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    assert_eq!(
        stored.as_deref(),
        Some("Wang@example.cn"),
        "the bad one changed nothing"
    );
}

#[test]
fn the_example_configuration_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args(["config", "example"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let file = dir.path().join("yongxin.toml");
    std::fs::write(&file, &out.stdout).unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args([
            "--config",
            file.to_str().unwrap(),
            "--database-url",
            &db,
            "migrate",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(&file, "colour = \"red\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args([
            "--config",
            file.to_str().unwrap(),
            "--database-url",
            &db,
            "migrate",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("colour"));
}

/// Serves a database with the binary on a free port: the process and its address.
fn start_server(db: &str) -> (std::process::Child, String) {
    start_server_with(db, &[])
}

/// [`start_server`] with settings in the environment.
fn start_server_with(db: &str, env: &[(&str, &Path)]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut server = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args(["--database-url", db, "serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    (server, base)
}

/// A client signed in as a demo account, and its CSRF token.
async fn signed_in(base: &str, username: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = html[start..start + 64].to_owned();
    let res = client
        .post(format!("{base}/sign-in"))
        .form(&[
            ("username", username),
            ("password", "demo"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Signed in, forms carry a token derived from the session.
    let html = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    (client, html[start..start + 64].to_owned())
}

/// An answer the server gave is on disk: `kill -9` right after it loses nothing.
#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let (mut server, base) = start_server(&db);
    let (client, csrf) = signed_in(&base, "admin").await;
    let id = yongxin_domain::IdNumber::from_first_17("37011219910101001").unwrap();
    let roster = format!("户号,村/社区,网格,地址,姓名,性别,出生日期,身份证号,与户主关系\nKILL-1,东坞村,V01-G1,前街999号,赵大,男,1991-01-01,{},户主\n", id.as_str());
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(roster.into_bytes()).file_name("r.csv"),
        );
    let res = client
        .post(format!("{base}/admin/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "acknowledged");
    server.kill().unwrap(); // SIGKILL: no shutdown, no checkpoint
    server.wait().unwrap();

    let out = yongxin(
        &db,
        &[
            "export",
            "households",
            "--format",
            "csv",
            "-o",
            dir.path().join("after.csv").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&std::fs::read(dir.path().join("after.csv")).unwrap()).contains("KILL-1,东坞村"));
    assert!(yongxin(&db, &["audit", "verify"]).status.success());

    // The same in the middle of a rush of claims for the demo's online selection: every
    // acknowledged claim is there after a restart, and nothing that was not asked for.
    let (mut server, base) = start_server(&db);
    let (client, _) = signed_in(&base, "staff").await;
    let get = |path: String| {
        let client = client.clone();
        async move {
            client
                .get(path)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let selections = get(format!("{base}/api/v1/selections")).await;
    let sid = selections
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["mode"] == "online")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let pid = ProjectId(selections[0]["project_id"].as_i64().unwrap());
    let units = get(format!("{base}/api/v1/selections/{sid}/units")).await;
    let free: Vec<i64> = units
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["state"] == "available" && u["layout"] != "E")
        .map(|u| u["id"].as_i64().unwrap())
        .take(400)
        .collect();
    let mut households = Vec::new();
    for page in 1..=4 {
        let list = get(format!(
            "{base}/api/v1/projects/{pid}/households?per_page=500&page={page}"
        ))
        .await;
        households.extend(
            list["households"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["status"] == "drawn")
                .map(|h| HouseholdId(h["household_id"].as_i64().unwrap())),
        );
    }
    let before = {
        let store = yongxin_store_sqlite::SqliteStore::open(&db, false)
            .await
            .unwrap();
        yongxin_store::SelectionStore::unit_states(&store, pid)
            .await
            .unwrap()
            .iter()
            .filter(|u| u.owner_household_id.is_some())
            .count()
    };
    let (free, households) = (std::sync::Arc::new(free), std::sync::Arc::new(households));
    let mut tasks = Vec::new();
    let confirmed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for worker in 0..32usize {
        let (client, base, free, households, confirmed) = (
            client.clone(),
            base.clone(),
            free.clone(),
            households.clone(),
            confirmed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut acknowledged, mut asked) = (Vec::new(), Vec::new());
            for i in 0.. {
                let n = worker * 1000 + i;
                let (household, unit) = (
                    households[(n * 31) % households.len()],
                    free[(n * 17) % free.len()],
                );
                asked.push((household, unit));
                let res = client
                    .post(format!("{base}/api/v1/selections/{sid}/claims"))
                    .json(&serde_json::json!({"household_id": household, "unit_ids": [unit]}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        acknowledged.push((household, unit));
                        confirmed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            (acknowledged, asked)
        }));
    }
    // Killed once the rush is well under way, whatever the machine's speed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while confirmed.load(std::sync::atomic::Ordering::Relaxed) < 50
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL in the middle of the rush
    server.wait().unwrap();
    let (mut acknowledged, mut asked) = (Vec::new(), HashSet::new());
    for t in tasks {
        let (a, b) = t.await.unwrap();
        acknowledged.extend(a);
        asked.extend(b);
    }
    eprintln!(
        "claims acknowledged before the kill: {}",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > 20,
        "the rush made progress before the kill: {}",
        acknowledged.len()
    );
    let store = yongxin_store_sqlite::SqliteStore::open(&db, false)
        .await
        .unwrap();
    let states = yongxin_store::SelectionStore::unit_states(&store, pid)
        .await
        .unwrap();
    let owner: std::collections::HashMap<i64, HouseholdId> = states
        .iter()
        .filter_map(|u| u.owner_household_id.map(|h| (u.id, h)))
        .collect();
    for (household, unit) in &acknowledged {
        assert_eq!(
            owner.get(unit),
            Some(household),
            "acknowledged claim of unit {unit} lost"
        );
    }
    let new_sales: Vec<(HouseholdId, i64)> = owner
        .iter()
        .filter(|(u, _)| free.contains(u))
        .map(|(u, h)| (*h, *u))
        .collect();
    assert_eq!(
        before + new_sales.len(),
        owner.len(),
        "only units of the rush were sold"
    );
    assert!(
        new_sales.iter().all(|sale| asked.contains(sale)),
        "a sale nobody asked for"
    );
    assert!(
        new_sales.len() - acknowledged.len() <= 32,
        "at most one unanswered claim per client committed"
    );
    assert_eq!(
        yongxin_store::SelectionStore::board_seq(&store, pid)
            .await
            .unwrap() as usize,
        yongxin_store::SelectionStore::board_events(&store, pid, 0, 100_000)
            .await
            .unwrap()
            .len()
    );
    drop(store);
    assert!(yongxin(&db, &["audit", "verify"]).status.success());
    // Restarted, it answers as before: a sold unit is refused.
    let (mut server, base) = start_server(&db);
    let (client, _) = signed_in(&base, "staff").await;
    let (household, unit) = acknowledged[0];
    let res = client
        .post(format!("{base}/api/v1/selections/{sid}/claims"))
        .json(&serde_json::json!({"household_id": household, "unit_ids": [unit]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn search_reindex_rebuilds_the_index_and_refuses_one_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args(["demo", "--no-serve", "--appeals", "300", "--data-dir"])
        .arg(dir.path())
        .env_remove("YONGXIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db = format!("sqlite://{}", dir.path().join("yongxin.db").display());
    let out = yongxin(&db, &["search", "reindex"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        // 300 generated, the three objections to the demo's 公示 and the seven concerns raised
        // at the doors of the straw-burning inspection.
        text(&out.stdout).contains("indexed 310 appeals"),
        "{}",
        text(&out.stdout)
    );
    // The default place is beside the database file; a server holding it keeps others out.
    let held = yongxin_search::AppealIndex::open(&dir.path().join("yongxin.db.search")).unwrap();
    assert_eq!(held.len(), 310);
    let out = yongxin(&db, &["search", "reindex"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("in use by another running yongxin")
            && text(&out.stderr).contains("`search_dir` or `state_dir`"),
        "{}",
        text(&out.stderr)
    );
    // A second server started on the same directory (two nodes sharing one) stops with the
    // same message, and the first one's index is untouched.
    let out = yongxin(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("in use by another running yongxin"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(held.len(), 310);
    // Its own state directory: it starts.
    let state = dir.path().join("node-2");
    let (mut second, base) = start_server_with(&db, &[("YONGXIN_STATE_DIR", state.as_path())]);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(state.join("search").join("node.lock").exists());
}

#[test]
fn open311_keys_are_issued_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let out = yongxin(&db, &["open311", "key", "add", "12345 hotline"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let key = stdout.lines().last().unwrap();
    assert_eq!(key.len(), 64, "{stdout}");
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
    let out = yongxin(&db, &["open311", "key", "list"]);
    let listed = text(&out.stdout);
    assert!(
        listed.contains("12345 hotline") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(key), "keys are never shown again");
    let id = listed.split('\t').next().unwrap();
    let out = yongxin(&db, &["open311", "key", "revoke", id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&yongxin(&db, &["open311", "key", "list"]).stdout).contains("revoked"));
    let out = yongxin(&db, &["open311", "key", "add", " "]);
    assert!(!out.status.success());
}

#[test]
fn a_lottery_proof_is_verified_by_the_binary_and_by_an_independent_script() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    let codes: Vec<String> = (1..=2000)
        .map(|i| format!("V{:02}-{i:04}", i % 4 + 1))
        .collect();
    std::fs::write(&list, codes.join("\n")).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_yongxin"))
            .args(args)
            .env_remove("YONGXIN_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&[
        "lottery",
        "draw",
        "--list",
        list.to_str().unwrap(),
        "--seed",
        "382915:SSE-3284.12",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let proof = dir.path().join("proof.json");
    std::fs::write(&proof, &out.stdout).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["algorithm"], "yongxin-lottery-v1");
    assert_eq!(parsed["order"].as_array().unwrap().len(), 2000);
    let out = run(&["lottery", "verify", proof.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2000 households"));

    // Swap two places: both checks refuse it and say where.
    let mut tampered = parsed.clone();
    let order = tampered["order"].as_array_mut().unwrap();
    order.swap(9, 10);
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let out = run(&["lottery", "verify", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("position 10"),
        "{}",
        text(&out.stderr)
    );
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"algorithm\": 1}").unwrap();
    assert_eq!(
        run(&["lottery", "verify", garbage.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    let out = run(&[
        "lottery",
        "draw",
        "--list",
        list.to_str().unwrap(),
        "--seed",
        "12345",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("six digits"));

    let Ok(python) = std::env::var("YONGXIN_TEST_PYTHON") else {
        eprintln!("skipped the independent verifier: YONGXIN_TEST_PYTHON is not set");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_lottery.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&proof)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = Command::new(&python)
        .arg(script)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("position 10"),
        "{}",
        text(&out.stderr)
    );

    // A committed draw, as the server publishes it: both verifiers check each revealed value
    // against its commitment and the seed derived from them.
    let (commitment, reveals) = yongxin_demo::lottery_parties(1);
    let codes: Vec<String> = (1..=30).map(|i| format!("V01-{i:04}")).collect();
    let committed =
        yongxin_domain::lottery::Proof::make_committed(codes, &commitment, "038271", &reveals)
            .unwrap();
    let good = dir.path().join("committed.json");
    std::fs::write(&good, serde_json::to_string_pretty(&committed).unwrap()).unwrap();
    let mut forged = serde_json::to_value(&committed).unwrap();
    forged["reveals"][1]["secret"] = serde_json::json!("chosen after seeing the others");
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    assert!(run(&["lottery", "verify", good.to_str().unwrap()])
        .status
        .success());
    assert!(!run(&["lottery", "verify", forged_path.to_str().unwrap()])
        .status
        .success());
    let out = Command::new(&python)
        .arg(script)
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = Command::new(&python)
        .arg(script)
        .arg(&forged_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));

    // Fields written as null or empty are absent ones, to both verifiers alike.
    let mut spelled_out = parsed.clone();
    spelled_out["seed_commitment"] = serde_json::Value::Null;
    spelled_out["public_number"] = serde_json::Value::Null;
    spelled_out["reveals"] = serde_json::json!([]);
    let spelled_path = dir.path().join("spelled_out.json");
    std::fs::write(&spelled_path, spelled_out.to_string()).unwrap();
    assert!(run(&["lottery", "verify", spelled_path.to_str().unwrap()])
        .status
        .success());
    let out = Command::new(&python)
        .arg(script)
        .arg(&spelled_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// One demo database for two things a scheduled job and a cadre do with files: the weekly report
/// written by the binary, and the export of every list a cadre works from.
#[tokio::test]
async fn the_weekly_report_is_written_for_a_scheduled_job_and_every_list_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let today = yongxin_domain::campaign::local_day(chrono::Utc::now());
    let week = yongxin_domain::audit::iso_week(today - chrono::Duration::weeks(1));
    let mut written = Vec::new();
    for (format, name) in [
        ("csv", "a.csv"),
        ("csv", "b.csv"),
        ("xlsx", "a.xlsx"),
        ("xlsx", "b.xlsx"),
        ("html", "a.html"),
    ] {
        let out_file = dir.path().join(name);
        let out = yongxin(
            &db,
            &[
                "report",
                "weekly",
                "--week",
                &week,
                "--format",
                format,
                "--out",
                out_file.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        written.push(std::fs::read(&out_file).unwrap());
    }
    assert_eq!(written[0], written[1], "the .csv is the same each time");
    assert_eq!(written[2], written[3], "the .xlsx is the same each time");
    let csv = String::from_utf8(written[0].clone()).unwrap();
    assert!(
        csv.contains(&format!("示范街道工作周报（{week}）")),
        "{csv}"
    );
    let html = String::from_utf8(written[4].clone()).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("<svg"));
    // Refusals name what is wrong.
    for (args, says) in [
        (
            vec!["report", "weekly", "--week", "2026-49", "--out", "-"],
            "--week",
        ),
        (
            vec!["report", "weekly", "--format", "pdf", "--out", "-"],
            "--format",
        ),
    ] {
        let out = yongxin(&db, &args);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }

    // Every list a cadre works from exports to .xlsx and .csv with the page's filters.
    let (mut server, base) = start_server(&db);
    let (staff, _) = signed_in(&base, "staff").await;
    let first_id = |v: serde_json::Value, _: &str| v[0]["id"].as_i64().unwrap();
    let get_json = |client: &reqwest::Client, url: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let consultation = first_id(
        get_json(&staff, format!("{base}/api/v1/consultations")).await,
        "consultations",
    );
    let meeting = first_id(
        get_json(&staff, format!("{base}/api/v1/meetings")).await,
        "meetings",
    );
    let project = first_id(
        get_json(&staff, format!("{base}/api/v1/projects")).await,
        "projects",
    );
    let campaigns = get_json(&staff, format!("{base}/api/v1/campaigns")).await;
    let campaign = campaigns
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["state"] == "running")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let notices = get_json(&staff, format!("{base}/api/v1/notices")).await;
    let notice = notices["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"].as_str().unwrap().contains("秸秆"))
        .map(|n| n["id"].as_i64().unwrap())
        .unwrap_or_else(|| notices["notices"][0]["id"].as_i64().unwrap());
    let today = today.to_string();
    let lists: Vec<(&reqwest::Client, String, &str)> = vec![
        (&staff, "/appeals/export.csv".to_owned(), "appeals.csv"),
        (
            &staff,
            "/supervision?format=csv".to_owned(),
            "supervision.csv",
        ),
        (
            &staff,
            format!("/scorecards?group_by=village&from=2026-01-01&to={today}&format=csv"),
            "scorecards-village",
        ),
        (
            &staff,
            format!("/notices/{notice}/coverage?format=csv"),
            "uninformed.csv",
        ),
        (
            &staff,
            format!("/projects/{project}/registrations?format=csv"),
            "unregistered.csv",
        ),
        (
            &staff,
            format!("/consultations/{consultation}/results?format=csv"),
            "results.csv",
        ),
        (
            &staff,
            format!("/meetings/{meeting}?format=csv"),
            "attendance.csv",
        ),
        (
            &staff,
            format!("/campaigns/{campaign}/households?show=all&format=csv"),
            "households.csv",
        ),
        (
            &staff,
            format!("/campaigns/{campaign}/sheet?format=csv"),
            "unreached.csv",
        ),
    ];
    for (client, path, name) in lists {
        for format in ["csv", "xlsx"] {
            let url = format!(
                "{base}{}",
                path.replace("format=csv", &format!("format={format}"))
                    .replace("export.csv", &format!("export.{format}"))
            );
            let res = client.get(&url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{url}");
            let disposition = res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                disposition.contains(&format!(".{format}"))
                    && disposition.contains(name.split('.').next().unwrap()),
                "{url}: {disposition}"
            );
            let body = res.bytes().await.unwrap();
            if format == "xlsx" {
                assert!(body.starts_with(b"PK"), "{url}");
            } else {
                let text = String::from_utf8(body.to_vec()).unwrap();
                assert!(
                    text.lines().count() >= 2,
                    "{url}: a header and rows: {text}"
                );
            }
        }
    }
    // The filters are the page's: an export of one status holds that status only.
    let csv = staff
        .get(format!("{base}/appeals/export.csv?status=assigned"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let all = staff
        .get(format!("{base}/appeals/export.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.lines().skip(1).all(|l| l.contains("已派单")), "{csv}");
    assert!(csv.lines().count() < all.lines().count(), "{all}");
    server.kill().unwrap();
    server.wait().unwrap();
}

/// The backup files of a directory, oldest first.
fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".db.gz"))
        .collect();
    found.sort();
    found
}

/// A backup taken while residents file appeals holds every appeal acknowledged before the backup
/// began, and nothing no one filed; restored, its record is intact and its head is the one the
/// backup printed. Restoring refuses a directory in use and a tampered head file; `--keep`
/// rotates; PostgreSQL is sent to its own tools.
#[tokio::test]
async fn a_backup_under_load_holds_every_acknowledged_write_and_restores() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let (mut server, base) = start_server(&db);
    let (client, _) = signed_in(&base, "resident").await;
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, base, stop, acknowledged) = (
            client.clone(),
            base.clone(),
            stop.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let text = format!("备份期间的诉求-{w}-{i}");
                let res = client
                    .post(format!("{base}/api/v1/appeals"))
                    .json(&serde_json::json!({"category": "noise", "description": text, "answers": {"source": "shop"}, "address": "前街1号"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 201, "{:?}", res.text().await);
                acknowledged.lock().unwrap().push((text, Instant::now()));
                i += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let out_dir = dir.path().join("backups");
    std::fs::create_dir(&out_dir).unwrap();
    let began = Instant::now();
    let out = {
        let (db, out_dir) = (db.clone(), out_dir.clone());
        tokio::task::spawn_blocking(move || {
            yongxin(&db, &["backup", "--out", out_dir.to_str().unwrap()])
        })
        .await
        .unwrap()
    };
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("audit record intact"), "{printed}");
    let head = printed
        .lines()
        .find_map(|l| l.strip_prefix("head hash: "))
        .unwrap()
        .to_owned();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(t, _)| t)
        .collect();
    let during = acknowledged
        .iter()
        .filter(|(_, at)| *at > began && *at < ended)
        .count();
    assert!(before.len() >= 4, "a load before: {}", before.len());
    assert!(during > 0, "the server wrote while the backup ran");

    let file = backups_in(&out_dir).pop().unwrap();
    assert!(
        std::fs::read_to_string(format!("{}.head", file.display()))
            .unwrap()
            .contains(&head),
        "the head is kept beside the backup"
    );
    let restored = dir.path().join("restored");
    let out = yongxin(
        "sqlite:///nonexistent.db",
        &[
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("head hash: {head}")));
    assert!(text(&out.stdout).contains("newest entry: "));
    let restored_db = format!("sqlite://{}", restored.join("yongxin.db").display());
    let filed: HashSet<String> = {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&restored_db).await.unwrap();
        sqlx::query_scalar(
            "SELECT description FROM appeals WHERE description LIKE '备份期间的诉求-%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .collect()
    };
    for t in &before {
        assert!(filed.contains(*t), "acknowledged before the backup: {t}");
    }
    let all: HashSet<&String> = acknowledged.iter().map(|(t, _)| t).collect();
    // A write in flight when the writers stopped may be stored unacknowledged; nothing else.
    assert!(filed.iter().filter(|t| !all.contains(t)).count() <= 4);
    let out = yongxin(&restored_db, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&head));

    // Into a directory in use: refused, and the database there is untouched.
    let out = yongxin(
        &restored_db,
        &[
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    // A head file that does not match what the backup holds: refused.
    let head_file = format!("{}.head", file.display());
    let kept = std::fs::read_to_string(&head_file).unwrap();
    std::fs::write(&head_file, kept.replace(&head, &"0".repeat(64))).unwrap();
    let out = yongxin(
        &restored_db,
        &[
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
            "--force",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("changed after the backup"));
    std::fs::write(&head_file, kept).unwrap();
    let out = yongxin(
        &restored_db,
        &[
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
            "--force",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // --keep: three backups into the directory, the newest two kept.
    for _ in 0..2 {
        let out = yongxin(
            &db,
            &["backup", "--out", out_dir.to_str().unwrap(), "--keep", "2"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let kept = backups_in(&out_dir);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&file), "the oldest removed");
    assert!(!Path::new(&head_file).exists(), "with its head file");
    let out = yongxin(
        &db,
        &["backup", "--out", file.to_str().unwrap(), "--keep", "2"],
    );
    assert!(text(&out.stderr).contains("--keep needs --out to name a directory"));

    let out = yongxin(
        "postgres://postgres@127.0.0.1:1/none",
        &["backup", "--out", out_dir.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("pg_dump"),
        "{}",
        text(&out.stderr)
    );
}

/// Upgrading: a database the release before migration 0027 left (the demo's, with that
/// migration undone) is backed up before the new migration applies, and keeps its data and
/// record; a database a newer release migrated is refused by `serve`, which changes nothing.
#[tokio::test]
async fn an_upgrade_backs_up_first_and_a_newer_database_is_refused() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    };
    {
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        for sql in [
            "DROP TRIGGER appeals_overdue_added",
            "DROP TRIGGER appeals_overdue_left",
            "DROP TRIGGER appeals_overdue_entered",
            "DROP TRIGGER appeals_overdue_removed",
            "DROP TABLE overdue_counts",
            "DELETE FROM _sqlx_migrations WHERE version = 27",
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
    let households = count("SELECT COUNT(*) FROM households").await;
    let entries = count("SELECT COUNT(*) FROM audit_log").await;

    let out = yongxin(&db, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("1 new migration(s) to apply; the database was first backed up to"),
        "{said}"
    );
    let backups = backups_in(&dir.path().join("backups"));
    assert_eq!(backups.len(), 1, "{said}");
    assert!(said.contains(&backups[0].display().to_string()));
    assert_eq!(
        count("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 27").await,
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM households").await, households);
    assert!(count("SELECT COUNT(*) FROM audit_log").await >= entries);
    assert!(yongxin(&db, &["audit", "verify"]).status.success());
    // The backup is the database as it was before: restored, it lacks the new migration.
    let before = dir.path().join("before");
    let out = yongxin(
        &db,
        &[
            "restore",
            backups[0].to_str().unwrap(),
            "--data-dir",
            before.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let old = format!("sqlite://{}", before.join("yongxin.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&old).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 27")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
    // Up to date: nothing more is backed up.
    let out = yongxin(&db, &["migrate"]);
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains("backed up"));
    assert_eq!(backups_in(&dir.path().join("backups")).len(), 1);

    // A newer release's migration: refused, with what to do.
    {
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99999, 'from a newer release', 1, x'00', 0)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let out = yongxin(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("upgraded by a newer release of yongxin (migrations [99999]"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(count("SELECT COUNT(*) FROM households").await, households);
}

/// `yongxin check` says how the installation stands, changes nothing, and exits with the worst
/// result: a database with a migration pending, no backup or an old one, a mail relay that
/// refuses connections each fail; a relay that answers and a fresh backup are fine.
#[tokio::test]
async fn check_reports_each_part_and_exits_with_the_worst() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_addr = relay.local_addr().unwrap();
    let closed = {
        // A port nothing listens on: bound, then let go.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let check = |env: Vec<(&'static str, String)>| {
        let db = db.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let out = Command::new(env!("CARGO_BIN_EXE_yongxin"))
                    .args(["--database-url", &db, "check"])
                    .env_remove("YONGXIN_DATABASE_URL")
                    .envs(env)
                    .output()
                    .unwrap();
                (out.status.code(), text(&out.stdout))
            })
            .await
            .unwrap()
        }
    };
    let worst = |report: &str| {
        if report.lines().any(|l| l.starts_with("FAIL")) {
            Some(2)
        } else if report.lines().any(|l| l.starts_with("WARN")) {
            Some(1)
        } else {
            Some(0)
        }
    };
    let line = |report: &str, what: &str| {
        report
            .lines()
            .find(|l| l[5..].starts_with(what))
            .unwrap_or_else(|| panic!("no {what} line in {report}"))
            .to_owned()
    };

    // No backup yet, the relay answering, the SMS gateway not.
    let env = vec![
        ("YONGXIN_BACKUP_DIR", backups.display().to_string()),
        ("YONGXIN_SMTP_URL", format!("smtp://{relay_addr}")),
        (
            "YONGXIN_SMS_GATEWAY_URL",
            format!("http://{closed}/send?to={{phone}}&text={{text}}"),
        ),
    ];
    let (code, report) = check(env.clone()).await;
    assert!(
        line(&report, "database").starts_with("ok   database  sqlite, reachable"),
        "{report}"
    );
    assert!(line(&report, "backup").starts_with("FAIL"), "{report}");
    assert!(line(&report, "smtp").starts_with("ok"), "{report}");
    assert!(line(&report, "sms").starts_with("FAIL"), "{report}");
    assert!(line(&report, "calendar").contains("loaded"), "{report}");
    assert!(line(&report, "disk").contains("MiB free"), "{report}");
    assert_eq!(code, Some(2));

    // A backup taken, the gateway dropped: what is left decides the exit code.
    let out = yongxin(&db, &["backup", "--out", backups.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, report) = check(env[..2].to_vec()).await;
    assert!(
        line(&report, "backup").starts_with("ok   backup    newest"),
        "{report}"
    );
    assert!(line(&report, "sms").contains("not configured"), "{report}");
    assert_eq!(code, worst(&report), "{report}");
    assert!(code != Some(2), "{report}");

    // A migration not applied: a failure, and check does not apply it.
    {
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 27")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (code, report) = check(env[..2].to_vec()).await;
    assert!(
        line(&report, "database").contains("1 migration(s) not applied: run `yongxin migrate`"),
        "{report}"
    );
    assert_eq!(code, Some(2));
    let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 27")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(applied, 0, "check changes nothing");
    drop(relay);
}
