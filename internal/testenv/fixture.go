package testenv

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
)

// Password is a password that passes the policy, for fixtures.
const Password = "correct horse battery staple"

// FastPassword are cheap argon2id parameters: tests hash thousands of passwords, and the
// production cost is measured by the benchmarks instead.
var FastPassword = password.Params{Memory: 64, Time: 1, Threads: 1}

// Config returns the app configuration tests use: production values, but cheap hashes.
func Config() app.Config {
	cfg := app.DefaultConfig()
	cfg.Pages = console.Pages
	cfg.PasswordParams = FastPassword
	// Two hashes at once, as on the 2-core machines CI runs on, whatever this machine's cores
	// (the default is one per core): tests that sign 50 people up at once meet the same queue.
	cfg.HashConcurrency = 2
	cfg.LoginPerIP = 1000000
	u, _ := url.Parse("https://roster.example")
	cfg.BaseURL = u
	return cfg
}

// Env is the app of one test over a fresh database, with a clock the test moves.
type Env struct {
	App    *app.App
	DB     *sqlstore.DB
	Clock  *Clock
	Engine sqlstore.Engine
	URL    string // the database's URL, for tests that read tables directly (tables.go)

	sql *sql.DB // opened lazily by database/sql: no connection until a test reads tables
}

// NewEnv returns an app over a fresh database of an engine.
func NewEnv(t testing.TB, e sqlstore.Engine, configure ...func(*app.Config)) *Env {
	t.Helper()
	return newEnv(t, e, sqlstore.Options{}, configure...)
}

func newEnv(t testing.TB, e sqlstore.Engine, o sqlstore.Options, configure ...func(*app.Config)) *Env {
	t.Helper()
	cfg := Config()
	for _, f := range configure {
		f(&cfg)
	}
	u := MigratedURL(t, e)
	db := OpenDBWith(t, u, o)
	clock := NewClock()
	return &Env{App: app.New(db, cfg, clock, Logger(t)), DB: db, Clock: clock, Engine: e, URL: u, sql: SQL(t, e, u)}
}

// ContentionTimeout is the database deadline of tests whose point is that many writers at once
// never fail a write (ContendedEnv), however long they queue: 5 s, the deadline of the other
// tests and of production, was exceeded by a transaction queued behind 49 others on a 2-core
// machine busy with the console's browser tests.
const ContentionTimeout = 30 * time.Second

// ContendedEnv is NewEnv with a database deadline of ContentionTimeout.
func ContendedEnv(t testing.TB, e sqlstore.Engine) *Env {
	t.Helper()
	return newEnv(t, e, sqlstore.Options{Timeout: ContentionTimeout})
}

// Ctx is the context of fixture calls.
var Ctx = context.Background()

// User signs up a new user and returns them signed in.
func (env *Env) User(t testing.TB, name string) (roster.Actor, roster.User) {
	t.Helper()
	addr := name + "." + Unique() + "@example.com"
	if err := env.App.Auth.Signup(Ctx, roster.Anonymous("192.0.2.1", "test"), app.SignupInput{Email: addr, Name: name, Password: Password}); err != nil {
		t.Fatalf("sign up %s: %v", addr, err)
	}
	return env.Login(t, addr)
}

// Login signs a user in and returns the actor of their new session.
func (env *Env) Login(t testing.TB, addr string) (roster.Actor, roster.User) {
	t.Helper()
	res, err := env.App.Auth.Login(Ctx, roster.Anonymous("192.0.2.1", "test"), app.LoginInput{Email: addr, Password: Password})
	if err != nil {
		t.Fatalf("log in %s: %v", addr, err)
	}
	actor, err := env.App.Auth.Authenticate(Ctx, res.Token, "192.0.2.1", "test")
	if err != nil {
		t.Fatalf("authenticate %s: %v", addr, err)
	}
	return actor, res.User
}

// Org creates an organization owned by owner.
func (env *Env) Org(t testing.TB, owner roster.Actor, name string) roster.Organization {
	t.Helper()
	org, err := env.App.Organizations.Create(Ctx, owner, app.OrganizationInput{Name: name})
	if err != nil {
		t.Fatalf("create organization %s: %v", name, err)
	}
	return org
}

// Store creates a store in an organization.
func (env *Env) Store(t testing.TB, owner roster.Actor, orgID, name string) roster.Store {
	t.Helper()
	st, err := env.App.Stores.Create(Ctx, owner, orgID, app.StoreInput{Name: name})
	if err != nil {
		t.Fatalf("create store %s: %v", name, err)
	}
	return st
}

// Join adds an existing user to an organization with a role and store grants.
func (env *Env) Join(t testing.TB, by roster.Actor, orgID string, user roster.User, role roster.OrgRole, grants ...app.StoreGrantInput) {
	t.Helper()
	if err := env.App.Members.Add(Ctx, by, orgID, user.ID, role, grants); err != nil {
		t.Fatalf("add %s to %s as %s: %v", user.Email, orgID, role, err)
	}
}

// Code returns the roster error code of err ("" for nil), for assertions.
func Code(err error) string { return roster.ErrorCode(err) }

// NewEnvOn returns another app over the same database and clock as env, configured
// differently: as a second Roster process would be.
func NewEnvOn(t testing.TB, env *Env, configure ...func(*app.Config)) *Env {
	t.Helper()
	cfg := Config()
	for _, f := range configure {
		f(&cfg)
	}
	return &Env{App: app.New(env.DB, cfg, env.Clock, Logger(t)), DB: env.DB, Clock: env.Clock, Engine: env.Engine, URL: env.URL}
}
