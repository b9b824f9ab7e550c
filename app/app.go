// Package app holds Roster's use cases: one method per thing a user can do. Each validates
// its input, checks the actor's permission, keeps the invariants of DESIGN §3 and writes its
// audit event, all inside one transaction. The REST API and the web console both call these
// methods; no rule is written anywhere else.
package app

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/bell"
	"github.com/rosterhq/roster/internal/gate"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/webhook"
)

// SignupMode says who may create an account without an invitation.
type SignupMode string

// Sign-up modes.
const (
	SignupOpen       SignupMode = "open"
	SignupInviteOnly SignupMode = "invite-only"
)

// Config is what the use cases need to know of the instance.
type Config struct {
	BaseURL             *url.URL // the only source of absolute links
	Signup              SignupMode
	DefaultStoreCredits int
	PasswordMinLength   int
	PasswordParams      password.Params
	HashConcurrency     int           // argon2 hashes computed at once: by default one per core (GOMAXPROCS); more only share the cores and hold 19 MiB each
	SessionIdle         time.Duration // a session unused this long ends
	SessionLifetime     time.Duration // a session ends this long after login, used or not
	LoginPerIP          int           // login attempts per IP per minute
	TokenPerClient      int           // token requests one OpenID client makes per minute, per node (oidc_ratelimit.go)
	APIKeyLogRetention  time.Duration // API key request log entries older than this are pruned
	AuditRetention      time.Duration // audit events older than this are pruned; 0 keeps them forever
	IndexMemory         int64         // bound of the access index in bytes; 0 for DefaultIndexMemory, -1 for none (SQL only)
	EncryptionKey       []byte        // AES-256 key sealing the OpenID signing keys (oidc_keys.go), webhook secrets and TOTP secrets (mfa.go)
	// PreviousEncryptionKeys are keys EncryptionKey replaced (ROSTER_ENCRYPTION_KEY_PREVIOUS):
	// what they sealed still opens, and a TOTP secret is sealed again under EncryptionKey when
	// next used (oidc_keys.go, unseal).
	PreviousEncryptionKeys [][]byte
	// EncryptionKeyEphemeral says EncryptionKey was made for this process (development over
	// http): what it seals is lost at restart, so no authenticator secret is sealed with it.
	EncryptionKeyEphemeral bool
	Pages                  Pages         // where emailed links point (links.go); the console's pages
	KeyRotation            time.Duration // scheduled rotation of the OpenID signing keys; 0 never (oidc_keys.go)
	// WebhookAllowedHosts are the host names webhook endpoints may use although they resolve
	// to private addresses (ROSTER_WEBHOOK_ALLOWED_HOSTS); WebhookLookup resolves endpoint
	// hosts (nil: the system resolver; tests inject names).
	WebhookAllowedHosts []string
	WebhookLookup       webhook.LookupFunc
	// DNSResolver is the address (host:port) of the DNS server that domain verification asks
	// (ROSTER_DNS_RESOLVER); "" for the system resolver. DomainRecheck is how long after its
	// last check a verified domain is checked again (0: DefaultDomainRecheck).
	DNSResolver   string
	DomainRecheck time.Duration
	// SSOHTTPClient speaks to organizations' identity providers (discovery, keys, tokens,
	// metadata); nil for one that, as webhook deliveries do, refuses loopback, private,
	// link-local and metadata addresses except those of SSOAllowedHosts
	// (ROSTER_SSO_ALLOWED_HOSTS: identity providers on the operator's network), with a
	// 10-second timeout (sso.go).
	SSOHTTPClient   *http.Client
	SSOAllowedHosts []string
	// RequireTwoFactor requires a second factor of every member of every organization, as
	// each organization's policy may (ROSTER_REQUIRE_TWO_FACTOR; scope.go, twoFactorGate).
	RequireTwoFactor bool
}

// DefaultConfig returns the configuration of a fresh install.
func DefaultConfig() Config {
	u, _ := url.Parse("http://127.0.0.1:8080")
	return Config{
		BaseURL:             u,
		Signup:              SignupOpen,
		DefaultStoreCredits: 3,
		PasswordMinLength:   15,
		PasswordParams:      password.Default,
		HashConcurrency:     runtime.GOMAXPROCS(0),
		SessionIdle:         7 * 24 * time.Hour,
		SessionLifetime:     30 * 24 * time.Hour,
		LoginPerIP:          30,
		TokenPerClient:      DefaultTokenPerClient,
		APIKeyLogRetention:  30 * 24 * time.Hour,
		KeyRotation:         90 * 24 * time.Hour,
	}
}

