package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/smtptest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/sqlstore"
)

// stack is Roster over HTTP with a real SMTP server behind its outbox worker.
type stack struct {
	env    *testenv.Env
	srv    *httptest.Server
	smtp   *smtptest.Server
	tokens []string // every secret seen: session tokens and link tokens
}

func newStack(t *testing.T, e sqlstore.Engine) *stack {
	t.Helper()
	env := testenv.NewEnv(t, e)
	smtp := smtptest.Start(t, smtptest.Options{StartTLS: true, User: "roster", Password: "relay password"})
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: smtp.URL(), From: "Roster <roster@roster.example>", TLS: smtp.ClientTLS(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	env.RunOutbox(t, sender, 50*time.Millisecond)
	mux := http.NewServeMux()
	log := testenv.Logger(t)
	api.Register(mux, env.App, api.Options{Log: log, Version: "test"})
	srv := httptest.NewServer(httpserver.Wrap(mux, httpserver.Options{Log: log, Ready: env.App.Ready, Registry: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)
	return &stack{env: env, srv: srv, smtp: smtp}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) str(path ...string) string {
	var v any = a.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// call makes a request; headers are "Name: value" strings.
func (s *stack) call(t *testing.T, method, path, token string, body any, headers ...string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.srv.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &a.body); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	if tok := a.str("token"); tok != "" {
		s.tokens = append(s.tokens, tok)
	}
	return a
}

// must makes a request that must answer with status.
func (s *stack) must(t *testing.T, status int, method, path, token string, body any, headers ...string) answer {
	t.Helper()
	a := s.call(t, method, path, token, body, headers...)
	if a.status != status {
		t.Fatalf("%s %s: %d %v, want %d", method, path, a.status, a.body, status)
	}
	return a
}

// mail waits for the n-th email to an address (counting from 1) and returns it.
func (s *stack) mail(t *testing.T, to string, n int) smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if msgs := s.smtp.To(to); len(msgs) >= n {
			m := msgs[n-1]
			if tok := m.Token("token="); tok != "" {
				s.tokens = append(s.tokens, tok)
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email #%d to %s", n, to)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signup creates a verified account through the API and the emailed link, and logs in.
func (s *stack) signup(t *testing.T, addr, name string) string {
	t.Helper()
	s.must(t, 202, "POST", "/v1/auth/signup", "", map[string]any{"email": addr, "name": name, "password": testenv.Password})
	link := s.mail(t, addr, 1).Link("/verify-email?token=")
	if !strings.HasPrefix(link, "https://roster.example/verify-email?token=rl_") {
		t.Fatalf("verification link %q", link)
	}
	s.must(t, 200, "POST", "/v1/auth/verify-email", "", map[string]any{"token": query(t, link, "token")})
	return s.must(t, 200, "POST", "/v1/auth/login", "", map[string]any{"email": addr, "password": testenv.Password}).str("token")
}

func query(t *testing.T, link, key string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(key)
}

func TestConnectifFlowOverHTTP(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newStack(t, e)
		owner := s.signup(t, "olivia@connectif.example", "Olivia")
		org := s.must(t, 201, "POST", "/v1/organizations", owner, map[string]any{"name": "Connectif Demo"}).str("id")
		shopA := s.must(t, 201, "POST", "/v1/organizations/"+org+"/stores", owner, map[string]any{"name": "Shop A"}).str("id")
		shopB := s.must(t, 201, "POST", "/v1/organizations/"+org+"/stores", owner, map[string]any{"name": "Shop B"}).str("id")
		// Every field at fault at once: one problem, an entry per field, nothing created.
		bad := s.must(t, 422, "POST", "/v1/organizations/"+org+"/stores", owner, map[string]any{"name": "Shop C", "website": "not a site", "currency": "ABC", "time_zone": "Mars/Olympus"})
		var fields []string
		for _, fe := range bad.body["errors"].([]any) {
			fields = append(fields, fe.(map[string]any)["location"].(string))
		}
		if bad.str("code") != roster.EInvalid || !slices.Equal(fields, []string{"body.website", "body.currency", "body.time_zone"}) {
			t.Fatalf("a store with three fields wrong: %v", bad.body)
		}

		// The invitation, sent with a forged Host header: links still come from ROSTER_BASE_URL.
		inv := s.must(t, 201, "POST", "/v1/organizations/"+org+"/invitations", owner, map[string]any{
			"email": "marc@connectif.example", "role": "member", "locale": "fr",
			"stores": []map[string]any{{"store_id": shopA, "role_id": "admin"}, {"store_id": shopB, "role_id": "viewer"}},
		}, "Host: evil.example", "X-Forwarded-Host: evil.example")
		if inv.str("status") != "pending" || inv.body["token"] != nil {
			t.Fatalf("invitation: %v", inv.body)
		}
		msg := s.mail(t, "marc@connectif.example", 1)
		link := msg.Link("/invitations/accept")
		if !strings.HasPrefix(link, "https://roster.example/invitations/accept?token=rl_") || strings.Contains(msg.Text+msg.HTML, "evil.example") {
			t.Fatalf("link %q", link)
		}
		if !strings.Contains(msg.Subject, "Olivia") || !strings.Contains(msg.Text, "Connectif Demo") || !strings.Contains(msg.Text, "Accepter l'invitation") {
			t.Fatalf("email: %s\n%s", msg.Subject, msg.Text)
		}
		tok := query(t, link, "token")
		look := s.must(t, 200, "GET", "/v1/invitations/lookup?token="+tok, "", nil)
		if look.header.Get("Referrer-Policy") != "no-referrer" || look.str("organization_name") != "Connectif Demo" ||
			look.str("inviter_name") != "Olivia" || look.str("email") != "m•••c@connectif.example" || look.str("status") != "pending" {
			t.Fatalf("lookup: %v %v", look.header, look.body)
		}
		acc := s.must(t, 200, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok, "name": "Marc", "password": testenv.Password})
		member := acc.str("token")
		if member == "" || acc.header.Get("Set-Cookie") == "" || acc.body["user"].(map[string]any)["email_verified"] != true {
			t.Fatalf("accept: %v", acc.body)
		}
		sel := s.must(t, 200, "GET", "/v1/me/organizations", member, nil)
		orgs := sel.body["organizations"].([]any)
		if len(orgs) != 1 || len(orgs[0].(map[string]any)["stores"].([]any)) != 2 {
			t.Fatalf("selector: %v", sel.body)
		}
		// The inviter, whose address is verified, hears that the invitation was accepted.
		if m := s.mail(t, "olivia@connectif.example", 2); !strings.Contains(m.Subject, "Marc") {
			t.Fatalf("invitation_accepted: %s", m.Subject)
		}
		s.must(t, 409, "POST", "/v1/invitations/accept", member, map[string]any{"token": tok})

		// Resend kills the old link; cancel kills the new one.
		inv2 := s.must(t, 201, "POST", "/v1/organizations/"+org+"/invitations", owner, map[string]any{"email": "ana@connectif.example"}).str("id")
		old := s.mail(t, "ana@connectif.example", 1).Token("/invitations/accept")
		dup := s.must(t, 409, "POST", "/v1/organizations/"+org+"/invitations", owner, map[string]any{"email": "ana@connectif.example"})
		if dup.str("code") != "invitation_pending" || dup.str("details", "resend") != "/v1/invitations/"+inv2+"/resend" {
			t.Fatalf("duplicate: %v", dup.body)
		}
		s.env.Clock.Advance(time.Minute)
		s.must(t, 200, "POST", "/v1/invitations/"+inv2+"/resend", owner, nil)
		s.must(t, 422, "GET", "/v1/invitations/lookup?token="+old, "", nil)
		fresh := s.mail(t, "ana@connectif.example", 2).Token("/invitations/accept")
		s.must(t, 204, "DELETE", "/v1/invitations/"+inv2, owner, nil)
		if a := s.must(t, 409, "POST", "/v1/invitations/accept", "", map[string]any{"token": fresh, "name": "Ana", "password": testenv.Password}); a.str("code") != "invitation_not_pending" {
			t.Fatalf("accept cancelled: %v", a.body)
		}
		list := s.must(t, 200, "GET", "/v1/organizations/"+org+"/invitations?status=revoked", owner, nil)
		if n := len(list.body["invitations"].([]any)); n != 1 {
			t.Fatalf("revoked list: %v", list.body)
		}
		// Bulk, as CSV.
		req, _ := http.NewRequest("POST", s.srv.URL+"/v1/organizations/"+org+"/invitations/bulk",
			strings.NewReader("email,role,stores\nleo@connectif.example,member,"+shopA+":member\nbad,member,\n"))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+owner)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var bulk struct {
			Invited, Refused int
			Results          []struct{ Status string }
		}
		_ = json.NewDecoder(res.Body).Decode(&bulk)
		res.Body.Close()
		if res.StatusCode != 200 || bulk.Invited != 1 || bulk.Refused != 1 {
			t.Fatalf("bulk: %d %+v", res.StatusCode, bulk)
		}
		s.mail(t, "leo@connectif.example", 1)

		// Nothing in the database reveals a token.
		dump := s.env.Dump(t)
		if len(s.tokens) < 6 {
			t.Fatalf("only %d tokens collected", len(s.tokens))
		}
		for _, tok := range s.tokens {
			if strings.Contains(dump, tok) || strings.Contains(dump, strings.TrimPrefix(tok, "rl_")) {
				t.Fatalf("a token is in the database dump: %s…", tok[:8])
			}
		}
		if !strings.Contains(dump, "outbox") || !strings.Contains(dump, "invitations") {
			t.Fatal("the dump is empty")
		}
	})
}

func TestECPowerFlowOverHTTP(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newStack(t, e)
		owner := s.signup(t, "owner@ecpower.example", "Owner")
		org := s.must(t, 201, "POST", "/v1/organizations", owner, map[string]any{"name": "ECPower Shop"}).str("id")
		s.must(t, 201, "POST", "/v1/organizations/"+org+"/stores", owner, map[string]any{"name": "The store"})
		pol := s.must(t, 200, "GET", "/v1/organizations/"+org+"/policy", owner, nil)
		if pol.body["invitation_ttl_hours"] != float64(168) {
			t.Fatalf("default policy: %v", pol.body)
		}
		inv := s.must(t, 201, "POST", "/v1/organizations/"+org+"/invitations", owner, map[string]any{"email": "late@ecpower.example"})
		if exp, _ := time.Parse(time.RFC3339, inv.str("expires_at")); !exp.Equal(s.env.Clock.Now().Add(7 * 24 * time.Hour)) {
			t.Fatalf("expires_at %s", inv.str("expires_at"))
		}
		late := s.mail(t, "late@ecpower.example", 1).Token("/invitations/accept")
		if !strings.Contains(s.mail(t, "late@ecpower.example", 1).Text, "29 November 2026") {
			t.Fatal("the expiry is not stated")
		}
		s.must(t, 201, "POST", "/v1/organizations/"+org+"/invitations", owner, map[string]any{"email": "member@ecpower.example"})
		tok := s.mail(t, "member@ecpower.example", 1).Token("/invitations/accept")
		s.env.Clock.Advance(6 * 24 * time.Hour)
		acc := s.must(t, 200, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok, "name": "Member", "password": testenv.Password})
		member, userID := acc.str("token"), acc.str("user", "id")
		s.env.Clock.Advance(24*time.Hour + time.Second)
		if a := s.must(t, 410, "POST", "/v1/invitations/accept", "", map[string]any{"token": late, "name": "Late", "password": testenv.Password}); a.str("code") != "invitation_expired" {
			t.Fatalf("after 7 days and 1 second: %v", a.body)
		}
		s.must(t, 200, "GET", "/v1/me", member, nil)
		owner = s.must(t, 200, "POST", "/v1/auth/login", "", map[string]any{"email": "owner@ecpower.example", "password": testenv.Password}).str("token")
		// The owner removes the member, who is told by email and loses access at once.
		s.must(t, 204, "DELETE", "/v1/organizations/"+org+"/members/"+userID, owner, nil)
		m := s.mail(t, "member@ecpower.example", 2)
		if m.Header.Get("Subject") == "" || !strings.Contains(m.Text, "ECPower Shop") || !strings.Contains(m.Subject, "removed") {
			t.Fatalf("access_removed: %s\n%s", m.Subject, m.Text)
		}
		s.must(t, 404, "GET", "/v1/organizations/"+org, member, nil)
	})
}

