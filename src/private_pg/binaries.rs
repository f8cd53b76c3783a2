//! Finds PostgreSQL's server programs (initdb, pg_ctl, postgres) and says
//! how to install them where they are missing.

use anyhow::Context;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Overrides the search: the one directory to use; empty or missing means
/// "no binaries" (tests use it to stand for a machine without PostgreSQL).
pub const BINDIR_VAR: &str = "DEEDLOG_PG_BINDIR";

/// The programs a private cluster needs, all in one directory.
pub const PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// A directory holding every program of [`PROGRAMS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    /// The path of one of the programs.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The server's version as `postgres --version` prints it, e.g. "15.8".
    pub fn version(&self) -> anyhow::Result<String> {
        let output = Command::new(self.program("postgres"))
            .arg("--version")
            .output()
            .with_context(|| format!("run {} --version", self.program("postgres").display()))?;
        let text = String::from_utf8_lossy(&output.stdout);
        // "postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)"
        text.split_whitespace()
            .skip_while(|word| *word != "(PostgreSQL)")
            .nth(1)
            .map(str::to_owned)
            .with_context(|| format!("read the version in {:?}", text.trim()))
    }
}

/// Where the search looks, in order; [`Search::from_env`] reads the machine.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The value of [`BINDIR_VAR`], when set: then nothing else is searched.
    pub override_dir: Option<OsString>,
    /// What `pg_config --bindir` printed.
    pub pg_config: Option<PathBuf>,
    /// The file system root the usual paths hang from (`/`; tests use a temporary tree).
    pub root: PathBuf,
    /// The `PATH`, searched for `initdb` last.
    pub path: Option<OsString>,
}

/// No directory with the server programs; displays where it looked.
#[derive(Debug, Clone)]
pub struct NotFound {
    looked_in: Vec<PathBuf>,
    overridden: bool,
}

impl Search {
    pub fn from_env() -> Self {
        let pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
        Self {
            override_dir: std::env::var_os(BINDIR_VAR),
            pg_config,
            root: PathBuf::from("/"),
            path: std::env::var_os("PATH"),
        }
    }

    /// The directories to try, best first: the override alone if given;
    /// else `pg_config --bindir`, the newest `/usr/lib/postgresql/<N>/bin`,
    /// `/usr/local/pgsql/bin`, Homebrew's newest `postgresql*` (Apple
    /// silicon, then Intel), and the directory of `initdb` on the `PATH`.
    pub fn candidates(&self) -> Vec<PathBuf> {
        if let Some(dir) = &self.override_dir {
            return if dir.is_empty() {
                Vec::new()
            } else {
                vec![PathBuf::from(dir)]
            };
        }
        let mut found: Vec<PathBuf> = self.pg_config.iter().cloned().collect();
        let root = |path: &str| self.root.join(path);
        found.extend(newest_first(&root("usr/lib/postgresql"), "").map(|d| d.join("bin")));
        found.push(root("usr/local/pgsql/bin"));
        for brew in ["opt/homebrew/opt", "usr/local/opt"] {
            found.extend(newest_first(&root(brew), "postgresql").map(|d| d.join("bin")));
        }
        for dir in std::env::split_paths(self.path.as_deref().unwrap_or_default()) {
            let initdb = dir.join("initdb");
            if initdb.is_file() {
                // A symbolic link (/usr/local/bin/initdb) names the real directory.
                if let Some(real) = initdb
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_owned))
                {
                    found.push(real);
                }
                found.push(dir);
            }
        }
        let mut seen = Vec::new();
        found.retain(|dir| {
            let new = !seen.contains(dir);
            seen.push(dir.clone());
            new
        });
        found
    }

    /// The first candidate that holds every program.
    pub fn find(&self) -> Result<Binaries, NotFound> {
        let candidates = self.candidates();
        candidates
            .iter()
            .find(|dir| PROGRAMS.iter().all(|p| is_executable(&dir.join(p))))
            .map(|dir| Binaries { dir: dir.clone() })
            .ok_or(NotFound {
                looked_in: candidates,
                overridden: self.override_dir.is_some(),
            })
    }
}