// App is Roster's use cases over one database, one service per area. Each service is named
// after what it does and lives in the file of that name (Members in members.go, and so on);
// all of them share one core: the database, the clock, the configuration, the password
// hasher, the rate limiters and the helpers every use case needs (write, read, access).
type App struct {
	*core

	Accounts      *Accounts
	Auth          *Auth
	MFA           *MFA
	Passkeys      *Passkeys
	Organizations *Organizations
	Members       *Members
	Invitations   *Invitations
	Stores        *Stores
	Roles         *Roles
	Access        *Access
	APIKeys       *APIKeys
	Audit         *Audit
	Webhooks      *Webhooks
	Outbox        *Outbox
	Operator      *Operator
	Domains       *Domains
	Directories   *Directories
	SCIM          *SCIM
	SSO           *SSO
	SetupLinks    *SetupLinks
	Clients       *Clients
	SigningKeys   *SigningKeys
	OIDC          *OIDC
}

// core is what every service shares. Services reach one another through app.
type core struct {
	app    *App
	db     *sqlstore.DB
	bells  map[string]*bell.Bell // what wakes the background loops, by kind (Outbox.Wake)
	cfg    Config
	clock  roster.Clock
	log    *slog.Logger
	hasher passwordHasher
	ipRate *rateLimiter
	// tokenFailures counts refused requests to the OpenID token endpoint per client, or per
	// IP when no client is proven; tokenRequests every request per client (oidc_ratelimit.go).
	tokenFailures *rateLimiter
	tokenRequests *rateLimiter
	mailbox       atomic.Pointer[mail.Mailbox] // without SMTP, the development mailbox (outbox.go)
	resets        resetLimits                  // password reset requests (accounts.go)
	hooks         *webhook.Client              // sends webhook deliveries (webhooks.go)
	index         *accessIndex                 // the in-memory access index (index.go)
	images        imageGate                    // logo uploads: per-user rate and decodes at once (images.go)

	// attempts bounds the password checks in flight (each a database write and a hash), so
	// that a flood of logins is refused at once instead of queueing for the database.
	attempts *gate.Gate

	keys     keyCache       // the OpenID signing keys, unsealed (oidc_keys.go)
	verified verifiedTokens // access tokens whose signature this node checked (oidc_bearer.go)
	cors     corsCache      // the clients' CORS origins (cors.go)

	dns *net.Resolver // looks up the TXT records of domains (domains.go)

	sso       ssoCache     // identity providers read, by connection (sso.go)
	idpClient *http.Client // speaks to identity providers (Config.SSOHTTPClient; sso.go)
}

// passwordHasher is what the use cases need of password.Hasher (tests wrap it to count
// verifications).
type passwordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error)
	VerifyDummy(ctx context.Context, password string)
}

