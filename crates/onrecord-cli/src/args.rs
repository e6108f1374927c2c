//! The command line as clap sees it: every command, flag and help text.
//!
//! Only declarations live here: values stay strings where the domain has its
//! own parser (ids, stances, times), so that a bad value is reported as invalid
//! input (exit 1) naming the value, not as a usage error. This module may not
//! open a ledger or print anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Ledger path:
  --ledger PATH, else $ONRECORD_LEDGER, else ./onrecord.ledger (a directory).
  `append` creates the ledger when it does not exist; other commands need one.

Waiting for a busy ledger:
  One process at a time may open a ledger. Others wait up to --busy-wait MS
  (or $ONRECORD_BUSY_WAIT_MS), 10000 ms by default, then fail with exit 4.

Memory:
  $ONRECORD_CACHE_MB sets sled's page cache in MiB, 1 to 1048576 (64 by default,
  16 for append --jsonl).

Exit codes:
  0  success
  1  invalid input, unknown id, or not found (also: no ledger, storage errors)
  2  usage error (unknown command or flag, missing argument)
  3  conflict: expected revision not met, or an event id recorded with other content
  4  the ledger is busy (held by another process), or the server cannot be reached
  5  damage: `verify` found the ledger damaged, or a damaged record was read
  6  refused by the server: no token, an unknown, revoked or expired one, or one
     without the role the command needs

A server instead of a local ledger:
  --server URL (or $ONRECORD_SERVER) with --token (or $ONRECORD_TOKEN) runs
  append, positions, history, contradictions, scores, calibration, chart,
  report, stats, export, verify, tail and token against `onrecord serve`, with the
  same output and exit codes; exit 4 when the server cannot be reached. A
  ledger held by a local `onrecord serve` is reached through the socket it
  opens in the ledger directory, without a token.

Colour is used only when stdout is a terminal and NO_COLOR is not set.";

/// `onrecord`: an event-sourced ledger of what officials say will happen.
#[derive(Debug, Parser)]
#[command(
    name = "onrecord",
    version,
    about = "An event-sourced ledger of what officials say will happen",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The ledger directory [default: $ONRECORD_LEDGER, else ./onrecord.ledger]
    #[arg(long, global = true, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// How long to wait for a ledger another process holds, in milliseconds [default: $ONRECORD_BUSY_WAIT_MS, else 10000]
    #[arg(long, global = true, value_name = "MS")]
    pub busy_wait: Option<u64>,
    /// Run the command against this server (http://HOST:PORT) instead of a local ledger [default: $ONRECORD_SERVER]
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// The API token to send the server [default: $ONRECORD_TOKEN]; never printed
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Trust this PEM certificate (or CA) for an https --server instead of the usual roots [default: $ONRECORD_CACERT]
    #[arg(long, global = true, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Reads through a --server wait until it holds this seq (your last acknowledged append), else exit 4 [default: $ONRECORD_MIN_SEQ]
    #[arg(long, global = true, value_name = "SEQ")]
    pub min_seq: Option<u64>,
    /// Show no progress bars and no notes on stderr (errors are still printed)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty ledger (fails if one exists)
    Init,
    /// Record events: one with a subcommand, or many with --jsonl
    Append(AppendArgs),
    /// Print the log, one line per event (or JSON Lines with --json)
    Replay(ReplayArgs),
    /// Current (or past) positions of every party, per proposition
    Positions(PositionsArgs),
    /// Every statement on one proposition, in the order said
    History(HistoryArgs),
    /// Pairs of parties on opposite sides of even on the same proposition
    Contradictions(ContradictionsArgs),
    /// Check the hash chain, sequence, indexes and head anchor (exit 5 on damage)
    Verify,
    /// Rewrite a sled ledger in keyspace layout 3, keeping every record and hash (verified before and after)
    Upgrade,
    /// Write every event as JSON Lines, in seq order, to stdout (exit 5 at the first bad seq)
    Export(ExportArgs),
    /// Copy a ledger record for record to another (directory or postgres:// URL), resuming a cut-short copy
    Copy(CopyArgs),
    /// Load the 2018 Armistice story into a fresh ledger and show it
    Demo,
    /// Scores of resolved propositions per party, and the leaderboard
    Scores(crate::args_report::ScoresArgs),
    /// Per stance band, how often what was said happened
    Calibration(crate::args_report::CalibrationArgs),
    /// Write one proposition's credence chart as SVG
    Chart(crate::args_report::ChartArgs),
    /// Write a static HTML report (DIR/index.html) of the whole ledger
    Report(crate::args_report::ReportArgs),
    /// Counts of what the ledger holds: events by type, parties, propositions, head, size
    Stats(StatsArgs),
    /// Suggest a stance band for a phrase from the lexicon (a suggestion only; needs no ledger)
    Stance(StanceArgs),
    /// Find the quoted statements in a news article and propose them for review (never appends)
    Extract(ExtractArgs),
    /// Serve the ledger over HTTP (one writer, many readers, a live tail)
    Serve(ServeArgs),
    /// Print events from a seq on, and with --follow keep printing new ones as they are recorded
    Tail(TailArgs),
    /// Manage the API tokens `serve` accepts: create, list, revoke
    Token(TokenArgs),
    /// Print shell completions for bash, zsh, fish or powershell to stdout
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout
    Man,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (a port of 0 picks a free one; the address
    /// served is printed on stdout)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7171")]
    pub listen: String,
    /// Requests per second each token may make (bursts of twice that); more get 429
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub rate_limit: u32,
    /// Live tails one token may hold open at once; more get 429
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_tails: usize,
    /// How long a read whose Onrecord-Min-Seq is past this server's head waits for it, in milliseconds; then 503 `behind`
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub min_seq_wait: u64,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// `tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// The first seq to print
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    pub from: u64,
    /// Keep printing events as they are recorded (needs a server: --server, or a ledger `onrecord serve` holds)
    #[arg(long)]
    pub follow: bool,
    /// Print JSON Lines (as `export` does)
    #[arg(long)]
    pub json: bool,
}

