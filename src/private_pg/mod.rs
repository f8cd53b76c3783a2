//! A private PostgreSQL for `deedlog up --data-dir DIR`, for machines where
//! PostgreSQL is installed but no server runs: `up` makes a cluster in DIR
//! (once), runs its server on a free loopback port for as long as it runs
//! itself, and stops it on the way out (ADR 0020). Also the advice `up`
//! gives when the configured database does not answer.

mod binaries;
mod data_dir;
mod install;
mod postmaster;
mod server;
mod user;

pub use binaries::{Binaries, Search, BINDIR_VAR};
pub use install::install_hint;
pub use server::{Server, LOG_FILE};

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The database `up` uses on a private server.
pub const DATABASE: &str = "deedlog";

/// A private server that runs, and how it came to.
#[derive(Debug)]
pub struct Started {
    pub server: Server,
    /// The data directory, absolute.
    pub dir: PathBuf,
    /// `initdb` made the cluster now (not an earlier run).
    pub created: bool,
    /// The server was left running by an earlier `up` and taken over.
    pub adopted: bool,
    pub version: String,
}

impl Started {
    /// The line `up` prints about the server.
    pub fn describe(&self) -> String {
        format!(
            "postgres        PostgreSQL {} on 127.0.0.1:{} with data in {} ({}), log {}",
            self.version,
            self.server.port(),
            self.dir.display(),
            if self.adopted {
                "left running by an earlier run, taken over"
            } else if self.created {
                "created now"
            } else {
                "kept from an earlier run"
            },
            self.dir.join(LOG_FILE).display()
        )
    }
}

/// Prepares `dir` and starts its server (blocking: initdb and the start
/// take a second or two).
pub fn start(dir: &Path) -> anyhow::Result<Started> {
    let dir = data_dir::absolute(dir)?;
    // What is wrong with the directory is worth saying before what is missing.
    let contents = data_dir::inspect(&dir)?;
    let binaries = Search::from_env().find().map_err(|missing| {
        anyhow::anyhow!(
            "--data-dir runs a private PostgreSQL, but {missing}. Install them ({}), or set \
             {BINDIR_VAR} to the directory that holds them; or, instead of --data-dir, give \
             the URL of a PostgreSQL server that runs: database.url in the --config file, \
             DEEDLOG__DATABASE__URL or --database-url",
            install_hint()
        )
    })?;
    let version = binaries.version()?;
    let run_as = user::RunAs::detect()?;
    let created = data_dir::prepare(&dir, contents, &binaries, &run_as)?;
    let (server, adopted) = Server::start(&dir, &binaries, &run_as)
        .with_context(|| format!("start PostgreSQL on --data-dir {}", dir.display()))?;
    tracing::info!(
        dir = %dir.display(),
        port = server.port(),
        created,
        adopted,
        "private postgresql running"
    );
    Ok(Started {
        server,
        dir,
        created,
        adopted,
        version,
    })
}

/// Whether `error` says that nothing listens where the database should be
/// (connection refused, or a Unix socket that does not exist).
pub fn is_refused(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Io(io)) if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            )
        )
    })
}

/// `error` of an `up` without `--data-dir`, with advice when the database
/// did not answer: `--data-dir` where PostgreSQL is installed, else what
/// to install or which setting to give.
pub fn explain(error: anyhow::Error, redacted_url: &str) -> anyhow::Error {
    if !is_refused(&error) {
        return error;
    }
    let advice = advice(Search::from_env().find(), redacted_url);
    anyhow::anyhow!("{error:#}\n\n{advice}")
}

fn advice(found: Result<Binaries, binaries::NotFound>, redacted_url: &str) -> String {
    let elsewhere = "start PostgreSQL there, or give the URL of a server that runs: \
                     database.url in the --config file, DEEDLOG__DATABASE__URL or --database-url";
    match found {
        Ok(binaries) => format!(
            "Nothing answers at {redacted_url}. PostgreSQL is installed here ({}) but that server \
             does not run: `deedlog up --data-dir DIR` makes a private PostgreSQL in directory \
             DIR (once; later runs keep its data), runs it on a free port of 127.0.0.1 while \
             deedlog runs and stops it on exit. Or {elsewhere}.",
            binaries.dir.display()
        ),
        Err(missing) => format!(
            "Nothing answers at {redacted_url}, and {missing}. Either {elsewhere}; or install \
             PostgreSQL ({}) and run `deedlog up --data-dir DIR`, which makes and runs a \
             private PostgreSQL in directory DIR.",
            install_hint()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_told_from_other_errors() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let options: sqlx::postgres::PgConnectOptions =
            format!("postgres://postgres@127.0.0.1:{closed}/x")
                .parse()
                .expect("url");
        let refused = deedlog_eventstore::ensure_database(&options)
            .await
            .expect_err("nothing listens");
        let refused = anyhow::Error::from(refused).context("prepare the database");
        assert!(is_refused(&refused), "{refused:#}");
        let other = anyhow::Error::from(sqlx::Error::RowNotFound).context("look up");
        assert!(!is_refused(&other));
        let missing_file = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(
            !is_refused(&missing_file),
            "a missing key file is no database"
        );
        assert_eq!(
            explain(other, "postgres://x").to_string(),
            "look up",
            "other errors pass unchanged"
        );
    }

    #[test]
    fn advice_offers_data_dir_or_says_what_to_install() {
        let found = advice(
            Ok(Binaries {
                dir: "/usr/lib/postgresql/15/bin".into(),
            }),
            "postgres://postgres@127.0.0.1:5432/deedlog",
        );
        assert!(found.contains("deedlog up --data-dir DIR"), "{found}");
        assert!(found.contains("/usr/lib/postgresql/15/bin"), "{found}");
        assert!(found.contains("DEEDLOG__DATABASE__URL"), "{found}");
        let missing = Search {
            override_dir: Some("".into()),
            ..Search::default()
        }
        .find()
        .expect_err("none");
        let missing = advice(Err(missing), "postgres://postgres@127.0.0.1:5432/deedlog");
        assert!(missing.contains(&install_hint()), "{missing}");
        assert!(missing.contains("database.url"), "{missing}");
        assert!(missing.contains("DEEDLOG__DATABASE__URL"), "{missing}");
    }
}