// New returns the use cases over a migrated database.
func New(db *sqlstore.DB, cfg Config, clock roster.Clock, log *slog.Logger) *App {
	if clock == nil {
		clock = roster.SystemClock{}
	}
	hasher := password.NewHasher(cfg.PasswordParams, cfg.HashConcurrency)
	a := &core{
		db:     db,
		cfg:    cfg,
		clock:  clock,
		log:    log,
		hasher: hasher,
		ipRate: newRateLimiter(cfg.LoginPerIP, time.Minute),

		tokenFailures: newRateLimiter(OIDCTokenFailures, time.Minute),
		tokenRequests: newRateLimiter(cmp.Or(cfg.TokenPerClient, DefaultTokenPerClient), time.Minute),
		resets:        newResetLimits(),
		bells:         map[string]*bell.Bell{},
		hooks:         webhook.New(webhook.Options{AllowedHosts: cfg.WebhookAllowedHosts, Lookup: cfg.WebhookLookup}),
		images:        newImageGate(),
		dns:           newResolver(cfg.DNSResolver),
	}
	// As many attempts as the hasher lets run or wait, and as many waiting.
	a.attempts = gate.New(hasher.Capacity(), hasher.Capacity(), 250*time.Millisecond)
	a.idpClient = cfg.SSOHTTPClient
	if a.idpClient == nil {
		a.idpClient = webhook.New(webhook.Options{AllowedHosts: cfg.SSOAllowedHosts, Lookup: cfg.WebhookLookup}).HTTPClient(ssoHTTPTimeout)
	}
	if cfg.IndexMemory >= 0 {
		a.index = newAccessIndex(db, cfg.IndexMemory)
	}
	for _, k := range sqlstore.WakeKinds {
		a.bells[k] = &bell.Bell{}
	}
	db.OnWake(func(kind string) { a.bells[kind].Ring() })
	db.OnAccessChange(func(ch sqlstore.AccessChange) {
		if a.index != nil {
			a.index.localChange(ch)
		}
	})
	db.OnAccessWrite(a.queueEndedAccessLogouts)
	a.app = &App{core: a,
		Accounts: &Accounts{a}, Auth: &Auth{a}, MFA: &MFA{a}, Passkeys: &Passkeys{a}, Organizations: &Organizations{a},
		Members: &Members{a}, Invitations: &Invitations{a}, Stores: &Stores{a}, Roles: &Roles{a},
		Access: &Access{a}, APIKeys: &APIKeys{a}, Audit: &Audit{a}, Webhooks: &Webhooks{a},
		Outbox: &Outbox{a}, Operator: &Operator{a}, Domains: &Domains{a}, Directories: &Directories{a}, SCIM: &SCIM{a}, SSO: &SSO{a}, SetupLinks: &SetupLinks{a}, Clients: &Clients{a},
		SigningKeys: &SigningKeys{a}, OIDC: &OIDC{a},
	}
	return a.app
}

// Listen keeps this node in step with the other nodes until ctx ends: on PostgreSQL one
// connection listens for their changes of access, which the access index applies (until it
// does, and whenever the connection is down, checks answer from SQL), and for the work they
// commit for this node's background loops, which it wakes. On SQLite it keeps the node's
// lease while the index is read, so that checks need not read the access revision first
// (sqlstore/lease_sqlite.go). Serve runs it.
func (a *App) Listen(ctx context.Context) {
	if a.index == nil {
		a.db.Listen(ctx, nil)
		return
	}
	if a.db.Engine() == sqlstore.SQLite {
		a.db.Listen(ctx, a.index)
		return
	}
	a.index.mu.Lock()
	a.index.listening = true
	a.index.mu.Unlock()
	defer func() {
		a.index.mu.Lock()
		a.index.listening = false
		a.index.mu.Unlock()
		a.index.AccessDown(nil)
	}()
	a.db.Listen(ctx, a.index)
}

// Config returns the instance configuration.
func (a *App) Config() Config { return a.cfg }

// Now returns the current time of the app's clock.
func (a *App) Now() time.Time { return a.clock.Now() }

// Ready checks that the database answers.
func (a *App) Ready(ctx context.Context) error { return a.db.Ping(ctx) }

// txn is one write transaction of a use case: the store's transaction, the actor, and the
// one time at which everything in it happens.
type txn struct {
	*sqlstore.Tx
	ctx   context.Context
	now   time.Time
	actor roster.Actor
}

// write runs fn in a write transaction. When fn is refused for lack of permission, the
// refusal is recorded in the audit log (see refused), since fn's transaction is rolled back.
func (a *core) write(ctx context.Context, actor roster.Actor, fn func(t *txn) error) error {
	err := a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		return fn(&txn{Tx: tx, ctx: ctx, now: a.clock.Now(), actor: actor})
	})
	if err == nil {
		forgetScopes(ctx) // the request's next reads see the change
	}
	forgetRequestBarrier(ctx) // the request's later reads must see this write
	return a.refused(ctx, actor, err)
}

// writeValue runs fn in a write transaction like write and returns its result once the
// transaction has committed. fn may run more than once (InTx retries a transaction that
// PostgreSQL aborted on a conflict), so it keeps its work in its own variables and hands its
// result back; it never assigns variables declared outside it, which a rolled-back attempt
// would leave changed for the next one.
func writeValue[T any](ctx context.Context, a *core, actor roster.Actor, fn func(t *txn) (T, error)) (T, error) {
	return committed(func(attempt func(*txn) error) error { return a.write(ctx, actor, attempt) }, fn)
}

