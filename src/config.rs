//! Settings: defaults < `jifen.toml` < `JIFEN_*` environment variables.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// Address the server listens on.
    pub bind: String,
    /// Where generated secrets and demo credentials are kept.
    pub data_dir: PathBuf,
    /// HS256 secret for access tokens; generated once into `data_dir` when unset.
    pub jwt_secret: Option<String>,
    /// Key for hashing short secrets (invite codes, PINs); generated into `data_dir` when unset.
    pub pepper: Option<String>,
    /// Secret from which the Ed25519 key that signs household statements is derived
    /// (SHA-256); generated into `data_dir` when unset. Servers sharing one database must
    /// share it, so that each one's statements verify at the others.
    pub signing_key: Option<String>,
    /// How often the server posts claims whose public notice has ended (milliseconds).
    pub posting_interval_ms: u64,
    /// Connections in the database pool.
    pub pool_size: u32,
    /// How long a request waits for a database connection before it is told 503 (ms).
    pub db_acquire_timeout_ms: u64,
    /// How long a SQLite write waits for another process's write, e.g. a command run
    /// beside the server (ms); the server's own writers take turns without it.
    pub sqlite_busy_timeout_ms: u64,
    /// How many proxies of the operator's stand in front: the client address is taken that
    /// many hops from the right of `X-Forwarded-For`; 0 uses the socket's address.
    pub trusted_proxies: u32,
    /// Earlier name of `trusted_proxies = 1`, still understood.
    pub trust_proxy: bool,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Address shown to people in printed hints, e.g. `http://127.0.0.1:8080`.
    pub public_url: Option<String>,
    pub wechat_appid: Option<String>,
    pub wechat_secret: Option<String>,
    pub wechat_open_base: String,
    pub wechat_api_base: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/jifen.db".into(),
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            jwt_secret: None,
            pepper: None,
            signing_key: None,
            pool_size: 8,
            db_acquire_timeout_ms: 3_000,
            sqlite_busy_timeout_ms: 30_000,
            posting_interval_ms: 30_000,
            trusted_proxies: 0,
            trust_proxy: false,
            log_format: "text".into(),
            public_url: None,
            wechat_appid: None,
            wechat_secret: None,
            wechat_open_base: "https://open.weixin.qq.com".into(),
            wechat_api_base: "https://api.weixin.qq.com".into(),
        }
    }
}

impl Settings {
    /// Loads settings from `file` (if it exists) and the environment.
    pub fn load(file: &Path) -> Result<Self, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("JIFEN_").ignore(&["test_pg_url"]))
            .extract()
            .map_err(Box::new)
    }

    pub fn db_acquire_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.db_acquire_timeout_ms.max(100))
    }

    pub fn sqlite_busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.sqlite_busy_timeout_ms)
    }

    /// Proxies in front whose `X-Forwarded-For` entries count.
    pub fn proxy_hops(&self) -> usize {
        match (self.trusted_proxies, self.trust_proxy) {
            (0, true) => 1,
            (n, _) => n as usize,
        }
    }

    pub fn is_default_embedded_database(&self) -> bool {
        self.database_url.starts_with("sqlite://")
    }

    /// The address people should open in a browser.
    pub fn browse_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| {
            let bind = self.bind.replace("0.0.0.0", "127.0.0.1");
            format!("http://{bind}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail dictates the closure's error type
    fn environment_overrides_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("jifen.toml", "bind = \"0.0.0.0:9000\"\npool_size = 3\n")?;
            jail.set_env("JIFEN_POOL_SIZE", "5");
            let settings = Settings::load(Path::new("jifen.toml")).map_err(|e| e.to_string())?;
            assert_eq!(settings.bind, "0.0.0.0:9000");
            assert_eq!(settings.pool_size, 5);
            assert_eq!(settings.database_url, "sqlite://data/jifen.db");
            Ok(())
        });
    }
}