func TestConnectorFlowOverHTTP(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newStack(t, e)
		admin := s.signup(t, "admin@connector.example", "Ada")
		org := s.must(t, 201, "POST", "/v1/organizations", admin, map[string]any{"name": "Connector"}).str("id")
		s.must(t, 200, "PUT", "/v1/organizations/"+org+"/policy", admin, map[string]any{
			"allowed_domains": []string{"Connector.Example."}, "block_free_providers": true, "invitation_ttl_hours": 72})
		for addr, code := range map[string]string{"bob@gmail.com": "email_domain_not_allowed", "bob@sub.connector.example": "email_domain_not_allowed"} {
			if a := s.must(t, 422, "POST", "/v1/organizations/"+org+"/users", admin, map[string]any{"email": addr, "name": "Bob"}); a.str("code") != code {
				t.Fatalf("%s: %v", addr, a.body)
			}
		}
		s.must(t, 200, "PUT", "/v1/organizations/"+org+"/policy", admin, map[string]any{"allowed_domains": []string{}, "block_free_providers": true, "invitation_ttl_hours": 72})
		if a := s.must(t, 422, "POST", "/v1/organizations/"+org+"/users", admin, map[string]any{"email": "bob@hotmail.com", "name": "Bob"}); a.str("code") != "free_email_provider_blocked" {
			t.Fatalf("free provider: %v", a.body)
		}
		if a := s.must(t, 409, "POST", "/v1/organizations/"+org+"/users", admin, map[string]any{"email": "admin@connector.example", "name": "X"}); a.str("code") != "user_exists" {
			t.Fatalf("existing: %v", a.body)
		}
		bob := s.must(t, 201, "POST", "/v1/organizations/"+org+"/users", admin, map[string]any{"email": "bob@connector.example", "name": "Bob"}).str("id")
		m := s.mail(t, "bob@connector.example", 1)
		if !strings.HasPrefix(m.Link("/reset-password"), "https://roster.example/reset-password?token=rl_") {
			t.Fatalf("set-password email:\n%s", m.Text)
		}
		s.must(t, 200, "POST", "/v1/auth/password-reset/confirm", "", map[string]any{"token": m.Token("/reset-password"), "password": "bob chooses a long passphrase"})
		s.must(t, 200, "POST", "/v1/auth/login", "", map[string]any{"email": "bob@connector.example", "password": "bob chooses a long passphrase"})
		// The admin sends Bob a reset; the link is valid 60 minutes.
		s.must(t, 202, "POST", "/v1/organizations/"+org+"/members/"+bob+"/password-reset", admin, nil)
		reset := s.mail(t, "bob@connector.example", 2).Token("/reset-password")
		s.env.Clock.Advance(60*time.Minute + time.Second)
		s.must(t, 422, "POST", "/v1/auth/password-reset/confirm", "", map[string]any{"token": reset, "password": "another long passphrase"})
		// Forgot password: the same answer for known and unknown addresses.
		known := s.must(t, 202, "POST", "/v1/auth/password-reset", "", map[string]any{"email": "bob@connector.example"})
		unknown := s.must(t, 202, "POST", "/v1/auth/password-reset", "", map[string]any{"email": "nobody@connector.example"})
		if known.str("message") != unknown.str("message") {
			t.Fatal("password reset answers differ")
		}
		s.mail(t, "bob@connector.example", 3)
		// Bulk, as JSON: each row answered on its own.
		bulk := s.must(t, 200, "POST", "/v1/organizations/"+org+"/invitations/bulk", admin, map[string]any{"invitations": []map[string]any{
			{"email": "carl@connector.example"}, {"email": "carl@gmail.com"}, {"email": "bob@connector.example"}}})
		if bulk.body["invited"] != float64(1) || bulk.body["refused"] != float64(2) {
			t.Fatalf("bulk: %v", bulk.body)
		}
		// Bob changes his address: the link goes to the new one, the notice to the old one.
		bobToken := s.must(t, 200, "POST", "/v1/auth/login", "", map[string]any{"email": "bob@connector.example", "password": "bob chooses a long passphrase"}).str("token")
		if a := s.must(t, 422, "POST", "/v1/me/email", bobToken, map[string]any{"email": "bob@yahoo.com", "password": "bob chooses a long passphrase"}); a.str("code") != "free_email_provider_blocked" {
			t.Fatalf("email change against the policy: %v", a.body)
		}
		s.must(t, 202, "POST", "/v1/me/email", bobToken, map[string]any{"email": "robert@connector.example", "password": "bob chooses a long passphrase"})
		change := s.mail(t, "robert@connector.example", 1)
		s.must(t, 200, "POST", "/v1/auth/confirm-email", "", map[string]any{"token": change.Token("/confirm-email")})
		if m := s.mail(t, "bob@connector.example", 4); !strings.Contains(m.Text, "r•••t@connector.example") {
			t.Fatalf("notice to the old address: %s", m.Text)
		}
		s.must(t, 200, "POST", "/v1/auth/login", "", map[string]any{"email": "robert@connector.example", "password": "bob chooses a long passphrase"})
		// Members breaking the policy are listed.
		s.must(t, 200, "PUT", "/v1/organizations/"+org+"/policy", admin, map[string]any{"allowed_domains": []string{"other.example"}, "invitation_ttl_hours": 72,
			"password": testenv.Password}) // a step-up: the login is more than 10 minutes old
		list := s.must(t, 200, "GET", "/v1/organizations/"+org+"/members?breaks_policy=true", admin, nil)
		if n := len(list.body["members"].([]any)); n != 2 {
			t.Fatalf("members breaking the policy: %v", list.body)
		}
	})
}
