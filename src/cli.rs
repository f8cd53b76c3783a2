//! Command-line surface: global settings flags and the subcommands.

use crate::operate;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use deedlog_cluster::{Cluster, Component};
use deedlog_runtime::settings::{Overrides, Settings};
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
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
        component: ServeTarget,
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

/// The components `deedlog serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServeTarget {
    Tenancy,
    Properties,
    Deals,
    Communications,
    Projector,
    Gateway,
    /// Publishes the log to Kafka (needs kafka.brokers).
    Relay,
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

impl From<ServeTarget> for Component {
    fn from(target: ServeTarget) -> Self {
        match target {
            ServeTarget::Tenancy => Component::Tenancy,
            ServeTarget::Properties => Component::Properties,
            ServeTarget::Deals => Component::Deals,
            ServeTarget::Communications => Component::Communications,
            ServeTarget::Projector => Component::Projector,
            ServeTarget::Gateway => Component::Gateway,
            ServeTarget::Relay => Component::Relay,
        }
    }
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

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let projector_source = match &cli.command {
        Command::Serve {
            component,
            source: Some(source),
        } => {
            if *component != ServeTarget::Projector {
                anyhow::bail!("--source applies to `deedlog serve projector` only");
            }
            Some(match source {
                SourceArg::Log => "log".to_owned(),
                SourceArg::Kafka => "kafka".to_owned(),
            })
        }
        _ => None,
    };
    if let Command::Up {
        data_dir: Some(_), ..
    } = &cli.command
    {
        anyhow::ensure!(
            cli.global.database_url.is_none(),
            "--data-dir runs a private PostgreSQL and points database.url at it: leave out \
             --database-url, or leave out --data-dir to use the server at that URL"
        );
    }
    let overrides = Overrides {
        database_url: cli.global.database_url,
        log_format: cli.global.log_format,
        log_filter: cli.global.log_filter,
        projector_source,
    };
    let settings = Settings::load(cli.global.config.as_deref(), &overrides)?;
    match cli.command {
        Command::Config(ConfigCommand::Check) => {
            print!("{}", describe(&settings));
            Ok(())
        }
        Command::Keys(KeysCommand::Generate { kid }) => {
            if let Some(kid) = &kid {
                let valid = !kid.is_empty()
                    && kid.len() <= 64
                    && kid
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                anyhow::ensure!(
                    valid,
                    "--kid {kid:?} is not a key id: 1 to 64 letters, digits, '-', '_' or '.'"
                );
            }
            let pair = deedlog_runtime::auth::KeyPair::generate(kid)?;
            println!("# kid: {}", pair.kid);
            print!("{}", pair.private_pem()?.expose_secret());
            print!("{}", pair.public_pem()?);
            Ok(())
        }
        Command::Migrate => {
            let _telemetry = deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry)?;
            migrate(&settings).await
        }
        Command::Up {
            seed,
            no_demo,
            data_dir,
        } => {
            anyhow::ensure!(
                data_dir.is_none()
                    || settings.environment != deedlog_runtime::settings::Environment::Production,
                "--data-dir refuses environment = \"production\": its private PostgreSQL lets \
                 anyone on this machine in as superuser (trust authentication on 127.0.0.1); \
                 give database.url of a server you run instead"
            );
            let telemetry = deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry)?;
            let mut components = Component::ALL.to_vec();
            if settings.kafka.enabled() {
                components.push(Component::Relay);
            }
            let demo = seed == SeedArg::Demo && !no_demo;
            // Before a private server starts: a signal during its start
            // stops it too.
            let shutdown = deedlog_runtime::shutdown_on_signals();
            let served = match data_dir {
                Some(dir) => {
                    up_on_private_postgres(settings, &dir, &components, demo, shutdown).await
                }
                None => serve(&settings, &components, true, demo, shutdown)
                    .await
                    .map_err(|error| {
                        crate::private_pg::explain(error, &settings.redacted_database_url())
                    }),
            };
            telemetry.shutdown().await;
            served
        }
        Command::Seed(args) => {
            // Before anything is written: no database is created for a refused run.
            anyhow::ensure!(
                args.properties >= u64::from(args.tenants),
                "--properties {} is fewer than --tenants {}: every tenant needs at least one property",
                args.properties,
                args.tenants
            );
            anyhow::ensure!(
                settings.environment != deedlog_runtime::settings::Environment::Production,
                "deedlog seed refuses environment = \"production\": it writes made-up tenants, \
                 people and messages into a log that keeps every event forever"
            );
            let telemetry = deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry)?;
            let seeded = crate::seed::run(&settings, &args).await;
            telemetry.shutdown().await;
            seeded
        }
        Command::Serve { component, .. } => {
            let telemetry = deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry)?;
            let shutdown = deedlog_runtime::shutdown_on_signals();
            let served = serve(&settings, &[component.into()], false, false, shutdown).await;
            telemetry.shutdown().await;
            served
        }
        Command::Rebuild { projection } => operate::rebuild(&settings, &projection).await,
        Command::Reconcile { projection } => operate::reconcile(&settings, &projection).await,
        Command::Dlq(DlqCommand::List { projection, all }) => {
            operate::dlq_list(&settings, projection.as_deref(), all).await
        }
        Command::Dlq(DlqCommand::Replay { id }) => operate::dlq_replay(&settings, id).await,
        Command::Dlq(DlqCommand::Skip { id }) => operate::dlq_skip(&settings, id).await,
        Command::Projections => operate::status(&settings).await,
        Command::Audit(command) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match command {
                AuditCommand::History { record } => {
                    crate::audit::history(&settings, &record, &mut out).await
                }
                AuditCommand::AsOf { record, instant } => {
                    crate::audit::as_of(&settings, &record, &instant, &mut out).await
                }
                AuditCommand::Export {
                    tenant,
                    from,
                    to,
                    format,
                } => {
                    let count =
                        crate::audit::export(&settings, &tenant, &from, &to, format, &mut out)
                            .await?;
                    eprintln!("exported {count} events");
                    Ok(())
                }
            }
        }
    }
}

