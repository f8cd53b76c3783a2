"""Checks what can be checked of infra/ without Docker or a cluster: every
YAML file parses; Kubernetes documents are named objects; kustomize lists
files that exist; compose and manifests only run `deedlog` subcommands and
components that exist; the OpenTelemetry collector's pipelines name
components it configures; dashboards parse and, like the alert rules, only
query series the code exports, with unique panel ids and panels that do
not overlap. (`promtool` checks the rules' syntax.)"""
import json
import pathlib
import re
import sys
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent / "infra"
COMPONENTS = {"tenancy", "properties", "deals", "communications", "projector", "gateway", "relay", "sealer"}
COMMANDS = {"up", "serve", "migrate", "config", "keys", "rebuild", "reconcile", "dlq", "projections", "--help"}
failures = []

# Every settings key: the first cell of each row of the configuration
# reference, which a test holds to the settings' own serialisation (every
# key has a row, every row a key).
reference = (ROOT.parent / "docs/configuration.md").read_text()
SETTINGS = set(re.findall(r"^\| `([a-z_][a-z0-9_.]*)` \|", reference, re.M))
if len(SETTINGS) < 30:
    failures.append(f"docs/configuration.md: only {len(SETTINGS)} setting rows found")


def check_env(where, name):
    if not name.startswith("DEEDLOG__"):
        return
    key = ".".join(name[len("DEEDLOG__"):].lower().split("__"))
    if key not in SETTINGS and not any(key.startswith(t + ".") for t in ("kafka.producer", "kafka.consumer", "gateway.webhooks")):
        failures.append(f"{where}: {name} is not a setting (no key {key})")


def check_args(where, args):
    if not args:
        return
    if args[0] not in COMMANDS:
        failures.append(f"{where}: unknown deedlog command {args[0]!r}")
    if args[0] == "serve" and (len(args) < 2 or args[1] not in COMPONENTS):
        failures.append(f"{where}: `serve` needs one of {sorted(COMPONENTS)}, got {args[1:]}")


YAML_FILES = sorted(set(ROOT.rglob("*.yaml")) | set(ROOT.rglob("*.yml")))
for path in YAML_FILES:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as error:
        failures.append(f"{path}: {error}")
        continue
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "k8s":
        for doc in docs:
            if path.name == "kustomization.yaml":
                for resource in doc.get("resources", []):
                    if not (path.parent / resource).exists():
                        failures.append(f"{rel}: resource {resource} does not exist")
                for generator in doc.get("configMapGenerator", []):
                    for literal in generator.get("literals", []):
                        check_env(f"{rel} {generator['name']}", literal.split("=", 1)[0])
                continue
            for key in ("apiVersion", "kind"):
                if key not in doc:
                    failures.append(f"{rel}: a document without {key}")
            if not doc.get("metadata", {}).get("name"):
                failures.append(f"{rel}: a {doc.get('kind')} without metadata.name")
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                check_args(f"{rel} {doc['metadata']['name']}", container.get("args"))
                for env in container.get("env", []):
                    check_env(f"{rel} {doc['metadata']['name']}", env["name"])
    elif path.name == "compose.yaml":
        for name, service in docs[0].get("services", {}).items():
            if "deedlog" in str(service.get("image", "")):
                check_args(f"{rel} service {name}", service.get("command"))
                for env in (service.get("environment") or {}):
                    check_env(f"{rel} service {name}", env)
    elif rel.parts[0] == "otel":
        # Every receiver, processor and exporter a pipeline names is configured
        # (the collector refuses to start otherwise).
        config = docs[0] if docs else {}
        for pipeline, parts in (config.get("service", {}).get("pipelines") or {}).items():
            for kind in ("receivers", "processors", "exporters"):
                for component in parts.get(kind, []):
                    if component not in (config.get(kind) or {}):
                        failures.append(f"{rel}: pipeline {pipeline} uses {kind[:-1]} {component!r}, which is not configured")

# The series the code exports: literal names, and every prometheus-client
# registry (each `Registry::with_prefix("X")` of a file + "_" + each name the
# file registers; counters gain `_total`, which check_expr strips).
SOURCE = ROOT.parent
known = set()
for rs in list((SOURCE / "crates").rglob("*.rs")) + list((SOURCE / "projections").rglob("*.rs")) + list((SOURCE / "gateway").rglob("*.rs")):
    text = rs.read_text()
    known.update(re.findall(r'"(deedlog_[a-z_]+)', text))
    prefixes = re.findall(r'Registry::with_prefix\(\s*"([a-z_]+)"\s*\)', text)
    registered = re.findall(r'register\(\s*"([a-z_]+)"', text)
    known.update(f"{prefix}_{name}" for prefix in prefixes for name in registered)


def check_expr(where, expr):
    for name in set(re.findall(r"\bdeedlog_[a-z_]+", expr)):
        base = re.sub(r"_(total|bucket|sum|count)$", "", name)
        if name not in known and base not in known:
            failures.append(f"{where}: {name} is not a series the code exports")


alerts = yaml.safe_load((ROOT / "prometheus" / "alerts.yaml").read_text())
for group in alerts["groups"]:
    for rule in group["rules"]:
        check_expr(f"prometheus/alerts.yaml {rule['alert']}", rule["expr"])
for path in sorted(ROOT.rglob("*.json")):
    try:
        dashboard = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        failures.append(f"{path}: {error}")
        continue
    panels = dashboard.get("panels", [])
    ids = [panel.get("id") for panel in panels]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        failures.append(f"{path.relative_to(ROOT)}: panel id {duplicate} is used more than once")
    placed = []
    for panel in panels:
        g = panel.get("gridPos", {})
        x, y, w, h = (g.get(k, 0) for k in ("x", "y", "w", "h"))
        if x + w > 24:
            failures.append(f"{path.relative_to(ROOT)} {panel.get('title')}: wider than the 24-column grid")
        for title, (x2, y2, w2, h2) in placed:
            if x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h:
                failures.append(f"{path.relative_to(ROOT)}: panels {title!r} and {panel.get('title')!r} overlap")
        placed.append((panel.get("title"), (x, y, w, h)))
    for panel in panels:
        for target in panel.get("targets", []):
            check_expr(f"{path.relative_to(ROOT)} {panel.get('title')}", target.get("expr", ""))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"infra: {len(YAML_FILES)} YAML files parse, manifests name real components, "
      f"alerts and dashboards query only the {len(known)} series the code exports")
