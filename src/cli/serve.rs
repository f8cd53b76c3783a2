//! `deedlog up` and `deedlog serve`: build components, say where they
//! listen, and serve until a signal.

use anyhow::Context;
use deedlog_cluster::{Cluster, Component};
use deedlog_runtime::settings::{Environment, Settings};
use std::path::PathBuf;

/// `deedlog up`: every component in one process, on the configured
/// database or on a private PostgreSQL in `data_dir`.
pub(super) async fn up(
    settings: Settings,
    demo: bool,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        data_dir.is_none() || settings.environment != Environment::Production,
        "--data-dir refuses environment = \"production\": its private PostgreSQL lets \
         anyone on this machine in as superuser (trust authentication on 127.0.0.1); \
         give database.url of a server you run instead"
    );
    let telemetry = deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry)?;
    let mut components = Component::ALL.to_vec();
    if settings.kafka.enabled() {
        components.push(Component::Relay);
    }
    // Before a private server starts: a signal during its start
    // stops it too.
    let shutdown = deedlog_runtime::shutdown_on_signals();
    let served = match data_dir {
        Some(dir) => up_on_private_postgres(settings, &dir, &components, demo, shutdown).await,
        None => serve(&settings, &components, true, demo, shutdown)
            .await
            .map_err(|error| crate::private_pg::explain(error, &settings.redacted_database_url())),
    };
    telemetry.shutdown().await;
    served
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
pub(super) async fn serve(
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