/// `up` on a private PostgreSQL in `dir`: starts it, serves on it, and
/// stops it however serving ends.
async fn up_on_private_postgres(
    mut settings: Settings,
    dir: &std::path::Path,
    components: &[Component],
    demo: bool,
    shutdown: deedlog_runtime::CancellationToken,
) -> anyhow::Result<()> {
    let dir = dir.to_owned();
    let started = tokio::task::spawn_blocking(move || crate::private_pg::start(&dir))
        .await
        .context("the PostgreSQL start panicked")??;
    println!("{}", started.describe());
    settings.database.url = started.server.url(crate::private_pg::DATABASE).into();
    let served = serve(&settings, components, true, demo, shutdown).await;
    let stopped = tokio::task::spawn_blocking(move || started.server.stop())
        .await
        .context("the PostgreSQL stop panicked")?;
    match (served, stopped) {
        (Ok(()), stopped) => stopped.context("stop the private PostgreSQL"),
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(stop)) => {
            tracing::error!(error = format!("{stop:#}"), "stop the private postgresql");
            Err(error)
        }
    }
}

/// Builds `components`, prints where they listen, and serves until
/// `shutdown` (SIGINT/SIGTERM) is cancelled, which may come during the build.
async fn serve(
    settings: &Settings,
    components: &[Component],
    migrate: bool,
    demo: bool,
    shutdown: deedlog_runtime::CancellationToken,
) -> anyhow::Result<()> {
    let cluster = tokio::select! {
        built = Cluster::build(settings, components, migrate) => built?,
        () = shutdown.cancelled() => {
            tracing::info!("stopped before start");
            return Ok(());
        }
    };
    for (component, addr) in cluster.addresses() {
        if component == Component::Gateway {
            println!(
                "{component:<15} http://{addr}/graphql (subscriptions ws://{addr}/graphql/ws)"
            );
        } else {
            println!("{component:<15} grpc://{addr}");
        }
    }
    if components.contains(&Component::Projector) {
        let names: Vec<&str> = deedlog_projector::projections::all()
            .iter()
            .map(|p| p.name())
            .collect();
        println!(
            "projector       read models {} (schemas rm_*; `deedlog projections` shows lag) from {}",
            names.join(", "),
            match settings.projector.source {
                deedlog_runtime::settings::ProjectorSource::Log => "the log".to_owned(),
                deedlog_runtime::settings::ProjectorSource::Kafka => format!(
                    "Kafka topic {} as group {}",
                    settings.kafka.topic, settings.kafka.group_id
                ),
            }
        );
    }
    if let Some(addr) = cluster.service_metrics_addr() {
        println!("services        metrics http://{addr}/metrics");
    }
    if let Some(addr) = cluster.projector_metrics_addr() {
        println!("projector       metrics http://{addr}/metrics");
    }
    if settings.telemetry.exporting() {
        println!(
            "traces          OTLP to {} as {:?}",
            settings.telemetry.otlp_endpoint, settings.telemetry.service_name
        );
    }
    if components.contains(&Component::Relay) {
        println!(
            "relay           log -> Kafka {} topic {} ({} partitions)",
            settings.kafka.brokers, settings.kafka.topic, settings.kafka.partitions
        );
    }
    println!("database        {}", settings.redacted_database_url());
    let addr = |c| {
        cluster
            .address(c)
            .context("every command service runs in `up`")
    };
    let services = if demo {
        Some((
            addr(Component::Tenancy)?,
            addr(Component::Properties)?,
            addr(Component::Deals)?,
            addr(Component::Communications)?,
        ))
    } else {
        None
    };
    let running = tokio::spawn(cluster.run_until_stopped(shutdown.clone()));
    if let Some((t, p, d, c)) = services {
        use deedlog_seed::demo;
        if let Err(error) = demo::seed(t, p, d, c).await {
            shutdown.cancel();
            let _ = running.await;
            return Err(error.context("load the demo data"));
        }
        println!(
            "demo tenant     slug {:?}: admin {} / agent {}, password {:?}",
            demo::SLUG,
            demo::ADMIN_EMAIL,
            demo::AGENT_EMAIL,
            demo::PASSWORD
        );
    }
    running.await.context("the cluster task panicked")??;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let options: PgConnectOptions = settings
        .database
        .url
        .expose_secret()
        .parse()
        .context("parse database.url")?;
    let database = options.get_database().unwrap_or("postgres").to_owned();
    let created = deedlog_eventstore::ensure_database(&options)
        .await
        .with_context(|| settings.at_database(&format!("prepare database {database}")))?;
    let applied = deedlog_eventstore::migrate(&options)
        .await
        .with_context(|| format!("migrate database {database}"))?
        + deedlog_projector::migrate::migrate(&options)
            .await
            .with_context(|| format!("migrate the read models in {database}"))?;
    println!(
        "database {database}: {}; {applied} migration(s) applied",
        if created { "created" } else { "exists" }
    );
    Ok(())
}

