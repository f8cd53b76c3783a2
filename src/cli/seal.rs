//! `deedlog audit verify | proof | verify-proof | sealing-key | consistency |
//! verify-consistency` and `export --head`: the log's
//! seals from the command line (ADR 0037, docs/audit-proofs.md).

use anyhow::{bail, Context};
use deedlog_runtime::settings::Settings;
use deedlog_seal::consistency::{self, Consistency};
use deedlog_seal::proof::{self, Proof, ProvenHead};
use deedlog_seal::{PublicKey, SealingKey};
use deedlog_sealer::verify::{self, Scope};
use std::io::{Read, Write};
use uuid::Uuid;

/// Verifies `(tenant, from, to)` of the log; an error (exit 1) names the
/// first bad position.
pub async fn verify(
    settings: &Settings,
    (tenant, from, to): (Option<&str>, Option<u64>, Option<u64>),
    extra_keys: &[String],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let tenant = tenant
        .map(|t| {
            Uuid::parse_str(t.trim())
                .map_err(|e| anyhow::anyhow!("--tenant {t:?} is not a tenant id (a UUID): {e}"))
        })
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            bail!("--from ({from}) must not be after --to ({to})");
        }
    }
    let reader = deedlog_cluster::pools::log_reader(settings).await?;
    let key = deedlog_cluster::sealing::configured_or_development(settings, reader.pool()).await?;
    let keys = deedlog_cluster::sealing::trusted(settings, key.as_ref(), extra_keys)?;
    if keys.is_empty() {
        bail!("no key to verify the seals with: set sealing.key (or sealing.previous_public_keys), or pass --public-key");
    }
    let mut last_drawn = std::time::Instant::now();
    let started = std::time::Instant::now();
    let mut progress = |at: u64, through: u64| {
        if last_drawn.elapsed().as_millis() >= 200 {
            last_drawn = std::time::Instant::now();
            eprint!("\rverifying position {at}/{through}   ");
        }
    };
    let report = verify::verify(&reader, &keys, Scope { from, to, tenant }, &mut progress)
        .await
        .context("verify the log")?;
    eprint!("\r");
    if let Some(problem) = &report.problem {
        bail!("the log does not match its seals at {problem}");
    }
    let Some((first, last)) = report.checked else {
        writeln!(
            out,
            "nothing sealed to verify yet ({} events wait for the sealer)",
            report.unsealed
        )?;
        return Ok(());
    };
    let head = report.head.as_ref().map(|h| &h.head);
    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "intact: positions {first}..={last}, {} events in {} blocks verified in {seconds:.1}s",
        report.events, report.blocks
    )?;
    if let Some(head) = head {
        let public = keys
            .iter()
            .find(|k| k.id() == head.key_id)
            .map(PublicKey::to_base64)
            .unwrap_or_default();
        writeln!(
            out,
            "head: block {} through position {}, hash {}, signed by {} (public key {public})",
            head.block,
            head.last_position,
            proof::hex(&head.hash()),
            head.key_id
        )?;
    }
    if report.unsealed > 0 {
        writeln!(out, "not sealed yet: {} later events", report.unsealed)?;
    }
    Ok(())
}

/// Writes the inclusion proof of the event at `position`.
pub async fn proof(settings: &Settings, position: u64, out: &mut dyn Write) -> anyhow::Result<()> {
    let reader = deedlog_cluster::pools::log_reader(settings).await?;
    let Some(proof) = deedlog_sealer::prove(&reader, position).await? else {
        bail!("no sealed event at position {position} (the log has none there, or the sealer has not reached it)");
    };
    if proof.event.stream_type == deedlog_kernel::stream_type::CREDENTIALS {
        bail!("position {position} holds a user's credentials event, which is never shown (ADR 0023); `deedlog audit verify` checks its seal");
    }
    serde_json::to_writer_pretty(&mut *out, &proof)?;
    writeln!(out)?;
    Ok(())
}

