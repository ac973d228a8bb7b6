//! Faults against the real `jifen` binary as a child process: the database stops, the
//! disk fills. jifen says "not now" (503, `Retry-After`) quickly and truthfully, `/readyz`
//! follows, and service comes back by itself when the fault clears.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestDb};

/// How long anything here may take to come about before the test gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until `ready` holds, checking every 100 ms.
fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < PATIENCE, "waited in vain for {what}");
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `jifen` binary serving `database_url`, killed when dropped.
pub struct Jifen {
    child: Option<Child>,
    pub base: String,
    env: Vec<(String, String)>,
    _data: tempfile::TempDir,
}

impl Jifen {
    /// Migrates, bootstraps the township admin and starts serving.
    pub fn start(database_url: &str, extra: &[(&str, &str)]) -> Jifen {
        let jifen = Jifen::configure(database_url, extra);
        let run = |args: &[&str]| {
            let status = Command::new(env!("CARGO_BIN_EXE_jifen"))
                .args(args)
                .envs(jifen.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdout(Stdio::null())
                .status()
                .expect("run jifen");
            assert!(status.success(), "jifen {args:?} failed");
        };
        run(&["migrate"]);
        run(&["bootstrap", "--username", "admin", "--password", PASSWORD]);
        jifen.serve()
    }

    /// Runs a command (`migrate`, `verify`) with this server's settings; its exit status.
    fn command(&self, args: &[&str]) -> std::process::ExitStatus {
        Command::new(env!("CARGO_BIN_EXE_jifen"))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .status()
            .expect("run jifen")
    }

    /// Another server on a database a first one prepared.
    pub fn join(database_url: &str) -> Jifen {
        Jifen::configure(database_url, &[]).serve()
    }

    /// The settings of a server on its own port and data directory (not started yet).
    fn configure(database_url: &str, extra: &[(&str, &str)]) -> Jifen {
        let data = tempfile::tempdir().expect("data dir");
        let port = free_port();
        let mut env: Vec<(String, String)> = [
            ("JIFEN_DATABASE_URL", database_url.to_owned()),
            ("JIFEN_BIND", format!("127.0.0.1:{port}")),
            ("JIFEN_DATA_DIR", data.path().display().to_string()),
            (
                "JIFEN_JWT_SECRET",
                "fault-secret-fault-secret-fault-secret".into(),
            ),
            (
                "JIFEN_PEPPER",
                "fault-pepper-fault-pepper-fault-pepper".into(),
            ),
            ("JIFEN_LOG", "error".into()),
            ("JIFEN_POSTING_INTERVAL_MS", "200".into()),
            ("JIFEN_TRUSTED_PROXIES", "1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Jifen {
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            env,
            _data: data,
        }
    }

    fn serve(mut self) -> Jifen {
        self.child = Some(spawn(&self.env));
        self.wait_healthy();
        self
    }

    /// `kill -9`.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// A new process on the same database and port.
    fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn(&self.env));
        self.wait_healthy();
    }

