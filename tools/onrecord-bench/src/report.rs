//! Turns the phases' figures into the results table (figure, baseline, ratio,
//! target, PASS/MISS), and compares a run with an earlier one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a figure fares against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// The target is met.
    #[serde(rename = "PASS")]
    Pass,
    /// The target is missed.
    #[serde(rename = "MISS")]
    Miss,
    /// The figure could not be measured in this build or setup.
    #[serde(rename = "SKIP")]
    Skip,
    /// No target: context only.
    #[serde(rename = "INFO")]
    Info,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Miss => "MISS",
            Status::Skip => "SKIP",
            Status::Info => "info",
        }
    }
}

/// What a figure measures, which decides how it is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Events per second.
    EventsPerSec,
    /// Microseconds.
    Micros,
    /// Bytes per event.
    BytesPerEvent,
    /// KiB of memory.
    Kib,
    /// sled keys per event.
    KeysPerEvent,
    /// SQL statements sent per event.
    StatementsPerEvent,
}

/// One line of the results table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// A stable key, for comparing runs.
    pub key: String,
    /// What is measured.
    pub scenario: String,
    /// onrecord's figure.
    pub value: Option<f64>,
    /// Its unit.
    pub unit: Unit,
    /// What it is compared with.
    pub baseline_name: String,
    /// The baseline's figure, in the same unit.
    pub baseline: Option<f64>,
    /// value / baseline (or value / limit for absolute targets).
    pub ratio: Option<f64>,
    /// The target, in words.
    pub target: String,
    /// PASS, MISS, SKIP or INFO.
    pub status: Status,
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_f64()
}

struct Builder<'a> {
    phases: &'a Value,
    rows: Vec<Row>,
}

/// A target a figure is checked against.
enum Target {
    /// value / baseline must be at least this.
    MinRatio(f64),
    /// value / baseline must be at most this.
    MaxRatio(f64),
    /// value must be at least this.
    AtLeast(f64),
    /// value must be below this.
    Below(f64),
    /// No target.
    None,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        key: &str,
        scenario: &str,
        value: Option<f64>,
        unit: Unit,
        baseline_name: &str,
        baseline: Option<f64>,
        target: Target,
        target_text: &str,
    ) {
        let ratio = match (value, baseline) {
            (Some(v), Some(b)) if b > 0.0 => Some(v / b),
            _ => None,
        };
        let status = match (&target, value, ratio) {
            (Target::None, _, _) => Status::Info,
            (_, None, _) => Status::Skip,
            (Target::MinRatio(t), _, Some(r)) => pass(r >= *t),
            (Target::MaxRatio(t), _, Some(r)) => pass(r <= *t),
            (Target::AtLeast(t), Some(v), _) => pass(v >= *t),
            (Target::Below(t), Some(v), _) => pass(v < *t),
            _ => Status::Skip,
        };
        self.rows.push(Row {
            key: key.into(),
            scenario: scenario.into(),
            value,
            unit,
            baseline_name: baseline_name.into(),
            baseline,
            ratio,
            target: target_text.into(),
            status,
        });
    }

    fn get(&self, path: &[&str]) -> Option<f64> {
        num(self.phases, path)
    }
}

fn pass(ok: bool) -> Status {
    if ok { Status::Pass } else { Status::Miss }
}

