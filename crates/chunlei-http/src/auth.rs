//! Authentication: API keys and the [`Principal`] a request acts as.
//!
//! A key reads `ck_<key_id>_<secret>`: `key_id` is 12 lowercase hex characters, public and
//! safe to log; `secret` is 32 random bytes as 64 hex characters. The store keeps only the
//! SHA-256 of the whole key. A fast hash is the right tool here because the key carries 256
//! bits of entropy: no dictionary or brute-force attack on the hash can succeed, so slowing
//! each guess down buys nothing. Human passwords, which come later with browser logins, are
//! low-entropy and will be hashed with argon2 instead.
//!
//! Keys and secrets are never logged; only `key_id` is.
//!
//! A key found in the store is remembered for [`KEY_CACHE_TTL`] ([`KeyCache`]), so that a
//! busy client does not cost a database read per request. The price is the revocation delay:
//! a key deleted from `api_keys` keeps working for at most [`KEY_CACHE_TTL`] after the
//! deletion, in every server process. Keys not found are not remembered, so a new key works
//! at once. Requests with the same key that miss while its lookup runs wait for that lookup
//! rather than each asking the store: a server just started, or a key just past its TTL,
//! under hundreds of concurrent requests costs one lookup, not hundreds at once.
//!
//! A handler asks for a [`Principal`] and never sees how it was established, so a browser
//! session can later produce the same `Principal` without any handler changing. What a
//! principal may do is decided in [`crate::access`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chunlei_store::ApiKeyRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState, PartyId, blocking, now_ns};

const KEY_PREFIX: &str = "ck_";
const KEY_ID_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;

/// What a principal is allowed to be. Merchants and banks are bound to one party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs the platform: reads and writes everything.
    Operator,
    /// A back-office system of the platform: reads and writes everything.
    Integration,
    /// Reads the accounts of one merchant and the transfers that touch them.
    Merchant(PartyId),
    /// Reads the accounts of one bank and the transfers that touch them.
    Bank(PartyId),
}

impl Role {
    /// The role's name as stored with a key.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Integration => "integration",
            Role::Merchant(_) => "merchant",
            Role::Bank(_) => "bank",
        }
    }

    /// The role a stored key grants; `Err` when the record is inconsistent.
    fn from_record(record: &ApiKeyRecord) -> Result<Role, String> {
        let party = |id: &Option<String>| {
            let id = id.as_deref().unwrap_or_default();
            PartyId::parse(id).map_err(|reason| format!("party id {reason}"))
        };
        match (record.role.as_str(), &record.merchant_id, &record.bank_id) {
            ("operator", None, None) => Ok(Role::Operator),
            ("integration", None, None) => Ok(Role::Integration),
            ("merchant", Some(_), None) => Ok(Role::Merchant(party(&record.merchant_id)?)),
            ("bank", None, Some(_)) => Ok(Role::Bank(party(&record.bank_id)?)),
            (role, merchant, bank) => Err(format!(
                "role {role:?} with merchant {merchant:?} and bank {bank:?} is not a valid key"
            )),
        }
    }
}

/// Who a request acts as, and with what role.
#[derive(Clone, Debug)]
pub struct Principal {
    pub role: Role,
    pub credential: Credential,
}

impl Principal {
    /// Who acted, as records of who did what keep it: the API key's public id.
    pub fn actor(&self) -> &str {
        match &self.credential {
            Credential::ApiKey { key_id } => key_id,
        }
    }
}

/// How a principal proved who it is. Browser sessions will add a variant.
#[derive(Clone, Debug)]
pub enum Credential {
    /// An API key, by its public id.
    ApiKey { key_id: String },
}

