//! Guessing passwords is slow and bounded: a sign-in with a password costs the same argon2
//! verification whether the user exists or not, and failed sign-ins are counted per user and
//! per client address within a window; past the limit, further attempts are refused with 429
//! and `Retry-After` before any password is checked. Counts live in this process (each
//! instance counts its own), bounded in size.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_core::{Error, Result};

/// How many failed sign-ins are allowed (`[auth]`).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Failed sign-ins of one user within `window`.
    pub per_user: u32,
    /// Failed sign-ins from one client address within `window`.
    pub per_address: u32,
    /// The window, and how long a locked user or address waits.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_user: 10,
            per_address: 50,
            window: Duration::from_mins(15),
        }
    }
}

/// Who failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

/// The most entries kept; past it, expired ones are dropped, then the oldest.
const MAX_ENTRIES: usize = 100_000;

/// Failed sign-ins: when each key's window started and how many failed in it.
#[derive(Clone, Default)]
pub struct Logins {
    limits: LoginLimits,
    failures: Arc<Mutex<HashMap<Key, (Instant, u32)>>>,
}

tokio::task_local! {
    /// The client address of the request being handled (set by the router's middleware).
    pub static CLIENT: IpAddr;
}

impl Logins {
    /// A counter with `limits`.
    #[must_use]
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            failures: Arc::default(),
        }
    }

    fn keys(user: &str) -> Vec<Key> {
        let mut keys = vec![Key::User(user.to_lowercase())];
        if let Ok(address) = CLIENT.try_with(|a| *a) {
            keys.push(Key::Address(address));
        }
        keys
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::User(_) => self.limits.per_user,
            Key::Address(_) => self.limits.per_address,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, u32)>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses a sign-in of `user` while it or the client's address is over its limit.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with how long to wait.
    pub fn check(&self, user: &str) -> Result<()> {
        let failures = self.lock();
        let now = Instant::now();
        for key in Self::keys(user) {
            if let Some((since, count)) = failures.get(&key)
                && *count >= self.limit(&key)
            {
                let left = (*since + self.limits.window).saturating_duration_since(now);
                if !left.is_zero() {
                    return Err(Error::RateLimited {
                        retry_after: left.as_secs().max(1),
                    });
                }
            }
        }
        Ok(())
    }

    /// Counts a failed sign-in of `user`.
    pub fn failed(&self, user: &str) {
        let mut failures = self.lock();
        let now = Instant::now();
        if failures.len() >= MAX_ENTRIES {
            let window = self.limits.window;
            failures.retain(|_, (since, _)| now.duration_since(*since) < window);
            if failures.len() >= MAX_ENTRIES {
                failures.clear();
            }
        }
        for key in Self::keys(user) {
            let entry = failures.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.limits.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    /// Forgets the failures of `user` after a sign-in that succeeded (the address's stay).
    pub fn succeeded(&self, user: &str) {
        self.lock().remove(&Key::User(user.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_and_addresses_are_locked_after_their_limit() {
        let logins = Logins::new(LoginLimits {
            per_user: 2,
            per_address: 3,
            window: Duration::from_mins(1),
        });
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        CLIENT
            .scope(here, async {
                logins.failed("ann");
                assert!(logins.check("ann").is_ok());
                logins.failed("ANN");
                assert!(matches!(
                    logins.check("ann"),
                    Err(Error::RateLimited { retry_after }) if retry_after > 0
                ));
                assert!(logins.check("bob").is_ok());
                logins.failed("bob");
                assert!(logins.check("bob").is_err(), "the address is at its limit");
            })
            .await;
        let elsewhere: IpAddr = "192.0.2.2".parse().unwrap();
        CLIENT
            .scope(elsewhere, async {
                assert!(logins.check("bob").is_ok());
                logins.succeeded("ann");
                assert!(logins.check("ann").is_ok());
            })
            .await;
    }
}