/// The effective settings as TOML-like text, with secrets redacted.
fn describe_gateway(g: &deedlog_runtime::settings::GatewaySettings) -> String {
    let mut text = format!(
        "\n[gateway]\nlisten = \"{}\"\nproperties_url = {:?}\ndeals_url = {:?}\n\
         communications_url = {:?}\ncors_origins = {:?}\ngraphiql = {}\nmax_body_bytes = {}\n\
         request_timeout_ms = {}\nmax_depth = {}\nmax_complexity = {}\nrate_limit_per_user = {}\n\
         rate_limit_per_ip = {}\nmax_wait_ms = {}\n",
        g.listen,
        g.properties_url,
        g.deals_url,
        g.communications_url,
        g.cors_origins,
        g.graphiql,
        g.max_body_bytes,
        g.request_timeout_ms,
        g.max_depth,
        g.max_complexity,
        g.rate_limit_per_user,
        g.rate_limit_per_ip,
        g.max_wait_ms,
    );
    for (name, p) in &g.webhooks {
        text += &format!(
            "\n[gateway.webhooks.{name}]\nsecret = \"***\"\ntenant_slug = {:?}\nemail = {:?}\npassword = \"***\"\n",
            p.tenant_slug, p.email
        );
    }
    text
}

fn describe(settings: &Settings) -> String {
    let db = &settings.database;
    let sub = &settings.subscription;
    let auth = &settings.auth;
    let svc = &settings.services;
    let redacted = |set: bool| if set { "\"***\"" } else { "(not set)" };
    let kids: Vec<&str> = auth.public_keys.iter().map(|k| k.kid.as_str()).collect();
    format!(
        "environment = {:?}\n\n\
         [database]\nurl = {:?}\nmax_connections = {}\nacquire_timeout_ms = {}\napp_role = {:?}\nreader_role = {:?}\n\n\
         [log]\nformat = {:?}\nfilter = {:?}\n\n\
         [subscription]\nbatch_size = {}\npoll_interval_ms = {}\n\n\
         [auth]\nissuer = {:?}\naudience = {:?}\naccess_ttl_s = {}\nrefresh_ttl_s = {}\ninvitation_ttl_s = {}\n\
         signing_key = {}\nsigning_key_file = {:?}\nkid = {:?}\npublic_keys = {:?}\n\n\
         [services]\ntenancy_listen = \"{}\"\nproperties_listen = \"{}\"\ndeals_listen = \"{}\"\n\
         communications_listen = \"{}\"\nmetrics_listen = {:?}\ntenancy_url = {:?}\ntenant_cache_ttl_ms = {}\nconflict_retries = {}\nstate_cache_records = {}\n\
         login_failures_per_address = {}\nlogin_failure_window_s = {}\ntrusted_proxies = {:?}\n",
        format!("{:?}", settings.environment).to_lowercase(),
        settings.redacted_database_url(),
        db.max_connections,
        db.acquire_timeout_ms,
        db.app_role,
        db.reader_role,
        format!("{:?}", settings.log.format).to_lowercase(),
        settings.log.filter,
        sub.batch_size,
        sub.poll_interval_ms,
        auth.issuer,
        auth.audience,
        auth.access_ttl_s,
        auth.refresh_ttl_s,
        auth.invitation_ttl_s,
        redacted(auth.signing_key.is_some()),
        auth.signing_key_file.as_deref().unwrap_or(""),
        auth.kid.as_deref().unwrap_or(""),
        kids,
        svc.tenancy_listen,
        svc.properties_listen,
        svc.deals_listen,
        svc.communications_listen,
        svc.metrics_listen,
        svc.tenancy_url,
        svc.tenant_cache_ttl_ms,
        svc.conflict_retries,
        svc.state_cache_records,
        svc.login_failures_per_address,
        svc.login_failure_window_s,
        svc.trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    ) + &format!(
        "\n[projector]\nbatch_size = {}\nrebuild_batch_size = {}\nbackoff_min_ms = {}\n\
         backoff_max_ms = {}\nlease_interval_ms = {}\nlinger_ms = {}\nsource = \"{}\"\nmetrics_listen = {:?}\n\
         verify_interval_s = {}\n",
        settings.projector.batch_size,
        settings.projector.rebuild_batch_size,
        settings.projector.backoff_min_ms,
        settings.projector.backoff_max_ms,
        settings.projector.lease_interval_ms,
        settings.projector.linger_ms,
        match settings.projector.source {
            deedlog_runtime::settings::ProjectorSource::Log => "log",
            deedlog_runtime::settings::ProjectorSource::Kafka => "kafka",
        },
        settings.projector.metrics_listen,
        settings.projector.verify_interval_s,
    ) + &describe_gateway(&settings.gateway)
        + &describe_kafka(&settings.kafka)
        + &format!(
            "\n[telemetry]\notlp_endpoint = {:?}\nservice_name = {:?}\nsample_ratio = {:?}\nexport_interval_ms = {}\n",
            settings.telemetry.otlp_endpoint,
            settings.telemetry.service_name,
            settings.telemetry.sample_ratio,
            settings.telemetry.export_interval_ms,
        )
}

