package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/app"
)

// load parses flags and an environment as serve does.
func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	read := bindConfig(fs, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return read()
}

func TestConfigDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DatabaseURL != "sqlite:roster.db" || c.BaseURL.String() != "http://127.0.0.1:8080" ||
		c.LogFormat != "text" || len(c.TrustedProxies) != 0 || c.Database.Timeout != 5*time.Second || c.Database.ConnectTimeout != 5*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	a := c.App
	if a.Signup != app.SignupOpen || a.DefaultStoreCredits != 3 || a.PasswordMinLength != 15 || a.SessionIdle != 7*24*time.Hour ||
		a.SessionLifetime != 30*24*time.Hour || a.BaseURL != c.BaseURL || a.IndexMemory != app.DefaultIndexMemory || a.KeyRotation != 90*24*time.Hour {
		t.Errorf("app defaults: %+v", a)
	}
}

func TestConfigFlagsWinOverEnvironment(t *testing.T) {
	env := map[string]string{
		"ROSTER_LISTEN": "0.0.0.0:9000", "ROSTER_DATABASE_URL": "postgres://u@db:5432/roster", "ROSTER_SIGNUP": "invite-only",
		"ROSTER_DEFAULT_STORE_CREDITS": "10", "ROSTER_PASSWORD_MIN_LENGTH": "12", "ROSTER_SESSION_IDLE": "2h",
		"ROSTER_SESSION_LIFETIME": "3d", "ROSTER_TRUSTED_PROXIES": "10.0.0.0/8", "ROSTER_LOG_FORMAT": "json", "ROSTER_LOG_LEVEL": "debug",
		"ROSTER_DATABASE_TIMEOUT": "3s", "ROSTER_DATABASE_CONNECT_TIMEOUT": "2s", "ROSTER_INDEX_MEMORY": "1GiB",
	}
	c, err := load(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9000" || c.DatabaseURL != "postgres://u@db:5432/roster" || c.App.Signup != app.SignupInviteOnly ||
		c.App.DefaultStoreCredits != 10 || c.App.PasswordMinLength != 12 || c.App.SessionIdle != 2*time.Hour ||
		c.App.SessionLifetime != 72*time.Hour || len(c.TrustedProxies) != 1 || c.LogFormat != "json" || c.LogLevel.String() != "DEBUG" ||
		c.Database.Timeout != 3*time.Second || c.Database.ConnectTimeout != 2*time.Second || c.App.IndexMemory != 1<<30 {
		t.Errorf("from the environment: %+v %+v", c, c.App)
	}
	if c.BaseURL.String() != "http://0.0.0.0:9000" {
		t.Errorf("base URL defaults to the listen address: %s", c.BaseURL)
	}
	c, err = load(t, env, "--listen", "127.0.0.1:7000", "--signup", "open", "--default-store-credits", "1",
		"--base-url", "https://roster.example.com/", "--log-format", "text")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" || c.App.Signup != app.SignupOpen || c.App.DefaultStoreCredits != 1 || c.LogFormat != "text" {
		t.Errorf("flags do not win: %+v", c)
	}
	if c.BaseURL.String() != "https://roster.example.com" || c.App.BaseURL.Scheme != "https" {
		t.Errorf("base URL: %s", c.BaseURL)
	}
	// A valid flag overrides an invalid environment variable.
	if _, err := load(t, map[string]string{"ROSTER_SIGNUP": "closed"}, "--signup", "open"); err != nil {
		t.Errorf("a flag does not override a bad environment value: %v", err)
	}
	// Zero turns the access index off: every check reads SQL.
	if c, err := load(t, map[string]string{"ROSTER_INDEX_MEMORY": "0"}); err != nil || c.App.IndexMemory != -1 {
		t.Errorf("index memory 0: %v %v", c.App.IndexMemory, err)
	}
	// An empty variable is unset.
	if c, err := load(t, map[string]string{"ROSTER_LISTEN": ""}); err != nil || c.Listen != "127.0.0.1:8080" {
		t.Errorf("empty variable: %v %v", c, err)
	}
}