/// `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TokenAction,
}

/// `token create | list | revoke`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a token; it is printed once and only its SHA-256 is kept
    Create {
        /// Who or what it is for (e.g. desk-bot, alice)
        name: String,
        /// read, append or admin (each includes the ones before)
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// The date or RFC 3339 instant after which it stops working
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List the tokens (never their secrets)
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id; it stops working at once
    Revoke {
        /// The token's id (the part after `onr_`, before the next `_`)
        id: String,
    },
}

/// `copy`: the ledger to read and the ledger to write.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The ledger to copy: a directory or a postgres:// URL
    #[arg(long, value_name = "LEDGER")]
    pub from: std::path::PathBuf,
    /// The ledger to copy into: a new one is made; one holding the start of the same log is continued
    #[arg(long, value_name = "LEDGER")]
    pub to: std::path::PathBuf,
    /// Copy the source's records up to this seq only [default: its head]
    #[arg(long, value_name = "SEQ")]
    pub upto: Option<u64>,
    /// Records per write set (each is written atomically; memory grows with it)
    #[arg(long, value_name = "N", default_value_t = crate::commands::copy::CHUNK_RECORDS)]
    pub chunk: u64,
    /// Print JSON: {"from", "to", "copied", "resumed_after", "head": {"seq", "hash"}}
    #[arg(long)]
    pub json: bool,
}

