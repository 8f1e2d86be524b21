//! Driving real Chromium for the browser tests: Debian's `/usr/bin/chromium` through
//! `/usr/bin/chromedriver` (WebDriver), from Rust with fantoccini, so the browser tests run
//! under `cargo test` on both databases like every other black-box test.
//!
//! - Each test gets its own chromedriver on a free port and one browser session; both end
//!   when the `Browser` is dropped (the driver process is killed), even when a test fails.
//! - Without Chromium the tests are skipped with a note on a developer machine, and fail
//!   under CI (`CI=true`), where `.ci/run` installs it.
//! - `axe` runs axe-core (npm `axe-core`, from node_modules) in the page and fails on any
//!   violation of impact serious or critical; `reflows` checks the page at 320 CSS pixels
//!   wide has no horizontal scroll (WCAG 2.2, 1.4.10 Reflow).
//! - Screenshots go to `target/screenshots/`, and also to `docs/screenshots/` when
//!   `CLA_REGENERATE_DOCS=1` (the same switch that regenerates docs/permissions.md).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TEST_PASSWORD};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const DESKTOP: (u32, u32) = (1280, 1000);
pub const NARROW: u32 = 320;
/// WebDriver key codes.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const ARROW_DOWN: &str = "\u{E015}";

/// Whether the browser tests can run here (see the module notes).
pub fn available(test: &str) -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: CI must run the browser tests, but {missing:?} is missing (apt-get install chromium chromium-driver)");
    }
    eprintln!("skipping {test}: {missing:?} not installed (apt-get install chromium chromium-driver)");
    false
}

