//! Whom PostgreSQL runs as: this process's user, or, when that is root
//! (which PostgreSQL refuses), the `postgres` system user.

use anyhow::Context;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// The system user PostgreSQL runs as when deedlog runs as root.
pub const SYSTEM_USER: &str = "postgres";

/// Whom the PostgreSQL programs run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// This process's own user (not root).
    Me { uid: u32 },
    /// The `postgres` system user, switched to from root.
    User { uid: u32, gid: u32 },
}

impl RunAs {
    /// This process's user, or the `postgres` user when that is root.
    pub fn detect() -> anyhow::Result<Self> {
        let uid = id(&["-u"]).context("find this process's user id (id -u)")?;
        if uid != 0 {
            return Ok(RunAs::Me { uid });
        }
        match (id(&["-u", SYSTEM_USER]), id(&["-g", SYSTEM_USER])) {
            (Ok(uid), Ok(gid)) => Ok(RunAs::User { uid, gid }),
            _ => anyhow::bail!(
                "deedlog runs as root, and PostgreSQL refuses to run as root; there is no \
                 `{SYSTEM_USER}` user to run it as instead: run `deedlog up --data-dir` as an \
                 ordinary user, or create the user (useradd --system {SYSTEM_USER})"
            ),
        }
    }

    /// The user id that owns the data directory.
    pub fn uid(&self) -> u32 {
        match self {
            RunAs::Me { uid } | RunAs::User { uid, .. } => *uid,
        }
    }

    /// `program` run as this user, from `/` (a root shell's working
    /// directory may be closed to the `postgres` user).
    pub fn command(&self, program: &Path) -> Command {
        let mut command = match self {
            RunAs::Me { .. } => Command::new(program),
            RunAs::User { uid, gid } => {
                // setpriv execs the program (no extra process in between,
                // so a child's id is the server's); runuser where it is missing.
                if on_path("setpriv") {
                    let mut command = Command::new("setpriv");
                    command
                        .arg(format!("--reuid={uid}"))
                        .arg(format!("--regid={gid}"))
                        .arg("--init-groups")
                        .arg("--")
                        .arg(program);
                    command
                } else {
                    let mut command = Command::new("runuser");
                    command.args(["-u", SYSTEM_USER, "--"]).arg(program);
                    command
                }
            }
        };
        command.current_dir("/");
        command
    }

    /// Hands a directory deedlog just created to this user.
    pub fn take(&self, dir: &Path) -> anyhow::Result<()> {
        if let RunAs::User { uid, gid } = self {
            std::os::unix::fs::chown(dir, Some(*uid), Some(*gid))
                .with_context(|| format!("give {} to the {SYSTEM_USER} user", dir.display()))?;
        }
        Ok(())
    }

    /// Whether this user can create files in `dir` (and reach it).
    pub fn can_write(&self, dir: &Path) -> bool {
        match self {
            RunAs::Me { .. } => {
                let probe = dir.join(format!(".deedlog-probe-{}", std::process::id()));
                let written = std::fs::write(&probe, b"").is_ok();
                let _ = std::fs::remove_file(&probe);
                written
            }
            RunAs::User { .. } => self
                .command(Path::new("test"))
                .args([OsStr::new("-w"), dir.as_os_str()])
                .status()
                .is_ok_and(|status| status.success()),
        }
    }

    /// Who this is, for messages.
    pub fn describe(&self) -> String {
        match self {
            RunAs::Me { uid } => format!("you (uid {uid})"),
            RunAs::User { uid, .. } => format!("the {SYSTEM_USER} user (uid {uid})"),
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// A number printed by `id <args>`.
fn id(args: &[&str]) -> anyhow::Result<u32> {
    let output = Command::new("id").args(args).output().context("run id")?;
    anyhow::ensure!(output.status.success(), "id {args:?} failed");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .context("read the id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_runs_postgresql_as_the_postgres_user() {
        let me = RunAs::detect().expect("detect");
        let root = id(&["-u"]).expect("uid") == 0;
        assert_eq!(matches!(me, RunAs::User { .. }), root, "{me:?}");
        let echo = me
            .command(Path::new("id"))
            .arg("-u")
            .output()
            .expect("run id");
        let uid: u32 = String::from_utf8_lossy(&echo.stdout)
            .trim()
            .parse()
            .expect("a number");
        assert_eq!(uid, me.uid());
        assert_ne!(uid, 0, "never root");
    }
}
