package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/sqlstore"
)

// Config is Roster's configuration, from flags and environment variables (flags win).
type Config struct {
	Listen         string
	DatabaseURL    string
	BaseURL        *url.URL
	LogFormat      string
	LogLevel       slog.Level
	TrustedProxies []netip.Prefix
	App            app.Config
	SMTPURL        string // "" keeps emails in the development mailbox
	MailFrom       string

	PermissionsFile string // host application permissions applied at start (YAML or JSON)
	MetricsToken    string // "" leaves /metrics open
	Pprof           bool   // serve Go's profiles at /debug/pprof/ behind the metrics token

	Database sqlstore.Options // deadlines of database calls (its Log is set when it opens)
}

// setting is one configuration value: a flag, the environment variable behind it, its
// default and its parser.
type setting struct {
	flag, env, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"listen", "ROSTER_LISTEN", "127.0.0.1:8080", "address to listen on", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("must be host:port: %v", err)
		}
		c.Listen = v
		return nil
	}},
	{"database-url", "ROSTER_DATABASE_URL", "sqlite:roster.db", "sqlite:PATH or postgres://…", func(c *Config, v string) error {
		if _, _, err := sqlstore.ParseURL(v); err != nil {
			return err
		}
		c.DatabaseURL = v
		return nil
	}},
	{"database-timeout", "ROSTER_DATABASE_TIMEOUT", "5s", "longest a database statement, or a transaction as a whole, may take before the request answers 503", func(c *Config, v string) error {
		d, err := parseDeadline(v)
		c.Database.Timeout = d
		return err
	}},
	{"database-connect-timeout", "ROSTER_DATABASE_CONNECT_TIMEOUT", "5s", "longest opening a PostgreSQL connection may take (unless the URL sets connect_timeout)", func(c *Config, v string) error {
		d, err := parseDeadline(v)
		c.Database.ConnectTimeout = d
		return err
	}},
	{"base-url", "ROSTER_BASE_URL", "", "public URL of Roster, the only source of absolute links", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		u, err := url.Parse(strings.TrimSuffix(v, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return errors.New("must be an absolute http(s) URL such as https://roster.example.com")
		}
		c.BaseURL = u
		return nil
	}},
	{"signup", "ROSTER_SIGNUP", "open", "who may sign up: open or invite-only", func(c *Config, v string) error {
		switch app.SignupMode(v) {
		case app.SignupOpen, app.SignupInviteOnly:
			c.App.Signup = app.SignupMode(v)
			return nil
		}
		return errors.New("must be open or invite-only")
	}},
	{"default-store-credits", "ROSTER_DEFAULT_STORE_CREDITS", "3", "store credits of a new organization", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > roster.MaxStoreCredits {
			return fmt.Errorf("must be a whole number from 0 to %d", roster.MaxStoreCredits)
		}
		c.App.DefaultStoreCredits = n
		return nil
	}},
	{"password-min-length", "ROSTER_PASSWORD_MIN_LENGTH", "15", "shortest password accepted (8 to 64)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 8 || n > 64 {
			return errors.New("must be a whole number from 8 to 64")
		}
		c.App.PasswordMinLength = n
		return nil
	}},
	{"login-per-ip", "ROSTER_LOGIN_PER_IP", "30", "password attempts (logins, step-ups, invitation sign-ins) per client IP per minute (1 to 100000)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return errors.New("must be a whole number from 1 to 100000")
		}
		c.App.LoginPerIP = n
		return nil
	}},
	{"index-memory", "ROSTER_INDEX_MEMORY", "64MiB", "memory the access index of checks may hold (1MiB to 64GiB; 0 turns it off and every check reads SQL)", func(c *Config, v string) error {
		n, err := humanize.ParseBytes(v)
		switch {
		case err != nil:
			return errors.New("must be a size such as 64MiB or 1GiB")
		case n == 0:
			c.App.IndexMemory = -1
		case n < 1<<20 || n > 64<<30:
			return errors.New("must be from 1MiB to 64GiB, or 0")
		default:
			c.App.IndexMemory = int64(n)
		}
		return nil
	}},
	{"key-rotation", "ROSTER_KEY_ROTATION", "90d", "how often the OpenID signing key is replaced on schedule (1d to 3650d, or 0 for never)", func(c *Config, v string) error {
		if v == "0" {
			c.App.KeyRotation = 0
			return nil
		}
		d, err := parseDuration(v)
		if err == nil && (d < 24*time.Hour || d > 3650*24*time.Hour) {
			err = errors.New("must be from 1d to 3650d, or 0")
		}
		c.App.KeyRotation = d
		return err
	}},
	{"session-idle", "ROSTER_SESSION_IDLE", "7d", "a session unused this long ends", func(c *Config, v string) error {
		d, err := parseDuration(v)
		c.App.SessionIdle = d
		return err
	}},
	{"session-lifetime", "ROSTER_SESSION_LIFETIME", "30d", "a session ends this long after login", func(c *Config, v string) error {
		d, err := parseDuration(v)
		c.App.SessionLifetime = d
		return err
	}},
	{"trusted-proxies", "ROSTER_TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs whose X-Forwarded-For is believed", func(c *Config, v string) error {
		p, err := httpserver.ParseTrustedProxies(v)
		c.TrustedProxies = p
		return err
	}},
	{"metrics-token", "ROSTER_METRICS_TOKEN", "", "bearer token that /metrics asks for (none: /metrics is open)", func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return errors.New("must be at least 16 characters")
		}
		c.MetricsToken = v
		return nil
	}},
	{"pprof", "ROSTER_PPROF", "false", "serve Go's CPU and memory profiles at /debug/pprof/, behind --metrics-token (which it requires)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.Pprof = b
		return nil
	}},
	{"encryption-key", "ROSTER_ENCRYPTION_KEY", "", "base64 of 32 random bytes (openssl rand -base64 32) sealing the OpenID signing keys in the database; required when the base URL is https", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		k, err := decodeKey(v)
		if err != nil {
			return err
		}
		c.App.EncryptionKey = k
		return nil
	}},
	{"encryption-key-previous", "ROSTER_ENCRYPTION_KEY_PREVIOUS", "", "comma-separated keys ROSTER_ENCRYPTION_KEY replaced: what they sealed still opens, and authenticator secrets move to the new key at their next use", func(c *Config, v string) error {
		c.App.PreviousEncryptionKeys = nil
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			k, err := decodeKey(part)
			if err != nil {
				return err
			}
			c.App.PreviousEncryptionKeys = append(c.App.PreviousEncryptionKeys, k)
		}
		return nil
	}},
	{"webhook-allowed-hosts", "ROSTER_WEBHOOK_ALLOWED_HOSTS", "", "comma-separated host names that webhook endpoints may use although they resolve to private addresses (self-hosted receivers); they may use http", func(c *Config, v string) error {
		c.App.WebhookAllowedHosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.App.WebhookAllowedHosts = append(c.App.WebhookAllowedHosts, h)
			}
		}
		return nil
	}},
	{"sso-allowed-hosts", "ROSTER_SSO_ALLOWED_HOSTS", "", "comma-separated host names of identity providers that single sign-on may reach although they resolve to private addresses (providers on your own network)", func(c *Config, v string) error {
		c.App.SSOAllowedHosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.App.SSOAllowedHosts = append(c.App.SSOAllowedHosts, h)
			}
		}
		return nil
	}},
	{"require-two-factor", "ROSTER_REQUIRE_TWO_FACTOR", "false", "require a second factor (an authenticator app or a passkey) of every member of every organization, as an organization's policy may; API keys keep working", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.App.RequireTwoFactor = b
		return nil
	}},
	{"dns-resolver", "ROSTER_DNS_RESOLVER", "", "host:port of the DNS server that domain verification asks for TXT records (none: the system resolver)", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("must be host:port, such as 127.0.0.1:53")
			}
		}
		c.App.DNSResolver = v
		return nil
	}},
	{"domain-recheck", "ROSTER_DOMAIN_RECHECK", "24h", "how long after its last check a verified domain's TXT record is looked up again (two misses in a row end its verification)", func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err == nil && d < time.Hour {
			err = errors.New("must be at least 1h")
		}
		c.App.DomainRecheck = d
		return err
	}},
	{"permissions-file", "ROSTER_PERMISSIONS_FILE", "", "YAML or JSON file of host application permissions, registered at start", func(c *Config, v string) error {
		c.PermissionsFile = v
		return nil
	}},
	{"api-key-log-retention", "ROSTER_API_KEY_LOG_RETENTION", "30d", "how long API key request logs are kept", func(c *Config, v string) error {
		d, err := parseDuration(v)
		c.App.APIKeyLogRetention = d
		return err
	}},
	{"audit-retention", "ROSTER_AUDIT_RETENTION", "forever", "how long audit events are kept: a duration such as 730d, or forever", func(c *Config, v string) error {
		if v == "forever" || v == "0" {
			c.App.AuditRetention = 0
			return nil
		}
		d, err := parseDuration(v)
		if err == nil && d < 24*time.Hour {
			err = errors.New("must be at least 1d, or forever")
		}
		c.App.AuditRetention = d
		return err
	}},
	{"smtp-url", "ROSTER_SMTP_URL", "", "mail server: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465, or smtp://host:25 for a plain relay; none keeps emails in the development mailbox", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		if _, _, _, _, _, err := mail.ParseSMTPURL(v); err != nil {
			return err
		}
		c.SMTPURL = v
		return nil
	}},
	{"mail-from", "ROSTER_MAIL_FROM", "", "sender of Roster's emails, such as \"Roster <roster@example.com>\" (default roster@ the base URL's host)", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		from, err := mail.ParseFrom(v)
		c.MailFrom = from
		return err
	}},
	{"log-format", "ROSTER_LOG_FORMAT", "text", "log format: text or json", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{"log-level", "ROSTER_LOG_LEVEL", "info", "log level: debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
}

// parseDuration reads a Go duration, or a number of days such as "7d".
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return 0, errors.New("must be a duration such as 12h or 7d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		return 0, errors.New("must be a duration of at least 1m, such as 12h or 7d")
	}
	return d, nil
}

