//! What the figures were measured on: cores, CPU, kernel, date and git commit.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then_some(())?;
    let s = String::from_utf8(out.stdout).ok()?;
    let line = s.lines().next()?.trim().to_owned();
    (!line.is_empty()).then_some(line)
}

/// The machine and source the run is on, as JSON.
pub fn info(workspace: &Path) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
    });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_owned());
    let mem_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    });
    let git = |args: &[&str]| first_line(Command::new("git").arg("-C").arg(workspace).args(args));
    let dirty = Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args(["status", "--porcelain"])
        .output()
        .ok()
        .map(|o| !o.stdout.is_empty());
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "cpu": cpu,
        "mem_total_kib": mem_kib,
        "kernel": kernel,
        "date": first_line(Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])),
        "git_commit": git(&["rev-parse", "HEAD"]),
        "git_branch": git(&["rev-parse", "--abbrev-ref", "HEAD"]),
        "git_dirty": dirty,
    })
}
