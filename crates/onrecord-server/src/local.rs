//! The ledger's own socket: `onrecord serve` listens on a Unix socket inside
//! the ledger directory (owner-only), so that a CLI command given the path of
//! a ledger the server holds goes through the server instead of waiting for
//! the lock. A connection there acts as the local user it comes from (read
//! from the socket's peer credentials), as an admin: whoever may open the
//! socket may open the ledger's files anyway.
//!
//! Only identifying the peer lives here; admitting it is `auth`'s.

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::UnixListener;

/// Who is on the other end of a socket connection.
#[derive(Debug, Clone)]
pub struct LocalPeer {
    /// The peer's user name (or `uid<N>` when it has none).
    pub user: String,
}

impl Connected<IncomingStream<'_, UnixListener>> for LocalPeer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        let user = match stream.io().peer_cred() {
            Ok(cred) => user_name(cred.uid()),
            Err(_) => "unknown".to_owned(),
        };
        Self { user }
    }
}

/// The name of user `uid` from the system's user database, else `uid<N>`.
pub fn user_name(uid: u32) -> String {
    login_name(uid).unwrap_or_else(|| format!("uid{uid}"))
}

/// The login name of user `uid` in the password database, if it has one
/// (the one lookup both the server's socket and the CLI's appends use).
pub fn login_name(uid: libc::uid_t) -> Option<String> {
    let mut buffer = vec![0 as libc::c_char; 1024];
    loop {
        // SAFETY: an all-zero `passwd` is a valid value of this plain C struct.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `entry` and `found`
        // are live locals, `buffer` is writable for `buffer.len()` bytes.
        let status = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            )
        };
        if status == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 4, 0);
            continue;
        }
        if status != 0 || found.is_null() || entry.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success `pw_name` points at a NUL-terminated string
        // inside `buffer`, which is still alive here.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
        return name
            .to_str()
            .ok()
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_and_an_unknown_uid_is_named_by_number() {
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000_000), "uid4000000000");
    }
}