/// Checks the proof in `file` with `public_key`; an error (exit 1) says
/// what failed.
pub fn verify_proof(file: &str, public_key: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let key = PublicKey::from_base64(public_key)
        .map_err(|reason| anyhow::anyhow!("--public-key {reason}"))?;
    let mut text = String::new();
    if file == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file).with_context(|| format!("read {file}"))?;
    }
    let proof: Proof = serde_json::from_str(&text)
        .with_context(|| format!("{file} is not an audit proof (format {})", proof::FORMAT))?;
    proof::check(&proof, &key)
        .map_err(|reason| anyhow::anyhow!("the proof does not hold: {reason}"))?;
    writeln!(
        out,
        "the proof holds: the event at position {} is in block {}, signed by {}",
        proof.event.position, proof.head.block, proof.head.key_id
    )?;
    Ok(())
}

/// Prints a fresh sealing key and its public half.
pub fn sealing_key(out: &mut dyn Write) -> anyhow::Result<()> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("draw a key: {e}"))?;
    let key = SealingKey::from_seed(seed);
    writeln!(out, "sealing.key = \"{}\"", key.to_base64())?;
    writeln!(
        out,
        "# public key (verify with --public-key): {}",
        key.public().to_base64()
    )?;
    writeln!(out, "# key id: {}", key.id())?;
    Ok(())
}

/// Reads a head written by `export --head`.
fn read_head(file: &str) -> anyhow::Result<ProvenHead> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {file}"))?;
    serde_json::from_str(&text).with_context(|| {
        format!("{file} is not a signed head (as `deedlog audit export --head` writes)")
    })
}

/// Writes the log's newest signed head to `file` (after an export).
pub async fn write_head(settings: &Settings, file: &str) -> anyhow::Result<()> {
    let reader = deedlog_cluster::pools::log_reader(settings).await?;
    let Some(signed) = deedlog_sealer::store::last_head(reader.pool()).await? else {
        bail!("the log is not sealed yet: no head to write to {file} (is the sealer running?)");
    };
    let head = ProvenHead::from(&signed);
    std::fs::write(file, serde_json::to_string_pretty(&head)?)
        .with_context(|| format!("write {file}"))?;
    eprintln!(
        "consistent with head: block {} through position {}, hash {} (written to {file})",
        head.block, head.last_position, head.hash
    );
    Ok(())
}

/// Prints the chain of heads from the head in `file` to the newest; an
/// error (exit 1) when the log no longer holds that head.
pub async fn consistency(
    settings: &Settings,
    file: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let older = read_head(file)?;
    let reader = deedlog_cluster::pools::log_reader(settings).await?;
    let heads = deedlog_sealer::store::heads_from(reader.pool(), older.block).await?;
    let Some(first) = heads.first() else {
        bail!(
            "the log has no block {}: sealed history was removed since that head",
            older.block
        );
    };
    let stored = ProvenHead::from(first);
    if stored.hash != older.hash {
        bail!(
            "block {} now has head {}, not {}: sealed history was rewritten since that head",
            older.block,
            stored.hash,
            older.hash
        );
    }
    let proof = Consistency::new(heads.iter().map(ProvenHead::from).collect());
    serde_json::to_writer_pretty(&mut *out, &proof)?;
    writeln!(out)?;
    Ok(())
}

/// Checks a consistency proof offline against the older head and keys.
pub fn verify_consistency(
    proof_file: &str,
    head_file: &str,
    keys: &[String],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let keys = keys
        .iter()
        .map(|k| {
            PublicKey::from_base64(k).map_err(|reason| anyhow::anyhow!("--public-key {reason}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let older = read_head(head_file)?;
    let text = std::fs::read_to_string(proof_file).with_context(|| format!("read {proof_file}"))?;
    let proof: Consistency = serde_json::from_str(&text).with_context(|| {
        format!(
            "{proof_file} is not a consistency proof (format {})",
            consistency::FORMAT
        )
    })?;
    let newest = consistency::check(&proof, &older, &keys)
        .map_err(|reason| anyhow::anyhow!("the proof does not hold: {reason}"))?;
    writeln!(
        out,
        "the proof holds: the log through position {} (block {}) is a prefix of the log through position {} (block {})",
        older.last_position, older.block, newest.last_position, newest.block
    )?;
    Ok(())
}
