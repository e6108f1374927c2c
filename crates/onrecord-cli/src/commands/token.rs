//! `token create | list | revoke`: the API tokens `serve` accepts, kept with
//! the ledger (only each secret's SHA-256). A new token is printed once, here
//! and nowhere else. While a server holds the ledger, manage tokens through
//! its API (`/v1/tokens`, admin); these commands then wait and exit 4.

use onrecord_ledger::access::Role;
use onrecord_server::auth::{new_token, token_json};

use crate::args::TokenAction;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Cell, Out, Table};

/// Runs one token action.
pub fn run(ctx: &Context, action: TokenAction) -> Result<(), CliError> {
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
            if json {
                out.json(&token_json(&made.record, Some(made.token)))?;
            } else {
                out.line(made.token)?;
                eprintln!(
                    "token {} ({}, role {}) created; it is shown only this once",
                    made.record.id,
                    made.record.name,
                    role.name()
                );
            }
        }
        TokenAction::List { json } => {
            let tokens = ctx.open()?.tokens()?;
            let now = onrecord_ledger::system_clock();
            if json {
                let listed: Vec<_> = tokens.iter().map(|t| token_json(t, None)).collect();
                out.json(&listed)?;
            } else {
                let mut table = Table::new(&["ID", "NAME", "ROLE", "CREATED", "EXPIRES", "STATUS"]);
                for t in &tokens {
                    let listed = token_json(t, None);
                    let status = if t.revoked_at.is_some() {
                        "revoked"
                    } else if !t.is_active(now) {
                        "expired"
                    } else {
                        "active"
                    };
                    table.row(vec![
                        Cell::from(listed.id),
                        Cell::from(listed.name),
                        Cell::from(listed.role),
                        Cell::from(listed.created_at),
                        Cell::from(listed.expires_at.unwrap_or_else(|| "-".into())),
                        Cell::from(status),
                    ]);
                }
                out.table(&table)?;
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
