//! Every page, in a browser, for everyone: signed in as each role (and as nobody), every page of
//! the navigation and the first item each list links to is opened in Chromium at a desktop
//! (1366×768) and a phone (390×844) size and checked: no console errors, no sideways scrolling,
//! no element wider than the viewport, every form control labelled, and no serious or critical
//! violation found by axe-core (`YONGXIN_TEST_AXE` names `axe.min.js`; `.ci/run` installs it from
//! the npm registry). A screenshot of each page goes to `target/screenshots/pages/`. On the phone
//! the navigation is folded behind one button that opens it.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::support::{load_generated_appeals, Backend, TestApp};

/// Who visits: the sign-in name (`None`: nobody signed in) and a short name for screenshots.
const VISITORS: [(Option<&str>, &str); 7] = [
    (None, "anonymous"),
    (Some("resident"), "resident"),
    (Some("grid"), "grid"),
    (Some("village"), "village"),
    (Some("staff"), "staff"),
    (Some("leader"), "leader"),
    (Some("admin"), "admin"),
];

/// The checks run in the page: what scrolls sideways, what is wider than the viewport, which
/// controls have no name.
const LAYOUT_AND_LABELS: &str = r#"
const vw = document.documentElement.clientWidth;
function describe(el) {
  let d = el.tagName.toLowerCase();
  if (el.id) d += '#' + el.id;
  if (el.className && typeof el.className === 'string') d += '.' + el.className.trim().split(/\s+/).join('.');
  const name = el.getAttribute('name');
  if (name) d += '[name=' + name + ']';
  return d;
}
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (getComputedStyle(el).visibility === 'hidden') continue;
  // Moved off the screen on purpose (a table's header row read only by screen readers).
  if (r.right <= 0 || r.bottom <= 0) continue;
  if (r.width > vw + 1 || r.right > vw + 1) wide.push(describe(el) + ' ' + Math.round(r.left) + '…' + Math.round(r.right));
}
const unlabelled = [];
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)) continue;
  const byLabel = Array.from(el.labels || []).some(l => l.textContent.trim() !== '');
  if (!byLabel && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.title) unlabelled.push(describe(el));
}
return {scroll: document.documentElement.scrollWidth, vw: vw, wide: wide.slice(0, 8), unlabelled: unlabelled};
"#;

/// Runs axe-core (already injected) and answers its serious and critical violations.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(function (r) {
  done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
    v.impact + ' ' + v.id + ' (' + v.help + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join(' | ')));
}).catch(function (e) { done(['axe failed: ' + e]); });
"#;