/// The results table for the phases' figures (`{"bulk": {...}, "single": {...}, ...}`).
pub fn rows(phases: &Value) -> Vec<Row> {
    let mut b = Builder {
        phases,
        rows: Vec::new(),
    };
    let eps = Unit::EventsPerSec;
    let bulk = b.get(&["bulk", "onrecord", "eps"]);
    let (sled, sqlite, file) = (
        b.get(&["bulk", "sled", "eps"]),
        b.get(&["bulk", "sqlite", "eps"]),
        b.get(&["bulk", "file", "eps"]),
    );
    let s = "bulk durable append, batches of 1,000";
    b.row(
        "bulk_vs_sled",
        s,
        bulk,
        eps,
        "raw sled apply_batch+flush+fdatasync",
        sled,
        Target::MinRatio(0.6),
        ">= 0.6x raw sled",
    );
    b.row(
        "bulk_vs_sqlite",
        s,
        bulk,
        eps,
        "SQLite WAL sync=FULL, 1 txn/batch",
        sqlite,
        Target::MinRatio(1.0),
        ">= 1.0x SQLite",
    );
    b.row(
        "bulk_vs_file",
        s,
        bulk,
        eps,
        "plain file, 1 fdatasync/batch",
        file,
        Target::None,
        "-",
    );

    let single = b.get(&["single", "onrecord", "eps"]);
    let s = "single durable append";
    b.row(
        "single_vs_file",
        s,
        single,
        eps,
        "plain file write+fdatasync",
        b.get(&["single", "file", "eps"]),
        Target::MinRatio(0.5),
        ">= 0.5x plain file",
    );
    b.row(
        "single_vs_sqlite",
        s,
        single,
        eps,
        "SQLite 1 txn/event",
        b.get(&["single", "sqlite", "eps"]),
        Target::None,
        "-",
    );
    b.row(
        "single_p99",
        "single durable append p99 latency",
        b.get(&["single", "onrecord", "p99_us"]),
        Unit::Micros,
        "plain file p99",
        b.get(&["single", "file", "p99_us"]),
        Target::None,
        "-",
    );

    // Both replay rates come from the phase that runs them in alternation.
    let replay = b.get(&["replay-paired", "onrecord", "eps"]);
    let sled_replay = b.get(&["replay-paired", "sled", "eps"]);
    let s = "full replay (records_from + PositionsFold)";
    b.row(
        "replay_vs_sled",
        s,
        replay,
        eps,
        "raw sled scan + decode",
        sled_replay,
        Target::MinRatio(0.7),
        ">= 0.7x raw sled",
    );
    b.row(
        "replay_abs",
        s,
        replay,
        eps,
        "400,000 ev/s",
        Some(400_000.0),
        Target::AtLeast(400_000.0),
        ">= 400,000 ev/s",
    );
    b.row(
        "replay_vs_sqlite",
        s,
        replay,
        eps,
        "SQLite SELECT by seq + decode",
        b.get(&["replay-sqlite", "eps"]),
        Target::None,
        "-",
    );
    let rebuild = b.get(&["replay-onrecord", "rebuild_views", "eps"]);
    let target = if rebuild.is_some() {
        Target::None
    } else {
        Target::AtLeast(0.0)
    };
    b.row(
        "rebuild_views",
        "rebuild_views",
        rebuild,
        eps,
        "raw sled scan + decode",
        sled_replay,
        target,
        "-",
    );
    b.row(
        "verify",
        "verify (hash chain + indexes)",
        b.get(&["verify", "eps"]),
        eps,
        "raw sled scan + decode",
        sled_replay,
        Target::None,
        "-",
    );

    b.row(
        "query_kept_p99",
        "positions of one proposition, kept view, p99",
        b.get(&["query", "kept_view", "p99_us"]),
        Unit::Micros,
        "1 ms",
        Some(1_000.0),
        Target::Below(1_000.0),
        "< 1 ms",
    );
    b.row(
        "query_kept_p50",
        "positions of one proposition, kept view, p50",
        b.get(&["query", "kept_view", "p50_us"]),
        Unit::Micros,
        "-",
        None,
        Target::None,
        "-",
    );
    b.row(
        "query_fold_p50",
        "same, full fold with as_of, p50",
        b.get(&["query", "full_fold_as_of", "p50_us"]),
        Unit::Micros,
        "-",
        None,
        Target::None,
        "-",
    );
    b.row(
        "query_cli_p50",
        "`onrecord positions --json` end to end, p50",
        b.get(&["query", "cli", "p50_us"]),
        Unit::Micros,
        "50 ms",
        Some(50_000.0),
        Target::Below(50_000.0),
        "< 50 ms",
    );
    b.row(
        "query_cli_p99",
        "`onrecord positions --json` end to end, p99",
        b.get(&["query", "cli", "p99_us"]),
        Unit::Micros,
        "50 ms",
        Some(50_000.0),
        Target::None,
        "-",
    );

    let events = b.get(&["bulk", "events"]).unwrap_or(f64::NAN);
    let per = |k: &str| num(phases, &["bulk", "footprint", k]).map(|x| x / events);
    let enc = per("encoded_bytes");
    b.row(
        "disk",
        "bytes on disk per event",
        per("onrecord_disk_bytes"),
        Unit::BytesPerEvent,
        "encoded bytes per event",
        enc,
        Target::MaxRatio(2.5),
        "<= 2.5x encoded",
    );
    b.row(
        "sled_keys",
        "sled keys per event (onrecord)",
        per("onrecord_sled_keys"),
        Unit::KeysPerEvent,
        "0.3 keys per event",
        Some(0.3),
        Target::Below(0.3),
        "< 0.3 keys/ev",
    );
    b.row(
        "disk_sled",
        "raw sled: bytes on disk per event",
        per("sled_disk_bytes"),
        Unit::BytesPerEvent,
        "encoded bytes per event",
        enc,
        Target::None,
        "-",
    );
    b.row(
        "disk_sqlite",
        "SQLite: bytes on disk per event",
        per("sqlite_disk_bytes"),
        Unit::BytesPerEvent,
        "encoded bytes per event",
        enc,
        Target::None,
        "-",
    );

    let mib256 = 256.0 * 1024.0;
    b.row(
        "rss_replay",
        "peak RSS, replay phase (onrecord)",
        b.get(&["replay-onrecord", "vm_hwm_kib"]),
        Unit::Kib,
        "256 MiB",
        Some(mib256),
        Target::Below(mib256),
        "< 256 MiB",
    );
    b.row(
        "rss_replay_sled",
        "peak RSS, raw sled scan + decode",
        b.get(&["replay-sled", "vm_hwm_kib"]),
        Unit::Kib,
        "-",
        None,
        Target::None,
        "-",
    );
    b.row(
        "rss_bulk",
        "peak RSS, bulk phase (holds the workload)",
        b.get(&["bulk", "vm_hwm_kib"]),
        Unit::Kib,
        "-",
        None,
        Target::None,
        "-",
    );
    b.row(
        "rss_import",
        "peak RSS, append --jsonl of N lines (child)",
        b.get(&["import", "import_peak_rss_kib"]),
        Unit::Kib,
        "256 MiB",
        Some(mib256),
        Target::Below(mib256),
        "< 256 MiB",
    );
    b.row(
        "rss_query",
        "peak RSS, query phase",
        b.get(&["query", "vm_hwm_kib"]),
        Unit::Kib,
        "-",
        None,
        Target::None,
        "-",
    );
    b.rows
}

