//! Staff passwords, hashed with argon2id.
//!
//! Each check needs about 19 MiB of working memory, so checks run on a few threads of
//! their own (as many as there are cores) that keep that memory from one check to the
//! next, never while holding a database connection; a sign-in that cannot get a worker
//! soon is told to try again (429). A burst of sign-ins cannot grow the process.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

use crate::error::{AppError, AppResult};

pub fn hash(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Checks a password against a stored hash. With no stored hash (unknown user) it still
/// does the same work, so response times do not reveal which usernames exist.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    verify_in(&mut Vec::new(), password, stored)
}

/// [`verify`] with argon2's working memory (about 19 MiB) in `memory`, which a worker
/// keeps from one check to the next instead of allocating it anew each time.
fn verify_in(memory: &mut Vec<Block>, password: &str, stored: Option<&str>) -> bool {
    let stored = stored.unwrap_or(DUMMY_HASH);
    let mut matches = || -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let hasher = Argon2::new(
            Algorithm::try_from(parsed.algorithm).ok()?,
            parsed
                .version
                .map_or(Some(Version::default()), |v| Version::try_from(v).ok())?,
            params.clone(),
        );
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        memory.resize(params.block_count(), Block::default());
        let computed = Output::init_with(expected.len(), |out| {
            hasher
                .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..])
                .map_err(|_| argon2::password_hash::Error::Password)
        })
        .ok()?;
        // `Output` compares in constant time.
        Some(computed == expected)
    };
    matches().unwrap_or(false) && stored != DUMMY_HASH
}

/// A password check waiting for a worker.
struct Job {
    password: String,
    stored: Option<String>,
    answer: tokio::sync::oneshot::Sender<bool>,
}

/// The threads that check passwords: a fixed few, alive for the whole process, so the
/// memory each check needs is reused rather than spread over ever new threads.
#[derive(Clone)]
pub struct PasswordWorkers {
    permits: Arc<tokio::sync::Semaphore>,
    jobs: std::sync::mpsc::SyncSender<Job>,
}

/// How long a sign-in waits for a worker before it is told to try again.
const QUEUE_WAIT: Duration = Duration::from_secs(3);

impl Default for PasswordWorkers {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(workers);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..workers {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(job) = job else { return };
                        let ok = verify_in(&mut memory, &job.password, job.stored.as_deref());
                        let _ = job.answer.send(ok);
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password worker");
            }
        }
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(workers)),
            jobs,
        }
    }
}

impl PasswordWorkers {
    /// [`verify`] on a worker, waiting briefly for one; a 429 when none frees up.
    pub async fn verify(&self, password: String, stored: Option<String>) -> AppResult<bool> {
        let busy = || AppError::RateLimited {
            retry_after_secs: QUEUE_WAIT.as_secs(),
        };
        let _permit = tokio::time::timeout(QUEUE_WAIT, self.permits.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(AppError::internal)?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job {
                password,
                stored,
                answer,
            })
            .map_err(AppError::internal)?;
        answered.await.map_err(AppError::internal)
    }
}

/// argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$hZ8u2/e8n+xXc6Y/xI7wWf2J9bYc9s0W2lSx4h7KfWw";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(&h)));
        assert!(!verify("wrong horse", Some(&h)));
        assert!(!verify("anything", None));
    }
}