#[tokio::test]
async fn every_page_of_the_navigation_passes_for_every_role_at_both_sizes() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    if std::env::var("YONGXIN_TEST_CHROMEDRIVER").is_err() {
        eprintln!("every page: skipped (set YONGXIN_TEST_CHROMEDRIVER to the chromedriver binary)");
        return;
    }
    let axe = match std::env::var("YONGXIN_TEST_AXE") {
        Ok(path) => Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))),
        Err(_) => {
            eprintln!("every page: axe-core not run (set YONGXIN_TEST_AXE to axe.min.js)");
            None
        }
    };
    load_generated_appeals(&app, 11, 300).await;
    // Something in every list: a campaign, a project with its households.
    app.sample_campaign().await;
    app.sample_selection().await;

    let started = Instant::now();
    let mut visited = 0;
    let mut problems = Vec::new();
    for (width, height, size) in [(1366, 768, "desktop"), (390, 844, "phone")] {
        let browser = Browser::start("every page", width, height).await.unwrap();
        for (login, who) in VISITORS {
            browser.go(&app.url("/")).await;
            browser.forget_cookies().await;
            if let Some(name) = login {
                browser.sign_in(&app.base, name).await;
            }
            browser.go(&app.url("/")).await;
            if size == "phone" {
                problems.extend(menu_folds(&browser, who).await);
            }
            let nav = links(&browser, ".bar nav a").await;
            let mut pages: Vec<String> = nav.clone();
            if login.is_none() {
                pages.push("/sign-in".into());
            }
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut i = 0;
            while i < pages.len() {
                let path = pages[i].clone();
                i += 1;
                if !seen.insert(path.clone()) {
                    continue;
                }
                browser.go(&app.url(&path)).await;
                visited += 1;
                let shown = browser.url().await;
                for p in check(&browser, axe.as_deref(), size).await {
                    problems.push(format!("{size} {who} {path}: {p}"));
                }
                let slug = path.trim_start_matches('/').replace('/', "-");
                let slug = if slug.is_empty() { "home".into() } else { slug };
                browser
                    .screenshot(&format!("pages/{size}-{who}-{slug}"))
                    .await;
                // The first item a list of the navigation links to (a case, a household, a
                // project), once per role.
                if nav.contains(&path) && shown.ends_with(&path) {
                    let prefix = format!("{}/", path.trim_end_matches('/'));
                    if path != "/" {
                        if let Some(item) = links(&browser, "main a")
                            .await
                            .into_iter()
                            .find(|h| is_item(h, &prefix))
                        {
                            pages.push(item);
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "every page: {visited} pages opened and checked in {:.1} s (7 visitors × 2 sizes)",
        started.elapsed().as_secs_f64()
    );
    assert!(visited > 100, "the tour reached {visited} pages");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Whether `href` is one item under a list's address (`/appeals/12`, not `/appeals/new`).
fn is_item(href: &str, prefix: &str) -> bool {
    href.strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

/// The paths of the links matching `css`, same-site only.
async fn links(browser: &Browser, css: &str) -> Vec<String> {
    let found = browser
        .script(
            "return Array.from(document.querySelectorAll(arguments[0])).map(a => a.getAttribute('href'))",
            json!([css]),
        )
        .await;
    found
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .map(str::to_owned)
        .collect()
}

/// The checks of one page, as lines naming what failed.
async fn check(browser: &Browser, axe: Option<&str>, size: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for e in browser.console_errors().await {
        problems.push(format!("console: {e}"));
    }
    let layout = browser.script(LAYOUT_AND_LABELS, json!([])).await;
    if layout["scroll"].as_f64() > layout["vw"].as_f64() && size == "phone" {
        problems.push(format!(
            "scrolls sideways: {} px of content in {} px",
            layout["scroll"], layout["vw"]
        ));
    }
    for w in layout["wide"].as_array().unwrap() {
        problems.push(format!("wider than the viewport: {}", w.as_str().unwrap()));
    }
    for c in layout["unlabelled"].as_array().unwrap() {
        problems.push(format!("control without a label: {}", c.as_str().unwrap()));
    }
    if let Some(source) = axe {
        if browser.script("return typeof axe", json!([])).await != json!("object") {
            browser
                .script(&format!("{source}\n;return true;"), json!([]))
                .await;
        }
        let found = browser.script_async(AXE_RUN, json!([])).await;
        for v in found.as_array().unwrap() {
            problems.push(format!("axe: {}", v.as_str().unwrap()));
        }
    }
    problems
}

/// On a phone the navigation is folded: its links are hidden until the menu button is tapped.
async fn menu_folds(browser: &Browser, who: &str) -> Vec<String> {
    let visible =
        "const a = document.querySelector('.bar nav a'); return !!a && a.offsetParent !== null;";
    let mut problems = Vec::new();
    if browser.script(visible, json!([])).await != json!(false) {
        problems.push(format!("phone {who}: the navigation is not folded"));
    }
    let button = browser.find(".menu-button").await;
    browser.click(&button).await;
    if browser.script(visible, json!([])).await != json!(true) {
        problems.push(format!(
            "phone {who}: the menu button does not open the navigation"
        ));
    }
    problems
}
