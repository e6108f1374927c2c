//! Who may do what: API tokens `onr_<id>_<secret>` sent as `Authorization:
//! Bearer`, checked against the tokens the ledger keeps (only the SHA-256 of
//! each secret, compared in constant time). The server holds them in memory;
//! a revocation through the API takes effect at once, for open live tails
//! too (they watch [`Access::changes`]). Nothing here prints or logs a
//! secret, and no problem document repeats what the client sent.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::{HeaderMap, StatusCode, header};
use onrecord_ledger::access::{Role, TokenRecord, hash_secret, same_digest};
use serde::Serialize;
use tokio::sync::watch;

use crate::problem::Problem;

/// The prefix of every token.
pub const TOKEN_PREFIX: &str = "onr_";

/// A new token: the record to keep, and the token to hand over once.
pub struct NewToken {
    /// What the ledger keeps (no secret).
    pub record: TokenRecord,
    /// `onr_<id>_<secret>`: shown once, never stored.
    pub token: String,
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Makes a token for `name` with `role`, from the system's random source.
pub fn new_token(
    name: &str,
    role: Role,
    now: i64,
    expires_at: Option<i64>,
) -> std::io::Result<NewToken> {
    let id = random_hex(8)?;
    let secret = random_hex(32)?;
    Ok(NewToken {
        record: TokenRecord {
            id: id.clone(),
            name: name.to_owned(),
            role,
            secret_sha256: hash_secret(&secret),
            created_at: now,
            expires_at,
            revoked_at: None,
        },
        token: format!("{TOKEN_PREFIX}{id}_{secret}"),
    })
}

/// The caller a request was authorised as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub token_id: String,
    /// The token's name: what its appends are recorded by.
    pub name: String,
    /// The token's role.
    pub role: Role,
}

/// The tokens a server accepts, and a signal that changes whenever one is revoked.
pub struct Access {
    tokens: RwLock<HashMap<String, TokenRecord>>,
    changes: watch::Sender<u64>,
    /// The in-memory admin tokens of local users on the ledger's socket, by user name.
    local: std::sync::Mutex<HashMap<String, String>>,
}

fn unauthorized(detail: &str) -> Problem {
    let mut p = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        detail,
    );
    p.www_authenticate = true;
    p
}

impl Access {
    /// Access by the tokens in `tokens`.
    pub fn new(tokens: Vec<TokenRecord>) -> Self {
        Self {
            tokens: RwLock::new(tokens.into_iter().map(|t| (t.id.clone(), t)).collect()),
            changes: watch::channel(0).0,
            local: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The bearer token a request from local user `user` on the ledger's own
    /// socket acts with: an admin token named `local:<user>`, made on first
    /// use and held only in this server's memory (never stored, never shown),
    /// so the user who may open the ledger's files may do anything through it.
    pub fn local_token(&self, user: &str, now: i64) -> std::io::Result<String> {
        let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = local.get(user) {
            return Ok(token.clone());
        }
        let made = new_token(&format!("local:{user}"), Role::Admin, now, None)?;
        self.update(made.record);
        local.insert(user.to_owned(), made.token.clone());
        Ok(made.token)
    }

    /// A receiver that sees a change whenever a token is revoked or added.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether token `id` still lets its holder in at `now`.
    pub fn is_active(&self, id: &str, now: i64) -> bool {
        self.tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .is_some_and(|t| t.is_active(now))
    }

    /// Takes the tokens the store keeps now (another server may have made
    /// or revoked some): each new or changed one is kept as it is and those
    /// watching are told once; tokens held only here (local users') stay.
    pub fn refresh(&self, stored: Vec<TokenRecord>) {
        let mut tokens = self.tokens.write().unwrap_or_else(|p| p.into_inner());
        let mut changed = false;
        for token in stored {
            if tokens.get(&token.id) != Some(&token) {
                tokens.insert(token.id.clone(), token);
                changed = true;
            }
        }
        drop(tokens);
        if changed {
            self.changes.send_modify(|n| *n += 1);
        }
    }

    /// Keeps `token` as it now is (added or revoked) and tells those watching.
    pub fn update(&self, token: TokenRecord) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.id.clone(), token);
        self.changes.send_modify(|n| *n += 1);
    }

