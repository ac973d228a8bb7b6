//! The test harness: a fresh database per test, the real server on a free port, a
//! clock the test moves, and a small blocking client.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{Duration, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use jifen::clock::ManualClock;
use jifen::config::Settings;
use jifen::db::{DbConnection, DbManager, DbTarget};
use jifen::server::{Background, prepare};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct-horse-42";

/// A database that exists for one test.
pub enum TestDb {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    pub fn fresh() -> TestDb {
        match std::env::var("JIFEN_TEST_PG_URL") {
            Ok(base) if !base.is_empty() => fresh_postgres(&base),
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("jifen.db").display());
                TestDb::Sqlite { url, _dir: dir }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    /// A connection of the test's own, beside the server's pool.
    pub fn connect(&self) -> DbConnection {
        DbManager::new(DbTarget::parse(self.url()).expect("url"))
            .connect()
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

fn with_database(base: &str, name: &str) -> String {
    let (prefix, rest) = base
        .rsplit_once('/')
        .expect("JIFEN_TEST_PG_URL names a database");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{name}{query}")
}

/// Migrates a template database once per test process; each test copies it.
fn template(base: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("jifen_tmpl_{}", std::process::id());
        let mut admin = PgConnection::establish(base).expect("connect to JIFEN_TEST_PG_URL");
        let stale: Vec<String> = diesel::sql_query(
            "SELECT datname AS name FROM pg_database WHERE datname LIKE 'jifen_tmpl_%' OR datname LIKE 'jifen_t_%'",
        )
        .load::<DbName>(&mut admin)
        .expect("list databases")
        .into_iter()
        .map(|d| d.name)
        .collect();
        for db in stale {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut admin);
        }
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create template");
        let url = with_database(base, &name);
        let mut conn = DbManager::new(DbTarget::parse(&url).expect("url"))
            .connect()
            .expect("connect to template");
        jifen::db::migrate::run_pending(&mut conn).expect("migrate template");
        name
    })
}

#[derive(diesel::QueryableByName)]
struct DbName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

fn fresh_postgres(base: &str) -> TestDb {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    static CREATE: Mutex<()> = Mutex::new(());
    let template = template(base);
    let name = format!(
        "jifen_t_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let _one_at_a_time = CREATE.lock().unwrap_or_else(|p| p.into_inner());
    let mut admin = PgConnection::establish(base).expect("connect to JIFEN_TEST_PG_URL");
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut admin)
        .expect("create test database");
    TestDb::Postgres {
        url: with_database(base, &name),
        admin_url: base.to_owned(),
        name,
    }
}

