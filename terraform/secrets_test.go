package terraform_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

const headersSecret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-headers-AbCdEf"

// TestOTelHeadersSecret: with otel_headers_secret_arn, the components that
// export spans (the poller, the fulfiller, each function) get its ARN and
// may read that secret, and nothing else may; without it, neither.
func TestOTelHeadersSecret(t *testing.T) {
	grant := statement{Sid: "OtlpHeadersSecret", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{headersSecret}}
	arn := map[string]cty.Value{"otel_headers_secret_arn": cty.StringVal(headersSecret)}
	tests := []struct {
		name   string
		m      *module
		fn     string // module call of the function
		reads  bool
		hasEnv bool // the function's environment is the module's (not an existing function's)
	}{
		{"poller", bridge(t, arn), "poller", true, true},
		{"fulfiller", bridge(t, arn), "fulfiller", true, true},
		{"returner: exports no spans", bridge(t, arn), "returner", false, true},
		{"callback: exports no spans", bridge(t, withCallback(arn)), "callback", false, true},
		{"poller without the variable", bridge(t, nil), "poller", false, true},
		{"fulfiller without the variable", bridge(t, nil), "fulfiller", false, true},
		{"function", zeebeLambda(t, arn), "lambda", true, true},
		{"function without the variable", zeebeLambda(t, nil), "lambda", false, true},
		{"existing function: its role only", zeebeLambda(t, withExisting(arn)), "lambda", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stmts := policyStatements(t, tt.m, "module."+tt.fn+".aws_iam_role_policy.this")
			if tt.reads {
				assert.Equal(t, grant, stmts["OtlpHeadersSecret"])
			} else {
				assert.NotContains(t, stmts, "OtlpHeadersSecret")
			}
			if !tt.hasEnv {
				assert.Equal(t, int64(0), tt.m.instances("module."+tt.fn+".aws_lambda_function.this"))
				return
			}
			env := tt.m.attr("module."+tt.fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
			if tt.reads {
				require.Contains(t, env, "OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN")
				assert.Equal(t, headersSecret, env["OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN"].AsString())
			} else {
				assert.NotContains(t, env, "OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN")
			}
		})
	}
}

