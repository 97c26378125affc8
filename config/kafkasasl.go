package config

import (
	"fmt"
	"net/url"
	"strings"
)

// JAAS login modules Rivulet reads from sasl.jaas.config.
const (
	plainLoginModule  = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramLoginModule  = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthLoginModule  = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	mskIAMLoginModule = "software.amazon.msk.auth.iam.IAMLoginModule"
)

// Callback handlers that go with them (sasl.login.callback.handler.class,
// sasl.client.callback.handler.class).
var (
	oauthLoginHandlers = []string{
		"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler", // Kafka 3.1-3.3
	}
	mskIAMClientHandler = "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
)

// jaasEntry is one login module of a sasl.jaas.config value.
type jaasEntry struct {
	module  string
	flag    string
	options map[string]string
}

// parseJAAS reads "<LoginModule> <flag> key=value ... ;" as Kafka's
// JaasConfig does: values are bare words or double-quoted strings with
// backslash escapes. Kafka clients take exactly one login module.
func parseJAAS(s string) (jaasEntry, error) {
	var e jaasEntry
	i := 0
	skip := func() {
		for i < len(s) && strings.ContainsRune(" \t\r\n", rune(s[i])) {
			i++
		}
	}
	word := func() string {
		start := i
		for i < len(s) && !strings.ContainsRune(" \t\r\n;=\"", rune(s[i])) {
			i++
		}
		return s[start:i]
	}
	skip()
	if e.module = word(); e.module == "" {
		return e, fmt.Errorf("does not start with a login module class")
	}
	skip()
	e.flag = strings.ToLower(word())
	switch e.flag {
	case "required", "requisite", "sufficient", "optional":
	default:
		return e, fmt.Errorf("has no control flag after %s (expected required)", e.module)
	}
	e.options = map[string]string{}
	for {
		skip()
		if i >= len(s) {
			return e, fmt.Errorf("does not end with ';'")
		}
		if s[i] == ';' {
			i++
			skip()
			if i < len(s) {
				return e, fmt.Errorf("holds more than one login module; a Kafka client takes one")
			}
			return e, nil
		}
		key := word()
		skip()
		if key == "" || i >= len(s) || s[i] != '=' {
			return e, fmt.Errorf("has an option that is not key=value near position %d", i)
		}
		i++
		skip()
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				ch := s[i]
				i++
				if ch == '\\' && i < len(s) {
					b.WriteByte(s[i])
					i++
					continue
				}
				if ch == '"' {
					closed = true
					break
				}
				b.WriteByte(ch)
			}
			if !closed {
				return e, fmt.Errorf("has an unterminated quoted value for %s", key)
			}
			val = b.String()
		} else {
			val = word()
		}
		e.options[key] = val
	}
}

// kafkaSASL reads sasl.mechanism and sasl.jaas.config of one role.
func (l *loader) kafkaSASL(kc *KafkaClient, p clientProps) {
	jaasRaw, hasJAAS := p.get("sasl.jaas.config")
	mech, hasMech := p.get("sasl.mechanism")
	mech = strings.ToUpper(strings.TrimSpace(mech))
	if !kc.Protocol.SASL() {
		if hasJAAS {
			l.warn(fmt.Sprintf("%s is not used: security.protocol of the %s client is %s; set SASL_SSL or SASL_PLAINTEXT to authenticate", kc.Source("sasl.jaas.config"), l.roleOf(kc), kc.Protocol), kc.Source("sasl.jaas.config"))
		}
		return
	}
	mkey, jkey := kc.Source("sasl.mechanism"), kc.Source("sasl.jaas.config")
	if !hasMech {
		l.failOnce(invalid("sasl.mechanism", "", "is not set (Kafka's default GSSAPI, Kerberos, is not implemented)",
			"set sasl.mechanism to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"))
		return
	}
	switch mech {
	case MechanismPlain, MechanismSCRAM256, MechanismSCRAM512, MechanismOAuthBearer, MechanismMSKIAM:
	case "GSSAPI":
		l.failOnce(unsupported(mkey, mech, "Kerberos is not implemented; use SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"))
		return
	default:
		l.failOnce(invalid(mkey, mech, "is not a SASL mechanism", "set PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"))
		return
	}
	kc.SASL.Mechanism = mech
	if !hasJAAS {
		l.failOnce(invalid(jkey, "", "is not set", "set it to the login module of "+mech+", such as "+jaasExample(mech)))
		return
	}
	e, err := parseJAAS(jaasRaw)
	if err != nil {
		l.failOnce(invalid(jkey, redacted, err.Error(), "write it as "+jaasExample(mech)))
		return
	}
	want := map[string]string{
		MechanismPlain: plainLoginModule, MechanismSCRAM256: scramLoginModule, MechanismSCRAM512: scramLoginModule,
		MechanismOAuthBearer: oauthLoginModule, MechanismMSKIAM: mskIAMLoginModule,
	}[mech]
	if e.module != want {
		l.failOnce(invalid(jkey, redacted, "uses login module "+e.module+", which does not go with "+mkey+"="+mech, "write it as "+jaasExample(mech)))
		return
	}
	o := e.options
	switch mech {
	case MechanismPlain, MechanismSCRAM256, MechanismSCRAM512:
		kc.SASL.User, kc.SASL.Password = o["username"], NewSecret(o["password"])
		if kc.SASL.User == "" || kc.SASL.Password.IsZero() {
			l.failOnce(invalid(jkey, redacted, "has no username or no password", "write it as "+jaasExample(mech)))
		}
	case MechanismOAuthBearer:
		l.oauthSettings(kc, p, o, jkey)
	case MechanismMSKIAM:
		if v, ok := p.get("sasl.client.callback.handler.class"); ok && strings.TrimSpace(v) != mskIAMClientHandler {
			l.failOnce(invalid(kc.Source("sasl.client.callback.handler.class"), v, "is not the MSK IAM handler", "set "+mskIAMClientHandler))
		}
		kc.SASL.IAM = MSKIAM{
			Profile: o["awsProfileName"], RoleARN: o["awsRoleArn"], RoleSessionName: o["awsRoleSessionName"],
			RoleExternalID: o["awsRoleExternalId"], STSRegion: o["awsStsRegion"],
		}
		for k := range o {
			switch k {
			case "awsProfileName", "awsRoleArn", "awsRoleSessionName", "awsRoleExternalId", "awsStsRegion",
				"awsDebugCreds", "awsMaxRetries", "awsMaxBackOffTimeMs":
			default:
				l.failOnce(invalid(jkey, redacted, "has the IAMLoginModule option "+k+", which Rivulet does not know",
					"use awsProfileName, awsRoleArn, awsRoleSessionName, awsRoleExternalId or awsStsRegion"))
			}
		}
		if kc.SASL.IAM.RoleARN != "" && kc.SASL.IAM.RoleSessionName == "" {
			kc.SASL.IAM.RoleSessionName = "rivulet"
		}
	}
	if !kc.Protocol.TLS() && (mech == MechanismPlain || mech == MechanismOAuthBearer) {
		l.warn(fmt.Sprintf("%s sends %s credentials over %s, unencrypted; use SASL_SSL", jkey, mech, kc.Protocol), kc.Source("security.protocol"))
	}
}