/// Creates a key for `role`: the key, to show once, and the record to store.
pub fn new_key(role: &Role) -> (String, ApiKeyRecord) {
    let mut key_id = [0u8; KEY_ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    // `ThreadRng` is a CSPRNG seeded from the operating system.
    let mut rng = rand::rng();
    rng.fill_bytes(&mut key_id);
    rng.fill_bytes(&mut secret);
    let key_id = hex(&key_id);
    let key = format!("{KEY_PREFIX}{key_id}_{}", hex(&secret));
    let (merchant_id, bank_id) = match role {
        Role::Operator | Role::Integration => (None, None),
        Role::Merchant(id) => (Some(id.as_str().to_owned()), None),
        Role::Bank(id) => (None, Some(id.as_str().to_owned())),
    };
    let record = ApiKeyRecord {
        secret_sha256: key_sha256(&key),
        key_id,
        role: role.name().to_owned(),
        merchant_id,
        bank_id,
        created_at: now_ns(),
    };
    (key, record)
}

/// The SHA-256 of a whole key, as stored.
pub fn key_sha256(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The `key_id` of a well-formed key; `None` for anything else. Checking the shape first
/// spares the database a lookup for garbage.
pub fn parse_key(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (key_id, secret) = rest.split_once('_')?;
    let lower_hex = |text: &str, len: usize| {
        text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (lower_hex(key_id, 2 * KEY_ID_BYTES) && lower_hex(secret, 2 * SECRET_BYTES)).then_some(key_id)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// How long a key found in the store is trusted without asking the store again; a revoked
/// (deleted) key stops working within this long.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);
/// Keys remembered at most; when full, all are forgotten and looked up again.
const KEY_CACHE_MAX: usize = 10_000;

/// The API keys recently found in the store, by the SHA-256 of the whole key, each with when
/// the lookup that found it began; and the lookups under way.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    found: Mutex<HashMap<[u8; 32], Found>>,
    /// Lookups under way, by key: what each will answer once it has (`Some(found)`). There is
    /// one per key at most, and each is removed when it ends, however it ends.
    asking: Mutex<HashMap<[u8; 32], watch::Receiver<Option<Lookup>>>>,
}

/// A key found in the store: when the lookup that found it began, and its record.
type Found = (Instant, Arc<ApiKeyRecord>);

/// What a lookup answered: the key's record, or `None` when the store has no such key;
/// shared, so that a request served from the cache copies nothing.
type Lookup = Option<Arc<ApiKeyRecord>>;

impl Default for KeyCache {
    fn default() -> KeyCache {
        KeyCache::new(KEY_CACHE_TTL)
    }
}

impl KeyCache {
    pub fn new(ttl: Duration) -> KeyCache {
        KeyCache {
            ttl,
            found: Mutex::new(HashMap::new()),
            asking: Mutex::new(HashMap::new()),
        }
    }

    /// The key whose hash is `sha256`, as of `now`: remembered if a lookup that began less
    /// than the TTL before `now` found it; else the answer of the lookup of it under way, if
    /// one is; else from `lookup`, remembered when found. A key revoked at time `r` is found by
    /// no lookup beginning after `r`, so it stops working by `r` + TTL.
    ///
    /// A lookup that fails, or whose caller goes away, answers nobody else: each request that
    /// waited for it then asks the store itself.
    pub async fn find<F, Fut, E>(
        &self,
        sha256: &[u8; 32],
        now: Instant,
        lookup: F,
    ) -> Result<Lookup, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<ApiKeyRecord>, E>>,
    {
        if let Some(record) = self.fresh(sha256, now) {
            return Ok(Some(record));
        }
        let leading = match self.join(sha256) {
            Joined::Waiting(mut under_way) => {
                if let Ok(answer) = under_way.wait_for(Option::is_some).await
                    && let Some(found) = answer.clone()
                {
                    return Ok(found);
                }
                None
            }
            Joined::Leading(answer) => Some(Leading {
                cache: self,
                sha256: *sha256,
                answer,
            }),
            Joined::Alone => None,
        };
        let record = lookup().await?.map(Arc::new);
        if let Some(record) = &record
            && let Ok(mut found) = self.found.lock()
        {
            if found.len() >= KEY_CACHE_MAX {
                found.clear();
            }
            found.insert(*sha256, (now, record.clone()));
        }
        if let Some(leading) = leading {
            leading.answer.send_replace(Some(record.clone()));
        }
        Ok(record)
    }

    fn fresh(&self, sha256: &[u8; 32], now: Instant) -> Option<Arc<ApiKeyRecord>> {
        let mut found = self.found.lock().ok()?;
        let (since, record) = found.get(sha256)?;
        if now.saturating_duration_since(*since) < self.ttl {
            return Some(record.clone());
        }
        found.remove(sha256);
        None
    }

    /// Joins the lookup of `sha256` under way, or registers this caller's as the one.
    fn join(&self, sha256: &[u8; 32]) -> Joined {
        let Ok(mut asking) = self.asking.lock() else {
            return Joined::Alone;
        };
        if let Some(under_way) = asking.get(sha256) {
            return Joined::Waiting(under_way.clone());
        }
        let (answer, under_way) = watch::channel(None);
        asking.insert(*sha256, under_way);
        Joined::Leading(answer)
    }
}

/// How a request that missed the cache gets its answer.
enum Joined {
    /// From the lookup under way.
    Waiting(watch::Receiver<Option<Lookup>>),
    /// From its own lookup, which the others wait for.
    Leading(watch::Sender<Option<Lookup>>),
    /// From its own lookup, shared with nobody (the registry of lookups is poisoned).
    Alone,
}

/// The lookup the others wait for: deregistered when it ends, answered or not. Those waiting
/// on one that ends unanswered see the channel close.
struct Leading<'a> {
    cache: &'a KeyCache,
    sha256: [u8; 32],
    answer: watch::Sender<Option<Lookup>>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if let Ok(mut asking) = self.cache.asking.lock() {
            asking.remove(&self.sha256);
        }
    }
}

const MISSING: &str = "send an API key as Authorization: Bearer <key>";
const UNKNOWN: &str = "the API key is not valid";

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated(MISSING))?;
        let text = header
            .to_str()
            .map_err(|_| ApiError::Unauthenticated(MISSING))?;
        let (scheme, key) = text
            .split_once(' ')
            .ok_or(ApiError::Unauthenticated(MISSING))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::Unauthenticated(MISSING));
        }
        let key = key.trim();
        let key_id = parse_key(key)
            .ok_or(ApiError::Unauthenticated(UNKNOWN))?
            .to_owned();
        // The lookup is by hash, so its timing depends on the hash, which an attacker cannot
        // steer towards a stored one: no constant-time comparison is needed.
        let sha256 = key_sha256(key);
        let store = state.store.clone();
        let record = state
            .keys
            .find(&sha256, Instant::now(), || {
                blocking(move || store.find_api_key(&sha256))
            })
            .await?;
        let Some(record) = record else {
            return Err(ApiError::Unauthenticated(UNKNOWN));
        };
        let role = Role::from_record(&record)
            .map_err(|reason| ApiError::Internal(format!("API key {key_id}: {reason}")))?;
        tracing::debug!(key_id, role = role.name(), "authenticated");
        Ok(Principal {
            role,
            credential: Credential::ApiKey { key_id },
        })
    }
}

#[cfg(test)]
mod tests;
