#!/usr/bin/env bash
# Static checks of the deployment files, for machines without a Docker engine:
# YAML/JSON syntax, docker-compose.yml references (services, bind-mounted files),
# promtool on the Prometheus config and alert rules (check + unit tests), the
# Grafana dashboard up to date with its generator, the Helm chart linted and
# rendered by helm (installed from the Go module proxy into bin/tools), and
# `docker compose config` when it works.
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
                 "deploy/prometheus/alerts.yml", "deploy/prometheus/alerts_test.yml",
                 "deploy/helm/rivulet/Chart.yaml", "deploy/helm/rivulet/values.yaml",
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
	promtool check rules deploy/prometheus/alerts.yml || fail=1
	promtool test rules deploy/prometheus/alerts_test.yml || fail=1
else
	note "promtool missing, Prometheus config check skipped"
fi

# The dashboard JSON is generated: it must match its generator.
if command -v python3 >/dev/null 2>&1; then
	tmp="$(mktemp -d)"
	cp -r deploy/grafana "$tmp/"
	python3 "$tmp/grafana/dashboard.py"
	if ! cmp -s "$tmp/grafana/dashboards/rivulet.json" deploy/grafana/dashboards/rivulet.json; then
		note "deploy/grafana/dashboards/rivulet.json is stale: run python3 deploy/grafana/dashboard.py"
		fail=1
	fi
	rm -rf "$tmp"
fi

# Helm: the real helm from the Go module proxy (built once into bin/tools),
# lint and template; cmd/rivulet's TestDeploy_HelmChart checks the rendered
# objects and loads the rendered connector config with Rivulet's loader.
HELM_VERSION=v3.19.0
helm="${HELM:-bin/tools/helm}"
case "$helm" in /*) ;; *) helm="$PWD/$helm" ;; esac
if [ ! -x "$helm" ] && command -v go >/dev/null 2>&1; then
	note "installing helm $HELM_VERSION into bin/tools (go install, once)"
	GOBIN="$PWD/bin/tools" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" || { note "helm install failed"; fail=1; }
fi
if [ -x "$helm" ]; then
	"$helm" lint deploy/helm/rivulet -f deploy/helm/rivulet/ci/test-values.yaml || fail=1
	"$helm" template rivulet deploy/helm/rivulet -f deploy/helm/rivulet/ci/test-values.yaml >/dev/null || fail=1
	for example in deploy/helm/rivulet/examples/*.yaml; do
		"$helm" template rivulet deploy/helm/rivulet -f "$example" --set existingSecret=rivulet-db >/dev/null || { note "helm template with $example failed"; fail=1; }
	done
	HELM="$helm" go test -count=1 -run 'TestDeploy_' ./cmd/rivulet || fail=1
else
	note "helm not available, chart rendering skipped"
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
