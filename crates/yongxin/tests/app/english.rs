//! English is complete: signed in as each role (and as nobody) with English chosen, every page
//! reachable from the navigation (up to three links deep, two pages of each shape) and every
//! export linked from them (.csv, and .xlsx cell by cell) is fetched, and no Chinese is found in it except what the database
//! holds (names, addresses, what people wrote, the policy's own clauses) and the language switch,
//! which names Chinese in Chinese.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use yongxin_domain::Role;

use crate::support::{load_generated_appeals, post_form, Backend, TestApp};

/// Whether a character is written Chinese: a Han character, or the punctuation and full-width
/// forms that go with them (、，（）：).
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'
        | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
}

/// The runs of Chinese in a page, leaving out scripts, styles and elements marked as Chinese
/// (`lang="zh-CN"`, the language switch).
fn chinese_runs(html: &str) -> Vec<String> {
    let mut text = html.to_owned();
    for (open, close) in [("<script", "</script>"), ("<style", "</style>")] {
        while let Some(start) = text.find(open) {
            let end = text[start..]
                .find(close)
                .map_or(text.len(), |e| start + e + close.len());
            text.replace_range(start..end, " ");
        }
    }
    let mut from = 0;
    while let Some(at) = text[from..].find("lang=\"zh") {
        let at = from + at;
        let Some(gt) = text[at..].find('>') else {
            break;
        };
        let body = at + gt + 1;
        let end = text[body..].find('<').map_or(text.len(), |e| body + e);
        text.replace_range(body..end, " ");
        from = body;
    }
    let mut runs = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if is_chinese(c) {
            run.push(c);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The same-site links of a page, `&amp;` decoded.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .collect()
}

/// Every cell of every sheet of a workbook, a line each.
fn cells(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut text = String::new();
    for (_, range) in book.worksheets() {
        for row in range.rows() {
            for cell in row {
                text.push_str(&cell.to_string());
                text.push('\n');
            }
        }
    }
    text
}

/// A path with its numbers replaced: pages of one shape show the same words.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('#');
            }
            digits = true;
        } else {
            out.push(c);
            digits = false;
        }
    }
    out
}

#[tokio::test]
async fn every_page_and_export_in_english_has_no_chinese_outside_data() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    load_generated_appeals(&app, 5, 120).await;
    app.sample_campaign().await;
    app.sample_selection().await;
    let data = app.stored_texts().await;

    let visitors = [
        None,
        Some(Role::Resident),
        Some(Role::GridWorker),
        Some(Role::VillageOfficer),
        Some(Role::DepartmentStaff),
        Some(Role::Leader),
        Some(Role::Admin),
    ];
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fetched = 0;
    for who in visitors {
        let client = match who {
            Some(role) => app.sign_in_as(role).await,
            None => app.client(),
        };
        let res = client
            .get(app.url("/lang?set=en&next=/"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        let who = who.map_or("anonymous".to_owned(), |r| r.code().to_owned());
        let mut queue = VecDeque::from([("/".to_owned(), 0)]);
        let mut seen = HashSet::new();
        let mut shapes: HashMap<String, usize> = HashMap::new();
        while let Some((path, depth)) = queue.pop_front() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let count = shapes.entry(shape(&path)).or_default();
            if *count >= 2 {
                continue;
            }
            *count += 1;
            let Ok(Ok(res)) =
                tokio::time::timeout(Duration::from_secs(10), client.get(app.url(&path)).send())
                    .await
            else {
                continue;
            };
            let kind = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let xlsx = kind.starts_with("application/vnd.openxmlformats");
            if !res.status().is_success()
                || !(kind.starts_with("text/html") || kind.starts_with("text/csv") || xlsx)
            {
                continue;
            }
            let body = if xlsx {
                cells(&res.bytes().await.unwrap())
            } else {
                res.text().await.unwrap()
            };
            fetched += 1;
            for run in chinese_runs(&body) {
                if !data.contains(&run) {
                    found.entry(run).or_default().push(format!("{who} {path}"));
                }
            }
            if depth < 3 && kind.starts_with("text/html") {
                for href in links(&body) {
                    let skip = [
                        "/sign-out",
                        "/lang",
                        "/static/",
                        "/api/",
                        "/events",
                        "/stream",
                    ]
                    .iter()
                    .any(|s| href.contains(s));
                    if !skip {
                        queue.push_back((href, depth + 1));
                    }
                }
            }
        }
    }
    eprintln!("english: {fetched} pages and exports fetched");
    assert!(fetched > 100, "the crawl reached {fetched} pages");
    let report: Vec<String> = found
        .iter()
        .map(|(run, at)| format!("{run}  ({} times; {})", at.len(), at[0]))
        .collect();
    assert!(
        found.is_empty(),
        "{} pieces of Chinese in English pages:\n{}",
        found.len(),
        report.join("\n")
    );
}

