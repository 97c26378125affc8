package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestDeploy_ConnectorConfigs loads the connector configurations shipped for
// docker compose and the demo with the real config loader.
func TestDeploy_ConnectorConfigs(t *testing.T) {
	for _, path := range []string{"../../deploy/rivulet/connector.json", "../../demo/connector.json"} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Skip(err)
			}
			if _, _, err := config.Parse(b); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		})
	}
}

// TestDeploy_DashboardDescribed checks that every panel of the Grafana
// dashboard explains itself to the on-call engineer.
func TestDeploy_DashboardDescribed(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/dashboards/rivulet.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type, Title, Description string
			Targets                  []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			rows[p.Title] = true
			continue
		}
		if len(p.Description) < 40 {
			t.Errorf("panel %q: description %q is too short for on-call", p.Title, p.Description)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
	for _, want := range []string{"Streaming (binlog)", "Snapshot", "Schema history"} {
		if !rows[want] {
			t.Errorf("no %q row", want)
		}
	}
}

// helmBinary finds helm: $HELM, bin/tools/helm (make validate-deploy installs
// it there from the Go module proxy), or PATH.
func helmBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HELM"), "../../bin/tools/helm"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if testing.Short() {
		t.Skip("helm not found; -short")
	}
	t.Fatal("helm not found: run `make tools` (make test does) to build it into bin/tools, or set HELM")
	return ""
}

// helmRender runs helm template on deploy/helm/rivulet with args; on a
// failure it returns helm's stderr.
func helmRender(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), append([]string{"template", "r", "../../deploy/helm/rivulet"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return errb.String(), err
	}
	return out.String(), nil
}

// helmDocs splits rendered manifests by kind.
func helmDocs(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	docs := map[string]map[string]any{}
	for _, doc := range strings.Split(out, "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if m == nil {
			continue
		}
		docs[m["kind"].(string)] = m
	}
	return docs
}

// dig walks a decoded YAML document by map keys and list indexes.
func dig(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, _ := m.(map[any]any)
			if mm == nil {
				if ms, ok := m.(map[string]any); ok {
					m = ms[k]
					continue
				}
				return nil
			}
			m = mm[k]
		case int:
			l, _ := m.([]any)
			if k >= len(l) {
				return nil
			}
			m = l[k]
		}
	}
	return m
}

