//! A small harness for end-to-end tests: a temporary ledger directory and a
//! builder that runs the real `onrecord` binary against it with `NO_COLOR=1`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The Armistice 2018 story.
pub const STORY: &str = include_str!("../../examples/armistice-2018.jsonl");

/// A temporary directory with a ledger path inside it.
pub struct Env {
    dir: TempDir,
    ledger: PathBuf,
}

/// What one run of the binary gave.
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Env {
    /// A fresh directory; the ledger (not yet created) is `DIR/ledger`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = dir.path().join("ledger");
        Self { dir, ledger }
    }

    /// The ledger path.
    pub fn ledger(&self) -> &Path {
        &self.ledger
    }

    /// A path for another file in the temp dir.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A command running the binary on this ledger, without colour, failing fast when busy.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Self::bare();
        cmd.arg("--ledger").arg(&self.ledger).args(args);
        cmd
    }

    /// A command running the binary with no `--ledger`.
    pub fn bare() -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_onrecord"));
        cmd.env("NO_COLOR", "1")
            .env_remove("ONRECORD_LEDGER")
            .env_remove("PGPASSWORD")
            .env_remove("PGPASSFILE")
            .env("ONRECORD_BUSY_WAIT_MS", "0");
        cmd
    }

    /// Runs a command and collects its result.
    pub fn exec(cmd: &mut Command) -> Run {
        let out = cmd.output().expect("run onrecord");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// Runs `onrecord --ledger L ARGS...`.
    pub fn run(&self, args: &[&str]) -> Run {
        Self::exec(&mut self.cmd(args))
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
        r.stdout
    }

    /// Runs and expects exit `code` with one `error:` line (or more) on stderr; returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(
            r.code, code,
            "{args:?}: stdout {} stderr {}",
            r.stdout, r.stderr
        );
        assert!(r.stderr.starts_with("error:"), "{args:?}: {}", r.stderr);
        r.stderr
    }

    /// Runs and parses stdout as one JSON value.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Runs with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
        Self::exec(self.cmd(args).write_stdin(input))
    }

    /// Loads the 2018 story with `append --jsonl -`.
    pub fn load_story(&self) -> &Self {
        let r = self.run_stdin(&["append", "--jsonl", "-"], STORY);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "appended 17, already recorded 0\n");
        self
    }
}
