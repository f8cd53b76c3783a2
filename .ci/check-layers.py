#!/usr/bin/env python3
"""Imports point down (ADR 0033): each workspace crate's layer is the folder
it lives in, and a crate may depend (normal, build or dev) only on crates of
the layers this table allows. A shared library under crates/ (or proto/)
depends on shared libraries only, never on a service or a projection."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Lowest first; each layer may use itself and the layers listed.
ALLOWED = {
    "shared": {"shared"},
    "domain": {"shared", "domain"},
    "service": {"shared", "domain", "service"},
    "projection": {"shared", "domain", "projection"},
    # The seed sends the domain's values through each service's convert
    # module, the one pb<->domain mapping; the gateway is kept off services by
    # check-deps.sh (it links no event store).
    "edge": {"shared", "domain", "service", "projection"},
    "composition": {"shared", "domain", "service", "projection", "edge", "composition"},
    "tests": {"shared", "domain", "service", "projection", "edge", "composition", "tests"},
    "command": {"shared", "domain", "service", "projection", "edge", "composition", "tests"},
}


def layer(manifest: str) -> str:
    folder = pathlib.Path(manifest).resolve().parent.relative_to(ROOT).parts
    if folder == ():
        return "command"  # src/, the deedlog command
    top = folder[0]
    if top in ("crates", "proto"):
        return "shared"
    if top == "services":
        return "domain" if folder[-1].endswith("-domain") else "service"
    if top == "projections":
        return "projection"
    if top in ("gateway", "seed"):
        return "edge"
    if top == "cluster":
        return "composition"
    if top == "tests":
        return "tests"
    sys.exit(f"layer check: {'/'.join(folder)} is in no layer; name it in .ci/check-layers.py")


metadata = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
)
members = {p["name"]: p for p in metadata["packages"]}
layers = {name: layer(p["manifest_path"]) for name, p in members.items()}
offences = []
for name, package in sorted(members.items()):
    for dep in package["dependencies"]:
        if dep["name"] in members and layers[dep["name"]] not in ALLOWED[layers[name]]:
            kind = dep["kind"] or "normal"
            offences.append(
                f"{name} ({layers[name]}) depends on {dep['name']} ({layers[dep['name']]}) [{kind}]"
            )
for offence in offences:
    print(f"layer check: {offence}", file=sys.stderr)
if offences:
    sys.exit(1)
print(f"layer check: {len(members)} crates, every dependency points down")
