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
    let mut buf = vec![0u8; 4096];
    // SAFETY: `passwd` is plain data; getpwuid_r writes into it and `buf`
    // (whose length it is told) and sets `found` to it or to null.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        );
        if rc == 0
            && !found.is_null()
            && !pwd.pw_name.is_null()
            && let Ok(name) = std::ffi::CStr::from_ptr(pwd.pw_name).to_str()
            && !name.is_empty()
        {
            return name.to_owned();
        }
    }
    format!("uid{uid}")
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