/// The answer to one request.
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body as sent (a file, say).
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field`s of a problem's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
    }
}

pub struct TestApp {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
    /// The server's own pool (its statement recorder, say).
    pub server_db: jifen::db::Db,
    data_dir: tempfile::TempDir,
    client: Client,
    server: Option<Background>,
}

impl TestApp {
    pub fn start() -> TestApp {
        Self::start_with(|_| {})
    }

    /// A server whose settings `adjust` changes first (WeChat addresses, say).
    pub fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::fresh();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap(),
        ));
        let (server, server_db) = serve(&db, data_dir.path(), &clock, adjust);
        TestApp {
            base: format!("http://{}", server.addr),
            clock,
            db,
            server_db,
            data_dir,
            client: Client::builder().build().expect("client"),
            server: Some(server),
        }
    }

    /// Stops the server and starts a new one on the same database, data and clock, as
    /// a restart would; `adjust` changes its settings first.
    pub fn restart_with(&mut self, adjust: impl FnOnce(&mut Settings)) {
        self.server.take();
        let (server, server_db) = serve(&self.db, self.data_dir.path(), &self.clock, adjust);
        self.base = format!("http://{}", server.addr);
        self.server_db = server_db;
        self.server = Some(server);
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    fn send(&self, request: RequestBuilder, token: Option<&str>) -> Resp {
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let response = request.send().expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().map(|b| b.to_vec()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            headers,
            text,
            bytes,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.client.get(self.url(path)), token)
    }

    /// A GET as a browser asks, for the page rather than the JSON.
    pub fn get_page(&self, path: &str, token: Option<&str>) -> Resp {
        let request = self
            .client
            .get(self.url(path))
            .header("Accept", "text/html");
        self.send(request, token)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(self.client.post(self.url(path)).json(&body), token)
    }

    /// A POST with extra headers (a proxy's `X-Forwarded-For`, say).
    pub fn post_with_headers(&self, path: &str, headers: &[(&str, &str)], body: Value) -> Resp {
        let mut request = self.client.post(self.url(path)).json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request, None)
    }

    pub fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: &'static [u8],
        content_type: &str,
    ) -> Resp {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        self.send(request, token)
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(self.client.patch(self.url(path)).json(&body), token)
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.client.delete(self.url(path)), token)
    }

    pub fn post_with_key(&self, path: &str, token: &str, key: &str, body: Value) -> Resp {
        let request = self
            .client
            .post(self.url(path))
            .header("Idempotency-Key", key)
            .json(&body);
        self.send(request, Some(token))
    }

    /// A request with any method and no body (TRACE, OPTIONS, ...).
    pub fn send_method(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> Resp {
        self.send(self.client.request(method, self.url(path)), token)
    }

    pub fn send_put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send(self.client.put(self.url(path)).json(&body), Some(token))
    }

    pub fn send_patch_raw(
        &self,
        path: &str,
        token: &str,
        body: &'static [u8],
        content_type: &str,
    ) -> Resp {
        let request = self
            .client
            .patch(self.url(path))
            .header("content-type", content_type)
            .body(body);
        self.send(request, Some(token))
    }

    pub fn upload(&self, path: &str, token: Option<&str>, file_name: &str, bytes: Vec<u8>) -> Resp {
        let part = reqwest::blocking::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
        let form = reqwest::blocking::multipart::Form::new().part("file", part);
        self.send(self.client.post(self.url(path)).multipart(form), token)
    }

    pub fn login(&self, username: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
    }

    /// Signs in and returns the access token.
    pub fn token(&self, username: &str) -> String {
        let resp = self.login(username, PASSWORD);
        assert_eq!(resp.status, 200, "sign-in of {username}: {}", resp.text);
        resp.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Creates the township and its administrator directly, as `jifen bootstrap` does.
    pub fn bootstrap(&self) -> String {
        let mut conn = self.db.connect();
        jifen::org::bootstrap(
            &mut conn,
            "XX镇",
            "admin",
            PASSWORD,
            "周海涛",
            self.clock_now(),
        )
        .expect("bootstrap");
        self.token("admin")
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use jifen::clock::Clock;
        self.clock.now()
    }
}

/// The real server on a free port over `db`, with the test's clock.
fn serve(
    db: &TestDb,
    data_dir: &std::path::Path,
    clock: &Arc<ManualClock>,
    adjust: impl FnOnce(&mut Settings),
) -> (Background, jifen::db::Db) {
    let mut settings = Settings {
        database_url: db.url().to_owned(),
        bind: "127.0.0.1:0".into(),
        data_dir: data_dir.to_owned(),
        jwt_secret: Some("test-secret-test-secret-test-secret".into()),
        pepper: Some("test-pepper-test-pepper-test-pepper".into()),
        pool_size: 4,
        posting_interval_ms: 50,
        ..Settings::default()
    };
    adjust(&mut settings);
    let state = prepare(settings, clock.clone()).expect("prepare server");
    let server_db = state.db.clone();
    let server = Background::spawn(state).expect("start server");
    (server, server_db)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server (and its pool) before the database goes.
        self.server.take();
    }
}

/// Two villages with a committee, a supervisor and a group leader each, and some
/// households; every account's password is [`PASSWORD`].
pub struct World {
    pub admin: String,
    pub qingle: i64,
    pub liangui: i64,
    pub qingle_group1: i64,
    pub qingle_group2: i64,
    pub committee: String,
    pub supervisor: String,
    pub leader: String,
    pub other_committee: String,
    /// Households of qingle: [group 1, group 1, group 2].
    pub households: Vec<i64>,
    pub liangui_household: i64,
}

impl TestApp {
    pub fn create_staff(&self, admin: &str, username: &str, role: &str, scope_id: i64) -> Resp {
        let resp = self.post(
            "/api/v1/staff",
            Some(admin),
            json!({"username": username, "password": PASSWORD, "name": "测试员", "roles": [{"role": role, "scope_id": scope_id}]}),
        );
        assert_eq!(resp.status, 201, "create staff {username}: {}", resp.text);
        resp
    }

    pub fn create_household(
        &self,
        token: &str,
        village: i64,
        door: &str,
        head: &str,
        group: Option<i64>,
    ) -> i64 {
        let resp = self.post(
            &format!("/api/v1/villages/{village}/households"),
            Some(token),
            json!({"door_no": door, "head_name": head, "group_id": group, "phone": "13800138000"}),
        );
        assert_eq!(resp.status, 201, "create household: {}", resp.text);
        resp.id()
    }

    pub fn world(&self) -> World {
        let admin = self.bootstrap();
        let village = |code: &str, name: &str| {
            let resp = self.post(
                "/api/v1/villages",
                Some(&admin),
                json!({"code": code, "name": name}),
            );
            assert_eq!(resp.status, 201, "create village: {}", resp.text);
            resp.id()
        };
        let qingle = village("qingle", "庆乐村");
        let liangui = village("liangui", "联桂村");
        self.create_staff(&admin, "qingle-committee", "committee", qingle);
        self.create_staff(&admin, "qingle-supervisor", "supervisor", qingle);
        self.create_staff(&admin, "liangui-committee", "committee", liangui);
        let committee = self.token("qingle-committee");
        let group = |name: &str| {
            let resp = self.post(
                &format!("/api/v1/villages/{qingle}/groups"),
                Some(&committee),
                json!({"name": name}),
            );
            assert_eq!(resp.status, 201, "create group: {}", resp.text);
            resp.id()
        };
        let qingle_group1 = group("第一村民小组");
        let qingle_group2 = group("第二村民小组");
        self.create_staff(&admin, "qingle-leader", "group_leader", qingle_group1);
        let households = vec![
            self.create_household(&committee, qingle, "1号", "张小明", Some(qingle_group1)),
            self.create_household(&committee, qingle, "2号", "王德福", Some(qingle_group1)),
            self.create_household(&committee, qingle, "8号", "黄炳坤", Some(qingle_group2)),
        ];
        let other_committee = self.token("liangui-committee");
        let liangui_household =
            self.create_household(&other_committee, liangui, "上屋1号", "谭伟雄", None);
        World {
            supervisor: self.token("qingle-supervisor"),
            leader: self.token("qingle-leader"),
            admin,
            qingle,
            liangui,
            qingle_group1,
            qingle_group2,
            committee,
            other_committee,
            households,
            liangui_household,
        }
    }

    /// An invite code for the head of `household`.
    /// Makes qingle post awards at once (no notice) and adds an uncapped committee item
    /// worth `points`, for tests that need ledger writes; answers the item's id.
    pub fn instant_award_item(&self, w: &World, points: &str) -> i64 {
        let policy = self.patch(
            &format!("/api/v1/villages/{}", w.qingle),
            Some(&w.committee),
            json!({"policy": {"notice_days": 0}}),
        );
        assert_eq!(policy.status, 200, "{}", policy.text);
        let item = self.post(
            &format!("/api/v1/villages/{}/checklist", w.qingle),
            Some(&w.committee),
            json!({"code": "I01", "category": "公益参与", "title": "参加义务劳动", "points": points,
                   "period": "event", "cap_count": null, "proposers": ["committee"]}),
        );
        assert_eq!(item.status, 201, "{}", item.text);
        item.id()
    }

    pub fn invite(&self, committee: &str, household: i64) -> String {
        let members = self.get(
            &format!("/api/v1/households/{household}/members"),
            Some(committee),
        );
        let member = members.body["items"][0]["id"]
            .as_i64()
            .expect("head member");
        let resp = self.post(
            &format!("/api/v1/households/{household}/invites"),
            Some(committee),
            json!({"member_id": member}),
        );
        assert_eq!(resp.status, 201, "invite: {}", resp.text);
        resp.body["invite_code"].as_str().expect("code").to_owned()
    }

    /// Signs a villager in for `household`; returns the access token.
    pub fn villager(&self, committee: &str, household: i64) -> String {
        let code = self.invite(committee, household);
        let resp = self.post("/api/v1/auth/invite", None, json!({"invite_code": code}));
        assert_eq!(resp.status, 200, "invite sign-in: {}", resp.text);
        resp.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }
}

/// Every `.rs` file under `dir`, at any depth.
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .expect("a readable folder")
                    .map(|e| e.expect("an entry").path()),
            );
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
