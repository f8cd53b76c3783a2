//! The proof document checks the same in Python as in Rust: the script
//! `tests/audit/verify_proof.py`, and the Python `docs/audit-proofs.md`
//! shows an outsider, accept the proofs `proof::check` accepts and refuse,
//! for the same reason, the ones it refuses. Needs `python3`; the
//! `cryptography` package is installed under `target/py-tools` when Python
//! lacks it.

use chrono::DateTime;
use deedlog_seal::head::{Head, SealingKey, SignedHead};
use deedlog_seal::leaf;
use deedlog_seal::merkle::{self, Hash};
use deedlog_seal::proof::{self, Proof, ProvenEvent};
use deedlog_seal::PublicKey;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use uuid::Uuid;

const FIRST: u64 = 101;
const LAST: u64 = 107;
/// Positions of the block that a rolled-back transaction left empty.
const ABSENT: [u64; 2] = [103, 106];
const BLOCK: u64 = 12;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("a uuid")
}

/// The event stored at `position`: a contact's, whose name is sealed.
fn event(position: u64) -> ProvenEvent {
    let command = Uuid::from_u128(0x0190_6c1e_7d2a_7c3b_9e4f_5a6b_7c8d_0000 + u128::from(position));
    ProvenEvent {
        position,
        tenant_id: uuid("0190c2a1-3b4c-7d5e-8f60-718293a4b5c6"),
        stream_id: uuid("0190c2a1-9d8e-7f60-a1b2-c3d4e5f60718"),
        stream_type: "contact".into(),
        version: position - 98,
        event_type: "ContactUpdated".into(),
        schema_version: 1,
        payload: format!(
            r#"{{"address":{{"city":"Köln","street":"Hohe Straße {position}"}},"name":{{"$sealed":{{"k":"0190c2a1-aaaa-7bbb-8ccc-dddddddddddd","n":"q83vASNFZ4mrze8B","c":"3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFw==","e":"text"}}}}}}"#
        ),
        actor: "user:0190c2a1-1111-7222-8333-444455556666".into(),
        command_id: command,
        correlation_id: command,
        causation_id: command,
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        tracestate: String::new(),
        occurred_at_micros: 1_718_035_200_123_456 + position as i64,
        recorded_at_micros: 1_718_035_200_125_001 + position as i64,
    }
}

fn key() -> SealingKey {
    SealingKey::from_seed([7; 32])
}

/// The block's leaves, and its head signed with `key`.
fn block(key: &SealingKey) -> (Vec<Hash>, SignedHead) {
    let leaves: Vec<Hash> = (FIRST..=LAST)
        .map(|p| {
            if ABSENT.contains(&p) {
                leaf::absent(p)
            } else {
                event(p).fields().hash()
            }
        })
        .collect();
    let head = Head {
        block: BLOCK,
        first_position: FIRST,
        last_position: LAST,
        root: merkle::root(&leaves),
        previous: merkle::leaf(b"the head of block 11"),
        sealed_at: DateTime::from_timestamp_micros(1_718_035_201_000_042).expect("a time"),
        key_id: key.id().to_owned(),
    };
    let signed = SignedHead {
        stored_hash: head.hash().to_vec(),
        signature: key.sign(&head).to_vec(),
        head,
    };
    (leaves, signed)
}

fn proof_of(position: u64) -> Proof {
    let (leaves, signed) = block(&key());
    Proof::new(event(position), &signed, &leaves).expect("the block covers the position")
}

/// `PYTHONPATH` for a Python that imports `cryptography`: none when it
/// already does, else `target/py-tools`, where pip installs it once.
fn python_path() -> Option<&'static Path> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        if imports_cryptography(None) {
            return None;
        }
        let tools = workspace().join("target/py-tools");
        if !imports_cryptography(Some(&tools)) {
            let status = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--target"])
                .arg(&tools)
                .arg("cryptography")
                .status()
                .expect("python3 runs pip");
            assert!(
                status.success(),
                "pip could not install cryptography into {tools:?}"
            );
            assert!(
                imports_cryptography(Some(&tools)),
                "cryptography is still not importable from {tools:?}"
            );
        }
        Some(tools)
    })
    .as_deref()
}