// loadRendered loads the rendered ConfigMap's connector.json and
// worker.properties (when present) with Rivulet's loader, as the pod does.
// fix (optional) rewrites the worker file first, as a mount would.
func loadRendered(t *testing.T, cm map[string]any, fix ...func(string) string) (*config.Config, []config.Warning, error) {
	t.Helper()
	dir := t.TempDir()
	cj, _ := dig(cm, "data", "connector.json").(string)
	connector := filepath.Join(dir, "connector.json")
	if err := os.WriteFile(connector, []byte(cj), 0o600); err != nil {
		t.Fatal(err)
	}
	wp, ok := dig(cm, "data", "worker.properties").(string)
	if !ok {
		return config.Load(connector)
	}
	for _, f := range fix {
		wp = f(wp)
	}
	worker := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(worker, []byte(wp), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.LoadWithWorker(worker, connector)
}

// TestDeploy_HelmChart renders deploy/helm/rivulet with helm and checks what
// Kubernetes gets: the connector config and worker file load with Rivulet's
// own loader, the password comes from the Secret, one replica with
// Recreate, probes on /healthz and /readyz, scrape annotations, resources.
func TestDeploy_HelmChart(t *testing.T) {
	render := func(args ...string) (string, error) { return helmRender(t, args...) }
	if msg, err := render(); err == nil || !strings.Contains(msg, "set password") {
		t.Errorf("rendering without a password: err %v, %s; want a failure asking for it", err, msg)
	}
	if msg, err := render("--set", "password=x", "--set-string", "connector.config.database\\.password=y"); err == nil {
		t.Errorf("a password in the ConfigMap was accepted: %s", msg)
	}
	out, err := render("--set", "password=s3cret")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	docs := helmDocs(t, out)
	for _, kind := range []string{"ConfigMap", "Secret", "Deployment", "Service", "PersistentVolumeClaim", "ServiceAccount"} {
		if docs[kind] == nil {
			t.Errorf("no %s rendered", kind)
		}
	}
	get := dig

	// The ConfigMap's connector.json is a valid Rivulet configuration once
	// the Secret's value is in the environment.
	t.Setenv("DATABASE_PASSWORD", "s3cret")
	cfg, _, err := loadRendered(t, docs["ConfigMap"])
	if err != nil {
		t.Fatalf("rendered connector.json and worker.properties do not load: %v\n%v", err, docs["ConfigMap"])
	}
	if cfg.Database.Password.Reveal() != "s3cret" || cfg.MetricsListen != ":9404" {
		t.Errorf("password from env %q, metrics.listen %q", cfg.Database.Password.Reveal(), cfg.MetricsListen)
	}
	if got := strings.Join(cfg.Kafka.BootstrapServers, ","); got != "kafka:9092" || cfg.Offsets.FileFilename != "/var/lib/rivulet/offsets.json" {
		t.Errorf("from the worker file: bootstrap.servers %q, offset.storage.file.filename %q", got, cfg.Offsets.FileFilename)
	}

	dep := docs["Deployment"]
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"replicas", get(dep, "spec", "replicas"), 1},
		{"strategy", get(dep, "spec", "strategy", "type"), "Recreate"},
		{"scrape annotation", get(dep, "spec", "template", "metadata", "annotations", "prometheus.io/scrape"), "true"},
		{"port annotation", get(dep, "spec", "template", "metadata", "annotations", "prometheus.io/port"), "9404"},
		{"liveness", get(dep, "spec", "template", "spec", "containers", 0, "livenessProbe", "httpGet", "path"), "/healthz"},
		{"readiness", get(dep, "spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "path"), "/readyz"},
		{"worker flag", get(dep, "spec", "template", "spec", "containers", 0, "args", 3), "--worker"},
		{"password env", get(dep, "spec", "template", "spec", "containers", 0, "env", 0, "valueFrom", "secretKeyRef", "key"), "database.password"},
		{"non-root", get(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot"), true},
		{"memory limit", get(dep, "spec", "template", "spec", "containers", 0, "resources", "limits", "memory"), "1Gi"},
		{"cpu request", get(dep, "spec", "template", "spec", "containers", 0, "resources", "requests", "cpu"), "500m"},
		{"grace period", get(dep, "spec", "template", "spec", "terminationGracePeriodSeconds"), 45},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v", c.name, c.got, c.got, c.want)
		}
	}
	if cfg.ShutdownTimeout.Seconds() >= 45 {
		t.Errorf("shutdown.timeout %s is not below the grace period 45s", cfg.ShutdownTimeout)
	}
}

// TestDeploy_HelmChartKafkaSecurity renders the chart with each Kafka
// example of deploy/helm/rivulet/examples (Amazon MSK with IAM and IRSA,
// SCRAM, mutual TLS; Strimzi's own Secrets; Confluent Cloud) and checks what the pod gets: --worker with the
// rendered worker.properties, every credential as an environment variable
// from a Secret, the keystore Secret mounted read-only, the IRSA role on
// the ServiceAccount; the rendered files load with Rivulet's loader once
// the Secrets' values are in the environment and the keystore (a real
// keytool JKS) at its mount path. Secrets in clear and mounts over the
// config volume are refused.
func TestDeploy_HelmChartKafkaSecurity(t *testing.T) {
	helmBinary(t)
	certs := testenv.TLSCerts(t)
	stores := makeJavaStores(t, certs)
	// The Secrets' files, under a root that stands for /etc/rivulet-secrets.
	root := t.TempDir()
	for path, from := range map[string]string{"kafka-tls/kafka.client.keystore.jks": stores.KeyJKS, "rivulet-user/user.p12": stores.KeyP12} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "my-cluster-cluster-ca-cert"), 0o700); err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string]string{"rivulet-user/user.password": keyStorePassword, "my-cluster-cluster-ca-cert/ca.crt": certs.CAPEM} {
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	atMount := func(s string) string { return strings.ReplaceAll(s, "/etc/rivulet-secrets/", root+"/") }
	env := map[string]string{"DATABASE_PASSWORD": "db", "KAFKA_PASSWORD": "k", "KEYSTORE_PASSWORD": keyStorePassword,
		"KEY_PASSWORD": privateKeyPassword, "CC_API_KEY": "ck", "CC_API_SECRET": "cs", "SR_API_KEY": "sk", "SR_API_SECRET": "ss"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	tests := []struct {
		example string
		envs    []string // the secretEnv names, in order
		mounts  []string // the secretMounts Secrets
		role    string   // the IRSA role
		check   func(t *testing.T, c *config.Config)
	}{
		{"msk-iam", nil, nil, "arn:aws:iam::123456789012:role/rivulet-msk", func(t *testing.T, c *config.Config) {
			if m := c.Kafka.Client(config.RoleProducer).SASL.Mechanism; m != config.MechanismMSKIAM {
				t.Errorf("mechanism %s", m)
			}
		}},
		{"msk-scram", []string{"KAFKA_PASSWORD"}, nil, "", func(t *testing.T, c *config.Config) {
			if s := c.Kafka.Client(config.RoleConsumer).SASL; s.Mechanism != config.MechanismSCRAM512 || s.Password.Reveal() != "k" {
				t.Errorf("SASL %s, password from the Secret %v", s.Mechanism, s.Password.Reveal() == "k")
			}
		}},
		{"msk-tls", []string{"KEYSTORE_PASSWORD", "KEY_PASSWORD"}, []string{"kafka-tls"}, "", func(t *testing.T, c *config.Config) {
			tc, err := c.Kafka.Client(config.RoleAdmin).TLS.Config()
			if err != nil || len(tc.Certificates) != 1 {
				t.Errorf("client certificate from the mounted JKS keystore: %v", err)
			}
		}},
		{"strimzi-tls", nil, []string{"my-cluster-cluster-ca-cert", "rivulet-user"}, "", func(t *testing.T, c *config.Config) {
			tc, err := c.Kafka.Client(config.RoleProducer).TLS.Config()
			if err != nil || len(tc.Certificates) != 1 || tc.RootCAs == nil {
				t.Errorf("the KafkaUser's user.p12 (password from user.password) and the cluster CA: %v", err)
			}
		}},
		{"confluent-cloud", []string{"CC_API_KEY", "CC_API_SECRET", "SR_API_KEY", "SR_API_SECRET"}, nil, "", func(t *testing.T, c *config.Config) {
			if c.Avro.User != "sk" || c.Avro.Password.Reveal() != "ss" || c.Kafka.Client(config.RoleProducer).SASL.User != "ck" {
				t.Errorf("registry user %q, Kafka user %q", c.Avro.User, c.Kafka.Client(config.RoleProducer).SASL.User)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.example, func(t *testing.T) {
			out, err := helmRender(t, "-f", "../../deploy/helm/rivulet/examples/"+tc.example+".yaml", "--set", "existingSecret=db")
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, out)
			}
			docs := helmDocs(t, out)
			if docs["Secret"] != nil {
				t.Errorf("a Secret was rendered although existingSecret is set")
			}
			c0 := dig(docs["Deployment"], "spec", "template", "spec", "containers", 0)
			if args := fmt.Sprint(dig(c0, "args")); args != "[run --config /etc/rivulet/connector.json --worker /etc/rivulet/worker.properties]" {
				t.Errorf("args %s", args)
			}
			for i, name := range tc.envs {
				e := dig(c0, "env", i+1)
				if dig(e, "name") != name || dig(e, "valueFrom", "secretKeyRef", "name") == nil || dig(e, "value") != nil {
					t.Errorf("env %d = %v, want %s from a Secret", i+1, e, name)
				}
			}
			for i, secret := range tc.mounts {
				vol := dig(docs["Deployment"], "spec", "template", "spec", "volumes", 2+i)
				vm := dig(c0, "volumeMounts", 2+i)
				if dig(vol, "secret", "secretName") != secret || dig(vm, "name") != dig(vol, "name") ||
					dig(vm, "readOnly") != true || dig(vm, "mountPath") != "/etc/rivulet-secrets/"+secret {
					t.Errorf("Secret %s: volume %v, mount %v", secret, vol, vm)
				}
			}
			if got := dig(docs["ServiceAccount"], "metadata", "annotations", "eks.amazonaws.com/role-arn"); (tc.role != "" || got != nil) && got != tc.role {
				t.Errorf("IRSA role annotation %v, want %q", got, tc.role)
			}
			c, w, err := loadRendered(t, docs["ConfigMap"], atMount)
			if err != nil {
				t.Fatalf("the rendered configuration does not load: %v", err)
			}
			for _, x := range w {
				if !strings.Contains(x.Message, "client.dns.lookup") {
					t.Errorf("warning: %s", x.Message)
				}
			}
			if c.Offsets.Topic != "rivulet-offsets" || c.Offsets.FileFilename != "" {
				t.Errorf("offsets topic %q, file %q", c.Offsets.Topic, c.Offsets.FileFilename)
			}
			tc.check(t, c)
		})
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"SASL password in clear", []string{"--set-string", `worker.sasl\.jaas\.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="pw";`},
			"worker.sasl.jaas.config holds a password or clientSecret in clear"},
		{"keystore password in clear", []string{"--set-string", `worker.producer\.ssl\.keystore\.password=pw`}, "worker.producer.ssl.keystore.password holds a secret in clear"},
		{"registry user info in clear", []string{"--set-string", `connector.config.value\.converter\.basic\.auth\.user\.info=u:pw`},
			"connector.config.value.converter.basic.auth.user.info holds a secret in clear"},
		{"mount over the config volume", []string{"--set", "secretMounts[0].secretName=tls", "--set", "secretMounts[0].mountPath=/etc/rivulet/tls"},
			"mountPath /etc/rivulet/tls is inside the config or data volume"},
		{"IRSA without the chart's ServiceAccount", []string{"--set", "serviceAccount.create=false", "--set", "serviceAccount.awsRoleArn=arn:aws:iam::1:role/r"},
			"serviceAccount.awsRoleArn needs serviceAccount.create=true"},
		{"two offset stores", []string{"--set-string", `worker.offset\.storage\.topic=o`}, "set worker.offset.storage.file.filename to null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := helmRender(t, append([]string{"--set", "password=x"}, tc.args...)...)
			if err == nil || !strings.Contains(msg, tc.want) {
				t.Errorf("err %v, %s\nwant a failure saying %q", err, msg, tc.want)
			}
		})
	}
}
