//! The command line: `serve` (default), `migrate`, `bootstrap`, `seed --demo`, `verify`,
//! `expire`, `statement-verify`, `backup`, `restore`, `openapi`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::{Db, backup, migrate};
use crate::error::AppError;
use crate::ledger::model::ChainMark;
use crate::{org, seed, server};

#[derive(Parser)]
#[command(
    name = "jifen",
    version,
    about = "jifen 积分: points, checklist and ledger for villages"
)]
struct Cli {
    /// Settings file (optional); JIFEN_* environment variables override it.
    #[arg(long, default_value = "jifen.toml", global = true)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (migrates first). The default.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create the township (if none) and a township administrator.
    Bootstrap {
        #[arg(long)]
        username: String,
        #[arg(long, env = "JIFEN_BOOTSTRAP_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "XX镇")]
        township: String,
        #[arg(long, default_value = "乡镇管理员")]
        name: String,
    },
    /// Load the demo township from seed-data/ into an empty database.
    Seed {
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Recompute every chain and balance from the postings; exit 0 if sound, 1 if not.
    Verify {
        /// Only this village (its code).
        #[arg(long)]
        village: Option<String>,
        /// A chain position noted earlier (a receipt, the notice board): `SEQ:HASH`. The
        /// chain must still hold it; may be given more than once; needs `--village`.
        #[arg(long, value_name = "SEQ:HASH", requires = "village")]
        expect: Vec<ChainMark>,
    },
    /// 清零 of one village: what is due now (with `--dry-run`, only say what it would do).
    Expire {
        /// The village's code.
        #[arg(long)]
        village: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Check a saved statement (积分证明) offline: its Ed25519 signature and its expiry;
    /// exit 0 only when it is valid and current.
    StatementVerify {
        /// The statement as saved: JSON with `document` and `signature` (what
        /// `GET /api/v1/statements/{id}` answers).
        file: PathBuf,
        /// The public key printed on the statement (base64), or from
        /// `/.well-known/jifen-statement-keys`; by default this server's own.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Copy the embedded database to a new file while the server serves (PostgreSQL:
    /// says to use pg_dump).
    Backup {
        /// The new file, e.g. /var/backups/jifen/jifen-2026-12-03.db.
        path: PathBuf,
    },
    /// Load a backup into an empty database, migrate it and verify every chain.
    Restore {
        /// A file made by `jifen backup`.
        path: PathBuf,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Exit 0 when the server at JIFEN_BIND answers /healthz (for container health checks).
    Healthcheck,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", crate::openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load(&cli.config) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("jifen: bad settings: {err}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&settings);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => run_migrate(&settings),
        Command::Bootstrap {
            username,
            password,
            township,
            name,
        } => run_bootstrap(&settings, &username, &password, &township, &name),
        Command::Seed { .. } => run_seed(&settings),
        Command::Healthcheck => healthcheck(&settings.bind),
        Command::Verify { village, expect } => run_verify(&settings, village.as_deref(), &expect),
        Command::Expire { village, dry_run } => run_expire(&settings, &village, dry_run),
        Command::StatementVerify { file, public_key } => {
            run_statement_verify(&settings, &file, public_key.as_deref())
        }
        Command::Backup { path } => run_backup(&settings, &path),
        Command::Restore { path } => run_restore(&settings, &path),
        Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("jifen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JIFEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open_migrated(settings: &Settings) -> Result<Db, String> {
    let db = Db::open_for_command(&settings.database_url, 2, settings.db_acquire_timeout())
        .map_err(|e| e.to_string())?;
    let mut conn = db.pool().get().map_err(|e| e.to_string())?;
    migrate::run_pending(&mut conn).map_err(|e| format!("migrations failed: {e}"))?;
    Ok(db)
}

fn run_backup(settings: &Settings, path: &std::path::Path) -> Result<(), String> {
    let bytes = backup::backup(&settings.database_url, path).map_err(|e| e.to_string())?;
    println!("backed up to {} ({bytes} bytes)", path.display());
    Ok(())
}

fn run_restore(settings: &Settings, path: &std::path::Path) -> Result<(), String> {
    backup::restore(&settings.database_url, path).map_err(|e| e.to_string())?;
    open_migrated(settings)?;
    println!("restored from {}; verifying", path.display());
    run_verify(settings, None, &[])
}

fn run_migrate(settings: &Settings) -> Result<(), String> {
    open_migrated(settings)?;
    println!("migrations applied");
    Ok(())
}

fn run_bootstrap(
    settings: &Settings,
    username: &str,
    password: &str,
    township: &str,
    name: &str,
) -> Result<(), String> {
    let db = open_migrated(settings)?;
    let mut conn = db.pool().get().map_err(|e| e.to_string())?;
    let id = org::bootstrap(
        &mut conn,
        township,
        username,
        password,
        name,
        SystemClock.now(),
    )
    .map_err(describe)?;
    println!("township administrator {username} created (id {id})");
    Ok(())
}

fn run_seed(settings: &Settings) -> Result<(), String> {
    let db = open_migrated(settings)?;
    let mut conn = db.pool().get().map_err(|e| e.to_string())?;
    if !org::township_is_empty(&mut conn).map_err(describe)? {
        return Err("the database is not empty; the demo is loaded only into an empty one".into());
    }
    let pepper = server::pepper(settings).map_err(|e| e.to_string())?;
    let credentials = seed::load_demo(
        &mut conn,
        &settings.data_dir,
        &settings.browse_url(),
        &pepper,
        SystemClock.now(),
    )
    .map_err(describe)?;
    print!("{}", credentials.announce(&settings.browse_url()));
    Ok(())
}

fn serve(settings: Settings) -> Result<(), String> {
    let state = server::prepare(settings, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    let settings = state.settings.clone();
    let first_run_demo = if settings.is_default_embedded_database() {
        let mut conn = state.db.pool().get().map_err(|e| e.to_string())?;
        if org::township_is_empty(&mut conn).map_err(describe)? {
            Some(
                seed::load_demo(
                    &mut conn,
                    &settings.data_dir,
                    &settings.browse_url(),
                    &state.auth.pepper,
                    state.clock.now(),
                )
                .map_err(describe)?,
            )
        } else {
            None
        }
    } else {
        None
    };
    actix_web::rt::System::new().block_on(async move {
        let (server, addrs) = server::start(state).map_err(|e| e.to_string())?;
        tracing::info!(addrs = ?addrs, "jifen listening");
        match &first_run_demo {
            Some(credentials) => print!("{}", credentials.announce(&settings.browse_url())),
            None => println!(
                "jifen 已启动 / listening on {} — API docs: {}/swagger-ui/",
                settings.bind,
                settings.browse_url()
            ),
        }
        server.await.map_err(|e| e.to_string())
    })
}

/// A connection to a database already migrated to this version (commands that read or
/// post never migrate behind the operator's back).
fn open_current(
    settings: &Settings,
) -> Result<diesel::r2d2::PooledConnection<crate::db::DbManager>, String> {
    let db = Db::open_for_command(&settings.database_url, 1, settings.db_acquire_timeout())
        .map_err(|e| e.to_string())?;
    let mut conn = db.pool().get().map_err(|e| e.to_string())?;
    if !migrate::is_current(&mut conn).map_err(|e| e.to_string())? {
        return Err(
            "the database is not migrated to this version; run `jifen migrate` first".into(),
        );
    }
    Ok(conn)
}

/// Verifies without changing anything: the database must already be migrated.
fn run_verify(settings: &Settings, only: Option<&str>, marks: &[ChainMark]) -> Result<(), String> {
    let mut conn = open_current(settings)?;
    let villages = org::service::all_villages(&mut conn).map_err(describe)?;
    let chosen: Vec<_> = villages
        .into_iter()
        .filter(|(_, code, _)| only.is_none_or(|o| o == code))
        .collect();
    if chosen.is_empty() {
        return Err(format!("no village {}", only.unwrap_or("in the database")));
    }
    let mut sound = true;
    for (id, code, name) in chosen {
        let report = crate::books::verify_village(&mut conn, id, marks).map_err(describe)?;
        let head = report.head.as_ref().map_or_else(
            || "genesis".to_owned(),
            |h| format!("seq {} {}", h.seq, h.hash),
        );
        let verdict = if report.ok { "sound" } else { "NOT SOUND" };
        println!(
            "{code} {name}: {} transactions, head {head}: {verdict}",
            report.transactions
        );
        for problem in &report.problems {
            println!("  - {problem}");
        }
        sound &= report.ok;
    }
    if sound {
        Ok(())
    } else {
        Err("the ledger does not verify".into())
    }
}

/// `jifen statement-verify FILE [--public-key KEY]`: no database, no network.
fn run_statement_verify(
    settings: &Settings,
    file: &std::path::Path,
    public_key: Option<&str>,
) -> Result<(), String> {
    use crate::statements::{service, signing};
    let key = match public_key {
        Some(text) => signing::parse_public_key(text)
            .ok_or("--public-key is not a base64 Ed25519 public key (32 bytes)")?,
        None => own_public_key(settings)?,
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let saved: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
    let (Some(document), Some(signature)) = (
        saved.get("document"),
        saved.get("signature").and_then(|s| s.as_str()),
    ) else {
        return Err(format!("{} has no document and signature", file.display()));
    };
    let described = |field: &str| {
        document.get(field).map_or_else(String::new, |v| {
            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
        })
    };
    println!(
        "statement {} of {} {} {}, issued {}, expires {}",
        described("statement_id"),
        document
            .pointer("/village/name")
            .and_then(|v| v.as_str())
            .unwrap_or("?"),
        described("door_no"),
        described("head_name"),
        described("issued_at"),
        described("expires_at"),
    );
    let keys = [key];
    let Some(found) = service::signed_by(&keys, document, signature) else {
        return Err("NOT VALID: the signature does not match this document and key".into());
    };
    let check = service::offline(found, document, SystemClock.now());
    if check.expired {
        return Err("the signature is valid, but the statement has EXPIRED".into());
    }
    println!("valid: signed by key {}", signing::key_id(found));
    Ok(())
}

/// This server's statement key, when it has one; never makes one.
fn own_public_key(settings: &Settings) -> Result<ed25519_dalek::VerifyingKey, String> {
    let file = settings
        .data_dir
        .join(crate::auth::secrets::SIGNING_KEY_FILE);
    if settings.signing_key.is_none() && !file.exists() {
        return Err("give --public-key: the key printed on the statement".into());
    }
    crate::auth::secrets::signing_key(
        settings.signing_key.as_deref(),
        &settings.data_dir,
        crate::auth::secrets::SIGNING_KEY_FILE,
    )
    .map(|key| key.verifying_key())
    .map_err(|e| e.to_string())
}

/// `jifen expire --village CODE [--dry-run]`: prints the policy, the next date and what
/// is due now; runs it unless `--dry-run`.
fn run_expire(settings: &Settings, code: &str, dry_run: bool) -> Result<(), String> {
    use crate::expiry::{model, service};
    let mut conn = open_current(settings)?;
    let (village_id, name) = org::service::village_summary_by_code(&mut conn, code)
        .map_err(describe)?
        .ok_or_else(|| format!("no village {code}"))?;
    let now = SystemClock.now();
    let (policy, due) = service::plan(&mut conn, village_id, now).map_err(describe)?;
    match model::next_at(policy.expiry, now) {
        Some(next) => println!("{code} {name}: next 清零 {}", model::day_label(next)),
        None => println!("{code} {name}: points never expire (policy.expiry is none)"),
    }
    if due.is_empty() {
        println!("nothing is due now");
        return Ok(());
    }
    let done = if dry_run {
        due
    } else {
        service::run_village(&mut conn, village_id, now).map_err(describe)?
    };
    let verb = if dry_run { "would expire" } else { "expired" };
    for e in done {
        println!(
            "{}: {verb} {} points of {} households",
            e.year,
            crate::amount::Amount::from_minor(e.points),
            e.households
        );
    }
    Ok(())
}

/// A bare HTTP/1.0 request, so the runtime image needs no curl.
fn healthcheck(bind: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let addr = bind.replace("0.0.0.0", "127.0.0.1");
    let timeout = std::time::Duration::from_secs(3);
    let socket = addr
        .parse::<std::net::SocketAddr>()
        .map_err(|e| format!("bad bind address {addr}: {e}"))?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&socket, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "unhealthy: {}",
            answer.lines().next().unwrap_or("no answer")
        ))
    }
}

fn describe(err: AppError) -> String {
    match err {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
