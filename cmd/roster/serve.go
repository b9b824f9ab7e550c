package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/oidc"
	"github.com/rosterhq/roster/outbox"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/switcher"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve", "serve [flags]\n\nStarts Roster: the REST API under /v1, the web console, and the background workers.")
	load := bindConfig(fs, m.Getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	devKey := false
	if len(cfg.App.EncryptionKey) == 0 {
		if cfg.BaseURL.Scheme == "https" {
			return errors.New("ROSTER_ENCRYPTION_KEY is required when ROSTER_BASE_URL is https: it seals the OpenID signing keys in the database; generate one with openssl rand -base64 32 and keep it with your backups")
		}
		// Development over http: a key for this process only. Signing keys sealed with it
		// cannot be read after a restart; a new one is then made (tokens signed before stop
		// verifying).
		cfg.App.EncryptionKey = make([]byte, app.EncryptionKeySize)
		if _, err := rand.Read(cfg.App.EncryptionKey); err != nil {
			return err
		}
		devKey = true
		cfg.App.EncryptionKeyEphemeral = true // two-factor set-up is refused: its secrets would not outlive the process
	}
	a, log, closeDB, err := m.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	if devKey {
		log.Warn("no ROSTER_ENCRYPTION_KEY: OpenID signing keys are sealed with a temporary key of this process and are replaced at the next start; set ROSTER_ENCRYPTION_KEY (openssl rand -base64 32) to keep them")
	}
	sender, err := mailSender(cfg, a, log)
	if err != nil {
		return err
	}
	renderer, err := mail.NewRenderer("")
	if err != nil {
		return err
	}
	if cfg.PermissionsFile != "" {
		perms, err := readPermissionsFile(cfg.PermissionsFile)
		if err != nil {
			return fmt.Errorf("ROSTER_PERMISSIONS_FILE: %w", err)
		}
		created, updated, err := a.Roles.PutPermissions(ctx, roster.System(), perms)
		if err != nil {
			return fmt.Errorf("ROSTER_PERMISSIONS_FILE %s: %w", cfg.PermissionsFile, err)
		}
		log.Info("host application permissions applied", "file", cfg.PermissionsFile, "listed", len(perms), "created", created, "updated", updated)
	}

	https := cfg.BaseURL.Scheme == "https"
	mux := http.NewServeMux()
	api.Register(mux, a, api.Options{Log: log, Version: Version, HTTPS: https})
	con := console.Mount(mux, a, console.Options{Log: log, HTTPS: https})
	if err := oidc.Register(mux, a, oidc.Options{Log: log, ErrorPage: con.OIDCErrorPage}); err != nil {
		return err
	}
	scim.Register(mux, a, scim.Options{Log: log})
	switcher.Register(mux)
	reg := prometheus.NewRegistry()
	registerIndexMetrics(reg, a)
	handler := httpserver.Wrap(mux, httpserver.Options{Log: log, TrustedProxies: cfg.TrustedProxies, HTTPS: https, Ready: a.Ready,
		Registry: reg, MetricsToken: cfg.MetricsToken, Pprof: cfg.Pprof})

	if link, err := a.Operator.SetupLink(ctx); err != nil {
		return err
	} else if link != "" {
		log.Warn("no operator yet: open this one-time link within 24 hours to create the first operator, or run roster admin create-operator", "link", link)
	}

	ln := m.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var workers sync.WaitGroup
	workers.Go(func() { a.Listen(ctx) }) // PostgreSQL: keeps the access index in step with the other nodes
	workers.Go(func() { cleanup(ctx, a) })
	workers.Go(func() { prune(ctx, a, log) })
	workers.Go(func() { expire(ctx, a, log) })
	workers.Go(func() { recheckDomains(ctx, a, log) })
	workers.Go(func() { outbox.New(a, renderer, sender, log, outbox.Options{}).Run(ctx) })

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// What building the API, the console and the database left behind is garbage from here on: it
	// goes back to the system now rather than page by page in the scavenger's time (idle RSS).
	debug.FreeOSMemory()
	log.Info("Roster is running", "url", cfg.BaseURL.String(), "listen", ln.Addr().String(), "database", a.Engine(), "version", Version)
	if m.Started != nil {
		m.Started <- "http://" + ln.Addr().String()
	}

	select {
	case err := <-errc:
		cancel()
		workers.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, done := context.WithTimeout(context.Background(), 15*time.Second)
	defer done()
	err = srv.Shutdown(shutdownCtx)
	cancel()
	workers.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// cleanup removes expired sessions and one-time links every ten minutes.
func cleanup(ctx context.Context, a *app.App) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		a.Cleanup(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expire emits invitation.expired for the invitations that passed their expiry, every minute.
func expire(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if _, err := a.Invitations.Expire(ctx); err != nil && ctx.Err() == nil {
			log.Error("invitation expiry events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recheckDomains looks up again, every hour, the TXT records of the verified domains whose
// last check is older than --domain-recheck, and lapses those missing twice in a row.
func recheckDomains(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := a.Domains.Recheck(ctx); err != nil && ctx.Err() == nil {
			log.Error("domain re-check", "err", err)
		} else if n > 0 {
			log.Info("domains lapsed: their TXT record was missing twice in a row", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prune deletes API key request logs and audit events past their retention every hour, and
// runs the scheduled rotation of the OpenID signing keys.
func prune(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, _, err := a.Prune(ctx); err != nil && ctx.Err() == nil {
			log.Error("prune", "err", err)
		}
		if _, err := a.SigningKeys.RotateIfDue(ctx); err != nil && ctx.Err() == nil {
			log.Error("scheduled key rotation", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs := m.flags("migrate", "migrate [--database-url URL]\n\nApplies the database migrations that have not run yet, then exits. serve also does this at start.")
	load := bindConfig(fs, m.Getenv, "database-url", "log-format", "log-level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	db, err := cfg.openDB(ctx, cfg.logger(m.Stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx)
}

// mailSender returns where emails go: the SMTP server of ROSTER_SMTP_URL, or, without one,
// the development mailbox that operators read through the API and the console.
func mailSender(cfg *Config, a *app.App, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPURL == "" {
		box := mail.NewMailbox(mail.DefaultMailboxSize, log)
		a.Outbox.SetMailbox(box)
		log.Warn("no SMTP server configured (ROSTER_SMTP_URL): emails are kept in the development mailbox; operators read them at GET /v1/admin/mailbox and in the console")
		return box, nil
	}
	s, err := mail.NewSMTP(mail.SMTPConfig{URL: cfg.SMTPURL, From: cfg.MailFrom})
	if err != nil {
		return nil, err
	}
	log.Info("emails go out over SMTP", "server", s.Addr(), "from", cfg.MailFrom)
	return s, nil
}
