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
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            onrecord_server::tls::server_config(cert, key)
                .map_err(|e| CliError::invalid(e.to_string()))?,
        ),
        _ => None,
    };
    log_requests(ctx.quiet);
    runtime.block_on(async {
        let stop = stop_signal()?;
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
            let scheme = if tls.is_some() { "https" } else { "http" };
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(
                stdout,
                "serving {} on {scheme}://{addr}",
                crate::output::printable(&ctx.ledger_shown())
            );
            let _ = stdout.flush();
        }
        let socket_path = ctx.local_socket();
        let socket = socket_path
            .as_deref()
            .and_then(|path| local_socket(path, ctx.quiet));
        let options = onrecord_server::ServeOptions {
            rate_per_token: args.rate_limit,
            max_tails_per_token: args.max_tails,
            min_seq_wait: std::time::Duration::from_millis(args.min_seq_wait),
            ..onrecord_server::ServeOptions::default()
        };
        let served = match tls {
            Some(config) => {
                let listener = onrecord_server::tls::TlsListener::new(listener, config)
                    .map_err(|e| CliError::invalid(format!("cannot listen: {e}")))?;
                onrecord_server::serve_with_socket(ledger, listener, socket, options, stop).await
            }
            None => {
                onrecord_server::serve_with_socket(ledger, listener, socket, options, stop).await
            }
        };
        if let Some(path) = &socket_path {
            let _ = std::fs::remove_file(path);
        }
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

/// One line per request on stderr (method, path, status, latency; never a
/// header, so never a token), unless `--quiet`; colour only on a terminal
/// without `NO_COLOR`.
fn log_requests(quiet: bool) {
    use std::io::IsTerminal;
    if quiet {
        return;
    }
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .try_init();
}

/// Registers for SIGINT and SIGTERM now, before the address is printed (a
/// signal sent as soon as a script reads it must stop the server gracefully,
/// not kill it), and returns what completes when either arrives.
fn stop_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = |kind: SignalKind| {
        signal(kind).map_err(|e| {
            CliError::invalid(format!(
                "cannot watch for stop signals: {}",
                crate::error::io_reason(&e)
            ))
        })
    };
    let mut interrupt = register(SignalKind::interrupt())?;
    let mut terminate = register(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