fn describe_kafka(k: &deedlog_runtime::settings::KafkaSettings) -> String {
    let table = |entries: &std::collections::BTreeMap<String, String>| {
        entries
            .iter()
            .map(|(key, value)| format!("{key:?} = {value:?}\n"))
            .collect::<String>()
    };
    format!(
        "\n[kafka]\nbrokers = {:?}{}\ntopic = {:?}\npartitions = {}\nreplication_factor = {}\n\
         create_topic = {}\nclient_id = {:?}\ngroup_id = {:?}\nrelay_name = {:?}\n\
         max_in_flight = {}\nprogress_interval_ms = {}\nwatermark_interval_ms = {}\n\
         startup_timeout_ms = {}\n\
         relay_metrics_listen = {:?}\n\n[kafka.producer]\n{}\n[kafka.consumer]\n{}",
        k.brokers,
        if k.enabled() {
            ""
        } else {
            "  # off: no relay, projectors read the log"
        },
        k.topic,
        k.partitions,
        k.replication_factor,
        k.create_topic,
        k.client_id,
        k.group_id,
        k.relay_name,
        k.max_in_flight,
        k.progress_interval_ms,
        k.watermark_interval_ms,
        k.startup_timeout_ms,
        k.relay_metrics_listen,
        table(&k.producer),
        table(&k.consumer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("deedlog").chain(args.iter().copied()))
    }

    #[test]
    fn unknown_subcommand_is_refused_with_the_choices() {
        let message = parse(&["migrat"]).expect_err("typo refused").to_string();
        assert!(message.contains("migrate"), "{message}");
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = parse(&["migrate", "--database-url", "postgres://x@y/z"]).expect("parses");
        assert_eq!(cli.global.database_url.as_deref(), Some("postgres://x@y/z"));
    }

    #[test]
    fn flag_without_value_is_refused() {
        assert!(parse(&["migrate", "--database-url"]).is_err());
    }

    #[tokio::test]
    async fn invalid_flag_value_names_the_key() {
        let cli = parse(&["config", "check", "--log-format", "yaml"]).expect("parses");
        let message = run(cli).await.expect_err("yaml refused").to_string();
        assert!(
            message.contains("log.format") && message.contains("pretty, json"),
            "{message}"
        );
    }

    #[test]
    fn up_seeds_the_demo_unless_told_otherwise() {
        for (args, demo) in [
            (vec!["up"], true),
            (vec!["up", "--seed", "demo"], true),
            (vec!["up", "--seed", "none"], false),
            (vec!["up", "--no-demo"], false),
        ] {
            let Command::Up { seed, no_demo, .. } = parse(&args).expect("parses").command else {
                panic!("{args:?} is up");
            };
            assert_eq!(seed == SeedArg::Demo && !no_demo, demo, "{args:?}");
        }
        let message = parse(&["up", "--seed", "huge"])
            .expect_err("unknown")
            .to_string();
        assert!(
            message.contains("demo") && message.contains("none"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn up_takes_a_data_dir_but_not_with_a_database_url() {
        let Command::Up { data_dir, .. } = parse(&["up", "--data-dir", "pg data"])
            .expect("parses")
            .command
        else {
            panic!("up is up");
        };
        assert_eq!(data_dir, Some(PathBuf::from("pg data")));
        let Command::Up { data_dir, .. } = parse(&["up"]).expect("parses").command else {
            panic!("up is up");
        };
        assert_eq!(data_dir, None);
        assert!(parse(&["up", "--data-dir"]).is_err(), "DIR is required");
        let cli = parse(&[
            "up",
            "--data-dir",
            "/nonexistent/pg",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/deedlog",
        ])
        .expect("parses");
        let message = format!("{:#}", run(cli).await.expect_err("both refused"));
        assert!(message.contains("leave out --database-url"), "{message}");
    }

    #[test]
    fn seed_takes_tenants_and_properties_with_defaults_for_the_rest() {
        let cli = parse(&["seed", "--tenants", "2", "--properties", "40"]).expect("parses");
        let Command::Seed(args) = cli.command else {
            panic!("seed is seed");
        };
        assert_eq!((args.tenants, args.properties), (2, 40));
        assert_eq!(args.seed, deedlog_seed::DEFAULT_SEED);
        assert_eq!(args.concurrency, 32);
        for (tenants, properties, concurrency, flag) in [
            ("1001", "2000", "8", "--tenants"),
            ("2", "10000001", "8", "--properties"),
            ("2", "40", "513", "--concurrency"),
        ] {
            let args = [
                "seed",
                "--tenants",
                tenants,
                "--properties",
                properties,
                "--concurrency",
                concurrency,
            ];
            let message = parse(&args).expect_err("out of range").to_string();
            assert!(
                message.contains(flag) && message.contains("is not in"),
                "{message}"
            );
        }
    }

    #[tokio::test]
    async fn source_applies_to_the_projector_only_and_kafka_needs_brokers() {
        let cli = parse(&["serve", "gateway", "--source", "kafka"]).expect("parses");
        let message = format!("{:#}", run(cli).await.expect_err("not a projector"));
        assert!(
            message.contains("--source applies to `deedlog serve projector`"),
            "{message}"
        );
        let cli = parse(&[
            "serve",
            "projector",
            "--source",
            "kafka",
            "--log-filter",
            "off",
        ])
        .expect("parses");
        let message = format!("{:#}", run(cli).await.expect_err("no brokers"));
        assert!(message.contains("projector.source"), "{message}");
        assert!(message.contains("kafka.brokers"), "{message}");
        let message = parse(&["serve", "projector", "--source", "pulsar"])
            .expect_err("unknown source")
            .to_string();
        assert!(
            message.contains("log") && message.contains("kafka"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn migrate_to_an_unreachable_server_says_so() {
        // Port 1 on loopback: nothing listens there.
        let cli = parse(&[
            "migrate",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/x",
            "--log-filter",
            "off",
        ])
        .expect("parses");
        let message = format!("{:#}", run(cli).await.expect_err("no server"));
        assert!(message.contains("prepare database x"), "{message}");
        assert!(message.contains("unreachable"), "{message}");
    }

    #[tokio::test]
    async fn migrate_creates_and_migrates_a_database_once() {
        let name = format!("deedlog_cli_{}", std::process::id());
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let admin: PgConnectOptions = "postgres://postgres@127.0.0.1:5432/postgres"
            .parse()
            .expect("url");
        for _ in 0..2 {
            let cli =
                parse(&["migrate", "--database-url", &url, "--log-filter", "off"]).expect("parses");
            run(cli)
                .await
                .expect("migrate succeeds, the second time with nothing to do");
        }
        let options: PgConnectOptions = url.parse().expect("url");
        let mut conn = sqlx::ConnectOptions::connect(&options)
            .await
            .expect("database exists");
        let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .expect("migrations table");
        assert_eq!(
            applied as usize,
            deedlog_eventstore::MIGRATOR.iter().count()
        );
        let read_models: i64 =
            sqlx::query_scalar("SELECT count(*) FROM deedlog_read._sqlx_migrations")
                .fetch_one(&mut conn)
                .await
                .expect("read-model migrations table");
        assert_eq!(
            read_models as usize,
            deedlog_projector::migrate::MIGRATOR.iter().count()
        );
        drop(conn);
        let mut admin = sqlx::ConnectOptions::connect(&admin).await.expect("admin");
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop");
    }

    /// A freshly migrated database of its own, dropped by the returned guard.
    async fn migrated_database(tag: &str) -> (String, DropDatabase) {
        let name = format!("deedlog_cli_{tag}_{}", std::process::id());
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let cli =
            parse(&["migrate", "--database-url", &url, "--log-filter", "off"]).expect("parses");
        run(cli).await.expect("migrate");
        (url, DropDatabase(name))
    }

    struct DropDatabase(String);

    impl Drop for DropDatabase {
        fn drop(&mut self) {
            let name = self.0.clone();
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let admin: PgConnectOptions = "postgres://postgres@127.0.0.1:5432/postgres"
                        .parse()
                        .expect("url");
                    let mut conn = sqlx::ConnectOptions::connect(&admin).await.expect("admin");
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                });
            })
            .join();
        }
    }

    #[tokio::test]
    async fn operations_on_an_unknown_projection_name_the_known_ones() {
        for args in [
            &["rebuild", "propertys"][..],
            &["reconcile", "deal"][..],
            &["dlq", "list", "--projection", "nope"][..],
        ] {
            // Refused before connecting: the database URL is never used.
            let mut full = args.to_vec();
            full.extend(["--database-url", "postgres://nobody@127.0.0.1:1/none"]);
            let error = run(parse(&full).expect("parses"))
                .await
                .expect_err("refused");
            let message = format!("{error:#}");
            assert!(message.contains("unknown projection"), "{message}");
            assert!(message.contains("properties"), "{message}");
        }
    }

    #[tokio::test]
    async fn dead_letter_commands_name_a_missing_id_and_change_nothing() {
        let (url, _guard) = migrated_database("dlq").await;
        for args in [&["dlq", "replay", "42"][..], &["dlq", "skip", "42"][..]] {
            let mut full = args.to_vec();
            full.extend(["--database-url", url.as_str()]);
            let error = run(parse(&full).expect("parses"))
                .await
                .expect_err("refused");
            assert!(
                format!("{error:#}").contains("no dead letter with id 42"),
                "{error:#}"
            );
        }
        let not_a_number = parse(&["dlq", "replay", "forty-two"]).expect_err("refused");
        assert!(
            not_a_number.to_string().contains("forty-two"),
            "{not_a_number}"
        );
        let list = parse(&["dlq", "list", "--database-url", &url]).expect("parses");
        run(list).await.expect("an empty list is fine");
    }

    #[tokio::test]
    async fn reconcile_before_the_projector_ran_says_so_and_records_the_failed_run() {
        let (url, _guard) = migrated_database("reconcile").await;
        let cli = parse(&["reconcile", "properties", "--database-url", &url]).expect("parses");
        let error = run(cli).await.expect_err("no live model yet");
        assert!(
            format!("{error:#}").contains("no live read model"),
            "{error:#}"
        );
        let options: PgConnectOptions = url.parse().expect("url");
        let mut conn = sqlx::ConnectOptions::connect(&options)
            .await
            .expect("connect");
        let status: String =
            sqlx::query_scalar("SELECT status FROM deedlog_read.reconciliation_runs")
                .fetch_one(&mut conn)
                .await
                .expect("one run");
        assert_eq!(status, "failed");
    }

    #[tokio::test]
    async fn rebuild_against_an_unreachable_database_says_so() {
        let cli = parse(&[
            "rebuild",
            "properties",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/deedlog",
        ])
        .expect("parses");
        let error = run(cli).await.expect_err("unreachable");
        assert!(format!("{error:#}").contains("127.0.0.1:1"), "{error:#}");
    }

    #[test]
    fn config_check_redacts_the_password() {
        let settings = Settings::from_figment(
            Settings::figment(
                None,
                &Overrides {
                    database_url: Some("postgres://app:s3cret@db/deedlog".into()),
                    ..Overrides::default()
                },
            )
            .expect("figment"),
        )
        .expect("valid");
        let text = describe(&settings);
        assert!(text.contains("postgres://app:***@db/deedlog"), "{text}");
        assert!(!text.contains("s3cret"));
    }

    #[test]
    fn config_check_redacts_the_signing_key() {
        let pair = deedlog_runtime::auth::KeyPair::generate(None).expect("key");
        let pem = pair.private_pem().expect("pem");
        let figment = Settings::figment(None, &Overrides::default())
            .expect("figment")
            .merge(("auth.signing_key", pem.expose_secret().to_owned()));
        let text = describe(&Settings::from_figment(figment).expect("valid"));
        assert!(text.contains("signing_key = \"***\""), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        assert!(
            text.contains("tenancy_listen = \"127.0.0.1:7101\""),
            "{text}"
        );
    }

    #[test]
    fn config_check_redacts_webhook_secrets_and_shows_the_gateway() {
        let figment = Settings::figment(None, &Overrides::default())
            .expect("figment")
            .merge(("gateway.webhooks.mailer.secret", "whsec-very-secret"))
            .merge(("gateway.webhooks.mailer.tenant_slug", "berg"))
            .merge(("gateway.webhooks.mailer.email", "mailer@berg.example"))
            .merge(("gateway.webhooks.mailer.password", "integration-password"));
        let text = describe(&Settings::from_figment(figment).expect("valid"));
        assert!(text.contains("[gateway.webhooks.mailer]"), "{text}");
        assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
        assert!(!text.contains("whsec-very-secret"), "{text}");
        assert!(!text.contains("integration-password"), "{text}");
    }

    #[tokio::test]
    async fn serve_refuses_an_unknown_component_with_the_choices() {
        let message = parse(&["serve", "mailroom"])
            .expect_err("not a component")
            .to_string();
        assert!(
            message.contains("tenancy")
                && message.contains("communications")
                && message.contains("gateway"),
            "{message}"
        );
    }
}
