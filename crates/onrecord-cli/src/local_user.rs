//! Who a command-line append is recorded by: `local:<user name>`, the
//! operating system's name for the user running `onrecord` (ARCHITECTURE:
//! every appended event records who appended it; a server records its
//! token's name instead).

use onrecord_core::Recorder;

/// The recorder of this process's appends: `local:` and the user's login
/// name from the password database (`getpwuid_r` of the real user id),
/// else `$USER`, else `local:uid<N>`. A name that cannot be a recorder
/// (blank, too long, unprintable) falls through to the next source.
pub fn local_recorder() -> Recorder {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    password_name(uid)
        .or_else(|| std::env::var("USER").ok())
        .and_then(|name| Recorder::new(format!("local:{name}")).ok())
        .or_else(|| Recorder::new(format!("local:uid{uid}")).ok())
        .unwrap_or_else(|| unreachable!("`local:uid<N>` is always a valid recorder"))
}

/// The login name of user `uid` in the password database, if it has one.
#[cfg(unix)]
fn password_name(uid: libc::uid_t) -> Option<String> {
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
        return name.to_str().ok().map(str::to_owned);
    }
}

/// No password database here: `$USER` or the uid decide.
#[cfg(not(unix))]
fn password_name(_uid: u32) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_recorder_is_local_and_a_name() {
        let me = local_recorder();
        let name = me
            .as_str()
            .strip_prefix("local:")
            .expect("starts with local:");
        assert!(!name.is_empty(), "{me}");
    }

    #[cfg(unix)]
    #[test]
    fn the_password_database_names_the_current_user_as_id_does() {
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        let expected = std::process::Command::new("id").arg("-un").output();
        if let (Some(name), Ok(out)) = (password_name(uid), expected)
            && out.status.success()
        {
            assert_eq!(name, String::from_utf8_lossy(&out.stdout).trim());
        }
    }
}