    fn wait_healthy(&self) {
        let client = client();
        eventually("jifen to answer /healthz", || {
            client
                .get(format!("{}/healthz", self.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The township admin's access token.
    pub fn admin_token(&self) -> String {
        let resp = client()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .expect("sign in");
        let body: Value = resp.json().expect("token json");
        body["access_token"].as_str().expect("token").to_owned()
    }

    pub fn readyz(&self) -> u16 {
        client()
            .get(self.url("/readyz"))
            .send()
            .map_or(0, |r| r.status().as_u16())
    }
}

fn spawn(env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_jifen"))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start jifen")
}

impl Drop for Jifen {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A client that gives up long before the pool's old 30-second wait would have ended.
pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// (status, Retry-After) of creating a village, a write that needs the database.
fn create_village(jifen: &Jifen, token: &str, code: &str) -> (u16, Option<String>) {
    let resp = client()
        .post(jifen.url("/api/v1/villages"))
        .bearer_auth(token)
        .json(&json!({"code": code, "name": "测试村"}))
        .send()
        .expect("an answer, not a timeout");
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    (resp.status().as_u16(), retry)
}

/// A PostgreSQL cluster of the test's own, on its own port, that the test may stop.
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    fn create() -> Result<OwnPostgres, String> {
        let bindir = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .map_err(|e| format!("pg_config: {e}"))?;
        let bin = PathBuf::from(String::from_utf8_lossy(&bindir.stdout).trim());
        if !bin.join("initdb").exists() {
            return Err(format!("no initdb in {}", bin.display()));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // initdb refuses root: the cluster is then the postgres user's.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            Command::new("chown")
                .args(["-R", "postgres", &dir.path().display().to_string()])
                .status()
                .map_err(|e| e.to_string())?;
        }
        let cluster = OwnPostgres {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.data();
        cluster.run("initdb", &["-D", &data, "-A", "trust", "-U", "jifen"])?;
        cluster.start()?;
        cluster.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &cluster.port.to_string(),
                "-U",
                "jifen",
                "jifen",
            ],
        )?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
    }

    /// Stops at once, as a crash or a pulled cable would.
    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        )
        .expect("stop PostgreSQL");
    }

    fn url(&self) -> String {
        format!("postgres://jifen@127.0.0.1:{}/jifen", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

#[test]
fn when_postgres_stops_jifen_says_not_now_quickly_and_recovers_by_itself() {
    if !TestDb::fresh().is_postgres() {
        eprintln!("skipped: the PostgreSQL outage runs in the PostgreSQL pass");
        return;
    }
    let pg = match OwnPostgres::create() {
        Ok(pg) => pg,
        Err(why) => {
            eprintln!("skipped: no PostgreSQL cluster of our own here ({why})");
            return;
        }
    };
    let jifen = Jifen::start(&pg.url(), &[("JIFEN_DB_ACQUIRE_TIMEOUT_MS", "1000")]);
    let token = jifen.admin_token();
    assert_eq!(create_village(&jifen, &token, "before").0, 201);
    assert_eq!(jifen.readyz(), 200);

    pg.stop();
    let started = Instant::now();
    let (status, retry) = create_village(&jifen, &token, "during");
    eprintln!(
        "answer during the outage: {status} after {:?}",
        started.elapsed()
    );
    assert_eq!((status, retry.as_deref()), (503, Some("5")));
    eventually("/readyz to say not ready", || jifen.readyz() == 503);
    // Every request during the outage is a 503, never a 500 (whatever was in flight).
    for i in 0..5 {
        assert_eq!(create_village(&jifen, &token, &format!("during{i}")).0, 503);
    }

    pg.start().expect("start PostgreSQL again");
    eventually("/readyz to say ready again", || jifen.readyz() == 200);
    eventually("writes to work again without a restart", || {
        create_village(&jifen, &token, "after").0 == 201
    });
}

/// A small tmpfs of the test's own, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left with one file; removing it gives the space back.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn when_the_sqlite_disk_is_full_jifen_says_not_now_and_recovers_when_space_returns() {
    if TestDb::fresh().is_postgres() {
        eprintln!("skipped: the full disk runs in the SQLite pass");
        return;
    }
    let disk = match SmallDisk::mount("8m") {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("skipped: cannot mount a small tmpfs here ({why})");
            return;
        }
    };
    let url = format!("sqlite://{}", disk.path().join("jifen.db").display());
    let jifen = Jifen::start(&url, &[]);
    let token = jifen.admin_token();
    assert_eq!(create_village(&jifen, &token, "before").0, 201);
    assert_eq!(jifen.readyz(), 200);

    let filler = disk.fill();
    // Writes grow the write-ahead log until it meets the full disk: from then on each is
    // a 503 with Retry-After, never a 500, and nothing acknowledged is lost.
    let mut acknowledged = vec!["before".to_owned()];
    let mut refused = 0;
    for i in 0..200 {
        let code = format!("full{i}");
        match create_village(&jifen, &token, &code) {
            (201, _) => acknowledged.push(code),
            (503, Some(retry)) => {
                assert_eq!(retry, "5");
                refused += 1;
                break;
            }
            other => panic!("a write on a full disk answered {other:?}"),
        }
    }
    assert_eq!(refused, 1, "the disk never filled");
    eventually("/readyz to say not ready", || jifen.readyz() == 503);

    std::fs::remove_file(filler).expect("free the space");
    eventually("/readyz to say ready again", || jifen.readyz() == 200);
    eventually("writes to work again", || {
        create_village(&jifen, &token, "after").0 == 201
    });
    let list = client()
        .get(jifen.url("/api/v1/villages?limit=500"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let codes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["code"].as_str())
        .collect();
    for code in &acknowledged {
        assert!(
            codes.contains(&code.as_str()),
            "{code} was acknowledged and lost"
        );
    }
}

/// A small blocking client for the child process: JSON in, (status, replayed, body) out.
struct Api {
    base: String,
    client: Client,
}

impl Api {
    fn of(jifen: &Jifen) -> Api {
        Api {
            base: jifen.base.clone(),
            client: client(),
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Result<(u16, bool, Value)> {
        let mut request = self
            .client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let resp = request.send()?;
        let status = resp.status().as_u16();
        let replayed = resp
            .headers()
            .get("idempotency-replayed")
            .is_some_and(|v| v == "true");
        let body = resp.json().unwrap_or(Value::Null);
        Ok((status, replayed, body))
    }

    /// A request that must succeed with `status`; its body.
    fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Value {
        let (got, _, answer) = self
            .send(
                method,
                path,
                token,
                Some(&format!("setup-{path}-{body}")),
                &body,
            )
            .expect("an answer");
        assert_eq!(got, status, "{method} {path}: {answer}");
        answer
    }

    fn sign_in(&self, username: &str) -> String {
        let body = self.expect(
            200,
            "POST",
            "/api/v1/auth/login",
            None,
            json!({"username": username, "password": PASSWORD}),
        );
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// As the township admin: village `qingle` with a committee member `committee` and a
    /// shop kept by `keeper`; their ids.
    fn village_with_shop(&self) -> (i64, i64) {
        let admin = self.sign_in("admin");
        let village = self.expect(
            201,
            "POST",
            "/api/v1/villages",
            Some(&admin),
            json!({"code": "qingle", "name": "庆乐村"}),
        )["id"]
            .as_i64()
            .unwrap();
        self.expect(201, "POST", "/api/v1/staff", Some(&admin), json!({"username": "committee", "password": PASSWORD, "name": "村委", "roles": [{"role": "committee", "scope_id": village}]}));
        let shop = self.expect(201, "POST", "/api/v1/shops", Some(&admin), json!({"name": "庆乐积分超市", "village_ids": [village], "keeper": {"username": "keeper", "password": PASSWORD, "name": "店主"}}))["id"]
            .as_i64()
            .unwrap();
        (village, shop)
    }
}

/// One request a client sent and was answered 201 for.
struct Acknowledged {
    path: String,
    key: String,
    body: Value,
    answer: Value,
}

#[test]
fn nothing_acknowledged_is_lost_when_jifen_is_killed_under_load() {
    let db = TestDb::fresh();
    let mut jifen = Jifen::start(db.url(), &[]);
    let api = Api::of(&jifen);
    let (village, shop) = api.village_with_shop();
    let committee = api.sign_in("committee");
    let keeper = api.sign_in("keeper");
    api.expect(
        200,
        "PATCH",
        &format!("/api/v1/villages/{village}"),
        Some(&committee),
        json!({"policy": {"notice_days": 0, "card_daily_cap": "1000000"}}),
    );
    let households: Vec<i64> = (0..4)
        .map(|i| {
            api.expect(
                201,
                "POST",
                &format!("/api/v1/villages/{village}/households"),
                Some(&committee),
                json!({"door_no": format!("{i}号"), "head_name": "村民"}),
            )["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let item = api.expect(201, "POST", &format!("/api/v1/villages/{village}/checklist"), Some(&committee), json!({"code": "A01", "category": "公益", "title": "打扫卫生", "points": "1", "period": "event", "cap_count": null, "proposers": ["committee"]}))["id"]
        .as_i64()
        .unwrap();
    api.expect(201, "POST", &format!("/api/v1/villages/{village}/awards"), Some(&committee), json!({"item_id": item, "household_ids": households, "quantity": 100, "occurred_on": "2026-11-27"}));
    let cards: Vec<String> = households
        .iter()
        .map(|h| {
            api.expect(
                201,
                "POST",
                &format!("/api/v1/households/{h}/cards"),
                Some(&committee),
                json!({"pin": "2580"}),
            )["card_token"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let rice = api.expect(201, "POST", &format!("/api/v1/shops/{shop}/goods"), Some(&keeper), json!({"name": "大米", "unit": "袋", "points_price": "1", "cost_yuan": "1.00", "stock": 100000}))["id"]
        .as_i64()
        .unwrap();

    // Eight clients: four award, four redeem by household card, until the server dies.
    let acknowledged = std::sync::Mutex::new(Vec::<Acknowledged>::new());
    let count = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for client_no in 0..8 {
            let (api, acknowledged, count) = (&api, &acknowledged, &count);
            let (committee, keeper, households, cards) = (&committee, &keeper, &households, &cards);
            scope.spawn(move || {
                for n in 0.. {
                    let key = format!("c{client_no}-{n}");
                    let (path, token, body) = if client_no < 4 {
                        (
                            format!("/api/v1/villages/{village}/awards"),
                            committee,
                            json!({"item_id": item, "household_ids": [households[client_no]], "occurred_on": "2026-11-27"}),
                        )
                    } else {
                        (
                            format!("/api/v1/shops/{shop}/redemptions"),
                            keeper,
                            json!({"card_token": cards[client_no - 4], "pin": "2580", "lines": [{"goods_id": rice, "quantity": 1}]}),
                        )
                    };
                    match api.send("POST", &path, Some(token), Some(&key), &body) {
                        Ok((201, _, answer)) => {
                            acknowledged.lock().unwrap().push(Acknowledged { path, key, body, answer });
                            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Ok((status, _, answer)) => panic!("{path} answered {status}: {answer}"),
                        // The server is gone: what was in flight is unknown, and not counted.
                        Err(_) => return,
                    }
                }
            });
        }
        eventually("many acknowledged requests", || {
            count.load(std::sync::atomic::Ordering::SeqCst) >= 120
        });
        jifen.kill();
    });
    jifen.restart();

    let api = Api::of(&jifen);
    let committee = api.sign_in("committee");
    let keeper = api.sign_in("keeper");
    let acknowledged = acknowledged.into_inner().unwrap();
    let mut transactions = Vec::new();
    for ack in &acknowledged {
        let token = if ack.path.contains("/awards") {
            &committee
        } else {
            &keeper
        };
        let (status, replayed, answer) = api
            .send("POST", &ack.path, Some(token), Some(&ack.key), &ack.body)
            .expect("an answer after the restart");
        assert_eq!(
            (status, replayed),
            (201, true),
            "{} {}: {answer}",
            ack.path,
            ack.key
        );
        assert_eq!(answer, ack.answer, "the replay is the stored answer");
        let id = if ack.path.contains("/awards") {
            ack.answer["claims"][0]["transaction_id"].as_i64()
        } else {
            ack.answer["transaction_id"].as_i64()
        };
        transactions.push(id.expect("a transaction"));
    }
    // Every acknowledged effect is in the ledger.
    let mut in_ledger = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let (_, _, page) = api
            .send(
                "GET",
                &format!("/api/v1/villages/{village}/ledger?limit=500{cursor}"),
                Some(&committee),
                None,
                &Value::Null,
            )
            .expect("the ledger");
        in_ledger.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["id"].as_i64()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    for id in &transactions {
        assert!(
            in_ledger.contains(id),
            "acknowledged transaction {id} is not in the ledger"
        );
    }
    let verify = Command::new(env!("CARGO_BIN_EXE_jifen"))
        .arg("verify")
        .envs(jifen.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("jifen verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    eprintln!(
        "{} acknowledged before kill -9, all replayed and in the ledger",
        acknowledged.len()
    );
}

/// A staff sign-in through `jifen` from `addr` behind the proxy: the status.
fn sign_in_from(jifen: &Jifen, addr: &str, password: &str) -> u16 {
    client()
        .post(jifen.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", addr)
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .map_or(0, |r| r.status().as_u16())
}

#[test]
fn sign_in_limits_hold_across_servers_and_restarts() {
    let db = TestDb::fresh();
    let mut first = Jifen::start(db.url(), &[]);
    let second = Jifen::join(db.url());
    // Five wrong passwords, alternating between the two servers.
    for i in 0..5 {
        let server = if i % 2 == 0 { &first } else { &second };
        assert_eq!(
            sign_in_from(server, "203.0.113.77", "wrong"),
            401,
            "try {i}"
        );
    }
    assert_eq!(sign_in_from(&first, "203.0.113.77", PASSWORD), 429);
    assert_eq!(sign_in_from(&second, "203.0.113.77", PASSWORD), 429);
    // A restart forgets nothing.
    first.restart();
    assert_eq!(sign_in_from(&first, "203.0.113.77", PASSWORD), 429);
    assert_eq!(
        sign_in_from(&first, "198.51.100.3", PASSWORD),
        200,
        "elsewhere"
    );
}

/// Runs `n` requests at once, `n / 2` through each server; the statuses.
fn through_both(
    servers: [&Api; 2],
    n: usize,
    request: impl Fn(&Api, usize) -> u16 + Sync,
) -> Vec<u16> {
    std::thread::scope(|scope| {
        let request = &request;
        let handles: Vec<_> = (0..n)
            .map(|i| scope.spawn(move || request(servers[i % 2], i)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn two_servers_on_one_postgres_keep_every_race_exact() {
    let db = TestDb::fresh();
    if !db.is_postgres() {
        eprintln!("skipped: two servers share a database in the PostgreSQL pass");
        return;
    }
    let first = Jifen::start(db.url(), &[]);
    let second = Jifen::join(db.url());
    let (a, b) = (Api::of(&first), Api::of(&second));
    let (village, shop) = a.village_with_shop();
    let committee = a.sign_in("committee");
    let keeper = a.sign_in("keeper");
    a.expect(
        200,
        "PATCH",
        &format!("/api/v1/villages/{village}"),
        Some(&committee),
        json!({"policy": {"notice_days": 0, "card_daily_cap": "100000"}}),
    );
    let household = a.expect(
        201,
        "POST",
        &format!("/api/v1/villages/{village}/households"),
        Some(&committee),
        json!({"door_no": "1号", "head_name": "张小明"}),
    )["id"]
        .as_i64()
        .unwrap();
    let item = a.expect(201, "POST", &format!("/api/v1/villages/{village}/checklist"), Some(&committee), json!({"code": "A01", "category": "公益", "title": "打扫", "points": "1", "period": "event", "cap_count": null, "proposers": ["committee"]}))["id"].as_i64().unwrap();
    a.expect(201, "POST", &format!("/api/v1/villages/{village}/awards"), Some(&committee), json!({"item_id": item, "household_ids": [household], "quantity": 100, "occurred_on": "2026-11-27"}));
    let card = a.expect(
        201,
        "POST",
        &format!("/api/v1/households/{household}/cards"),
        Some(&committee),
        json!({"pin": "2580"}),
    )["card_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rice = a.expect(201, "POST", &format!("/api/v1/shops/{shop}/goods"), Some(&keeper), json!({"name": "大米", "unit": "袋", "points_price": "30", "cost_yuan": "25.00", "stock": 1000}))["id"].as_i64().unwrap();

    // 30 redemptions of 30 points on 100 points, split across both: exactly 3.
    let redeemed = through_both([&a, &b], 30, |api, i| {
        api.send("POST", &format!("/api/v1/shops/{shop}/redemptions"), Some(&keeper), Some(&format!("r{i}")),
            &json!({"card_token": card, "pin": "2580", "lines": [{"goods_id": rice, "quantity": 1}]}))
            .map_or(0, |(status, _, _)| status)
    });
    assert_eq!(
        redeemed.iter().filter(|s| **s == 201).count(),
        3,
        "{redeemed:?}"
    );
    assert!(
        redeemed.iter().all(|s| [201, 422].contains(s)),
        "{redeemed:?}"
    );

    // One payment code through both at once: exactly one redemption.
    a.expect(201, "POST", &format!("/api/v1/villages/{village}/awards"), Some(&committee), json!({"item_id": item, "household_ids": [household], "quantity": 99, "occurred_on": "2026-11-27"}));
    let member = a
        .send(
            "GET",
            &format!("/api/v1/households/{household}/members"),
            Some(&committee),
            None,
            &Value::Null,
        )
        .unwrap()
        .2["items"][0]["id"]
        .as_i64()
        .unwrap();
    let invite = a.expect(
        201,
        "POST",
        &format!("/api/v1/households/{household}/invites"),
        Some(&committee),
        json!({"member_id": member}),
    );
    let villager = a.expect(
        200,
        "POST",
        "/api/v1/auth/invite",
        None,
        json!({"invite_code": invite["invite_code"]}),
    )["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = a.expect(
        201,
        "POST",
        &format!("/api/v1/households/{household}/payment-codes"),
        Some(&villager),
        json!({}),
    )["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let spent = through_both([&a, &b], 2, |api, i| {
        api.send(
            "POST",
            &format!("/api/v1/shops/{shop}/redemptions"),
            Some(&keeper),
            Some(&format!("code{i}")),
            &json!({"code": code, "lines": [{"goods_id": rice, "quantity": 1}]}),
        )
        .map_or(0, |(status, _, _)| status)
    });
    let mut sorted = spent.clone();
    sorted.sort();
    assert_eq!(sorted, [201, 409], "one code, two counters: {spent:?}");

    // A claim whose notice has run out is posted once, though both servers' jobs run.
    a.expect(
        200,
        "PATCH",
        &format!("/api/v1/villages/{village}"),
        Some(&committee),
        json!({"policy": {"notice_days": 1}}),
    );
    let claim = a.expect(
        201,
        "POST",
        &format!("/api/v1/villages/{village}/awards"),
        Some(&committee),
        json!({"item_id": item, "household_ids": [household], "occurred_on": "2026-11-27"}),
    )["claims"][0]["id"]
        .as_i64()
        .unwrap();
    let mut conn = db.connect();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE claims SET notice_ends_at = notice_ends_at - INTERVAL '2 days' WHERE id = {claim}")),
        &mut conn,
    )
    .unwrap();
    eventually("the due claim to be posted", || {
        a.send(
            "GET",
            &format!("/api/v1/claims/{claim}"),
            Some(&committee),
            None,
            &Value::Null,
        )
        .is_ok_and(|(_, _, c)| c["status"] == "posted")
    });
    let ledger = a
        .send(
            "GET",
            &format!("/api/v1/villages/{village}/ledger?limit=500"),
            Some(&committee),
            None,
            &Value::Null,
        )
        .unwrap()
        .2;
    let posted = a
        .send(
            "GET",
            &format!("/api/v1/claims/{claim}"),
            Some(&committee),
            None,
            &Value::Null,
        )
        .unwrap()
        .2;
    let transaction = posted["transaction_id"].as_i64().unwrap();
    assert_eq!(
        ledger["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["id"] == transaction)
            .count(),
        1
    );
    // Every award posting in the ledger belongs to a distinct claim: none twice.
    let award_count = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "award")
        .count();
    assert_eq!(
        award_count, 3,
        "two awards posted at once and the due claim once: {ledger}"
    );
}

/// A command exits cleanly every time: its pool opened a spare connection in the
/// background, and exiting while libpq was in the middle of it crashed the process
/// (SIGSEGV in 23 of 60 `jifen migrate` runs on PostgreSQL).
#[test]
fn commands_exit_cleanly_every_time() {
    let db = TestDb::fresh();
    let jifen = Jifen::configure(db.url(), &[]);
    for run in 0..40 {
        let status = jifen.command(&["migrate"]);
        assert!(status.success(), "jifen migrate, run {run}: {status}");
    }
}