// txValue is writeValue for a bare transaction (no actor, no audit: the outbox worker,
// retention): it returns fn's result once the transaction has committed.
func txValue[T any](ctx context.Context, db *sqlstore.DB, fn func(tx *sqlstore.Tx) (T, error)) (T, error) {
	return committed(func(attempt func(*sqlstore.Tx) error) error { return db.InTx(ctx, attempt) }, fn)
}

// committed runs fn through run, which may call it more than once (a retried transaction),
// and returns the result of the attempt that committed, or the zero value with run's error.
func committed[T, X any](run func(func(X) error) error, fn func(X) (T, error)) (T, error) {
	var last T
	err := run(func(x X) error {
		v, err := fn(x)
		if err == nil {
			last = v // overwritten by each attempt; returned only once run has committed
		}
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return last, nil
}

// refused records a refusal for lack of permission in the audit log, in a transaction of
// its own, and returns the error to show. Other errors pass through.
func (a *core) refused(ctx context.Context, actor roster.Actor, err error) error {
	var d *denial
	if errors.As(err, &d) {
		if aerr := a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
			t := &txn{Tx: tx, ctx: ctx, now: a.clock.Now(), actor: actor}
			return t.audit(d.event)
		}); aerr != nil {
			a.log.Error("record refused access", "err", aerr)
		}
		return d.err
	}
	return err
}

// read returns a connection for a use case that changes nothing.
func (a *core) read() *sqlstore.Conn { return a.db.Read() }

// audit appends an event for the transaction's actor at the transaction's time, and the
// event for host applications it becomes, if any.
func (t *txn) audit(e roster.AuditEvent) error {
	e.ID = roster.NewID(roster.PrefixEvent)
	e.ActorKind, e.ActorID = t.actor.Kind, t.actor.ID()
	if e.ActorKind == "" {
		e.ActorKind = roster.ActorAnonymous
	}
	e.IP, e.UserAgent, e.CreatedAt = t.actor.IP, truncate(t.actor.UserAgent, roster.MaxUserAgentLength), t.now
	if err := t.InsertAuditEvent(t.ctx, e); err != nil {
		return err
	}
	// The change's event for host applications, in the same transaction (roster.EventOf).
	// It is queued for the webhook endpoints that receive it, in the same transaction too.
	if ev, ok := roster.EventOf(e); ok {
		ev, err := t.InsertEvent(t.ctx, ev)
		if err != nil {
			return err
		}
		return t.webhookEvent(ev)
	}
	return nil
}

// denial is a refusal for lack of permission, with the audit event that records it.
type denial struct {
	err   *roster.Error
	event roster.AuditEvent
}

func (d *denial) Error() string { return d.err.Error() }
func (d *denial) Unwrap() error { return d.err }

// deny returns a "forbidden" error that write records in the audit log.
func deny(orgID, storeID string, perm roster.Permission, msg string) error {
	return &denial{
		err: &roster.Error{Code: roster.EForbidden, Message: msg, Details: map[string]any{"permission": string(perm)}},
		event: roster.AuditEvent{OrgID: orgID, StoreID: storeID, Action: "access.denied",
			After: map[string]any{"permission": string(perm)}},
	}
}

// truncate makes outside text fit a column: valid UTF-8, at most n bytes, cut between
// characters (roster.CleanText).
func truncate(s string, n int) string { return roster.CleanText(s, n) }

// Cleanup deletes expired sessions and one-time links. Serve runs it periodically.
func (a *App) Cleanup(ctx context.Context) {
	err := a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		now := a.clock.Now()
		if _, err := tx.DeleteExpiredSessions(ctx, now, a.cfg.SessionIdle); err != nil {
			return err
		}
		if err := tx.DeleteExpiredOIDC(ctx, now); err != nil {
			return err
		}
		if err := tx.DeleteExpiredLoginChallenges(ctx, now); err != nil {
			return err
		}
		return tx.DeleteOldUserTokens(ctx, now.Add(-7*24*time.Hour))
	})
	if err != nil && ctx.Err() == nil {
		a.log.Error("cleanup", "err", err)
	}
}

// Engine names the database engine in use, for logs.
func (a *App) Engine() string { return string(a.db.Engine()) }
