//! The `--data-dir` of `deedlog up`: what it holds, and making a
//! PostgreSQL cluster of it when it holds nothing yet.

use super::binaries::Binaries;
use super::user::RunAs;
use anyhow::Context;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What a `--data-dir` holds before `up` touches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// Nothing there yet.
    Missing,
    /// An empty directory.
    Empty,
    /// A PostgreSQL cluster of this major version (its `PG_VERSION`).
    Cluster { major: String },
}

/// Whether `dir` is new, empty, or a cluster; anything else is refused
/// with what is wrong.
pub fn inspect(dir: &Path) -> anyhow::Result<Contents> {
    let metadata = match std::fs::metadata(dir) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Missing),
        Err(error) => {
            return Err(error).with_context(|| format!("look at --data-dir {}", dir.display()))
        }
    };
    anyhow::ensure!(
        metadata.is_dir(),
        "--data-dir {} is a file, not a directory: give a new or empty directory, or one \
         an earlier `deedlog up --data-dir` made",
        dir.display()
    );
    match std::fs::read_to_string(dir.join("PG_VERSION")) {
        Ok(version) => {
            return Ok(Contents::Cluster {
                major: version.trim().to_owned(),
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("read {}", dir.join("PG_VERSION").display()))
        }
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("list --data-dir {}", dir.display()))?;
    anyhow::ensure!(
        entries.next().is_none(),
        "--data-dir {} is not empty and holds no PostgreSQL cluster (no PG_VERSION): give a \
         new or empty directory, or one an earlier `deedlog up --data-dir` made",
        dir.display()
    );
    Ok(Contents::Empty)
}

/// Makes `dir` (whose [`inspect`]ed `contents` are given) a cluster when it is not one yet (initdb: trust for local
/// connections, superuser `postgres`, UTF8), or checks that the cluster
/// there fits the programs and the user; returns whether it was created.
pub fn prepare(
    dir: &Path,
    contents: Contents,
    binaries: &Binaries,
    run_as: &RunAs,
) -> anyhow::Result<bool> {
    match contents {
        Contents::Cluster { major } => {
            let version = binaries.version()?;
            anyhow::ensure!(
                same_major(&major, &version),
                "--data-dir {} holds a PostgreSQL {major} cluster, but the server programs in {} \
                 are PostgreSQL {version}: use PostgreSQL {major}'s programs ({}), upgrade the \
                 cluster with pg_upgrade, or give a new directory",
                dir.display(),
                binaries.dir.display(),
                super::binaries::BINDIR_VAR,
            );
            let owner = std::fs::metadata(dir)
                .with_context(|| format!("look at --data-dir {}", dir.display()))?
                .uid();
            anyhow::ensure!(
                owner == run_as.uid(),
                "--data-dir {} belongs to uid {owner}, but PostgreSQL would run as {}, and it \
                 only runs on a data directory of its own user: chown -R {} {}",
                dir.display(),
                run_as.describe(),
                run_as.uid(),
                dir.display(),
            );
            ensure_writable(dir, run_as)?;
            Ok(false)
        }
        contents => {
            let created = contents == Contents::Missing;
            if created {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("create --data-dir {}", dir.display()))?;
            }
            let initialized = initialize(dir, binaries, run_as);
            if initialized.is_err() && created {
                // Leave nothing behind for a refused directory; what initdb
                // wrote it has removed itself.
                let _ = std::fs::remove_dir(dir);
            }
            initialized.map(|()| true)
        }
    }
}

fn initialize(dir: &Path, binaries: &Binaries, run_as: &RunAs) -> anyhow::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restrict --data-dir {} to its owner", dir.display()))?;
    run_as.take(dir)?;
    ensure_writable(dir, run_as)?;
    let output = run_as
        .command(&binaries.program("initdb"))
        .arg("-D")
        .arg(dir)
        .args([
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-locale",
        ])
        .output()
        .with_context(|| format!("run {}", binaries.program("initdb").display()))?;
    anyhow::ensure!(
        output.status.success(),
        "initdb in {} failed ({}):\n{}{}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn ensure_writable(dir: &Path, run_as: &RunAs) -> anyhow::Result<()> {
    anyhow::ensure!(
        run_as.can_write(dir),
        "PostgreSQL would run as {}, who cannot write to --data-dir {} (or reach it: every \
         directory above it must let them through): give a directory they can write",
        run_as.describe(),
        dir.display()
    );
    Ok(())
}

/// Whether a `PG_VERSION` (15, or 9.6 before PostgreSQL 10) names the
/// major version of a server version (15.8, 9.6.24).
pub fn same_major(pg_version: &str, server_version: &str) -> bool {
    server_version.strip_prefix(pg_version).is_some_and(|rest| {
        rest.is_empty() || rest.starts_with('.') || rest.starts_with(|c: char| c.is_alphabetic())
    })
}

/// `dir` made absolute against the working directory, without resolving links.
pub fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(dir).with_context(|| format!("make --data-dir {} absolute", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "deedlog-data-dir-{tag}-{}",
            uuid::Uuid::now_v7().simple()
        ))
    }

    #[test]
    fn contents_are_told_apart_and_the_rest_refused() {
        let base = temp("inspect");
        assert_eq!(inspect(&base).expect("missing"), Contents::Missing);
        std::fs::create_dir_all(&base).expect("dir");
        assert_eq!(inspect(&base).expect("empty"), Contents::Empty);
        std::fs::write(base.join("notes.txt"), "mine").expect("file");
        let message = inspect(&base).expect_err("not a cluster").to_string();
        assert!(
            message.contains("is not empty and holds no PostgreSQL cluster"),
            "{message}"
        );
        let message = inspect(&base.join("notes.txt"))
            .expect_err("a file")
            .to_string();
        assert!(message.contains("is a file, not a directory"), "{message}");
        std::fs::write(base.join("PG_VERSION"), "15\n").expect("version");
        assert_eq!(
            inspect(&base).expect("cluster"),
            Contents::Cluster { major: "15".into() }
        );
        std::fs::remove_dir_all(&base).expect("clean up");
    }

    #[test]
    fn major_versions_match_old_and_new_numbering() {
        assert!(same_major("15", "15.8"));
        assert!(same_major("16", "16beta2"));
        assert!(same_major("9.6", "9.6.24"));
        assert!(!same_major("1", "15.8"));
        assert!(!same_major("14", "15.8"));
    }
}
