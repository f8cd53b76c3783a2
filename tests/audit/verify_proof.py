#!/usr/bin/env python3
"""Checks a deedlog audit proof offline (docs/audit-proofs.md).

    python3 verify_proof.py PROOF_JSON_FILE PUBLIC_KEY_BASE64

Rebuilds the event's leaf from the proof, folds the audit path up to the
block's Merkle root (RFC 9162 2.1.3.2), recomputes the head's bytes and
hash, and verifies the head's Ed25519 signature with the given public key.
Exits 0 when the proof holds, 1 (saying what failed) when it does not.
Needs only the standard library and the `cryptography` package.
"""
import base64
import hashlib
import json
import struct
import sys
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "deedlog.audit-proof/1"


class Failed(Exception):
    """The proof does not hold; the message says why."""


def sha256(data):
    return hashlib.sha256(data).digest()


def integer(value, what):
    # JSON true/false are not numbers here, whatever Python thinks.
    if not isinstance(value, int) or isinstance(value, bool):
        raise Failed(f"{what} is not an integer")
    return value


def u32(value, what):
    return struct.pack(">I", integer(value, what))


def u64(value, what):
    return struct.pack(">Q", integer(value, what))


def i64(value, what):
    return struct.pack(">q", integer(value, what))


def text(value, what):
    if not isinstance(value, str):
        raise Failed(f"{what} is not a string")
    data = value.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def uuid_bytes(value, what):
    if not isinstance(value, str):
        raise Failed(f"{what} is not a uuid")
    return uuid.UUID(value).bytes


def unhex(value, what):
    if (not isinstance(value, str) or len(value) != 64
            or any(c not in "0123456789abcdef" for c in value)):
        raise Failed(f"{what} is not 64 lower-case hex digits")
    return bytes.fromhex(value)


def leaf_bytes(e):
    """The leaf's bytes: docs/audit-proofs.md, "The leaf"."""
    return b"".join([
        b"deedlog.event.v1\0",
        u64(e["position"], "event.position"),
        uuid_bytes(e["tenant_id"], "event.tenant_id"),
        uuid_bytes(e["stream_id"], "event.stream_id"),
        text(e["stream_type"], "event.stream_type"),
        u64(e["version"], "event.version"),
        text(e["event_type"], "event.event_type"),
        u32(e["schema_version"], "event.schema_version"),
        text(e["payload"], "event.payload"),
        text(e["actor"], "event.actor"),
        uuid_bytes(e["command_id"], "event.command_id"),
        uuid_bytes(e["correlation_id"], "event.correlation_id"),
        uuid_bytes(e["causation_id"], "event.causation_id"),
        text(e["traceparent"], "event.traceparent"),
        text(e["tracestate"], "event.tracestate"),
        i64(e["occurred_at_micros"], "event.occurred_at_micros"),
        i64(e["recorded_at_micros"], "event.recorded_at_micros"),
    ])


def node(left, right):
    return sha256(b"\x01" + left + right)


def fold(leaf_hash, index, size, path):
    """The root the audit path leads to (RFC 9162 2.1.3.2), or None."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def head_bytes(h, root, previous):
    """The head's bytes: docs/audit-proofs.md, "The head"."""
    return b"".join([
        b"deedlog.head.v1\0",
        u64(h["block"], "head.block"),
        u64(h["first_position"], "head.first_position"),
        u64(h["last_position"], "head.last_position"),
        root,
        previous,
        i64(h["sealed_at_micros"], "head.sealed_at_micros"),
        text(h["key_id"], "head.key_id"),
    ])


def check(proof, public_key):
    """Returns (position, block) when `proof` holds; raises Failed if not."""
    if proof.get("format") != FORMAT:
        raise Failed(f"format is {proof.get('format')!r}, not {FORMAT}")
    event, h = proof["event"], proof["head"]
    position = integer(event["position"], "event.position")
    first = integer(h["first_position"], "head.first_position")
    last = integer(h["last_position"], "head.last_position")
    if not first <= position <= last:
        raise Failed(f"position {position} is not in block {h['block']} ({first}..={last})")
    index = integer(proof["leaf_index"], "leaf_index")
    size = integer(proof["tree_size"], "tree_size")
    if index != position - first or size != last - first + 1:
        raise Failed("leaf_index or tree_size does not match the head's positions")
    if not isinstance(proof["path"], list):
        raise Failed("path is not a list")
    path = [unhex(p, "path") for p in proof["path"]]
    root = unhex(h["root"], "head.root")
    previous = unhex(h["previous"], "head.previous")

    # 1. The event is the leaf at its index of the tree whose root the head holds.
    leaf_hash = sha256(b"\x00" + leaf_bytes(event))
    if fold(leaf_hash, index, size, path) != root:
        raise Failed(f"the event at position {position} is not the one sealed in block {h['block']}")

    # 2. The head's hash is what the proof says (and what the next head chains to).
    head_hash = sha256(head_bytes(h, root, previous))
    if head_hash.hex() != h["hash"]:
        raise Failed("head.hash is not the hash of the head")

    # 3. The head is signed with the given key.
    key_bytes = base64.b64decode(public_key, validate=True)
    if len(key_bytes) != 32:
        raise Failed(f"the public key is {len(key_bytes)} bytes; an Ed25519 public key is 32")
    key_id = "ed25519:" + hashlib.sha256(key_bytes).hexdigest()[:16]
    if h["key_id"] != key_id:
        raise Failed(f"the head is signed with key {h['key_id']}, not with the given key {key_id}")
    signature = base64.b64decode(h["signature"], validate=True)
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(signature, head_hash)
    except (InvalidSignature, ValueError):
        raise Failed("the head's signature does not verify with the given key") from None
    return position, h["block"]


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} PROOF_JSON_FILE PUBLIC_KEY_BASE64", file=sys.stderr)
        return 1
    try:
        with open(argv[1], encoding="utf-8") as f:
            proof = json.load(f)
        position, block = check(proof, argv[2].strip())
    except Failed as failed:
        print(f"proof does not verify: {failed}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError, AttributeError,
            struct.error, UnicodeError) as malformed:
        # binascii.Error (bad base64) and JSON errors are ValueErrors.
        print(f"proof does not verify: malformed proof or key: "
              f"{type(malformed).__name__}: {malformed}", file=sys.stderr)
        return 1
    print(f"proof verifies: position {position} in block {block}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