// oauthSettings reads the OIDC client-credentials login.
func (l *loader) oauthSettings(kc *KafkaClient, p clientProps, o map[string]string, jkey string) {
	ukey := kc.Source("sasl.oauthbearer.token.endpoint.url")
	tokenURL, ok := p.get("sasl.oauthbearer.token.endpoint.url")
	if !ok {
		if _, unsecured := o["unsecuredLoginStringClaim_sub"]; unsecured {
			l.failOnce(unsupported(jkey, redacted, "unsecured OAUTHBEARER tokens are for development brokers only; set sasl.oauthbearer.token.endpoint.url with clientId and clientSecret"))
			return
		}
		l.failOnce(invalid("sasl.oauthbearer.token.endpoint.url", "", "is not set",
			"set the identity provider's token endpoint, such as https://idp.example.com/oauth2/token"))
		return
	}
	u, err := url.Parse(strings.TrimSpace(tokenURL))
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		l.failOnce(invalid(ukey, RedactURL(tokenURL), "is not an http or https URL", "set the identity provider's token endpoint, such as https://idp.example.com/oauth2/token"))
		return
	case u.User != nil:
		l.failOnce(invalid(ukey, RedactURL(tokenURL), "holds credentials", "put clientId and clientSecret in "+jkey))
		return
	}
	if v, ok := p.get("sasl.login.callback.handler.class"); ok {
		known := false
		for _, h := range oauthLoginHandlers {
			known = known || strings.TrimSpace(v) == h
		}
		if !known {
			l.failOnce(unsupported(kc.Source("sasl.login.callback.handler.class"), v, "set "+oauthLoginHandlers[0]+" (client credentials against sasl.oauthbearer.token.endpoint.url)"))
		}
	}
	ob := OAuthBearer{TokenURL: u.String(), ClientID: o["clientId"], ClientSecret: NewSecret(o["clientSecret"]), Scope: o["scope"]}
	if ob.ClientID == "" || ob.ClientSecret.IsZero() {
		l.failOnce(invalid(jkey, redacted, "has no clientId or no clientSecret", "write it as "+jaasExample(MechanismOAuthBearer)))
	}
	for k, v := range o {
		if name, ok := strings.CutPrefix(k, "extension_"); ok {
			if ob.Extensions == nil {
				ob.Extensions = map[string]string{}
			}
			ob.Extensions[name] = v
		}
	}
	if v, ok := p.get("sasl.login.connect.timeout.ms"); ok {
		ob.ConnectTimeout = l.clientMillis(kc.Source("sasl.login.connect.timeout.ms"), v)
	}
	if v, ok := p.get("sasl.login.read.timeout.ms"); ok {
		ob.ReadTimeout = l.clientMillis(kc.Source("sasl.login.read.timeout.ms"), v)
	}
	kc.SASL.OAuth = ob
}

func jaasExample(mech string) string {
	switch mech {
	case MechanismPlain:
		return plainLoginModule + ` required username="..." password="...";`
	case MechanismSCRAM256, MechanismSCRAM512:
		return scramLoginModule + ` required username="..." password="...";`
	case MechanismOAuthBearer:
		return oauthLoginModule + ` required clientId="..." clientSecret="..." scope="...";`
	case MechanismMSKIAM:
		return mskIAMLoginModule + ` required; (optionally awsRoleArn="..." or awsProfileName="...")`
	}
	return "a JAAS login module"
}

// roleOf names the role whose client is kc (for messages).
func (l *loader) roleOf(kc *KafkaClient) string {
	for _, s := range kc.sources {
		for r := range numKafkaRoles {
			for _, p := range rolePrefixes[r] {
				if strings.HasPrefix(s, p) {
					return r.String()
				}
			}
		}
	}
	return "Kafka"
}

// RedactURL returns u with the password of any user info replaced by
// "****" (and a query's credentials left out), for messages.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return redacted + "@" + raw[i+1:]
		}
		return raw
	}
	if u.User != nil {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	if u.RawQuery != "" {
		u.RawQuery = redacted
	}
	return strings.Replace(u.String(), url.QueryEscape(redacted), redacted, -1)
}
