//! Runs a parsed command line: settings from the global flags, then the
//! subcommand.

use super::args::{
    AuditCommand, Cli, Command, ConfigCommand, DlqCommand, KeysCommand, SeedArg, SourceArg,
};
use super::{config, keys, migrate, privacy, serve};
use crate::operate;
use deedlog_cluster::Component;
use deedlog_runtime::settings::{Overrides, Settings};

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let projector_source = match &cli.command {
        Command::Serve {
            component,
            source: Some(source),
        } => {
            if *component != Component::Projector {
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
            print!("{}", config::describe(&settings)?);
            Ok(())
        }
        Command::Keys(KeysCommand::Generate { kid }) => keys::generate(kid),
        Command::Migrate => {
            let _telemetry = deedlog_runtime::telemetry::init(&settings.log, &settings.telemetry)?;
            migrate::migrate(&settings).await
        }
        Command::Up {
            seed,
            no_demo,
            data_dir,
        } => serve::up(settings, seed == SeedArg::Demo && !no_demo, data_dir).await,
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
            let served = serve::serve(&settings, &[component], false, false, shutdown).await;
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
        Command::Privacy(command) => privacy::run(&settings, command).await,
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
                AuditCommand::Verify {
                    tenant,
                    from,
                    to,
                    public_keys,
                } => {
                    let scope = (tenant.as_deref(), from, to);
                    super::seal::verify(&settings, scope, &public_keys, &mut out).await
                }
                AuditCommand::Proof { position } => {
                    super::seal::proof(&settings, position, &mut out).await
                }
                AuditCommand::VerifyProof { file, public_key } => {
                    super::seal::verify_proof(&file, &public_key, &mut out)
                }
                AuditCommand::SealingKey => super::seal::sealing_key(&mut out),
                AuditCommand::Consistency { head } => {
                    super::seal::consistency(&settings, &head, &mut out).await
                }
                AuditCommand::VerifyConsistency {
                    proof,
                    head,
                    public_keys,
                } => super::seal::verify_consistency(&proof, &head, &public_keys, &mut out),
                AuditCommand::Export {
                    tenant,
                    from,
                    to,
                    format,
                    head,
                } => {
                    let count =
                        crate::audit::export(&settings, &tenant, &from, &to, format, &mut out)
                            .await?;
                    eprintln!("exported {count} events");
                    match head {
                        Some(file) => super::seal::write_head(&settings, &file).await,
                        None => Ok(()),
                    }
                }
            }
        }
    }
}
