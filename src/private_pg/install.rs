//! What to install where PostgreSQL's server programs are missing.

/// How to install PostgreSQL's server programs on this machine.
pub fn install_hint() -> String {
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    install_hint_for(std::env::consts::OS, &os_release)
}

/// How to install the server programs on `os` (Rust's name of it), whose
/// Linux distribution `/etc/os-release` describes.
pub fn install_hint_for(os: &str, os_release: &str) -> String {
    let family: Vec<&str> = os_release
        .lines()
        .filter_map(|line| line.strip_prefix("ID=").or(line.strip_prefix("ID_LIKE=")))
        .flat_map(|value| value.trim_matches('"').split_whitespace())
        .collect();
    let is = |names: &[&str]| family.iter().any(|id| names.contains(id));
    match os {
        "macos" => "macOS: brew install postgresql@15".to_owned(),
        "freebsd" => "FreeBSD: pkg install postgresql15-server".to_owned(),
        "linux" if is(&["debian", "ubuntu"]) => "Debian/Ubuntu: apt install postgresql".to_owned(),
        "linux" if is(&["fedora", "rhel", "centos"]) => {
            "Fedora/RHEL: dnf install postgresql-server".to_owned()
        }
        "linux" if is(&["arch"]) => "Arch: pacman -S postgresql".to_owned(),
        "linux" if is(&["alpine"]) => "Alpine: apk add postgresql".to_owned(),
        "linux" if is(&["suse", "opensuse"]) => {
            "openSUSE: zypper install postgresql-server".to_owned()
        }
        _ => "Debian/Ubuntu: apt install postgresql; Fedora/RHEL: dnf install postgresql-server; \
              Arch: pacman -S postgresql; macOS: brew install postgresql@15"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_hints_follow_the_system() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\n";
        let ubuntu = "ID=ubuntu\nID_LIKE=debian\n";
        let rocky = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n";
        assert_eq!(
            install_hint_for("linux", debian),
            "Debian/Ubuntu: apt install postgresql"
        );
        assert_eq!(
            install_hint_for("linux", ubuntu),
            "Debian/Ubuntu: apt install postgresql"
        );
        assert!(install_hint_for("linux", rocky).contains("dnf install postgresql-server"));
        assert!(install_hint_for("macos", "").contains("brew install postgresql@15"));
        let unknown = install_hint_for("linux", "ID=gentoo\n");
        assert!(unknown.contains("apt install postgresql"), "{unknown}");
        assert!(unknown.contains("brew install"), "{unknown}");
    }
}
