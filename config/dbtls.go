package config

import "strings"

// databaseTLSKeys are the keys parseDatabaseTLS reads (for SupportedKeys).
var databaseTLSKeys = []string{
	keySSLMode, keySSLTruststore, keySSLTruststorePassword, keySSLKeystore, keySSLKeystorePassword,
	keySSLCA, keySSLCert, keySSLKey, keySSLKeyPassword,
	keyIAMEnabled, keyIAMRegion, keyIAMProfile,
}

// RDS IAM authentication keys (Rivulet's: Debezium has none).
const (
	keyIAMEnabled = "database.iam.authentication.enabled"
	keyIAMRegion  = "database.iam.region"
	keyIAMProfile = "database.iam.profile"
)

// mariaDBSSLModes maps the MariaDB connector's database.ssl.mode values
// (MariaDB Connector/J's sslMode) to the MySQL connector's.
var mariaDBSSLModes = map[string]SSLMode{
	"disable":     SSLDisabled,
	"trust":       SSLRequired,
	"verify-ca":   SSLVerifyCA,
	"verify-full": SSLVerifyIdentity,
}

// parseDatabaseTLS reads database.ssl.* and database.iam.*.
func (l *loader) parseDatabaseTLS(d *Database) {
	if v, ok := l.lower(keySSLMode); ok {
		if m, ok := mariaDBSSLModes[v]; ok {
			v = string(m)
		}
		d.SSLMode = SSLMode(v)
	}
	secret := func(key string, dst *Secret) {
		if v, ok := l.m[key]; ok {
			delete(l.m, key)
			*dst = NewSecret(v) // not trimmed: spaces may be part of a password
		}
	}
	l.str(keySSLTruststore, &d.SSLTruststore)
	secret(keySSLTruststorePassword, &d.SSLTruststorePassword)
	l.str(keySSLKeystore, &d.SSLKeystore)
	secret(keySSLKeystorePassword, &d.SSLKeystorePassword)
	l.str(keySSLCA, &d.SSLCA)
	l.str(keySSLCert, &d.SSLCert)
	l.str(keySSLKey, &d.SSLKey)
	secret(keySSLKeyPassword, &d.SSLKeyPassword)
	l.boolean(keyIAMEnabled, &d.IAM.Enabled)
	l.str(keyIAMRegion, &d.IAM.Region)
	l.str(keyIAMProfile, &d.IAM.Profile)

	stores := d.SSLTruststore != "" || d.SSLKeystore != "" || d.SSLCA != "" || d.SSLCert != "" || d.SSLKey != ""
	switch {
	case stores && d.SSLMode == SSLDisabled:
		l.warn("database.ssl.truststore/keystore/ca/cert/key have no effect with database.ssl.mode=disabled; set database.ssl.mode=verify_identity (or another mode) to use them, or remove them",
			keySSLMode)
	case (d.SSLTruststore != "" || d.SSLCA != "") && (d.SSLMode == SSLPreferred || d.SSLMode == SSLRequired):
		l.warn("the server certificate is not verified with database.ssl.mode="+string(d.SSLMode)+", so the truststore only serves verify_ca and verify_identity; set database.ssl.mode=verify_identity (or verify_ca) to check the server against it",
			keySSLMode, keySSLTruststore)
	}
	if d.IAM.Enabled && !d.Password.IsZero() {
		l.warn("database.password is not used: database.iam.authentication.enabled=true sends an IAM token instead; remove database.password", "database.password", keyIAMEnabled)
	}
	if !d.IAM.Enabled && (d.IAM.Region != "" || d.IAM.Profile != "") {
		l.warn("database.iam.region and database.iam.profile have no effect without database.iam.authentication.enabled=true", keyIAMRegion, keyIAMProfile)
	}
}

// validateDatabaseTLS checks database.ssl.* and database.iam.*, and opens
// the stores so that a wrong path or password shows at `rivulet check`.
func (d Database) validateDatabaseTLS() []*FieldError {
	var errs []*FieldError
	switch d.SSLMode {
	case SSLDisabled, SSLPreferred, SSLRequired, SSLVerifyCA, SSLVerifyIdentity:
	default:
		errs = append(errs, invalid(keySSLMode, string(d.SSLMode), "is not an SSL mode",
			"set disabled, preferred, required, verify_ca or verify_identity (MariaDB connector spellings: disable, trust, verify-ca, verify-full)"))
		return errs
	}
	if d.SSLTruststore != "" && d.SSLCA != "" {
		errs = append(errs, invalid(keySSLCA, d.SSLCA, "cannot be used together with "+keySSLTruststore, "set only one of them"))
	}
	if d.SSLKeystore != "" && (d.SSLCert != "" || d.SSLKey != "") {
		errs = append(errs, invalid(keySSLCert, d.SSLCert, "cannot be used together with "+keySSLKeystore, "set either the keystore or the PEM certificate and key"))
	}
	if (d.SSLCert == "") != (d.SSLKey == "") && d.SSLKeystore == "" {
		missing, have := keySSLKey, keySSLCert
		if d.SSLCert == "" {
			missing, have = keySSLCert, keySSLKey
		}
		errs = append(errs, invalid(missing, "", "is not set, but "+have+" is", "set both the PEM client certificate and its private key"))
	}
	if d.IAM.Enabled && d.SSLMode == SSLDisabled {
		errs = append(errs, invalid(keySSLMode, string(d.SSLMode), "cannot be used with "+keyIAMEnabled+"=true: the IAM token must travel over TLS (RDS refuses it otherwise)",
			"set database.ssl.mode=verify_identity with database.ssl.truststore (or database.ssl.ca) holding the RDS CA bundle, or required"))
	}
	if d.IAM.Enabled {
		if _, err := iamRegion(d); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 || d.SSLMode == SSLDisabled {
		return errs
	}
	if _, err := LoadTLSMaterial(d.TLSFiles()); err != nil {
		for _, e := range unjoin(err) {
			if fe, ok := e.(*FieldError); ok {
				errs = append(errs, fe)
			} else {
				errs = append(errs, invalid("database.ssl", "", e.Error(), "fix the TLS files"))
			}
		}
	}
	return errs
}

// unjoin splits an errors.Join result.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// rdsRegion returns the region part of an RDS or Aurora endpoint
// (<name>.<id>.<region>.rds.amazonaws.com[.cn]), or "".
func rdsRegion(host string) string {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, suffix := range []string{".rds.amazonaws.com", ".rds.amazonaws.com.cn"} {
		if rest, ok := strings.CutSuffix(h, suffix); ok {
			parts := strings.Split(rest, ".")
			if len(parts) >= 3 {
				return parts[len(parts)-1]
			}
		}
	}
	return ""
}
