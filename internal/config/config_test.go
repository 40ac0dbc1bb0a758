package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDatabaseURL || c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.PublicURL != "http://127.0.0.1:8080" {
		t.Fatalf("public url %q", c.PublicURL)
	}
}

func TestEveryProblemAtOnceAndNoSecrets(t *testing.T) {
	_, err := Load(env(map[string]string{
		"DATABASE_URL":              "mysql://u:hunter2@x/db",
		"GRANTFLOW_ADDR":            "nonsense",
		"GRANTFLOW_REQUEST_TIMEOUT": "-3s",
		"GRANTFLOW_S3_ENDPOINT":     "s3:9000",
		"GRANTFLOW_S3_SECRET_KEY":   "topsecret",
	}))
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	for _, want := range []string{"DATABASE_URL", "GRANTFLOW_ADDR", "GRANTFLOW_REQUEST_TIMEOUT", "GRANTFLOW_S3_ACCESS_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	for _, secret := range []string{"hunter2", "topsecret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks secret %q: %s", secret, msg)
		}
	}
}
