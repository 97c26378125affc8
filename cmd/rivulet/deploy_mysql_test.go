package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestDeploy_HelmChartMySQLTLS renders the chart's MySQL examples (RDS with
// require_secure_transport, RDS IAM with IRSA, a REQUIRE X509 user with
// Java stores) and loads what the pod gets, with real stores at the mount
// paths: the MySQL connection setting builds (the stores open with the
// passwords from the Secrets), IAM renders no password Secret or variable,
// and the IRSA role lands on the ServiceAccount.
func TestDeploy_HelmChartMySQLTLS(t *testing.T) {
	helmBinary(t)
	ca := testenv.NewCA(t, "deploy CA")
	client := ca.Issue(t, "client", testenv.CertOptions{Client: true})
	mount := t.TempDir() // stands for /etc/rivulet-secrets/<secret>
	caPEM, err := os.ReadFile(ca.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mount, "global-bundle.pem"), caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	const trustPass, keyPass = "deploy-trust-pw", "deploy-key-pw"
	testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", ca.CertPath,
		"-keystore", filepath.Join(mount, "truststore.jks"), "-storetype", "JKS", "-storepass", trustPass)
	testenv.OpenSSL(t, "pkcs12", "-export", "-in", client.CertPath, "-inkey", client.KeyPath,
		"-name", "client", "-out", filepath.Join(mount, "keystore.p12"), "-passout", "pass:"+keyPass)
	t.Setenv("DATABASE_PASSWORD", "db")
	t.Setenv("MYSQL_TRUSTSTORE_PASSWORD", trustPass)
	t.Setenv("MYSQL_KEYSTORE_PASSWORD", keyPass)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDDEPLOYTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "deploy-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(mount, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(mount, "no-credentials"))

	for _, tc := range []struct {
		example string
		args    []string
		iam     bool
		role    string
		mode    config.SSLMode
		envs    []string // secretEnv names after DATABASE_PASSWORD (or first with IAM)
		certs   int      // client certificates loaded
	}{
		{"rds-tls", []string{"--set", "existingSecret=db"}, false, "", config.SSLVerifyIdentity, nil, 0},
		{"rds-iam", nil, true, "arn:aws:iam::123456789012:role/rivulet-rds", config.SSLVerifyIdentity, nil, 0},
		{"mysql-x509", []string{"--set", "existingSecret=db"}, false, "", config.SSLVerifyIdentity, []string{"MYSQL_TRUSTSTORE_PASSWORD", "MYSQL_KEYSTORE_PASSWORD"}, 1},
	} {
		t.Run(tc.example, func(t *testing.T) {
			out, err := helmRender(t, append([]string{"-f", "../../deploy/helm/rivulet/examples/" + tc.example + ".yaml"}, tc.args...)...)
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, out)
			}
			docs := helmDocs(t, out)
			if docs["Secret"] != nil {
				t.Errorf("a password Secret was rendered")
			}
			c0 := dig(docs["Deployment"], "spec", "template", "spec", "containers", 0)
			first := 0
			if !tc.iam {
				if dig(c0, "env", 0, "name") != "DATABASE_PASSWORD" {
					t.Errorf("env 0 = %v, want DATABASE_PASSWORD", dig(c0, "env", 0))
				}
				first = 1
			} else if strings.Contains(out, "DATABASE_PASSWORD") {
				t.Errorf("IAM: the manifests still refer to DATABASE_PASSWORD:\n%s", out)
			}
			for i, name := range tc.envs {
				if e := dig(c0, "env", first+i); dig(e, "name") != name || dig(e, "valueFrom", "secretKeyRef", "name") == nil {
					t.Errorf("env %d = %v, want %s from a Secret", first+i, e, name)
				}
			}
			if got := dig(docs["ServiceAccount"], "metadata", "annotations", "eks.amazonaws.com/role-arn"); (tc.role != "" || got != nil) && got != tc.role {
				t.Errorf("IRSA role annotation %v, want %q", got, tc.role)
			}
			vm := dig(c0, "volumeMounts", 2)
			if p, _ := dig(vm, "mountPath").(string); !strings.HasPrefix(p, "/etc/rivulet-secrets/") || dig(vm, "readOnly") != true {
				t.Errorf("the stores' Secret is not mounted read-only: %v", vm)
			}

			mountPath := dig(vm, "mountPath").(string)
			dir := t.TempDir()
			cj, _ := dig(docs["ConfigMap"], "data", "connector.json").(string)
			cj = strings.ReplaceAll(cj, mountPath+"/", mount+"/")
			paths := []string{filepath.Join(dir, "connector.json")}
			if err := os.WriteFile(paths[0], []byte(cj), 0o600); err != nil {
				t.Fatal(err)
			}
			var cfg *config.Config
			if wp, ok := dig(docs["ConfigMap"], "data", "worker.properties").(string); ok {
				w := filepath.Join(dir, "worker.properties")
				if err := os.WriteFile(w, []byte(wp), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, _, err = config.LoadWithWorker(w, paths[0])
			} else {
				cfg, _, err = config.Load(paths[0])
			}
			if err != nil {
				t.Fatalf("the rendered configuration does not load: %v\n%s", err, cj)
			}
			if cfg.Database.SSLMode != tc.mode || cfg.Database.IAM.Enabled != tc.iam {
				t.Errorf("ssl mode %s, IAM %v", cfg.Database.SSLMode, cfg.Database.IAM.Enabled)
			}
			m, err := cfg.MySQL()
			if err != nil {
				t.Fatalf("MySQL connection setting: %v", err)
			}
			if !m.Verified() {
				t.Errorf("the example does not verify the server certificate")
			}
			mat, err := config.LoadTLSMaterial(cfg.Database.TLSFiles())
			if err != nil || mat.RootCAs == nil || len(mat.Certificates) != tc.certs {
				t.Errorf("stores at the mount: CA %v, %d client certificates, err %v; want %d", mat.RootCAs != nil, len(mat.Certificates), err, tc.certs)
			}
		})
	}
}