fn python(path: Option<&Path>) -> Command {
    let mut command = Command::new("python3");
    if let Some(path) = path {
        let mut paths = vec![path.to_owned()];
        if let Some(existing) = std::env::var_os("PYTHONPATH") {
            paths.extend(std::env::split_paths(&existing));
        }
        command.env(
            "PYTHONPATH",
            std::env::join_paths(paths).expect("a PYTHONPATH"),
        );
    }
    command
}

fn imports_cryptography(path: Option<&Path>) -> bool {
    python(path)
        .args([
            "-c",
            "import cryptography.hazmat.primitives.asymmetric.ed25519",
        ])
        .output()
        .expect("python3 is installed (the audit proof script needs it)")
        .status
        .success()
}

/// The audit proof script.
fn script() -> PathBuf {
    workspace().join("tests/audit/verify_proof.py")
}

/// Runs the script on `proof` written to a temporary file.
fn run_script(proof: &Proof, public_key: &str, name: &str) -> Output {
    run(&script(), proof, public_key, name)
}

/// Runs the Python file `code` on `proof` written to a temporary file.
fn run(code: &Path, proof: &Proof, public_key: &str, name: &str) -> Output {
    let file = std::env::temp_dir().join(format!(
        "deedlog-seal-proof-{}-{name}.json",
        std::process::id()
    ));
    let json = serde_json::to_string_pretty(proof).expect("a proof serialises");
    std::fs::write(&file, json).expect("write the proof");
    let output = python(python_path())
        .arg(code)
        .arg(&file)
        .arg(public_key)
        .output()
        .expect("python3 runs the script");
    let _ = std::fs::remove_file(&file);
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_event_of_a_block_verifies_in_python_as_in_rust() {
    let public = key().public();
    for position in (FIRST..=LAST).filter(|p| !ABSENT.contains(p)) {
        let proof = proof_of(position);
        assert_eq!(proof::check(&proof, &public), Ok(()), "position {position}");
        let output = run_script(&proof, &public.to_base64(), &format!("valid-{position}"));
        assert_eq!(
            output.status.code(),
            Some(0),
            "position {position}: {}",
            text(&output.stderr)
        );
        assert_eq!(
            text(&output.stdout).trim(),
            format!("proof verifies: position {position} in block {BLOCK}")
        );
    }
}

/// A change to the proof, and the words both checkers refuse it with.
type Tampering = (&'static str, fn(&mut Proof), &'static str);

const NOT_SEALED: &str = "is not the one sealed in block 12";

const TAMPERINGS: &[Tampering] = &[
    (
        "payload",
        // ö (c3 b6) becomes ó (c3 b3): one byte of the stored payload.
        |p| p.event.payload = p.event.payload.replacen("Köln", "Kóln", 1),
        NOT_SEALED,
    ),
    (
        "path",
        |p| {
            let digit = if p.path[0].starts_with('0') { "1" } else { "0" };
            p.path[0].replace_range(..1, digit);
        },
        NOT_SEALED,
    ),
    ("version", |p| p.event.version += 1, NOT_SEALED),
    (
        "tracestate",
        |p| p.event.tracestate = "congo=t61rcWkgMzE".into(),
        NOT_SEALED,
    ),
    (
        "recorded_at",
        |p| p.event.recorded_at_micros += 1,
        NOT_SEALED,
    ),
    (
        "moved to another position",
        |p| {
            p.event.position -= 2;
            p.leaf_index -= 2;
        },
        NOT_SEALED,
    ),
    (
        "previous head",
        |p| p.head.previous.replace_range(..2, "00"),
        "head.hash is not the hash of the head",
    ),
    (
        "sealed_at",
        |p| p.head.sealed_at_micros += 1,
        "head.hash is not the hash of the head",
    ),
    (
        "signature",
        |p| {
            let first = if p.head.signature.starts_with('A') {
                "B"
            } else {
                "A"
            };
            p.head.signature.replace_range(..1, first);
        },
        "signature does not verify",
    ),
    (
        "leaf index",
        |p| p.leaf_index += 1,
        "leaf_index or tree_size does not match",
    ),
];

#[test]
fn a_tampered_proof_fails_in_python_as_in_rust() {
    let public = key().public();
    let position = 104;
    for (what, tamper, reason) in TAMPERINGS {
        let mut proof = proof_of(position);
        tamper(&mut proof);
        assert_ne!(
            proof,
            proof_of(position),
            "{what}: the tampering changes the proof"
        );
        let rust = proof::check(&proof, &public).expect_err(what);
        assert!(rust.contains(reason), "{what}: Rust says {rust:?}");
        let output = run_script(&proof, &public.to_base64(), &what.replace(' ', "-"));
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains(reason) && !stderr.contains("Traceback"),
            "{what}: Python says {stderr:?}"
        );
    }
}