// TestConfigErrors checks that each invalid setting stops start-up with one clear line that
// names the setting, and never shows a password.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"ROSTER_SIGNUP": "closed"}, nil, `invalid ROSTER_SIGNUP "closed": must be open or invite-only`},
		{nil, []string{"--signup", "closed"}, `invalid --signup "closed"`},
		{map[string]string{"ROSTER_LISTEN": "8080"}, nil, "invalid ROSTER_LISTEN"},
		{map[string]string{"ROSTER_DATABASE_URL": "mysql://root@db/roster"}, nil, "invalid ROSTER_DATABASE_URL"},
		{map[string]string{"ROSTER_DATABASE_URL": "sqlite:"}, nil, "invalid ROSTER_DATABASE_URL"},
		{map[string]string{"ROSTER_BASE_URL": "roster.example.com"}, nil, "invalid ROSTER_BASE_URL"},
		{map[string]string{"ROSTER_BASE_URL": "https://roster.example.com/?x=1"}, nil, "invalid ROSTER_BASE_URL"},
		{map[string]string{"ROSTER_BASE_URL": "ftp://roster.example.com"}, nil, "invalid ROSTER_BASE_URL"},
		{map[string]string{"ROSTER_DEFAULT_STORE_CREDITS": "-1"}, nil, "invalid ROSTER_DEFAULT_STORE_CREDITS"},
		{map[string]string{"ROSTER_DEFAULT_STORE_CREDITS": "three"}, nil, "invalid ROSTER_DEFAULT_STORE_CREDITS"},
		{map[string]string{"ROSTER_PASSWORD_MIN_LENGTH": "7"}, nil, "invalid ROSTER_PASSWORD_MIN_LENGTH"},
		{map[string]string{"ROSTER_SESSION_IDLE": "30s"}, nil, "invalid ROSTER_SESSION_IDLE"},
		{map[string]string{"ROSTER_SESSION_IDLE": "40d"}, nil, "invalid ROSTER_SESSION_IDLE: longer than ROSTER_SESSION_LIFETIME"},
		{map[string]string{"ROSTER_SESSION_LIFETIME": "0d"}, nil, "invalid ROSTER_SESSION_LIFETIME"},
		{map[string]string{"ROSTER_TRUSTED_PROXIES": "proxy.local"}, nil, "invalid ROSTER_TRUSTED_PROXIES"},
		{map[string]string{"ROSTER_LOG_FORMAT": "xml"}, nil, "invalid ROSTER_LOG_FORMAT"},
		{map[string]string{"ROSTER_DATABASE_TIMEOUT": "0s"}, nil, "invalid ROSTER_DATABASE_TIMEOUT"},
		{map[string]string{"ROSTER_DATABASE_TIMEOUT": "5"}, nil, "invalid ROSTER_DATABASE_TIMEOUT"},
		{map[string]string{"ROSTER_DATABASE_CONNECT_TIMEOUT": "1h"}, nil, "invalid ROSTER_DATABASE_CONNECT_TIMEOUT"},
		{map[string]string{"ROSTER_LOG_LEVEL": "loud"}, nil, "invalid ROSTER_LOG_LEVEL"},
		{map[string]string{"ROSTER_KEY_ROTATION": "1h"}, nil, "invalid ROSTER_KEY_ROTATION"},
		{map[string]string{"ROSTER_INDEX_MEMORY": "lots"}, nil, `invalid ROSTER_INDEX_MEMORY "lots": must be a size such as 64MiB`},
		{map[string]string{"ROSTER_INDEX_MEMORY": "512KiB"}, nil, `invalid ROSTER_INDEX_MEMORY "512KiB": must be from 1MiB to 64GiB`},
		// Passwords in database URLs and the metrics token never reach the error line.
		{map[string]string{"ROSTER_METRICS_TOKEN": "hunter2hunter2"}, nil, "invalid ROSTER_METRICS_TOKEN: must be at least 16 characters"},
		{map[string]string{"ROSTER_DATABASE_URL": "mysql://root:hunter2hunter2@db/roster"}, nil, "invalid ROSTER_DATABASE_URL"},
		{map[string]string{"ROSTER_DATABASE_URL": "postgres://root:hunter2hunter2%zz@db/roster"}, nil, "invalid ROSTER_DATABASE_URL"},
	} {
		_, err := load(t, tc.env, tc.args...)
		if err == nil {
			t.Errorf("%v %v: accepted", tc.env, tc.args)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
			t.Errorf("%v %v: error %q, want one line containing %q and no password", tc.env, tc.args, msg, tc.want)
		}
	}
}

// TestInvalidConfigStopsServe runs the command: serve refuses to start, with one line.
func TestInvalidConfigStopsServe(t *testing.T) {
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
		return map[string]string{"ROSTER_DEFAULT_STORE_CREDITS": "lots", "ROSTER_DATABASE_URL": "sqlite:" + t.TempDir() + "/r.db"}[k]
	}}
	err := m.Run(context.Background(), []string{"serve"})
	if err == nil || !strings.Contains(err.Error(), "ROSTER_DEFAULT_STORE_CREDITS") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("serve with a bad setting: %v", err)
	}
	if errOut.Len() != 0 || out.Len() != 0 {
		t.Errorf("serve printed before refusing: %q %q", out.String(), errOut.String())
	}
}

// TestConfigDomains: the resolver domain verification asks, and the re-check interval.
func TestConfigDomains(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || c.App.DNSResolver != "" || c.App.DomainRecheck != 24*time.Hour {
		t.Fatalf("defaults: %v, %q, %s", err, c.App.DNSResolver, c.App.DomainRecheck)
	}
	c, err = load(t, map[string]string{"ROSTER_DNS_RESOLVER": "127.0.0.1:5353", "ROSTER_DOMAIN_RECHECK": "6h"})
	if err != nil || c.App.DNSResolver != "127.0.0.1:5353" || c.App.DomainRecheck != 6*time.Hour {
		t.Fatalf("set: %v, %q, %s", err, c.App.DNSResolver, c.App.DomainRecheck)
	}
	for k, v := range map[string]string{"ROSTER_DNS_RESOLVER": "127.0.0.1", "ROSTER_DOMAIN_RECHECK": "10m"} {
		if _, err := load(t, map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), k) && !strings.Contains(err.Error(), "must") {
			t.Errorf("%s=%s accepted: %v", k, v, err)
		}
	}
}