/// A refusal of the domain is said in the reader's language: in English without Chinese, in
/// Chinese as the domain words it.
#[tokio::test]
async fn a_refusal_is_said_in_the_readers_language() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (pid, _) = app.sample_selection().await;
    let admin = app.sign_in_as(Role::Admin).await;
    let path = format!("/projects/{pid}/phase");
    let refused = |lang: &'static str| {
        let (app, admin, path) = (&app, &admin, &path);
        async move {
            admin
                .get(app.url(&format!("/lang?set={lang}&next=/")))
                .send()
                .await
                .unwrap();
            let res = post_form(app, admin, path, &[("to", "preparation")]).await;
            assert_eq!(res.status(), reqwest::StatusCode::CONFLICT);
            res.text().await.unwrap()
        }
    };
    let english = refused("en").await;
    assert!(
        english
            .contains("The project is in the Selection phase and can only move on to Agreements"),
        "{english}"
    );
    // Only data (the signed-in administrator's name) is left in Chinese.
    let data = app.stored_texts().await;
    let runs: Vec<String> = chinese_runs(&english)
        .into_iter()
        .filter(|r| !data.contains(r.as_str()))
        .collect();
    assert!(runs.is_empty(), "{runs:?} in {english}");
    let chinese = refused("zh-CN").await;
    assert!(
        chinese.contains("项目处于“选房”阶段，只能进入下一阶段“签约”"),
        "{chinese}"
    );
}

/// A cadre working in English sends the assessment form back with the members as the page
/// showed them (in English): they are recognised as the registry's, so the result keeps the
/// registry's own bases, in Chinese, not the English words of the form. (After the results'
/// publication every change needs a reason, in English too.)
#[tokio::test]
async fn an_assessment_sent_back_in_english_keeps_the_registrys_members() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (pid, households, _) = app.sample_project(yongxin_demo::Stage::Results).await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    staff
        .get(app.url("/lang?set=en&next=/"))
        .send()
        .await
        .unwrap();
    // A household whose form lists its members.
    let mut found = None;
    for hid in households {
        let page = crate::support::page(
            &staff,
            app.url(&format!("/projects/{pid}/households/{hid}")),
        )
        .await;
        let start = page.find("name=\"members\"").expect("the members field");
        let text = &page[start..];
        let text = &text[text.find('>').unwrap() + 1..text.find("</textarea>").unwrap()];
        if !text.trim().is_empty() {
            let members = text
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            found = Some((hid, members));
            break;
        }
    }
    let (hid, members) = found.expect("a household with its members listed");
    assert!(members.contains(" | "), "{members}");
    assert!(
        chinese_runs(&members).iter().all(|r| !r.contains("前在册")),
        "{members}"
    );
    let res = post_form(
        &app,
        &staff,
        &format!("/projects/{pid}/households/{hid}/assessment"),
        &[
            ("structures", "brick_concrete 一等 100"),
            ("fixtures", ""),
            ("members", &members),
            ("reason", "re-measured"),
        ],
    )
    .await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    staff
        .get(app.url("/lang?set=zh-CN&next=/"))
        .send()
        .await
        .unwrap();
    let page = crate::support::page(
        &staff,
        app.url(&format!("/projects/{pid}/households/{hid}")),
    )
    .await;
    assert!(
        page.contains("前在册"),
        "the registry's basis is kept in Chinese"
    );
}