/// `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `stance`.
#[derive(Debug, Args)]
pub struct StanceArgs {
    /// The phrase, e.g. "we will probably not meet" (several words are joined with spaces)
    #[arg(required = true, value_name = "PHRASE")]
    pub phrase: Vec<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `extract`.
#[derive(Debug, Args)]
#[command(after_help = "\
Reads an article (plain text, or HTML with --html) and lists each quoted
statement: the quote, its speaker as written and resolved, the ledger party
(when a ledger exists: --ledger, $ONRECORD_LEDGER or ./onrecord.ledger; it
is only read, and none is created), the lexicon's stance suggestion, and a
confidence. Review, then append: `extract ... --jsonl > s.jsonl`, edit, and
`onrecord append --jsonl s.jsonl`.")]
pub struct ExtractArgs {
    /// The article: a file, or `-` (the default) for standard input
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
    /// Read the input as HTML and take the article's text only
    #[arg(long)]
    pub html: bool,
    /// When the statements were said (a day or an instant), for --jsonl
    #[arg(long, value_name = "WHEN")]
    pub said_at: Option<String>,
    /// Where the article was published, for --jsonl
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// The proposition the statements bear on, for --jsonl
    #[arg(long, value_name = "ID")]
    pub proposition: Option<String>,
    /// Write only statements `append --jsonl` accepts as they are (needs --proposition and --said-at); the rest are listed on stderr
    #[arg(long, conflicts_with = "json")]
    pub jsonl: bool,
    /// Print everything found as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `append`: one event via a subcommand, or a JSON Lines file via `--jsonl`.
#[derive(Debug, Args)]
#[command(subcommand_negates_reqs = true)]
pub struct AppendArgs {
    /// Append every line of FILE (`-` for stdin) in one atomic batch: all lines or none.
    /// Blank lines are skipped; a UTF-8 BOM and CRLF line ends are tolerated.
    #[arg(long, value_name = "FILE|-", required = true)]
    pub jsonl: Option<String>,
    /// Print the outcome as JSON
    #[arg(long, global = true)]
    pub json: bool,
    /// The kind of event to append.
    #[command(subcommand)]
    pub kind: Option<AppendKind>,
}

/// Options every single append takes.
#[derive(Debug, Args)]
pub struct SingleOpts {
    /// Record the event under this UUID (appending it again is then a no-op)
    #[arg(long, value_name = "UUID")]
    pub event_id: Option<String>,
    /// Require the event's primary stream to be at this revision
    #[arg(long, value_name = "any|no-stream|stream-exists|N")]
    pub expect_revision: Option<String>,
}

/// The kinds of event `append` can record one at a time.
#[derive(Debug, Subcommand)]
pub enum AppendKind {
    /// Register a party (a person, organization or government)
    Party {
        /// The party's id, e.g. `trump`
        id: String,
        /// Its display name
        #[arg(long)]
        name: String,
        /// person, organization or government [default: person]
        #[arg(long)]
        kind: Option<String>,
        /// A registered party whose position this party's statements express by default
        #[arg(long, value_name = "PARTY")]
        speaks_for: Option<String>,
        /// Another name the party goes by in articles, e.g. "Putin" or "the Russian president" (repeatable; `extract` matches speakers by it)
        #[arg(long = "alias", value_name = "NAME")]
        aliases: Vec<String>,
        /// The options every single append takes.
        #[command(flatten)]
        opts: SingleOpts,
    },
    /// Open a proposition: something that will or will not happen
    Proposition {
        /// The proposition's id, e.g. `paris-meeting`
        id: String,
        /// What would happen, in one sentence
        #[arg(long)]
        text: String,
        /// What counts as it happening
        #[arg(long)]
        criteria: Option<String>,
        /// When it can happen, both ends inclusive, e.g. 2018-11-10..2018-11-12
        #[arg(long, value_name = "FROM..TO")]
        window: Option<String>,
        /// The options every single append takes.
        #[command(flatten)]
        opts: SingleOpts,
    },
    /// Record a party's stated position on a proposition
    Statement {
        /// The proposition it is about
        #[arg(long, value_name = "ID")]
        proposition: String,
        /// Whose position it is [default: whom the speaker speaks for]
        #[arg(long, value_name = "ID")]
        party: Option<String>,
        /// Who said it [default: the party]
        #[arg(long, value_name = "ID")]
        speaker: Option<String>,
        /// almost-no-chance, very-unlikely, unlikely, even-chance, likely, very-likely, almost-certain or declined
        #[arg(long)]
        stance: String,
        /// When it was said: a date (2018-11-06) or an RFC 3339 instant
        #[arg(long, value_name = "WHEN")]
        said_at: String,
        /// An explicit credence inside the stance's band [default: the band's midpoint]
        #[arg(long, value_name = "X")]
        credence: Option<String>,
        /// The words, verbatim
        #[arg(long)]
        quote: Option<String>,
        /// Where it was reported, usually a URL
        #[arg(long, value_name = "URL")]
        source: Option<String>,
        /// A free-form qualifier, e.g. `brief` (repeatable)
        #[arg(long = "qualifier", value_name = "Q")]
        qualifiers: Vec<String>,
        /// The options every single append takes.
        #[command(flatten)]
        opts: SingleOpts,
    },
    /// Withdraw an earlier statement
    Retraction {
        /// The statement's event id
        #[arg(long, value_name = "UUID")]
        statement: String,
        /// Why it is withdrawn
        #[arg(long)]
        reason: String,
        /// The options every single append takes.
        #[command(flatten)]
        opts: SingleOpts,
    },
    /// Record how a proposition turned out
    Resolution {
        /// The proposition resolved
        #[arg(long, value_name = "ID")]
        proposition: String,
        /// happened or did-not-happen
        #[arg(long)]
        outcome: String,
        /// When the outcome became fact
        #[arg(long, value_name = "WHEN")]
        resolved_at: String,
        /// Where the outcome was reported
        #[arg(long, value_name = "URL")]
        source: Option<String>,
        /// Anything worth saying about the resolution
        #[arg(long)]
        note: Option<String>,
        /// The options every single append takes.
        #[command(flatten)]
        opts: SingleOpts,
    },
}

impl AppendKind {
    /// The subcommand's name, as typed (`party`, `statement`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            AppendKind::Party { .. } => "party",
            AppendKind::Proposition { .. } => "proposition",
            AppendKind::Statement { .. } => "statement",
            AppendKind::Retraction { .. } => "retraction",
            AppendKind::Resolution { .. } => "resolution",
        }
    }
}

