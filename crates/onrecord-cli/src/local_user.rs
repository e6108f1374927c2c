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
    onrecord_server::local::login_name(uid)
        .or_else(|| std::env::var("USER").ok())
        .and_then(|name| Recorder::new(format!("local:{name}")).ok())
        .or_else(|| Recorder::new(format!("local:uid{uid}")).ok())
        .unwrap_or_else(|| unreachable!("`local:uid<N>` is always a valid recorder"))
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
        if let (Some(name), Ok(out)) = (onrecord_server::local::login_name(uid), expected)
            && out.status.success()
        {
            assert_eq!(name, String::from_utf8_lossy(&out.stdout).trim());
        }
    }
}
