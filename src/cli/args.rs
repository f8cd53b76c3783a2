//! The command line's shape: global settings flags and the subcommands (clap).

use clap::{Args, Parser, Subcommand};
use deedlog_cluster::Component;
use std::path::PathBuf;

/// deedlog: an event-sourced backend for real-estate software.
#[derive(Debug, Parser)]
#[command(name = "deedlog", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings flags accepted by every subcommand; they override file and environment.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML settings file (layered over the defaults, under the environment).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// PostgreSQL URL of the event log, e.g. postgres://postgres@127.0.0.1:5432/deedlog.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log output: pretty or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or deedlog_eventstore=debug.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_filter: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole cluster in one process (creates and migrates the database)
    /// and load the demo tenant.
    Up {
        /// What to load once the cluster runs: the demo tenant (users with
        /// printed logins, properties, deals at every stage, contacts with
        /// consents, conversations), or nothing.
        #[arg(long, value_enum, default_value = "demo")]
        seed: SeedArg,
        /// Start without loading the demo tenant (same as --seed none).
        #[arg(long, conflicts_with = "seed")]
        no_demo: bool,
        /// Run a private PostgreSQL with its data in DIR instead of using
        /// database.url: made with initdb when DIR is new or empty, kept for
        /// the next run, served on a free port of 127.0.0.1 while deedlog
        /// runs and stopped on exit. Needs PostgreSQL's server programs
        /// (found through pg_config, the usual places or DEEDLOG_PG_BINDIR).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Create realistic data at scale through the command services (started
    /// here on free ports): tenants with users, properties with prices and
    /// listing moves, buyers with consents and messages, deals at every
    /// stage. The same command again resumes an interrupted run or changes
    /// nothing. Not in production: the log keeps everything forever.
    Seed(SeedArgs),
    /// Run one component as its own process.
    Serve {
        /// The component to run.
        #[arg(value_enum)]
        component: Component,
        /// Where the projector reads events (overrides projector.source):
        /// the PostgreSQL log, or the Kafka topic as a consumer group member.
        #[arg(long, value_enum)]
        source: Option<SourceArg>,
    },
    /// Create the database if it is missing and apply pending migrations.
    Migrate,
    /// Inspect settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Rebuild a projection aside from position zero while the live one
    /// serves, then swap it in atomically.
    Rebuild {
        /// The projection, e.g. properties.
        projection: String,
    },
    /// Rebuild a projection aside, compare it row by row with the live one
    /// and record the run; exits non-zero on drift.
    Reconcile {
        /// The projection, e.g. properties.
        projection: String,
    },
    /// Events projections could not apply.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Where each projection stands: position, lag, dead letters.
    Projections,
    /// What auditors ask of the log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Data-protection requests about a person (right of access, …).
    #[command(subcommand)]
    Privacy(super::privacy::PrivacyCommand),
}

/// What `deedlog seed` creates.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Tenants (brokerages) to create, 1 to 1000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub tenants: u32,
    /// Properties in all, spread evenly over the tenants: 1 to 10000000, at least --tenants.
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub properties: u64,
    /// Seed of the generator: the same seed makes the same data under the same command ids.
    #[arg(long, value_name = "U64", default_value_t = deedlog_seed::DEFAULT_SEED)]
    pub seed: u64,
    /// Property stories sent at once, 1 to 512.
    #[arg(long, value_name = "C", default_value_t = deedlog_seed::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Every event of a record, oldest first (password hashes and token
    /// ids in credentials events read "[redacted]").
    History {
        /// The record's id (property, deal, contact or tenant).
        record: String,
    },
    /// A record's state as the log knew it at an instant (JSON).
    AsOf {
        /// The record's id.
        record: String,
        /// RFC 3339 with an offset (2026-11-30T10:15:00Z) or a date (midnight UTC).
        instant: String,
    },
    /// A tenant's events recorded in [--from, --to), streamed to standard
    /// output (credentials events with their secrets redacted, as in history).
    Export {
        /// The tenant's id.
        #[arg(long)]
        tenant: String,
        /// First instant (inclusive).
        #[arg(long)]
        from: String,
        /// Last instant (exclusive).
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: crate::audit::ExportFormat,
        /// Also write the signed head the export is consistent with (JSON)
        /// to this file; `deedlog audit consistency` later shows the log
        /// still extends it.
        #[arg(long, value_name = "FILE")]
        head: Option<String>,
    },
    /// Checks the log against its seals (ADR 0037): every event as stored,
    /// every Merkle root, the chain of heads and every signature. Exits 0
    /// and prints the verified range and head when intact; exits 1 naming
    /// the first bad position and what is wrong.
    Verify {
        /// Only this tenant's events (the others by their sealed hashes).
        #[arg(long)]
        tenant: Option<String>,
        /// First position to check.
        #[arg(long)]
        from: Option<u64>,
        /// Last position to check.
        #[arg(long)]
        to: Option<u64>,
        /// A public key to trust besides the configured ones (32 bytes in
        /// base64); repeatable.
        #[arg(long = "public-key", value_name = "KEY")]
        public_keys: Vec<String>,
    },
    /// The inclusion proof of the event at a position (JSON, format
    /// deedlog.audit-proof/1, see docs/audit-proofs.md).
    Proof { position: u64 },
    /// Checks an inclusion proof offline with the sealing key's public
    /// half; exits 0 when it holds, 1 naming what failed.
    VerifyProof {
        /// The proof's file (`-`: standard input).
        file: String,
        /// The public key (32 bytes in base64; `deedlog audit sealing-key` prints one).
        #[arg(long = "public-key", value_name = "KEY")]
        public_key: String,
    },
    /// Makes a new sealing key: prints `sealing.key` and its public key.
    SealingKey,
    /// The chain of signed heads from an older head (a file written by
    /// `export --head`) to the log's newest (JSON, format
    /// deedlog.consistency-proof/1); exits 1 when the log no longer holds
    /// that head, i.e. sealed history was rewritten since.
    Consistency {
        /// The older head's file.
        head: String,
    },
    /// Checks a consistency proof offline: it starts at the older head and
    /// every later head is chained and signed; exits 0 when it holds.
    VerifyConsistency {
        /// The proof's file.
        proof: String,
        /// The older head's file.
        #[arg(long, value_name = "FILE")]
        head: String,
        /// A public key the heads may be signed with (32 bytes in base64); repeatable.
        #[arg(long = "public-key", value_name = "KEY", required = true)]
        public_keys: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List pending dead letters (all with --all).
    List {
        /// Only this projection's.
        #[arg(long)]
        projection: Option<String>,
        /// Replayed and skipped ones too.
        #[arg(long)]
        all: bool,
    },
    /// Apply a dead-lettered event again (after a fix).
    Replay {
        /// The dead letter's id, from `deedlog dlq list`.
        id: i64,
    },
    /// Give up on a dead-lettered event for good.
    Skip {
        /// The dead letter's id, from `deedlog dlq list`.
        id: i64,
    },
}

/// What `deedlog up` loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeedArg {
    Demo,
    None,
}

/// Where a projector reads events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    Log,
    Kafka,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new Ed25519 signing key (PKCS#8 PEM) and its public key, for
    /// `auth.signing_key` and other components' `auth.public_keys`.
    Generate {
        /// The key id written into tokens (default: derived from the public key).
        #[arg(long)]
        kid: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective settings (secrets redacted), or name the invalid key.
    Check,
}
