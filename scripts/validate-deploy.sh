#!/usr/bin/env bash
# Static checks of the deployment files, for machines without a Docker engine:
# YAML/JSON syntax, docker-compose.yml references (services, bind-mounted files),
# promtool on the Prometheus config, and `docker compose config` when it works.
# Each check is skipped, with a note, when its tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
note() { printf 'validate-deploy: %s\n' "$*"; }

if command -v python3 >/dev/null 2>&1; then
	python3 - <<'PY' || fail=1
import json, os, sys

errors = []
for path in ["demo/connector.json", "deploy/rivulet/connector.json",
             "deploy/grafana/dashboards/rivulet.json"]:
    try:
        with open(path) as f:
            doc = json.load(f)
    except Exception as e:  # noqa: BLE001 - report any parse failure
        errors.append(f"{path}: {e}")
        continue
    if path.endswith("connector.json"):
        cfg = doc.get("config")
        if not isinstance(doc.get("name"), str) or not isinstance(cfg, dict):
            errors.append(f"{path}: want {{\"name\": ..., \"config\": {{...}}}}")
        elif any(not isinstance(v, str) for v in cfg.values()):
            errors.append(f"{path}: every config value must be a string, as Kafka Connect posts them")

try:
    import yaml
except ImportError:
    print("validate-deploy: python3 yaml module missing, YAML checks skipped")
    yaml = None

if yaml is not None:
    docs = {}
    for path in ["docker-compose.yml", "deploy/prometheus/prometheus.yml",
                 "deploy/grafana/provisioning/datasources/prometheus.yml",
                 "deploy/grafana/provisioning/dashboards/rivulet.yml"]:
        try:
            with open(path) as f:
                docs[path] = yaml.safe_load(f)
        except Exception as e:  # noqa: BLE001
            errors.append(f"{path}: {e}")
    compose = docs.get("docker-compose.yml")
    if isinstance(compose, dict):
        services = compose.get("services") or {}
        volumes = compose.get("volumes") or {}
        for name, svc in services.items():
            if "image" not in svc and "build" not in svc:
                errors.append(f"docker-compose.yml: service {name} has neither image nor build")
            deps = svc.get("depends_on") or []
            for dep in (deps.keys() if isinstance(deps, dict) else deps):
                if dep not in services:
                    errors.append(f"docker-compose.yml: service {name} depends on unknown service {dep}")
            for vol in svc.get("volumes") or []:
                src = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
                if src.startswith((".", "/")):
                    if not os.path.exists(src):
                        errors.append(f"docker-compose.yml: service {name} mounts missing {src}")
                elif src and src not in volumes:
                    errors.append(f"docker-compose.yml: service {name} uses undeclared volume {src}")
        build = (services.get("rivulet") or {}).get("build")
        ctx = build.get("context", ".") if isinstance(build, dict) else build
        if ctx and not os.path.exists(os.path.join(ctx, "Dockerfile")):
            errors.append(f"docker-compose.yml: rivulet build context {ctx} has no Dockerfile")

for e in errors:
    print("validate-deploy:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
else
	note "python3 missing, JSON/YAML checks skipped"
fi

if command -v promtool >/dev/null 2>&1; then
	promtool check config --syntax-only deploy/prometheus/prometheus.yml || fail=1
else
	note "promtool missing, Prometheus config check skipped"
fi

if docker compose version >/dev/null 2>&1; then
	docker compose config -q || fail=1
else
	note "docker compose not available, 'docker compose config' skipped"
fi

if [ "$fail" -ne 0 ]; then
	note "FAILED"
	exit 1
fi
note "ok"
