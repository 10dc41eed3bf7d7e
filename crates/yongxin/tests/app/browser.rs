//! A real browser for the flows people see: Debian's Chromium driven headless through its
//! ChromeDriver over the W3C WebDriver protocol (plain HTTP and JSON, spoken here with reqwest, so
//! no client library stands between the test and the browser). Runs when
//! `YONGXIN_TEST_CHROMEDRIVER` names the driver binary (`.ci/run` sets it); otherwise each browser
//! test prints that it was skipped. Screenshots go to `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A ChromeDriver process and one browser session in it; both end when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
}

/// An element of the page.
#[derive(Clone)]
pub struct Element(String);

impl Element {
    /// The element a script returned.
    pub fn from_value(v: &Value) -> Element {
        Element(v[ELEMENT].as_str().expect("an element").to_owned())
    }
}

impl Browser {
    /// A headless Chromium of `width`×`height` CSS pixels preferring Chinese, or `None` (with a
    /// note) when `YONGXIN_TEST_CHROMEDRIVER` is not set.
    pub async fn start(test: &str, width: u32, height: u32) -> Option<Browser> {
        let Ok(driver) = std::env::var("YONGXIN_TEST_CHROMEDRIVER") else {
            eprintln!("{test}: skipped (set YONGXIN_TEST_CHROMEDRIVER to the chromedriver binary)");
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{driver}: {e}"));
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{root}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let binary =
            std::env::var("YONGXIN_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut options = json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-dev-shm-usage",
                     "--lang=zh-CN", format!("--window-size={width},{height}")],
            "prefs": {"intl.accept_languages": "zh-CN"}
        });
        // A desktop window is never narrower than about 500 px: a phone is emulated as one,
        // with its width, pixel density and touch.
        let phone = width < 600;
        if phone {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.625, "touch": true},
                "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
            });
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let res: Value = http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {res}"))
            .to_owned();
        let browser = Browser {
            driver: child,
            base: format!("{root}/session/{session}"),
            http,
        };
        // The window size is of the outer window; the page's viewport is what is asked for.
        if !phone {
            browser.set_viewport(width, height).await;
        }
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = res["value"]["error"].as_str() {
            panic!("WebDriver {path}: {err}: {}", res["value"]["message"]);
        }
        res["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Makes the page's viewport `width`×`height`.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let inner = self
            .script("return [window.innerWidth, window.innerHeight]", json!([]))
            .await;
        let rect = self.call(reqwest::Method::GET, "/window/rect", None).await;
        let dw = rect["width"].as_i64().unwrap() - inner[0].as_i64().unwrap();
        let dh = rect["height"].as_i64().unwrap() - inner[1].as_i64().unwrap();
        self.post(
            "/window/rect",
            json!({"width": i64::from(width) + dw, "height": i64::from(height) + dh}),
        )
        .await;
    }

    /// Opens a URL and waits for the page.
    pub async fn go(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address shown.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching a CSS selector, waiting up to 5 s for it.
    pub async fn find(&self, css: &str) -> Element {
        for _ in 0..50 {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no element {css} on {}", self.url().await);
    }

    /// The first element matching a CSS selector, if there is one now.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let res: Value = self
            .http
            .post(format!("{}/element", self.base))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["value"][ELEMENT]
            .as_str()
            .map(|s| Element(s.to_owned()))
    }

    /// Clicks an element.
    pub async fn click(&self, e: &Element) {
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    /// Types into an element (after clearing it).
    pub async fn type_into(&self, e: &Element, text: &str) {
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await;
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text }))
            .await;
    }

    /// An element's visible text.
    pub async fn text(&self, e: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// The page's HTML as it is now.
    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Runs a script in the page; `arguments[i]` are `args`.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Runs a script that calls its last argument with its answer (for promises), for up to 60 s.
    pub async fn script_async(&self, script: &str, args: Value) -> Value {
        self.post("/timeouts", json!({"script": 60_000})).await;
        self.post("/execute/async", json!({"script": script, "args": args}))
            .await
    }

    /// The errors the page's console received since this was last asked (ChromeDriver's log).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({"type": "browser"})).await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Forgets every cookie of the current site (signs out without a request).
    pub async fn forget_cookies(&self) {
        self.call(reqwest::Method::DELETE, "/cookie", None).await;
    }

    /// Chooses `value` in the select `css` as a person would (its change event fires).
    pub async fn choose(&self, css: &str, value: &str) {
        self.script(
            "var s = document.querySelector(arguments[0]); s.value = arguments[1]; \
             s.dispatchEvent(new Event('change', {bubbles: true}));",
            json!([css, value]),
        )
        .await;
    }

    /// Waits for a page whose query string holds `part` to have loaded.
    pub async fn wait_for_query(&self, part: &str) {
        self.wait_for(
            part,
            &format!(
                "return location.search.indexOf({}) >= 0 && document.readyState === 'complete'",
                json!(part)
            ),
        )
        .await;
    }

    /// Ticks the first checkbox matching `css` by tapping its label (the box itself is hidden
    /// under the cell, as on a phone); answers the box's value.
    pub async fn tick(&self, css: &str) -> String {
        self.find(css).await;
        let value = self
            .script(
                "return document.querySelector(arguments[0]).value",
                json!([css]),
            )
            .await;
        let label = self
            .script(
                "return document.querySelector(arguments[0]).closest('label')",
                json!([css]),
            )
            .await;
        self.click(&Element::from_value(&label)).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Turns the browser's network emulation offline or back online (ChromeDriver's extension):
    /// the page's own requests fail as they do where the signal drops.
    pub async fn set_offline(&self, offline: bool) {
        if offline {
            self.post(
                "/chromium/network_conditions",
                json!({"network_conditions": {"offline": true, "latency": 0,
                       "download_throughput": 0, "upload_throughput": 0}}),
            )
            .await;
        } else {
            self.call(
                reqwest::Method::DELETE,
                "/chromium/network_conditions",
                None,
            )
            .await;
        }
    }

    /// Waits until the script returns true, for up to `seconds`.
    pub async fn wait_long(&self, what: &str, script: &str, seconds: u64) {
        for _ in 0..seconds * 10 {
            if self.script(script, json!([])).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("waited {seconds} s for {what} on {}", self.url().await);
    }

    /// Waits until the script returns true (up to 5 s).
    pub async fn wait_for(&self, what: &str, script: &str) {
        for _ in 0..50 {
            if self.script(script, json!([])).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("waited for {what} on {}", self.url().await);
    }

    /// Saves a screenshot as `target/screenshots/{name}.png` (`name` may hold a folder) and
    /// answers its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self
            .call(reqwest::Method::GET, "/screenshot", None)
            .await
            .as_str()
            .unwrap()
            .to_owned();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/screenshots")
            .canonicalize()
            .unwrap_or_else(|_| {
                let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
                std::fs::create_dir_all(&d).unwrap();
                d.canonicalize().unwrap()
            });
        let path = dir.join(format!("{name}.png"));
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(
            &path,
            base64::engine::general_purpose::STANDARD
                .decode(png)
                .unwrap(),
        )
        .unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Signs in through the sign-in page.
    pub async fn sign_in(&self, base: &str, username: &str) {
        self.go(&format!("{base}/sign-in")).await;
        let user = self.find("input[name=username]").await;
        self.type_into(&user, username).await;
        let password = self.find("input[name=password]").await;
        self.type_into(&password, "demo").await;
        let button = self.find("main form button[type=submit]").await;
        self.click(&button).await;
        self.wait_for(
            "the signed-in page",
            "return !location.pathname.startsWith('/sign-in')",
        )
        .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; the driver goes with the test.
        let url = self.base.clone();
        let _ = std::thread::spawn(move || {
            let _ = delete_session(&url);
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Sends `DELETE url` over a plain TCP connection: a drop cannot wait on the async client.
fn delete_session(url: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = std::net::TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    Ok(())
}

/// A line between the browser and the server that can be cut: the browser talks to `base`, which
/// passes every connection through to the server until [`Signal::lose`] closes them all and
/// refuses new ones. A service worker's own requests, which the browser's network emulation may
/// not reach, lose the server too.
pub struct Signal {
    /// The address the browser uses.
    pub base: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Signal {
    /// A line to the server at `upstream` (`http://host:port`).
    pub async fn to(upstream: &str) -> Signal {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, o) = (cut.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                o.lock().unwrap().push(task);
            }
        });
        Signal { base, cut, open }
    }

    /// No signal: every open connection closes, new ones are refused.
    pub fn lose(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The signal is back.
    pub fn regain(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