#[test]
fn a_proof_fails_with_another_key_and_a_resealed_block_with_the_real_one() {
    // The right proof, the wrong public key.
    let other = SealingKey::from_seed([8; 32]);
    let proof = proof_of(104);
    assert!(proof::check(&proof, &other.public()).is_err());
    let output = run_script(&proof, &other.public().to_base64(), "other-key");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not with the given key"));

    // An edited event, its block re-sealed with another key: it holds
    // together, and only the real public key tells.
    let (mut leaves, _) = block(&key());
    let mut edited = event(104);
    edited.payload = edited.payload.replacen("Köln", "Bonn", 1);
    leaves[3] = edited.fields().hash();
    let (_, mut resealed) = block(&other);
    resealed.head.root = merkle::root(&leaves);
    resealed.stored_hash = resealed.head.hash().to_vec();
    resealed.signature = other.sign(&resealed.head).to_vec();
    let forged = Proof::new(edited, &resealed, &leaves).expect("a proof");
    assert_eq!(proof::check(&forged, &other.public()), Ok(()));
    let real: PublicKey = key().public();
    assert!(proof::check(&forged, &real).is_err());
    let output = run_script(&forged, &real.to_base64(), "resealed");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not with the given key"));
    let output = run_script(&forged, &other.public().to_base64(), "resealed-own-key");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn a_malformed_proof_is_refused_without_a_traceback() {
    let public = key().public().to_base64();
    let mut proof = proof_of(105);
    proof.path[1] = "not hex".into();
    let output = run_script(&proof, &public, "malformed-path");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("path is not 64 lower-case hex digits"),
        "{stderr}"
    );
    let output = run_script(&proof_of(105), "not base64!", "malformed-key");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("malformed") && !stderr.contains("Traceback"),
        "{stderr}"
    );
}

/// The check `docs/audit-proofs.md` shows (its one Python block).
#[test]
fn the_python_in_the_docs_checks_proofs_as_the_script_does() {
    let doc = std::fs::read_to_string(workspace().join("docs/audit-proofs.md"))
        .expect("docs/audit-proofs.md");
    let code = doc
        .split_once("```python\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(code, _)| code)
        .expect("docs/audit-proofs.md shows the check in Python");
    let file = std::env::temp_dir().join(format!(
        "deedlog-seal-check-proof-{}.py",
        std::process::id()
    ));
    std::fs::write(&file, format!("{code}\n")).expect("write the doc's check");
    let public = key().public().to_base64();
    for position in (FIRST..=LAST).filter(|p| !ABSENT.contains(p)) {
        let output = run(
            &file,
            &proof_of(position),
            &public,
            &format!("doc-{position}"),
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "position {position}: {}",
            text(&output.stderr)
        );
        assert_eq!(
            text(&output.stdout).trim(),
            format!("proof verifies: position {position} in block {BLOCK}")
        );
    }
    for (what, tamper, _) in TAMPERINGS {
        let mut proof = proof_of(104);
        tamper(&mut proof);
        let output = run(
            &file,
            &proof,
            &public,
            &format!("doc-{}", what.replace(' ', "-")),
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.starts_with("proof does not verify: "),
            "{what}: the doc's check says {stderr:?}"
        );
    }
    let _ = std::fs::remove_file(&file);
}
