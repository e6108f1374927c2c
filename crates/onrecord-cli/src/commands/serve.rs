//! `serve`: hold the ledger open and serve it over HTTP until SIGINT or
//! SIGTERM (`onrecord_server`). Prints the address it serves on stdout,
//! once it is listening, so scripts (and tests) can use port 0.

use std::io::Write;

use crate::args::ServeArgs;
use crate::context::Context;
use crate::error::CliError;

/// Serves the ledger until a stop signal; returns once every append taken is durable.
pub fn run(ctx: &Context, args: &ServeArgs) -> Result<(), CliError> {
    let ledger = ctx.open_or_create()?;
    ledger.ensure_whole()?;
    let now = onrecord_ledger::system_clock();
    if !ledger.tokens()?.iter().any(|t| t.is_active(now)) && !ctx.quiet {
        eprintln!(
            "note: the ledger has no active token, and every route but /v1/health needs one; \
             stop the server and run `onrecord token create NAME --role admin`"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("onrecord-serve")
        .build()
        .map_err(|e| CliError::invalid(format!("cannot start the server: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| {
                CliError::invalid(format!(
                    "cannot listen on {}: {}",
                    args.listen,
                    crate::error::io_reason(&e)
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::invalid(format!("cannot listen: {e}")))?;
        {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "serving {} on http://{addr}", ctx.ledger.display());
            let _ = stdout.flush();
        }
        let socket_path = ctx.ledger.join(crate::remote::SOCKET_NAME);
        let socket = local_socket(&socket_path, ctx.quiet);
        let served = onrecord_server::serve_with_socket(
            ledger,
            listener,
            socket,
            onrecord_server::ServeOptions {
                rate_per_token: args.rate_limit,
                max_tails_per_token: args.max_tails,
                ..onrecord_server::ServeOptions::default()
            },
            stop_signal(),
        )
        .await;
        let _ = std::fs::remove_file(&socket_path);
        served.map_err(|e| CliError::invalid(format!("the server failed: {e}")))
    })
}

/// Listens on the ledger's own socket (owner-only), replacing one a server
/// that is gone left behind (this process holds the ledger, so no other
/// server can be using it). Without it (a path too long for a socket, a
/// file system without sockets) the server still serves on TCP, and says so.
fn local_socket(path: &std::path::Path, quiet: bool) -> Option<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    let bound = tokio::net::UnixListener::bind(path).and_then(|listener| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(listener)
    });
    match bound {
        Ok(listener) => Some(listener),
        Err(e) => {
            let _ = std::fs::remove_file(path);
            if !quiet {
                eprintln!(
                    "note: no local socket at {} ({}): CLI commands on this ledger path will wait for it instead of going through the server",
                    path.display(),
                    crate::error::io_reason(&e)
                );
            }
            None
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
