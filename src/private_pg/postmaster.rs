//! What a data directory's `postmaster.pid` says of its server, and
//! whether a process still lives (or is a zombie nobody reaped).

use std::path::Path;

/// The first lines of `postmaster.pid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postmaster {
    pub pid: u32,
    pub port: u16,
    /// "starting", "ready", "stopping" or "standby" (empty before PostgreSQL 10).
    pub status: String,
}

impl Postmaster {
    /// Parses `postmaster.pid` (pid, data directory, start time, port,
    /// socket directory, listen address, shared memory key, status).
    pub fn parse(text: &str) -> Option<Self> {
        let lines: Vec<&str> = text.lines().collect();
        Some(Self {
            pid: lines.first()?.trim().parse().ok()?,
            port: lines.get(3)?.trim().parse().ok()?,
            status: lines
                .get(7)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
        })
    }

    /// The lock file of the server in `dir`, if there is one.
    pub fn read(dir: &Path) -> Option<Self> {
        Self::parse(&std::fs::read_to_string(dir.join("postmaster.pid")).ok()?)
    }
}

/// What is known of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Process {
    Running {
        name: String,
    },
    /// Ended but not reaped (a parent that does not wait, such as a PID 1
    /// that reaps nothing): it holds no files and no port.
    Zombie,
    Gone,
}

/// What process `pid` is: `/proc` on Linux, `ps` elsewhere.
pub fn process(pid: u32) -> Process {
    if Path::new("/proc/self/stat").exists() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return Process::Gone;
        };
        // "pid (name) state ...": the name may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            return Process::Gone;
        };
        return match stat[close + 1..].trim_start().chars().next() {
            Some('Z') | Some('X') => Process::Zombie,
            _ => Process::Running {
                name: stat[open + 1..close].to_owned(),
            },
        };
    }
    let output = std::process::Command::new("ps")
        .args(["-o", "stat=,comm=", "-p", &pid.to_string()])
        .output();
    match output {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            let mut words = text.split_whitespace();
            match (words.next(), words.next()) {
                (Some(stat), _) if stat.starts_with('Z') => Process::Zombie,
                (_, Some(name)) => Process::Running {
                    name: Path::new(name)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                },
                _ => Process::Gone,
            }
        }
        _ => Process::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn postmaster_pid_gives_pid_port_and_status() {
        let text = "15250\n/tmp/pgx\n1796455923\n54999\n.\n127.0.0.1\n 10010874 9\nready   \n";
        assert_eq!(
            Postmaster::parse(text),
            Some(Postmaster {
                pid: 15250,
                port: 54999,
                status: "ready".into()
            })
        );
        assert_eq!(Postmaster::parse("15250\n/tmp/pgx\n"), None);
        assert_eq!(Postmaster::parse(""), None);
    }

    #[test]
    fn processes_are_running_zombie_or_gone() {
        assert!(
            matches!(process(std::process::id()), Process::Running { name } if !name.is_empty())
        );
        let mut child = std::process::Command::new("true").spawn().expect("true");
        let pid = child.id();
        // Exited but not waited for: a zombie until reaped.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(process(pid), Process::Zombie);
        child.wait().expect("reap");
        assert_eq!(process(pid), Process::Gone);
    }
}