/// A chromedriver process, killed when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers. The port is free when
    /// chosen but could be taken before chromedriver binds it, so a failed start is retried.
    async fn start() -> Driver {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let process = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
            let driver = Driver {
                process,
                url: format!("http://127.0.0.1:{port}"),
            };
            match driver.wait_ready().await {
                Ok(()) => return driver,
                Err(e) => last_error = e,
            }
        }
        panic!("chromedriver did not start: {last_error}");
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match client.get(format!("{}/status", self.url)).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => {
                    if Instant::now() > deadline {
                        return Err(format!("status {}", r.status()));
                    }
                }
                Err(e) => {
                    if Instant::now() > deadline {
                        return Err(e.to_string());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One browser session against one test application.
pub struct Browser {
    pub client: Client,
    pub base: String,
    /// Screenshots for docs/ come from the SQLite run only (the two runs show the same).
    docs: bool,
    // Dropped after the client: the session is closed (best effort) before the driver dies.
    _driver: Driver,
}

impl Browser {
    pub async fn open(app: &TestApp) -> Browser {
        let driver = Driver::start().await;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("a Chromium session through chromedriver: {e}"));
        Browser {
            client,
            base: app.address.clone(),
            docs: app.backend == crate::helpers::Backend::Sqlite,
            _driver: driver,
        }
    }

    /// Ends the session (the driver is killed on drop either way).
    pub async fn close(self) {
        let Browser { client, .. } = self;
        let _ = client.close().await;
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page title")
    }

    /// The text of the whole page as a reader sees it.
    pub async fn text(&self) -> String {
        self.find("body").await.text().await.expect("the page text")
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css} on {}: {e}", self.base))
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field.send_keys(text).await.expect("type into a field");
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks (or presses `keys` on the focus, when given) and waits for the next page to
    /// load, so nothing is read from the page being left.
    pub async fn and_wait(&self, action: impl std::future::Future<Output = ()>) {
        self.script("window.__leaving = true; return null;").await;
        action.await;
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css("body"))
            .await
            .expect("a page");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let fresh = self
                .script("return window.__leaving !== true && document.readyState === 'complete';")
                .await;
            if fresh == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "the next page did not load");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Submits with the button `css` and waits for the answer page.
    pub async fn submit(&self, css: &str) {
        self.and_wait(self.click(css)).await;
    }

    pub async fn click_link(&self, text: &str) {
        self.client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("a link {text:?}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("follow {text:?}: {e}"));
    }

    /// Signs in through the form, as a person would, and lands on `/`.
    pub async fn sign_in(&self, email: &str) {
        self.goto("/login").await;
        self.type_into("#email", email).await;
        self.type_into("#password", TEST_PASSWORD).await;
        self.submit("form button[type=submit]").await;
        self.find("#maincontent h1").await;
        assert_eq!(self.path().await, "/", "signing in as {email} lands on the home page");
    }

    /// Presses keys on whatever has the focus (WebDriver key codes: `TAB`, `ENTER` ...).
    pub async fn press(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("a focused element")
            .send_keys(keys)
            .await
            .expect("press keys");
    }

    /// Tabs forward until the focus is on the element `matches` picks (a JavaScript
    /// expression over `e`, the focused element), as a keyboard user would.
    pub async fn tab_until(&self, matches: &str) {
        let check = format!("const e = document.activeElement; return !!(e && ({matches}));");
        for _ in 0..200 {
            if self.script(&check).await == Value::Bool(true) {
                return;
            }
            self.press(TAB).await;
        }
        panic!("tabbing never reached an element where {matches}");
    }

    pub async fn tab_to(&self, id: &str) {
        self.tab_until(&format!("e.id === {}", json!(id))).await;
    }

    pub async fn script(&self, source: &str) -> Value {
        self.client
            .execute(source, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("run a script: {e}"))
    }

    /// Resizes the window and waits until the page sees the new width: on a busy machine
    /// Chromium applies a resize a moment after answering the command.
    pub async fn set_width(&self, width: u32) {
        let mut inner = Value::Null;
        for attempt in 0..50 {
            if attempt % 10 == 0 {
                self.client
                    .set_window_size(width, DESKTOP.1)
                    .await
                    .expect("resize the window");
            }
            inner = self.script("return window.innerWidth;").await;
            if inner.as_u64() == Some(u64::from(width)) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the viewport should be {width} CSS pixels wide, but is {inner}");
    }

    /// The stylesheet and the NHS.UK frontend's script loaded under the CSP: the header is
    /// styled, and the header component was initialised by the module script.
    pub async fn assert_styled_and_scripted(&self, what: &str) {
        let state = self
            .script(
                "const h = document.querySelector('[data-module=\"nhsuk-header\"]');
                 return {
                   background: h ? getComputedStyle(h).backgroundColor : null,
                   supported: document.body.classList.contains('nhsuk-frontend-supported'),
                   initialised: h ? h.hasAttribute('data-nhsuk-header-init') : false,
                 };",
            )
            .await;
        assert_eq!(
            state["background"], "rgb(0, 94, 184)",
            "{what}: NHS blue header (CSS loaded): {state}"
        );
        assert_eq!(state["supported"], true, "{what}: js-enabled snippet ran: {state}");
        self.client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css("[data-nhsuk-header-init]"))
            .await
            .unwrap_or_else(|e| panic!("{what}: the NHS.UK frontend initialised the header: {e}"));
    }

    /// Runs axe-core on the page; fails on any serious or critical violation.
    pub async fn axe(&self, what: &str) {
        let installed = self.script("return typeof window.axe !== 'undefined';").await;
        if installed != Value::Bool(true) {
            self.script(&axe_source()).await;
        }
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done({
                     rules_passed: r.passes.length,
                     violations: r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
                     })),
                   }))
                   .catch(e => done({ rules_passed: 0, violations: [{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }] }));",
                Vec::new(),
            )
            .await
            .unwrap_or_else(|e| panic!("{what}: run axe: {e}"));
        assert!(
            violations["rules_passed"].as_u64().unwrap_or(0) > 10,
            "{what}: axe checked the page: {violations}"
        );
        let serious: Vec<&Value> = violations["violations"]
            .as_array()
            .expect("axe answers a list")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "{what}: axe found serious or critical violations: {}",
            serde_json::to_string_pretty(&serious).unwrap_or_default()
        );
    }

    /// The page at 320 CSS pixels: no horizontal scroll, and no serious axe violation.
    pub async fn reflows(&self, what: &str) {
        self.set_width(NARROW).await;
        let widths = self
            .script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
            .await;
        let (scroll, client) = (widths[0].as_u64().unwrap_or(0), widths[1].as_u64().unwrap_or(0));
        assert!(
            scroll <= client,
            "{what}: at {NARROW} px the page scrolls sideways ({scroll} > {client})"
        );
        self.axe(&format!("{what} at {NARROW} px")).await;
    }

    /// Checks a page the way every page is checked: styled and scripted under the CSP, no
    /// serious axe violation at desktop width and at 320 px, and a screenshot of each.
    pub async fn check_page(&self, name: &str) {
        self.set_width(DESKTOP.0).await;
        self.assert_styled_and_scripted(name).await;
        self.axe(name).await;
        self.screenshot(name).await;
        self.reflows(name).await;
        self.screenshot(&format!("{name}-320")).await;
        self.set_width(DESKTOP.0).await;
    }

    /// A screenshot of the whole page (see the module notes for where it goes).
    pub async fn screenshot(&self, name: &str) {
        // Full-page from the top: grow the window to the document's height for the shot.
        self.script("window.scrollTo(0, 0); return null;").await;
        let width = self.script("return window.innerWidth;").await.as_u64().unwrap_or(1280) as u32;
        // The window is taller than its viewport by the browser's own frame; and the page's
        // height can change once resized, so measure twice.
        for _ in 0..2 {
            let sizes = self
                .script(
                    "return [Math.ceil(document.documentElement.scrollHeight), window.outerHeight - window.innerHeight];",
                )
                .await;
            let height = sizes[0].as_u64().unwrap_or(u64::from(DESKTOP.1)) + sizes[1].as_u64().unwrap_or(0);
            let _ = self
                .client
                .set_window_size(width, (height as u32).clamp(600, 8000))
                .await;
        }
        let png = self.client.screenshot().await.expect("a screenshot");
        let _ = self.client.set_window_size(width, DESKTOP.1).await;
        for dir in screenshot_dirs(self.docs) {
            std::fs::create_dir_all(&dir).expect("a screenshot folder");
            std::fs::write(dir.join(format!("{name}.png")), &png).expect("write a screenshot");
        }
    }
}

fn screenshot_dirs(docs: bool) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("target/screenshots")];
    if docs && std::env::var_os("CLA_REGENERATE_DOCS").is_some() {
        dirs.push(root.join("docs/screenshots"));
    }
    dirs
}

fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (npm ci installs axe-core; the build runs it)", path.display()))
}