func withCallback(extra map[string]cty.Value) map[string]cty.Value {
	out := map[string]cty.Value{"callback_filename": cty.StringVal("dist/zeebe-callback.zip")}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func withExisting(extra map[string]cty.Value) map[string]cty.Value {
	out := map[string]cty.Value{
		"create_function":    cty.False,
		"function_arn":       cty.StringVal("arn:aws:lambda:eu-west-1:123456789012:function:book-hotel"),
		"existing_role_name": cty.StringVal("legacy-role"),
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestOTelHeadersAreRefusedInPlainVariables: OTLP headers in
// otel_environment or a function's environment are refused, with a
// message that says to use the secret.
func TestOTelHeadersAreRefusedInPlainVariables(t *testing.T) {
	env := func(k string) cty.Value { return cty.MapVal(map[string]cty.Value{k: cty.StringVal("api-key=s3cr3t")}) }
	const use = "pass its ARN as otel_headers_secret_arn"
	tests := []struct {
		module, variable string
		value            cty.Value
		ok               bool
		says             string
	}{
		{"bridge", "otel_environment", env("OTEL_EXPORTER_OTLP_HEADERS"), false, use},
		{"bridge", "otel_environment", env("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), false, use},
		{"bridge", "otel_environment", env("OTEL_EXPORTER_OTLP_LOGS_HEADERS"), false, use},
		{"bridge", "otel_environment", env("OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN"), false, use},
		{"bridge", "otel_environment", env("OTEL_EXPORTER_OTLP_ENDPOINT"), true, ""},
		{"bridge", "otel_environment", env("OTEL_SERVICE_NAME"), true, ""},
		{"bridge", "otel_headers_secret_arn", cty.StringVal(headersSecret), true, ""},
		{"bridge", "otel_headers_secret_arn", cty.StringVal("otlp-headers"), false, "must be a Secrets Manager secret ARN"},
		{"zeebe-lambda", "environment", env("OTEL_EXPORTER_OTLP_HEADERS"), false, use},
		{"zeebe-lambda", "environment", env("OTEL_EXPORTER_OTLP_METRICS_HEADERS"), false, use},
		{"zeebe-lambda", "environment", env("OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN"), false, use},
		{"zeebe-lambda", "environment", env("OTEL_EXPORTER_OTLP_ENDPOINT"), true, ""},
		{"zeebe-lambda", "environment", env("HEADERS"), true, ""},
		{"zeebe-lambda", "otel_headers_secret_arn", cty.StringVal(headersSecret), true, ""},
		{"zeebe-lambda", "otel_headers_secret_arn", cty.StringVal("arn:aws:ssm:eu-west-1:123456789012:parameter/h"), false, "must be a Secrets Manager secret ARN"},
	}
	modules := map[string]*module{"bridge": bridge(t, nil), "zeebe-lambda": zeebeLambda(t, nil)}
	for _, tt := range tests {
		t.Run(tt.module+" "+tt.variable+"="+tt.value.GoString(), func(t *testing.T) {
			ok, msgs := modules[tt.module].validation(tt.variable, tt.value)
			assert.Equal(t, tt.ok, ok, strings.Join(msgs, " "))
			if !tt.ok {
				assert.Contains(t, strings.Join(msgs, " "), tt.says)
			}
		})
	}
}

// caPEM is a CA certificate as a user would pass it.
func caPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zeebe private CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// pemOfLength is a PEM-armoured block of n bytes, 64 characters a line.
func pemOfLength(t *testing.T, n int) string {
	t.Helper()
	head, tail := "-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n"
	var b strings.Builder
	b.WriteString(head)
	for body := n - len(head) - len(tail); body > 0; {
		line := min(body-1, 64)
		if line <= 0 {
			b.WriteString("\n")
			break
		}
		b.WriteString(strings.Repeat("A", line) + "\n")
		body -= line + 1
	}
	b.WriteString(tail)
	require.Equal(t, n, b.Len())
	return b.String()
}

// TestZeebeCACertificate: zeebe_ca_certificate_pem reaches the two
// components that talk to Zeebe, and no other; it must be a PEM that leaves
// room in the 4 KB Lambda allows an environment.
func TestZeebeCACertificate(t *testing.T) {
	ca := caPEM(t)
	m := bridge(t, map[string]cty.Value{"zeebe_address": cty.StringVal("zeebe.internal.example:26500"), "zeebe_ca_certificate_pem": cty.StringVal(ca)})
	for _, fn := range []string{"poller", "fulfiller", "returner"} {
		env := m.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap()
		if fn == "returner" {
			assert.NotContains(t, env, "ZEEBE_CA_CERTIFICATE_PEM", "the returner does not talk to Zeebe")
			continue
		}
		require.Contains(t, env, "ZEEBE_CA_CERTIFICATE_PEM", fn)
		assert.Equal(t, ca, env["ZEEBE_CA_CERTIFICATE_PEM"].AsString(), fn)
	}
	for _, fn := range []string{"poller", "fulfiller"} {
		assert.NotContains(t, bridge(t, nil).attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap(), "ZEEBE_CA_CERTIFICATE_PEM", fn)
	}

	tests := []struct {
		name  string
		value cty.Value
		ok    bool
		says  string
	}{
		{"a CA certificate", cty.StringVal(ca), true, ""},
		{"none", cty.NullVal(cty.String), true, ""},
		{"at the bound", cty.StringVal(pemOfLength(t, 2400)), true, ""},
		{"above the bound", cty.StringVal(pemOfLength(t, 2401)), false, "longer than 2400 bytes"},
		{"a file name", cty.StringVal("ca.pem"), false, "must be a PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, msgs := m.validation("zeebe_ca_certificate_pem", tt.value)
			assert.Equal(t, tt.ok, ok, strings.Join(msgs, " "))
			if !tt.ok {
				assert.Contains(t, strings.Join(msgs, " "), tt.says)
			}
		})
	}
}

// TestEnvironmentFitsLambda: a function whose environment is above Lambda's
// 4 KB is refused at plan time; and the bound on zeebe_ca_certificate_pem
// leaves the poller's and the fulfiller's other variables room, with every
// optional one set and each resource reference as long as AWS makes it.
func TestEnvironmentFitsLambda(t *testing.T) {
	sized := func(n int) cty.Value {
		return cty.MapVal(map[string]cty.Value{"BIG": cty.StringVal(strings.Repeat("x", n-len(`{"BIG":""}`)))})
	}
	l := lambdaModule(t, nil)
	ok, _ := l.validation("environment", sized(4096))
	assert.True(t, ok)
	ok, msgs := l.validation("environment", sized(4097))
	assert.False(t, ok)
	assert.Contains(t, strings.Join(msgs, " "), "more than the 4 KB Lambda allows")

	// The longest an AWS reference gets: topic and secret names are the
	// modules' own, a bucket name has at most 63 characters.
	longest := map[string]string{
		"aws_sns_topic.jobs.arn":                  "arn:aws-us-gov:sns:us-gov-west-1:123456789012:zeebe_jobs",
		"aws_secretsmanager_secret.job_token.arn": "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:zeebe-bridge-job-token-20261206075500123400000001-AbCdEf",
		"aws_s3_bucket.payloads.id":               strings.Repeat("b", 63),
	}
	m := bridge(t, map[string]cty.Value{
		"zeebe_address":                  cty.StringVal(strings.Repeat("c", 36) + ".bru-2.zeebe.camunda.io:443"),
		"zeebe_client_id":                cty.StringVal(strings.Repeat("i", 32)),
		"zeebe_client_secret_arn":        cty.StringVal("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:" + strings.Repeat("s", 40) + "-AbCdEf"),
		"zeebe_authorization_server_url": cty.StringVal("https://login.cloud.camunda.io/oauth/token"),
		"zeebe_token_audience":           cty.StringVal("zeebe.camunda.io"),
		"zeebe_token_scope":              cty.StringVal("api://" + strings.Repeat("a", 36) + "/.default"),
		"zeebe_tenant_ids":               cty.ListVal([]cty.Value{cty.StringVal("<default>"), cty.StringVal(strings.Repeat("t", 31))}),
		"zeebe_ca_certificate_pem":       cty.StringVal(pemOfLength(t, 2400)),
		"otel_headers_secret_arn":        cty.StringVal("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:" + strings.Repeat("o", 40) + "-AbCdEf"),
		"otel_environment": cty.MapVal(map[string]cty.Value{
			"OTEL_EXPORTER_OTLP_ENDPOINT": cty.StringVal("https://otlp-gateway.example.com:4318"),
			"OTEL_SERVICE_NAME":           cty.StringVal("zeebe-bridge"),
		}),
	})
	ref := regexp.MustCompile(`^\$\{(.+)\}$`)
	for _, fn := range []string{"poller", "fulfiller"} {
		env := map[string]string{}
		for k, v := range m.attr("module."+fn+".aws_lambda_function.this", "environment.variables").AsValueMap() {
			s := v.AsString()
			if r := ref.FindStringSubmatch(s); r != nil {
				require.Contains(t, longest, r[1], "%s: a reference the test does not size", fn)
				s = longest[r[1]]
			}
			env[k] = s
		}
		b, err := json.Marshal(env)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b), 4096, "%s: %d bytes", fn, len(b))
		t.Logf("%s: %d bytes of 4096", fn, len(b))
	}
}