    /// The caller whose bearer token in `headers` holds at least `role` at
    /// `now`: 401 without a valid token (missing, unknown, wrong secret,
    /// revoked or expired, all worded alike), 403 with too small a role.
    pub fn authorize(&self, headers: &HeaderMap, role: Role, now: i64) -> Result<Caller, Problem> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(
                "this route needs a token: send `Authorization: Bearer onr_...`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|v| v.trim().strip_prefix(TOKEN_PREFIX));
        let Some((id, secret)) = token.and_then(|t| t.split_once('_')) else {
            return Err(unauthorized(
                "the Authorization header holds no onrecord token",
            ));
        };
        let tokens = self.tokens.read().unwrap_or_else(|p| p.into_inner());
        let known = tokens
            .get(id)
            .filter(|t| same_digest(&hash_secret(secret), &t.secret_sha256) && t.is_active(now));
        let Some(record) = known else {
            return Err(unauthorized("the token is unknown, revoked or expired"));
        };
        if record.role < role {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                format!(
                    "token `{}` has the role {}; this needs {}",
                    record.id,
                    record.role.name(),
                    role.name()
                ),
            ));
        }
        Ok(Caller {
            token_id: record.id.clone(),
            name: record.name.clone(),
            role: record.role,
        })
    }
}

/// A token as listed: never its secret or digest.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenJson {
    /// The public id.
    pub id: String,
    /// Who or what it is for.
    pub name: String,
    /// `read`, `append` or `admin`.
    pub role: &'static str,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// `onr_<id>_<secret>`: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn instant(micros: i64) -> String {
    onrecord_core::When::instant(micros).to_rfc3339()
}

/// A token in its JSON shape; `token` only when it was just made.
pub fn token_json(t: &TokenRecord, token: Option<String>) -> TokenJson {
    TokenJson {
        id: t.id.clone(),
        name: t.name.clone(),
        role: t.role.name(),
        created_at: instant(t.created_at),
        expires_at: t.expires_at.map(instant),
        revoked_at: t.revoked_at.map(instant),
        token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn a_token_admits_its_role_and_below_and_nothing_once_revoked() {
        let made = new_token("bot", Role::Append, 0, None).unwrap();
        assert!(made.token.starts_with("onr_"));
        let access = Access::new(vec![made.record.clone()]);
        let h = bearer(&made.token);
        assert_eq!(access.authorize(&h, Role::Read, 1).unwrap().name, "bot");
        assert!(access.authorize(&h, Role::Append, 1).is_ok());
        assert_eq!(
            access.authorize(&h, Role::Admin, 1).unwrap_err().status,
            403
        );
        // The same token with its last secret digit changed.
        let last = made.token.chars().last().unwrap();
        let wrong = format!(
            "{}{}",
            &made.token[..made.token.len() - 1],
            if last == '0' { '1' } else { '0' }
        );
        let wrong = if wrong == made.token {
            made.token[..made.token.len() - 1].to_owned() + "1"
        } else {
            wrong
        };
        assert_eq!(
            access
                .authorize(&bearer(&wrong), Role::Read, 1)
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            access
                .authorize(&HeaderMap::new(), Role::Read, 1)
                .unwrap_err()
                .status,
            401
        );
        let mut revoked = made.record.clone();
        revoked.revoked_at = Some(2);
        let changes = access.changes();
        access.update(revoked);
        assert!(changes.has_changed().unwrap());
        assert_eq!(access.authorize(&h, Role::Read, 3).unwrap_err().status, 401);
    }

    #[test]
    fn no_refusal_repeats_the_secret() {
        let made = new_token("bot", Role::Read, 0, Some(5)).unwrap();
        let access = Access::new(vec![made.record.clone()]);
        let secret = made.token.rsplit('_').next().unwrap().to_owned();
        for (token, role, now) in [(&made.token, Role::Admin, 1), (&made.token, Role::Read, 9)] {
            let p = access.authorize(&bearer(token), role, now).unwrap_err();
            assert!(!p.detail.contains(&secret), "{}", p.detail);
        }
    }
}
