//! A small DevTools-protocol client for headless Chromium: enough to open pages in separate
//! browser contexts (each its own cookie jar), type like a scanner gun, click like a finger,
//! read the page and take screenshots. Chromium comes from Debian (`apt-get install -y
//! chromium fonts-noto-cjk`); `JIFEN_CHROMIUM` names another binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 10; V2001A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230202 MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";

/// How long a page may take to reach a state before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// The response headers of each tab's latest document, from Network events.
    documents: HashMap<String, Value>,
    _profile: tempfile::TempDir,
}

/// One page in its own browser context.
pub struct Tab {
    session: String,
    width: u32,
    height: u32,
}

fn chromium() -> String {
    std::env::var("JIFEN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Set (by `.ci/run`) to make a missing Chromium fail the browser tests instead of
/// skipping them.
const REQUIRED: &str = "JIFEN_REQUIRE_BROWSER";

/// Says once, past the test harness's capture, that the browser tests are skipped.
fn skip_notice(why: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "browser tests skipped: {} {why}; install it with `apt-get install -y chromium fonts-noto-cjk`",
            chromium()
        );
    });
}

impl Browser {
    /// Headless Chromium, or `None` (the test skips) where it is not installed and
    /// `JIFEN_REQUIRE_BROWSER` is not set.
    pub fn launch() -> Option<Browser> {
        let profile = tempfile::tempdir().expect("profile dir");
        let spawned = Command::new(chromium())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && std::env::var_os(REQUIRED).is_none() =>
            {
                skip_notice("is not installed");
                return None;
            }
            Err(e) => panic!(
                "cannot start {} ({e}); install it with `apt-get install -y chromium fonts-noto-cjk`",
                chromium()
            ),
        };
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("chromium exited before listening")
                .expect("read chromium output");
            if let Some(rest) = line.split("DevTools listening on ").nth(1) {
                break rest.trim().to_owned();
            }
        };
        // Keep draining so Chromium never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let (ws, _) = tungstenite::connect(url).expect("connect to DevTools");
        Some(Browser {
            child,
            ws,
            next_id: 0,
            documents: HashMap::new(),
            _profile: profile,
        })
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.try_send(session, method, params)
            .unwrap_or_else(|err| panic!("{method} failed: {err}"))
    }

    fn try_send(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .expect("send to DevTools");
        loop {
            let reply = self.ws.read().expect("read from DevTools");
            let Message::Text(text) = reply else { continue };
            let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
            if value["method"] == "Network.responseReceived"
                && value["params"]["type"] == "Document"
                && let Some(s) = value["sessionId"].as_str()
            {
                self.documents
                    .insert(s.to_owned(), value["params"]["response"]["headers"].clone());
            }
            if value["id"] == json!(id) {
                return match value.get("error") {
                    Some(err) => Err(err.clone()),
                    None => Ok(value["result"].clone()),
                };
            }
        }
    }

    /// A new tab in a fresh context: its own cookies, the given size and user agent.
    pub fn tab(&mut self, width: u32, height: u32, mobile: bool, user_agent: &str) -> Tab {
        let context =
            self.send(None, "Target.createBrowserContext", json!({}))["browserContextId"].clone();
        let target = self.send(
            None,
            "Target.createTarget",
            json!({"url": "about:blank", "browserContextId": context}),
        )["targetId"]
            .clone();
        let session = self.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )["sessionId"]
            .as_str()
            .expect("session id")
            .to_owned();
        let tab = Tab {
            session,
            width,
            height,
        };
        self.call(&tab, "Page.enable", json!({}));
        self.call(&tab, "Network.enable", json!({}));
        // Whatever the pages' Content-Security-Policy blocks is noted, and every screenshot
        // checks that nothing was: a blocked script is a broken page.
        self.call(
            &tab,
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"}),
        );
        self.call(
            &tab,
            "Emulation.setFocusEmulationEnabled",
            json!({"enabled": true}),
        );
        self.call(
            &tab,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 2, "mobile": mobile}),
        );
        self.call(
            &tab,
            "Emulation.setUserAgentOverride",
            json!({"userAgent": user_agent, "acceptLanguage": "zh-CN"}),
        );
        tab
    }

    pub fn call(&mut self, tab: &Tab, method: &str, params: Value) -> Value {
        let session = tab.session.clone();
        self.send(Some(&session), method, params)
    }

    /// Evaluates an expression in the page and returns its value.
    pub fn eval(&mut self, tab: &Tab, expression: &str) -> Value {
        let result = self.call(
            tab,
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw {exception}");
        }
        result["result"]["value"].clone()
    }

    /// A response header of the page now shown.
    pub fn document_header(&self, tab: &Tab, name: &str) -> Option<String> {
        let headers = self.documents.get(&tab.session)?.as_object()?;
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    }

    /// Waits until `condition` (a JS expression) is true in the page.
    pub fn wait_for(&mut self, tab: &Tab, condition: &str) {
        let started = Instant::now();
        loop {
            // While a page is being replaced, evaluating may fail; that is "not yet".
            let ready = self.try_send(
                Some(&tab.session.clone()),
                "Runtime.evaluate",
                json!({"expression": format!("!!({condition})"), "returnByValue": true}),
            );
            if ready.is_ok_and(|r| r["result"]["value"] == json!(true)) {
                return;
            }
            if started.elapsed() > PATIENCE {
                let body = self.eval(tab, "document.body ? document.body.innerText : ''");
                panic!("waited in vain for {condition}; the page says: {body}");
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }

    /// Opens `url` and waits for the page (after any redirects) to finish loading.
    pub fn open(&mut self, tab: &Tab, url: &str) {
        self.eval(tab, "window.__left = true");
        self.call(tab, "Page.navigate", json!({"url": url}));
        self.wait_for(tab, "!window.__left && document.readyState === 'complete'");
    }

    /// Waits for a navigation the page starts by itself (a form post, a reload).
    pub fn after_navigation(&mut self, tab: &Tab, act: impl FnOnce(&mut Browser)) {
        self.eval(tab, "window.__left = true");
        act(self);
        self.wait_for(tab, "!window.__left && document.readyState === 'complete'");
    }

    /// Types text into whatever has the focus, one key at a time, as a scanner gun does.
    pub fn type_keys(&mut self, tab: &Tab, text: &str) {
        for ch in text.chars() {
            let s = ch.to_string();
            self.call(
                tab,
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "text": s, "key": s}),
            );
            self.call(
                tab,
                "Input.dispatchKeyEvent",
                json!({"type": "keyUp", "key": s}),
            );
        }
    }

    pub fn press_enter(&mut self, tab: &Tab) {
        let enter = json!({"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13});
        let mut down = enter.clone();
        down["type"] = json!("keyDown");
        down["text"] = json!("\r");
        let mut up = enter;
        up["type"] = json!("keyUp");
        self.call(tab, "Input.dispatchKeyEvent", down);
        self.call(tab, "Input.dispatchKeyEvent", up);
    }

    /// Taps the first element matching `selector`: once it is in view with nothing on top
    /// of its middle (where a finger lands), it is clicked in the same instant, so a layout
    /// that moves under load cannot make the tap miss.
    pub fn tap(&mut self, tab: &Tab, selector: &str) {
        let sel = serde_json::to_string(selector).expect("selector");
        self.wait_for(
            tab,
            &format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); if (!hit || !(hit === e || e.contains(hit))) return false; if (e.focus) e.focus(); e.click(); return true; }})()"
            ),
        );
    }

    pub fn text(&mut self, tab: &Tab, selector: &str) -> String {
        let sel = serde_json::to_string(selector).expect("selector");
        self.eval(tab, &format!("document.querySelector({sel}).innerText"))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Writes a full-page screenshot to `target/screenshots/<name>.png` for people to review;
    /// a phone page also as the smallest phones show it with WeChat's larger text
    /// (`<name>-320px-150.png`: 320 px wide, text at 150 %).
    pub fn screenshot(&mut self, tab: &Tab, name: &str) -> PathBuf {
        let blocked = self.eval(tab, "JSON.stringify(window.__csp || [])");
        assert_eq!(
            blocked,
            json!("[]"),
            "{name}: the page's policy blocked something"
        );
        let path = self.capture(tab, name, tab.width);
        if tab.width < 600 {
            self.resize(tab, 320);
            self.eval(tab, "document.documentElement.style.fontSize = '150%'");
            let narrow = format!("{name}-320px-150");
            let path = self.capture(tab, &narrow, 320);
            let width = self.eval(tab, "document.documentElement.scrollWidth");
            assert!(
                width.as_f64().is_some_and(|w| w <= 321.0),
                "{name}: {width} px wide on a 320 px phone with text at 150 %, see {path:?}"
            );
            self.eval(tab, "document.documentElement.style.fontSize = ''");
            self.resize(tab, tab.width);
        }
        path
    }

    fn resize(&mut self, tab: &Tab, width: u32) {
        self.call(
            tab,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": tab.height, "deviceScaleFactor": 2, "mobile": true}),
        );
        // Larger text may have zoomed the page out; each size starts unzoomed.
        self.call(
            tab,
            "Emulation.setPageScaleFactor",
            json!({"pageScaleFactor": 1}),
        );
        self.wait_for(tab, &format!("innerWidth === {width}"));
    }

    fn capture(&mut self, tab: &Tab, name: &str, width: u32) -> PathBuf {
        let shot = self.call(
            tab,
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("png data"))
            .expect("base64 png");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        // A full-page capture resizes the page for a moment; taps must wait for the real size.
        self.wait_for(
            tab,
            &format!("innerWidth === {width} && innerHeight === {}", tab.height),
        );
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