// parseDeadline reads a deadline of database calls: a Go duration from 1s to 10m.
func parseDeadline(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 10*time.Minute {
		return 0, errors.New("must be a duration from 1s to 10m, such as 5s")
	}
	return d, nil
}

// openDB connects to the configured database with its deadlines.
func (c *Config) openDB(ctx context.Context, log *slog.Logger) (*sqlstore.DB, error) {
	o := c.Database
	o.Log = log
	return sqlstore.OpenWith(ctx, c.DatabaseURL, o)
}

// bindConfig declares the configuration flags on fs; the returned function reads flags and
// environment (flags win) into a Config.
func bindConfig(fs *flag.FlagSet, getenv func(string) string, names ...string) func() (*Config, error) {
	values := map[string]*string{}
	for _, s := range settings {
		if len(names) > 0 && !contains(names, s.flag) {
			continue
		}
		def := quoteDefault(s.def)
		if s.flag == "base-url" {
			def = "http:// and the listen address"
		}
		values[s.flag] = fs.String(s.flag, "", s.usage+" (env "+s.env+", default "+def+")")
	}
	return func() (*Config, error) {
		c := &Config{App: app.DefaultConfig(), LogFormat: "text"}
		c.App.Pages = console.Pages // the links Roster sends open the console's pages
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		for _, s := range settings {
			v, src := s.def, ""
			if e := getenv(s.env); e != "" {
				v, src = e, s.env
			}
			if p, ok := values[s.flag]; ok && given[s.flag] {
				v, src = *p, "--"+s.flag
			}
			if err := s.set(c, v); err != nil {
				if src == "" {
					src = "default of " + s.env
				}
				if s.flag == "metrics-token" || strings.HasPrefix(s.flag, "encryption-key") {
					return nil, fmt.Errorf("invalid %s: %v", src, err) // a secret is not echoed
				}
				return nil, fmt.Errorf("invalid %s %q: %v", src, sqlstore.RedactURL(v), err)
			}
		}
		if c.BaseURL == nil {
			c.BaseURL, _ = url.Parse("http://" + c.Listen)
		}
		c.App.BaseURL = c.BaseURL
		if c.MailFrom == "" {
			c.MailFrom = "Roster <roster@" + defaultMailDomain(c.BaseURL.Hostname()) + ">"
		}
		if c.App.SessionIdle > c.App.SessionLifetime {
			return nil, errors.New("invalid ROSTER_SESSION_IDLE: longer than ROSTER_SESSION_LIFETIME")
		}
		if c.Pprof && c.MetricsToken == "" {
			return nil, errors.New("invalid ROSTER_PPROF: profiles are served only behind ROSTER_METRICS_TOKEN; set one")
		}
		return c, nil
	}
}

func quoteDefault(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// logger builds the process's logger.
func (c *Config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// defaultMailDomain is the domain of the default sender address: the base URL's host, or
// "localhost.localdomain" for a bare IP address or a single-label host.
func defaultMailDomain(host string) string {
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return "localhost.localdomain"
	}
	return host
}

// openApp connects to the configured database, applies pending migrations and returns the
// use cases over it, with the function that closes the database.
func (m *Main) openApp(ctx context.Context, cfg *Config) (*app.App, *slog.Logger, func(), error) {
	log := cfg.logger(m.Stderr)
	db, err := cfg.openDB(ctx, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close() // the migration error is the one to report
		return nil, nil, nil, err
	}
	return app.New(db, cfg.App, nil, log), log, func() { _ = db.Close() }, nil
}

// decodeKey reads an encryption key: the base64 (standard or URL alphabet) of 32 bytes.
func decodeKey(v string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		k, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	if err != nil || len(k) != app.EncryptionKeySize {
		return nil, errors.New("must be the base64 of 32 bytes: generate one with openssl rand -base64 32")
	}
	return k, nil
}