/// The entries of `dir` whose names start with `prefix`, highest version
/// (the digits after the prefix, compared as numbers) first; `dir`'s
/// absence is no error.
fn newest_first(dir: &Path, prefix: &str) -> impl Iterator<Item = PathBuf> {
    let mut entries: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(prefix)?;
            let version = rest
                .trim_start_matches('@')
                .split('.')
                .map_while(|part| part.parse().ok())
                .collect();
            Some((version, entry.path()))
        })
        .collect();
    entries.sort_by(|a, b| b.cmp(a));
    entries.into_iter().map(|(_, path)| path)
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dirs: Vec<String> = self
            .looked_in
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        if self.overridden && dirs.is_empty() {
            write!(
                f,
                "PostgreSQL's server programs ({}) are not to be used ({BINDIR_VAR} is set but empty)",
                PROGRAMS.join(", ")
            )
        } else if self.overridden {
            write!(
                f,
                "PostgreSQL's server programs are not found ({BINDIR_VAR}={} lacks one of {})",
                dirs.join(""),
                PROGRAMS.join(", ")
            )
        } else if dirs.is_empty() {
            write!(
                f,
                "PostgreSQL's server programs ({}) are not installed",
                PROGRAMS.join(", ")
            )
        } else {
            write!(
                f,
                "PostgreSQL's server programs ({}) are not installed (looked in {})",
                PROGRAMS.join(", "),
                dirs.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary file tree, removed on drop.
    struct Tree(PathBuf);

    impl Tree {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "deedlog-binaries-{tag}-{}",
                uuid::Uuid::now_v7().simple()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self(dir)
        }

        /// A bin directory at `path` holding `programs` as executables.
        fn bin(&self, path: &str, programs: &[&str]) -> PathBuf {
            let dir = self.0.join(path);
            std::fs::create_dir_all(&dir).expect("bin dir");
            for program in programs {
                let file = dir.join(program);
                std::fs::write(&file, "#!/bin/sh\n").expect("program");
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod");
            }
            dir
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn search(tree: &Tree) -> Search {
        Search {
            root: tree.0.clone(),
            ..Search::default()
        }
    }

    #[test]
    fn candidates_come_in_the_documented_order() {
        let tree = Tree::new("order");
        let config = tree.bin("config/bin", &[]);
        let v96 = tree.bin("usr/lib/postgresql/9.6/bin", &[]);
        let v10 = tree.bin("usr/lib/postgresql/10/bin", &[]);
        let v15 = tree.bin("usr/lib/postgresql/15/bin", &[]);
        let local = tree.0.join("usr/local/pgsql/bin");
        let brew14 = tree.bin("opt/homebrew/opt/postgresql@14/bin", &[]);
        let brew16 = tree.bin("opt/homebrew/opt/postgresql@16/bin", &[]);
        let brew = tree.bin("opt/homebrew/opt/postgresql/bin", &[]);
        tree.bin("opt/homebrew/opt/python@3/bin", &[]);
        let intel = tree.bin("usr/local/opt/postgresql@15/bin", &[]);
        let on_path = tree.bin("path/bin", &["initdb"]);
        let not_on_path = tree.bin("elsewhere/bin", &[]);
        let candidates = Search {
            pg_config: Some(config.clone()),
            path: Some(std::env::join_paths([&not_on_path, &on_path]).expect("path")),
            ..search(&tree)
        }
        .candidates();
        let on_path = on_path.canonicalize().expect("real path");
        assert_eq!(
            candidates,
            [config, v15, v10, v96, local, brew16, brew14, brew, intel, on_path]
        );
    }

    #[test]
    fn the_first_directory_with_every_program_wins() {
        let tree = Tree::new("find");
        // The newest version lacks the server: only its client is installed.
        tree.bin("usr/lib/postgresql/16/bin", &["pg_ctl"]);
        let v15 = tree.bin("usr/lib/postgresql/15/bin", &PROGRAMS);
        tree.bin("usr/local/pgsql/bin", &PROGRAMS);
        assert_eq!(search(&tree).find().expect("found").dir, v15);
    }

    #[test]
    fn the_override_is_the_only_place_looked_and_empty_means_none() {
        let tree = Tree::new("override");
        let usual = tree.bin("usr/lib/postgresql/15/bin", &PROGRAMS);
        let chosen = tree.bin("chosen", &PROGRAMS);
        let with = |dir: &Path| Search {
            override_dir: Some(dir.as_os_str().to_owned()),
            ..search(&tree)
        };
        assert_eq!(with(&chosen).find().expect("found").dir, chosen);
        let missing = with(&tree.0.join("missing")).find().expect_err("missing");
        assert!(
            missing.to_string().contains("lacks one of initdb"),
            "{missing}"
        );
        let empty = with(Path::new("")).find().expect_err("empty");
        assert!(
            empty
                .to_string()
                .contains("DEEDLOG_PG_BINDIR is set but empty"),
            "{empty}"
        );
        assert_eq!(search(&tree).find().expect("found").dir, usual);
    }

    #[test]
    fn nothing_found_names_where_it_looked() {
        let tree = Tree::new("none");
        let message = search(&tree).find().expect_err("none").to_string();
        assert!(message.contains("are not installed"), "{message}");
        assert!(message.contains("usr/local/pgsql/bin"), "{message}");
    }
}
