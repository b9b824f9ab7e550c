package api_test

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// TestNoSecretInClear signs up, logs in (and fails to), changes a password, creates service
// tokens and a set-password link, then reads every row of every table and every log line:
// no password and no token is there, only their hashes.
func TestNoSecretInClear(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		var logs testenv.SyncBuffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s := serve(t, env, app.New(env.DB, testenv.Config(), env.Clock, log), log)

		const pw, wrong, next = "first secret passphrase 4821", "wrong secret passphrase 9377", "second secret passphrase 1150"
		email := "secret." + testenv.Unique() + "@example.com"
		if r := s.do(t, "POST", "/v1/auth/signup", "", map[string]string{"email": email, "name": "Sasha", "password": pw}); r.status != 202 {
			t.Fatal(r)
		}
		if r := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": wrong}); r.status != 401 {
			t.Fatal(r)
		}
		session := s.login(t, email, pw)
		second := s.login(t, email, pw)
		if r := s.do(t, "POST", "/v1/me/password", session, map[string]string{"current_password": pw, "new_password": next}); r.status != 204 {
			t.Fatal(r)
		}
		third := s.login(t, email, next)

		// An operator creates a service token over the API, the command line another, and a
		// set-password link for a new operator.
		if _, _, err := env.App.Operator.CreateOperator(ctx, systemActor(), email, ""); err != nil {
			t.Fatal(err)
		}
		var created struct {
			Token string `json:"token"`
		}
		r := s.do(t, "POST", "/v1/admin/service-tokens", third, map[string]string{"name": "host"})
		if r.status != 201 {
			t.Fatal(r)
		}
		r.json(t, &created)
		cli, err := env.App.Operator.CreateServiceToken(ctx, systemActor(), "cli")
		if err != nil {
			t.Fatal(err)
		}
		_, link, err := env.App.Operator.CreateOperator(ctx, systemActor(), "new."+testenv.Unique()+"@example.com", "")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		linkToken := u.Query().Get("token")
		// The tokens work, so they are the real ones.
		for _, tok := range []string{third, created.Token, cli.Secret} {
			if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 && r.status != 403 {
				t.Fatalf("token does not work: %s", r)
			}
		}

		dump := env.Dump(t)
		secrets := map[string]string{"password": pw, "wrong password": wrong, "new password": next, "session": session,
			"second session": second, "third session": third, "service token": created.Token, "cli service token": cli.Secret, "link": linkToken}
		for what, secret := range secrets {
			body := secret
			if i := strings.LastIndexByte(secret, '_'); i > 0 && i < 6 {
				body = secret[i+1:] // the random part alone
			}
			if strings.Contains(dump, body) {
				t.Errorf("the %s is stored in clear", what)
			}
			if strings.Contains(logs.String(), body) {
				t.Errorf("the %s is in the logs", what)
			}
		}
		// What is stored instead: SHA-256 for tokens, argon2id for passwords.
		for what, tok := range map[string]string{"session": third, "service token": created.Token, "link": linkToken} {
			if !strings.Contains(dump, token.Hash(tok)) {
				t.Errorf("the %s's SHA-256 is not stored", what)
			}
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM users WHERE email = ? AND password_hash LIKE '$argon2id$v=19$%'`, email); n != 1 {
			t.Error("the password is not stored as an argon2id PHC string")
		}
	})
}
