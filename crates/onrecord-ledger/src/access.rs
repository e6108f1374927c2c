//! API tokens kept with the ledger (keyspace `A`), for a server's clients:
//! each token has an id, a name, a role, and only the SHA-256 of its secret.
//! Tokens are not events (they are access configuration, not statements on
//! record), so they are never exported or replayed; adding and revoking one
//! is a durable write of its own key. The secret itself is never stored.
//!
//! Stored layout (version 1, big-endian; pinned by a test):
//! `1u8 | role u8 | created_at i64 | expires_at i64 | revoked_at i64 | sha256(secret) [32] | name (UTF-8)`,
//! with `i64::MIN` for "none".

use sha2::{Digest, Sha256};

use crate::storage::WriteSet;
use crate::{Ledger, StoreError, keys};

/// What a token may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read the ledger: queries, events, export, the live tail.
    Read,
    /// Read, and append events.
    Append,
    /// Everything: verify, and managing tokens.
    Admin,
}

impl Role {
    /// The role's name, as the CLI and the API spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Append => "append",
            Role::Admin => "admin",
        }
    }

    /// The role named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Role::Read),
            "append" => Some(Role::Append),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> Option<Self> {
        [Role::Read, Role::Append, Role::Admin]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// One token as kept: never its secret, only the secret's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The public id (the `<id>` of `onr_<id>_<secret>`).
    pub id: String,
    /// Who or what it is for (recorded as who appended, in time).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of the secret.
    pub secret_sha256: [u8; 32],
    /// When it was made, in microseconds since the Unix epoch.
    pub created_at: i64,
    /// When it stops working, if ever (microseconds).
    pub expires_at: Option<i64>,
    /// When it was revoked, if it was (microseconds).
    pub revoked_at: Option<i64>,
}

const VERSION: u8 = 1;
const FIXED: usize = 1 + 1 + 8 + 8 + 8 + 32;

/// SHA-256 of a token's secret, as kept.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two digests in time independent of where they differ.
pub fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn encode_opt(v: Option<i64>) -> [u8; 8] {
    v.unwrap_or(i64::MIN).to_be_bytes()
}

fn decode_opt(bytes: &[u8]) -> Option<i64> {
    let v = i64::from_be_bytes(bytes.try_into().ok()?);
    (v != i64::MIN).then_some(v)
}

impl TokenRecord {
    /// Whether it lets a client in at `now` (not revoked, not expired).
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }

    /// The stored bytes (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED + self.name.len());
        out.push(VERSION);
        out.push(self.role.code());
        out.extend_from_slice(&self.created_at.to_be_bytes());
        out.extend_from_slice(&encode_opt(self.expires_at));
        out.extend_from_slice(&encode_opt(self.revoked_at));
        out.extend_from_slice(&self.secret_sha256);
        out.extend_from_slice(self.name.as_bytes());
        out
    }

    /// The record stored under token id `id`, or why it cannot be read.
    pub fn decode(id: &str, bytes: &[u8]) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::DamagedToken {
            id: id.to_owned(),
            problem: why.to_owned(),
        };
        if bytes.len() < FIXED {
            return Err(bad("too short"));
        }
        if bytes[0] != VERSION {
            return Err(bad(&format!("unknown version {}", bytes[0])));
        }
        let role = Role::from_code(bytes[1]).ok_or_else(|| bad("unknown role"))?;
        let created_at = i64::from_be_bytes(bytes[2..10].try_into().map_err(|_| bad("time"))?);
        let name =
            std::str::from_utf8(&bytes[FIXED..]).map_err(|_| bad("its name is not UTF-8"))?;
        Ok(Self {
            id: id.to_owned(),
            name: name.to_owned(),
            role,
            secret_sha256: bytes[26..58].try_into().map_err(|_| bad("digest"))?,
            created_at,
            expires_at: decode_opt(&bytes[10..18]),
            revoked_at: decode_opt(&bytes[18..26]),
        })
    }
}

fn token_key(id: &str) -> Vec<u8> {
    let mut key = vec![keys::ACCESS];
    key.extend_from_slice(id.as_bytes());
    key
}

