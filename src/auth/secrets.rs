//! Server secrets: taken from settings, or generated once and kept in the data directory.

use std::fs;
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{name} must be at least 32 characters")]
    TooShort { name: &'static str },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} does not hold a hex-encoded secret")]
    Malformed { path: String },
}

/// The configured secret, or the one stored in `data_dir/file`, created on first use.
pub fn load_or_create(
    configured: Option<&str>,
    name: &'static str,
    data_dir: &Path,
    file: &str,
) -> Result<Vec<u8>, SecretError> {
    if let Some(value) = configured {
        if value.len() < 32 {
            return Err(SecretError::TooShort { name });
        }
        return Ok(value.as_bytes().to_vec());
    }
    let path = data_dir.join(file);
    let io = |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    match fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).map_err(|_| SecretError::Malformed {
            path: path.display().to_string(),
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(data_dir).map_err(io)?;
            let mut secret = vec![0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            write_private(&path, hex::encode(&secret).as_bytes()).map_err(io)?;
            Ok(secret)
        }
        Err(err) => Err(io(err)),
    }
}

/// Where a generated statement-signing secret is kept in the data directory.
pub const SIGNING_KEY_FILE: &str = "statement-signing.key";

/// The Ed25519 key that signs household statements: derived from the configured secret
/// (so every server given it signs alike), or from one generated into `data_dir/file`.
pub fn signing_key(
    configured: Option<&str>,
    data_dir: &Path,
    file: &str,
) -> Result<ed25519_dalek::SigningKey, SecretError> {
    let secret = load_or_create(configured, "signing_key", data_dir, file)?;
    Ok(ed25519_dalek::SigningKey::from_bytes(
        &Sha256::digest(&secret).into(),
    ))
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

/// SHA-256 hex digest, for high-entropy secrets (refresh tokens).
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// HMAC-SHA256 with the server's pepper, for short secrets (invite codes, PINs) that a
/// stolen database alone must not reveal.
#[derive(Clone)]
pub struct Pepper(Vec<u8>);

impl Pepper {
    pub fn new(secret: Vec<u8>) -> Self {
        Self(secret)
    }

    pub fn hash(&self, value: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// `n` random decimal digits from the OS CSPRNG.
pub fn random_digits(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A random URL-safe token with 256 bits of entropy.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(None, "jwt_secret", dir.path(), "jwt.key").unwrap();
        let second = load_or_create(None, "jwt_secret", dir.path(), "jwt.key").unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
    }

    #[test]
    fn short_configured_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_or_create(Some("short"), "jwt_secret", dir.path(), "x").is_err());
    }

    #[test]
    fn digits_are_digits() {
        let d = random_digits(10);
        assert_eq!(d.len(), 10);
        assert!(d.chars().all(|c| c.is_ascii_digit()));
    }
}
