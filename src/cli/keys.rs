//! `deedlog keys generate`: a new token signing key pair.

use secrecy::ExposeSecret;

/// Prints a new Ed25519 signing key (PKCS#8 PEM), preceded by its key id
/// and followed by its public key.
pub(super) fn generate(kid: Option<String>) -> anyhow::Result<()> {
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