impl Ledger {
    /// Keeps a new token durably; refuses an id already taken.
    pub fn add_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly(self.path().to_owned()));
        }
        let state = self.lock_writer();
        state.ensure_writable(self.path())?;
        let key = token_key(&token.id);
        if self.tree().contains(&key)? {
            return Err(StoreError::TokenExists(token.id.clone()));
        }
        let mut writes = WriteSet::default();
        writes.put(key, token.encode());
        self.tree().commit(writes)
    }

    /// Every token kept, in id order (revoked and expired ones too).
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(&[keys::ACCESS]) {
            let (key, value) = kv?;
            let id = String::from_utf8_lossy(&key[1..]).into_owned();
            out.push(TokenRecord::decode(&id, &value)?);
        }
        Ok(out)
    }

    /// The token with this id, if any.
    pub fn token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.tree()
            .get(&token_key(id))?
            .map(|bytes| TokenRecord::decode(id, &bytes))
            .transpose()
    }

    /// Gives this ledger `source`'s API tokens (`copy`), in one durable
    /// write: a token it lacks is added as the source keeps it (the secret's
    /// digest, never the secret); one it keeps with the same secret takes the
    /// source's fields but stays revoked if either revoked it (the earlier
    /// time), so a copy never brings a revoked token back. A token kept here
    /// under the same id with another secret refuses the copy, before
    /// anything is written. How many tokens were written.
    pub fn copy_tokens_from(&self, source: &Ledger) -> Result<usize, StoreError> {
        let theirs = source.tokens()?;
        if theirs.is_empty() {
            return Ok(0);
        }
        if self.is_read_only() {
            return Err(StoreError::ReadOnly(self.path().to_owned()));
        }
        let state = self.lock_writer();
        state.ensure_writable(self.path())?;
        let mut writes = WriteSet::default();
        let mut written = 0;
        for token in theirs {
            let merged = match self.token(&token.id)? {
                None => token,
                Some(ours) if !same_digest(&ours.secret_sha256, &token.secret_sha256) => {
                    return Err(StoreError::TokenClash(token.id));
                }
                Some(ours) => {
                    let revoked_at = match (ours.revoked_at, token.revoked_at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    let merged = TokenRecord {
                        revoked_at,
                        ..token
                    };
                    if merged == ours {
                        continue;
                    }
                    merged
                }
            };
            writes.put(token_key(&merged.id), merged.encode());
            written += 1;
        }
        if written > 0 {
            self.tree().commit(writes)?;
        }
        Ok(written)
    }

    /// Revokes token `id` at `at` (durably); revoking it again changes nothing.
    pub fn revoke_token(&self, id: &str, at: i64) -> Result<TokenRecord, StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly(self.path().to_owned()));
        }
        let state = self.lock_writer();
        state.ensure_writable(self.path())?;
        let mut token = self
            .token(id)?
            .ok_or_else(|| StoreError::NoSuchToken(id.to_owned()))?;
        if token.revoked_at.is_none() {
            token.revoked_at = Some(at);
            let mut writes = WriteSet::default();
            writes.put(token_key(id), token.encode());
            self.tree().commit(writes)?;
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TokenRecord {
        TokenRecord {
            id: "a1b2c3d4".into(),
            name: "desk-bot".into(),
            role: Role::Append,
            secret_sha256: hash_secret("s3cret"),
            created_at: 1_543_000_000_000_000,
            expires_at: None,
            revoked_at: Some(1_543_000_000_000_001),
        }
    }

    #[test]
    fn the_stored_layout_of_version_1_is_pinned() {
        let bytes = sample().encode();
        let mut expected = vec![1u8, 1];
        expected.extend_from_slice(&1_543_000_000_000_000i64.to_be_bytes());
        expected.extend_from_slice(&i64::MIN.to_be_bytes());
        expected.extend_from_slice(&1_543_000_000_000_001i64.to_be_bytes());
        expected.extend_from_slice(&hash_secret("s3cret"));
        expected.extend_from_slice(b"desk-bot");
        assert_eq!(bytes, expected);
        assert_eq!(TokenRecord::decode("a1b2c3d4", &bytes).unwrap(), sample());
    }

    #[test]
    fn damaged_token_bytes_are_an_error_never_a_panic() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            let _ = TokenRecord::decode("x", &bytes[..cut]);
        }
        let mut bad = bytes.clone();
        bad[1] = 9;
        assert!(TokenRecord::decode("x", &bad).is_err());
    }

    #[test]
    fn only_an_unrevoked_unexpired_token_is_active() {
        let mut t = sample();
        assert!(!t.is_active(0), "revoked");
        t.revoked_at = None;
        assert!(t.is_active(0));
        t.expires_at = Some(10);
        assert!(t.is_active(9) && !t.is_active(10));
        assert!(Role::Read < Role::Append && Role::Append < Role::Admin);
        assert!(same_digest(&hash_secret("a"), &hash_secret("a")));
        assert!(!same_digest(&hash_secret("a"), &hash_secret("b")));
    }
}