fn group(x: f64) -> String {
    let s = format!("{:.0}", x.round());
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// A figure with its unit, e.g. `123,456 ev/s`, `0.42 ms`, `310 B/ev`, `180.2 MiB`.
pub fn show(value: Option<f64>, unit: Unit) -> String {
    let Some(v) = value else {
        return "-".into();
    };
    match unit {
        Unit::EventsPerSec => format!("{} ev/s", group(v)),
        Unit::Micros if v < 1_000.0 => format!("{v:.0} us"),
        Unit::Micros if v < 1_000_000.0 => format!("{:.2} ms", v / 1e3),
        Unit::Micros => format!("{:.2} s", v / 1e6),
        Unit::BytesPerEvent => format!("{v:.0} B/ev"),
        Unit::Kib => format!("{:.1} MiB", v / 1024.0),
        Unit::KeysPerEvent => format!("{v:.3} keys/ev"),
        Unit::StatementsPerEvent => format!("{v:.3} stmts/ev"),
    }
}

/// The table as GitHub Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | onrecord | baseline | baseline figure | ratio | target | result |\n|---|---:|---|---:|---:|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            show(r.value, r.unit),
            r.baseline_name,
            show(r.baseline, r.unit),
            r.ratio.map_or("-".into(), |x| format!("{x:.2}x")),
            r.target,
            r.status.label(),
        ));
    }
    out
}

/// Deltas from an earlier run's rows to this run's, matched by key.
pub fn compare(old: &[Row], new: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | before | after | change | ratio before | ratio after |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for r in new {
        let Some(o) = old.iter().find(|o| o.key == r.key) else {
            continue;
        };
        let change = match (o.value, r.value) {
            (Some(a), Some(b)) if a != 0.0 => format!("{:+.1} %", (b - a) / a * 100.0),
            _ => "-".into(),
        };
        let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}x"));
        let name = if r.baseline.is_some() && r.baseline_name != "-" {
            format!("{} vs {}", r.scenario, r.baseline_name)
        } else {
            r.scenario.clone()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            name,
            show(o.value, o.unit),
            show(r.value, r.unit),
            change,
            ratio(o.ratio),
            ratio(r.ratio),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ratios_and_statuses_follow_the_targets() {
        let phases = json!({
            "bulk": {"events": 10, "onrecord": {"eps": 60.0}, "sled": {"eps": 100.0},
                     "sqlite": {"eps": 70.0}, "file": {"eps": 1000.0},
                     "footprint": {"encoded_bytes": 1000, "onrecord_disk_bytes": 3000}},
            "replay-onrecord": {"eps": 900_000.0, "vm_hwm_kib": 1024},
            "replay-sled": {"eps": 100_000.0},
            "replay-paired": {"onrecord": {"eps": 500_000.0}, "sled": {"eps": 1_000_000.0}},
        });
        let rows = rows(&phases);
        let get = |k: &str| rows.iter().find(|r| r.key == k).unwrap();
        assert_eq!(get("bulk_vs_sled").status, Status::Pass);
        assert_eq!(get("bulk_vs_sqlite").status, Status::Miss);
        assert_eq!(get("bulk_vs_file").status, Status::Info);
        assert_eq!(get("replay_vs_sled").status, Status::Miss);
        assert_eq!(get("replay_abs").status, Status::Pass);
        assert_eq!(get("disk").status, Status::Miss);
        assert_eq!(get("rss_replay").status, Status::Pass);
        assert_eq!(get("query_kept_p99").status, Status::Skip);
        assert_eq!(get("rebuild_views").status, Status::Skip);
        assert!((get("bulk_vs_sled").ratio.unwrap() - 0.6).abs() < 1e-9);
        // The replay ratio is the paired phase's, not the single-run phases'.
        assert!((get("replay_vs_sled").ratio.unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn figures_print_with_their_units() {
        assert_eq!(
            show(Some(1_234_567.4), Unit::EventsPerSec),
            "1,234,567 ev/s"
        );
        assert_eq!(show(Some(420.0), Unit::Micros), "420 us");
        assert_eq!(show(Some(42_000.0), Unit::Micros), "42.00 ms");
        assert_eq!(show(None, Unit::Kib), "-");
    }
}