/// `replay`: print the log.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// First seq to print
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    pub from: u64,
    /// Last seq to print [default: the head]
    #[arg(long, value_name = "SEQ")]
    pub to: Option<u64>,
    /// Print JSON Lines (as `export` does)
    #[arg(long)]
    pub json: bool,
    /// Rebuild the kept position views from the log first
    #[arg(long)]
    pub rebuild: bool,
}

/// `export`'s flags.
#[derive(Debug, Args, Clone, Default)]
pub struct ExportArgs {
    /// On a damaged ledger, write the events that verify, up to the first bad seq (still exits 5)
    #[arg(long)]
    pub salvage: bool,
}

/// The time-travel flags shared by the reading commands.
#[derive(Debug, Args, Clone, Default)]
pub struct TimeArgs {
    /// Count only statements said at or before WHEN (a date means the end of that day UTC)
    #[arg(long, value_name = "WHEN")]
    pub as_of: Option<String>,
    /// Count only events the ledger had recorded at or before WHEN
    #[arg(long, value_name = "WHEN")]
    pub known_at: Option<String>,
    /// Count only events with seq at most N
    #[arg(long, value_name = "N")]
    pub at_seq: Option<u64>,
}

/// `positions`.
#[derive(Debug, Args)]
pub struct PositionsArgs {
    /// Only this proposition (prints one JSON object instead of an array)
    pub proposition: Option<String>,
    /// Only this party's position (contradictions still cover every party)
    #[arg(long, value_name = "ID")]
    pub party: Option<String>,
    /// The time-travel flags.
    #[command(flatten)]
    pub time: TimeArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print RFC 4180 CSV, one row per position, with a header row
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// With --csv: write every cell exactly as recorded, for scripts (by default a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets do not run it, and control characters are escaped)
    #[arg(long, requires = "csv")]
    pub csv_exact: bool,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The proposition
    pub proposition: String,
    /// Only this party's statements
    #[arg(long, value_name = "ID")]
    pub party: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print RFC 4180 CSV, one row per statement, with a header row
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// With --csv: write every cell exactly as recorded, for scripts (by default a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets do not run it, and control characters are escaped)
    #[arg(long, requires = "csv")]
    pub csv_exact: bool,
}

/// `contradictions`.
#[derive(Debug, Args)]
pub struct ContradictionsArgs {
    /// The time-travel flags.
    #[command(flatten)]
    pub time: TimeArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}
