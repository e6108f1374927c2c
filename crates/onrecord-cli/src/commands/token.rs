//! `token create | list | revoke`: the API tokens `serve` accepts, kept with
//! the ledger (only each secret's SHA-256). A new token is printed once, here
//! and nowhere else. Through a server (`--server` with an admin token, or the
//! socket of the server holding the ledger) they go to its `/v1/tokens`
//! routes and print the same.

use onrecord_ledger::access::Role;
use onrecord_server::auth::{new_token, token_json};

use crate::args::TokenAction;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Cell, Out, Table};

/// A token as the server's `/v1/tokens` routes answer it.
#[derive(serde::Deserialize, serde::Serialize)]
struct ServedToken {
    id: String,
    name: String,
    role: String,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl ServedToken {
    /// `active`, `expired` or `revoked`, as of now.
    fn status(&self) -> &'static str {
        let now = onrecord_ledger::system_clock();
        let expired = self
            .expires_at
            .as_deref()
            .and_then(|e| e.parse::<onrecord_core::When>().ok())
            .is_some_and(|e| e.micros() <= now);
        if self.revoked_at.is_some() {
            "revoked"
        } else if expired {
            "expired"
        } else {
            "active"
        }
    }
}

/// The tokens table.
fn table_of(tokens: &[ServedToken]) -> Table {
    let mut table = Table::new(&["ID", "NAME", "ROLE", "CREATED", "EXPIRES", "STATUS"]);
    for t in tokens {
        table.row(vec![
            Cell::from(t.id.clone()),
            Cell::from(t.name.clone()),
            Cell::from(t.role.clone()),
            Cell::from(t.created_at.clone()),
            Cell::from(t.expires_at.clone().unwrap_or_else(|| "-".into())),
            Cell::from(t.status()),
        ]);
    }
    table
}

/// A token record as the server would answer it.
fn served(t: &onrecord_ledger::access::TokenRecord, token: Option<String>) -> ServedToken {
    let j = token_json(t, token);
    ServedToken {
        id: j.id,
        name: j.name,
        role: j.role.to_owned(),
        created_at: j.created_at,
        expires_at: j.expires_at,
        revoked_at: j.revoked_at,
        token: j.token,
    }
}

/// Prints a token just made: the token on stdout (or JSON), a note on stderr.
fn print_made(out: &mut Out, made: ServedToken, json: bool) -> Result<(), CliError> {
    if json {
        return out.json(&made);
    }
    out.line(made.token.clone().unwrap_or_default())?;
    eprintln!(
        "token {} ({}, role {}) created; it is shown only this once",
        made.id, made.name, made.role
    );
    Ok(())
}

/// Runs one token action.
pub fn run(ctx: &Context, action: TokenAction) -> Result<(), CliError> {
    if let Some(remote) = ctx.remote()? {
        return through_server(&remote, action);
    }
    let mut out = Out::new();
    match action {
        TokenAction::Create {
            name,
            role,
            expires,
            json,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError::invalid(format!(
                    "unknown role `{role}`: expected read, append or admin"
                ))
            })?;
            // A token's name is what its appends are recorded by.
            if let Err(onrecord_core::DomainError::InvalidRecorder { value, why }) =
                onrecord_core::Recorder::new(name.as_str())
            {
                return Err(CliError::invalid(format!(
                    "invalid token name `{}`: {why}",
                    onrecord_core::error::one_line(&value)
                )));
            }
            let expires_at = expires
                .as_deref()
                .map(|s| s.parse::<onrecord_core::TimeBound>().map(|t| t.0))
                .transpose()?;
            let now = onrecord_ledger::system_clock();
            let made = new_token(&name, role, now, expires_at)
                .map_err(|e| CliError::invalid(format!("no random source: {e}")))?;
            ctx.open_or_create()?.add_token(&made.record)?;
            print_made(&mut out, served(&made.record, Some(made.token)), json)?;
        }
        TokenAction::List { json } => {
            let tokens: Vec<ServedToken> = ctx
                .open()?
                .tokens()?
                .iter()
                .map(|t| served(t, None))
                .collect();
            if json {
                out.json(&tokens)?;
            } else {
                out.table(&table_of(&tokens))?;
            }
        }
        TokenAction::Revoke { id } => {
            let token = ctx
                .open()?
                .revoke_token(&id, onrecord_ledger::system_clock())?;
            out.line(format!("revoked token {} ({})", token.id, token.name))?;
        }
    }
    out.flush()
}

/// One token action through a server's `/v1/tokens` routes (admin).
fn through_server(remote: &crate::remote::Remote, action: TokenAction) -> Result<(), CliError> {
    let mut out = Out::new();
    match action {
        TokenAction::Create {
            name,
            role,
            expires,
            json,
        } => {
            let body = serde_json::json!({"name": name, "role": role, "expires_at": expires});
            let answer = remote.send_body(
                "POST",
                "/v1/tokens",
                &[],
                "application/json",
                body.to_string().as_bytes(),
            )?;
            let made: ServedToken = remote.json_of(answer)?;
            print_made(&mut out, made, json)?;
        }
        TokenAction::List { json } => {
            let tokens: Vec<ServedToken> = remote.get_json("/v1/tokens", &[])?;
            if json {
                out.json(&tokens)?;
            } else {
                out.table(&table_of(&tokens))?;
            }
        }
        TokenAction::Revoke { id } => {
            let answer = remote.send_body(
                "DELETE",
                &format!("/v1/tokens/{}", crate::remote::segment(&id)),
                &[],
                "application/json",
                b"",
            )?;
            let token: ServedToken = remote.json_of(answer)?;
            out.line(format!("revoked token {} ({})", token.id, token.name))?;
        }
    }
    out.flush()
}
