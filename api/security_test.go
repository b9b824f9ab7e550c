package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/outbox"
	"github.com/rosterhq/roster/sqlstore"
)

// logSink keeps everything every component logs, at debug level, for tests that search it.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *logSink) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// secStack is the API over HTTP whose app, outbox worker, development mailbox and HTTP
// plumbing all log into one sink; emails are delivered on demand into the mailbox.
type secStack struct {
	*keysEnv
	logs   *logSink
	box    *mail.Mailbox
	worker *outbox.Worker
}

func newSecStack(t *testing.T, e sqlstore.Engine) *secStack {
	t.Helper()
	sink := &logSink{}
	log := slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	url := testenv.DatabaseURL(t, e)
	db, err := sqlstore.Open(testenv.Ctx, url, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(testenv.Ctx); err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock()
	env := &testenv.Env{App: app.New(db, testenv.Config(), clock, log), DB: db, Clock: clock, Engine: e, URL: url}
	box := mail.NewMailbox(1000, log)
	env.App.Outbox.SetMailbox(box)
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux, env.App, api.Options{Log: log, Version: "test", HTTPS: true})
	srv := httptest.NewServer(httpserver.Wrap(mux, httpserver.Options{Log: log, HTTPS: true, Ready: env.App.Ready, Registry: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)
	return &secStack{keysEnv: &keysEnv{Env: env, t: t, url: srv.URL}, logs: sink, box: box,
		worker: outbox.New(env.App, r, box, log, outbox.Options{Batch: 100})}
}

// deliver sends the emails that are due into the mailbox.
func (s *secStack) deliver() {
	s.t.Helper()
	for {
		n, err := s.worker.DeliverDue(testenv.Ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

var linkToken = regexp.MustCompile(`https?://[^\s"<>]+[?&]token=(rl_[A-Za-z0-9_-]+)`)

// link delivers what is due and returns the link of the newest email of a template to an
// address, failing when there is none.
func (s *secStack) link(to, template string) (link, tok string) {
	s.t.Helper()
	s.deliver()
	for _, m := range s.box.Messages() {
		if m.To == to && m.Template == template {
			if l := linkToken.FindStringSubmatch(m.Text); l != nil {
				return l[0], l[1]
			}
			s.t.Fatalf("%s email to %s has no link:\n%s", template, to, m.Text)
		}
	}
	s.t.Fatalf("no %s email to %s", template, to)
	return "", ""
}

// callHost sends a request as call does, with a forged Host and forwarding headers.
func (s *secStack) callHost(token, method, path string, body any) reply {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "http")
	req.Header.Set("Forwarded", "host=evil.example;proto=http")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	r := reply{status: res.StatusCode, header: res.Header}
	_ = json.NewDecoder(res.Body).Decode(&r.body)
	return r
}

// TestSecretsNeverLoggedNorShownAgain runs every flow that hands out a secret — sessions,
// verification, invitation, set-password, reset and email-change links, the setup link,
// API keys and service tokens — with forged Host headers, logging everything at debug
// level. Then: no secret appears in the logs; every link starts with the configured base
// URL; no list or get of invitations, API keys, service tokens or sessions shows a secret.
func TestSecretsNeverLoggedNorShownAgain(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSecStack(t, e)
		var secrets []string
		keep := func(v string) string {
			t.Helper()
			if v == "" {
				t.Fatal("an empty secret")
			}
			secrets = append(secrets, v)
			return v
		}
		var links []string
		follow := func(to, template string) string {
			l, tok := s.link(to, template)
			links = append(links, l)
			return keep(tok)
		}
		pw := testenv.Password

		// The first operator, through the setup link.
		setup, err := s.App.Operator.SetupLink(testenv.Ctx)
		if err != nil || setup == "" {
			t.Fatalf("setup link %q: %v", setup, err)
		}
		links = append(links, setup)
		setupToken := keep(linkToken.FindStringSubmatch(setup)[1])
		s.callHost("", "POST", "/v1/setup", map[string]any{"token": setupToken, "email": "op@roster.example", "name": "Op", "password": pw})
		op := keep(s.callHost("", "POST", "/v1/auth/login", map[string]any{"email": "op@roster.example", "password": pw}).str("token"))
		svcReply := s.callHost(op, "POST", "/v1/admin/service-tokens", map[string]any{"name": "host"})
		svc := keep(svcReply.str("token"))

		// Sign-up, verification, login.
		if r := s.callHost("", "POST", "/v1/auth/signup", map[string]any{"email": "olivia@acme.example", "name": "Olivia", "password": pw}); r.status != 202 {
			t.Fatalf("signup: %d %v", r.status, r.body)
		}
		s.callHost("", "POST", "/v1/auth/verify-email", map[string]any{"token": follow("olivia@acme.example", "verify_email")})
		owner := keep(s.callHost("", "POST", "/v1/auth/login", map[string]any{"email": "olivia@acme.example", "password": pw}).str("token"))
		s.callHost("", "POST", "/v1/auth/login", map[string]any{"email": "olivia@acme.example", "password": "a wrong password, logged nowhere"})
		org := s.callHost(owner, "POST", "/v1/organizations", map[string]any{"name": "Acme"}).str("id")
		store := s.callHost(owner, "POST", "/v1/organizations/"+org+"/stores", map[string]any{"name": "Madrid"}).str("id")

		// An invitation, looked up (token in the query string) and accepted.
		inv := s.callHost(owner, "POST", "/v1/organizations/"+org+"/invitations", map[string]any{"email": "marc@acme.example",
			"stores": []map[string]any{{"store_id": store, "role_id": "viewer"}}})
		if inv.status != 201 {
			t.Fatalf("invite: %d %v", inv.status, inv.body)
		}
		invTok := follow("marc@acme.example", "invitation")
		if r := s.call("", "GET", "/v1/invitations/lookup?token="+url.QueryEscape(invTok), nil); r.status != 200 {
			t.Fatalf("lookup: %d %s", r.status, r.raw)
		}
		acc := s.callHost("", "POST", "/v1/invitations/accept", map[string]any{"token": invTok, "name": "Marc", "password": pw})
		member := keep(acc.str("token"))
		memberID, _ := acc.body["user"].(map[string]any)["id"].(string)

		// A user created directly, an admin's reset, a forgotten password, an email change.
		created := s.callHost(owner, "POST", "/v1/organizations/"+org+"/users", map[string]any{"email": "bob@acme.example", "name": "Bob"})
		bobID := created.str("id")
		s.callHost("", "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": follow("bob@acme.example", "set_password"), "password": "bob chooses a long passphrase"})
		s.callHost(owner, "POST", "/v1/organizations/"+org+"/members/"+bobID+"/password-reset", nil)
		follow("bob@acme.example", "password_reset")
		s.callHost("", "POST", "/v1/auth/password-reset", map[string]any{"email": "bob@acme.example"})
		s.callHost("", "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": follow("bob@acme.example", "password_reset"), "password": "bob's second long passphrase"})
		s.callHost(member, "POST", "/v1/me/email", map[string]any{"email": "marco@acme.example", "password": pw})
		s.callHost("", "POST", "/v1/auth/confirm-email", map[string]any{"token": follow("marco@acme.example", "change_email")})

		// API keys: created, used, cloned.
		key := s.callHost(owner, "POST", "/v1/organizations/"+org+"/api-keys", map[string]any{"name": "Zendesk", "store_id": store, "role_id": "viewer", "password": pw})
		if key.status != 201 {
			t.Fatalf("create key: %d %v", key.status, key.body)
		}
		keyID, keySecret := key.str("id"), keep(key.str("secret"))
		s.call(keySecret, "GET", "/v1/stores/"+store, nil)
		s.call(keySecret+"x", "GET", "/v1/stores/"+store, nil)
		clone := s.callHost(owner, "POST", "/v1/organizations/"+org+"/api-keys/"+keyID+"/clone", map[string]any{"user_id": memberID, "password": pw})
		if clone.status != 201 {
			t.Fatalf("clone key: %d %v", clone.status, clone.body)
		}
		keep(clone.str("secret"))
		s.call(svc, "POST", "/v1/check", map[string]any{"user_id": memberID, "permission": "store.read", "store_id": store})

		// Every link came from the base URL, whatever Host the requests named.
		s.deliver()
		for _, m := range s.box.Messages() {
			if strings.Contains(m.Text+m.HTML+m.Subject, "evil.example") {
				t.Fatalf("%s email to %s names the forged host", m.Template, m.To)
			}
		}
		for _, l := range links {
			if !strings.HasPrefix(l, "https://roster.example/") {
				t.Errorf("link %q does not start with the base URL", l)
			}
		}

		// List and get of everything that once carried a secret: none shows it again.
		var shown strings.Builder
		for _, g := range []struct{ token, path string }{
			{owner, "/v1/organizations/" + org + "/invitations"},
			{owner, "/v1/organizations/" + org + "/invitations?status=accepted"},
			{owner, "/v1/invitations/" + inv.str("id")},
			{owner, "/v1/organizations/" + org + "/api-keys"},
			{owner, "/v1/organizations/" + org + "/api-keys/" + keyID},
			{owner, "/v1/organizations/" + org + "/api-keys/" + keyID + "/requests"},
			{owner, "/v1/organizations/" + org + "/audit-events?limit=200"},
			{owner, "/v1/organizations/" + org + "/audit-events/export?format=jsonl"},
			{owner, "/v1/me/sessions"},
			{owner, "/v1/organizations/" + org + "/members"},
			{op, "/v1/admin/service-tokens"},
			{op, "/v1/admin/users"},
		} {
			r := s.call(g.token, "GET", g.path, nil)
			if r.status != 200 {
				t.Fatalf("GET %s: %d %s", g.path, r.status, r.raw)
			}
			shown.Write(r.raw)
			if bytes.Contains(r.raw, []byte(`"token"`)) || bytes.Contains(r.raw, []byte(`"secret"`)) || bytes.Contains(r.raw, []byte(`hash"`)) {
				t.Errorf("GET %s answers with a token, secret or hash field: %s", g.path, r.raw)
			}
		}

		logs := s.logs.String()
		if len(secrets) < 13 || !strings.Contains(logs, `"msg":"request"`) || !strings.Contains(logs, "marc@acme.example") {
			t.Fatalf("the run is too thin to prove anything: %d secrets, logs:\n%s", len(secrets), logs)
		}
		for _, v := range append(secrets, pw, "a wrong password, logged nowhere", "bob chooses a long passphrase") {
			bare := v[strings.IndexByte(v, '_')+1:] // the secret without its prefix
			if strings.Contains(logs, bare) {
				t.Errorf("a secret (%.6s…) is in the logs", v)
			}
			if strings.Contains(shown.String(), bare) {
				t.Errorf("a secret (%.6s…) is shown again by a list or get", v)
			}
		}
	})
}

// TestOutsidersGetNotFound calls every operation that takes an ID in its path, as listed by
// the OpenAPI document, as a signed-in outsider (the owner of another organization), with
// the IDs of an organization they are not in, and again with IDs that do not exist: the
// answers are the same, 404 wherever the operation reaches the object, never 403 and never
// data. IDs of the organization given in bodies of the outsider's own organization are
// treated as unknown too.
func TestOutsidersGetNotFound(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, member, outsider := env.person("Olivia"), env.person("Marc"), env.person("Otto")
		org := env.Org(t, owner.actor, "Acme")
		store := env.Store(t, owner.actor, org.ID, "Madrid")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgAdmin, app.StoreGrantInput{StoreID: store.ID, RoleID: roster.StoreRoleViewer})
		role := env.must(201, owner.token, "POST", "/v1/organizations/"+org.ID+"/roles", map[string]any{"name": "Chatter", "permissions": []string{"store.read"}}).str("id")
		keyID, _ := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "K", "role_id": "viewer", "password": testenv.Password})
		inv := env.must(201, owner.token, "POST", "/v1/organizations/"+org.ID+"/invitations", map[string]any{"email": "zoe@acme.example"}).str("id")
		sessions := env.must(200, owner.token, "GET", "/v1/me/sessions", nil).list("sessions")
		session, _ := sessions[0].(map[string]any)["id"].(string)
		own := env.Org(t, outsider.actor, "Elsewhere")
		ownStore := env.Store(t, outsider.actor, own.ID, "Paris")
		ownKey, _ := env.createKey(outsider.token, map[string]any{"org": own.ID, "name": "Mine", "role_id": "viewer", "password": testenv.Password})

		foreign := map[string]string{"{org}": org.ID, "{store}": store.ID, "{user}": member.user.ID, "{role}": role, "{key}": keyID,
			"{id}": inv, "{session}": session}
		unknown := map[string]string{}
		for k, v := range foreign {
			unknown[k] = v[:strings.IndexByte(v, '_')+1] + "01m00000000000000000000000"
		}
		bodies := map[string]map[string]any{
			"update-organization": {"name": "Taken"}, "delete-organization": {"password": testenv.Password},
			"create-api-key": {"name": "k", "role_id": "viewer", "password": testenv.Password}, "clone-api-key": {"user_id": owner.user.ID},
			"create-invitation": {"email": "new@acme.example"}, "bulk-invite": {"invitations": []map[string]any{{"email": "new@acme.example"}}},
			"update-member": {"role": "member"}, "set-policy": {"allowed_domains": []string{}, "invitation_ttl_hours": 24},
			"create-role": {"name": "R", "permissions": []string{"store.read"}}, "update-role": {"description": "d"},
			"create-store": {"name": "S"}, "transfer-ownership": {"user_id": member.user.ID, "password": testenv.Password},
			"create-user": {"email": "new@acme.example", "name": "New"}, "update-store": {"name": "S2"}, "set-store-role": {"role_id": "viewer"},
		}
		// Operator, service-token and host-permission operations refuse a plain user before
		// any ID is read: 403 there says nothing about the ID.
		notForUsers := regexp.MustCompile(`^/v1/(admin|users|permissions|clients|webhooks)/`)

		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string           `json:"operationId"`
				Security    []map[string]any `json:"security"`
				RequestBody map[string]any   `json:"requestBody"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(env.must(200, "", "GET", "/openapi.json", nil).raw, &doc); err != nil {
			t.Fatal(err)
		}
		param := regexp.MustCompile(`\{[a-z_]+\}`)
		var paths []string
		for p := range doc.Paths {
			if strings.Contains(p, "{") && !notForUsers.MatchString(p) {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		notFound := 0
		for _, p := range paths {
			for method, o := range doc.Paths[p] {
				method = strings.ToUpper(method)
				var body any
				if o.RequestBody != nil {
					body = map[string]any{}
					if b, ok := bodies[o.OperationID]; ok {
						body = b
					}
				}
				fill := func(ids map[string]string) string {
					return param.ReplaceAllStringFunc(p, func(n string) string { return ids[n] })
				}
				got, want := env.call(outsider.token, method, fill(foreign), body), env.call(outsider.token, method, fill(unknown), body)
				if got.status == 403 || got.status < 300 || got.status >= 500 || got.status != want.status || got.code() != want.code() {
					t.Errorf("%s %s (%s): foreign ID %d %s, unknown ID %d %s", method, p, o.OperationID, got.status, got.raw, want.status, want.raw)
				}
				if got.status == 404 {
					notFound++
				}
			}
		}
		if notFound < 40 {
			t.Fatalf("only %d operations answered 404", notFound)
		}

		// Foreign IDs inside bodies of the outsider's own organization: unknown there.
		for _, c := range []struct {
			method, path string
			body         func(store, user, role string) map[string]any
		}{
			{"POST", "/v1/organizations/" + own.ID + "/invitations", func(st, _, _ string) map[string]any {
				return map[string]any{"email": "x@acme.example", "stores": []map[string]any{{"store_id": st, "role_id": "viewer"}}}
			}},
			{"POST", "/v1/organizations/" + own.ID + "/invitations", func(_, _, r string) map[string]any {
				return map[string]any{"email": "x@acme.example", "stores": []map[string]any{{"store_id": ownStore.ID, "role_id": r}}}
			}},
			{"POST", "/v1/organizations/" + own.ID + "/api-keys", func(st, _, _ string) map[string]any {
				return map[string]any{"name": "k", "store_id": st, "role_id": "viewer", "password": testenv.Password}
			}},
			{"POST", "/v1/organizations/" + own.ID + "/api-keys", func(_, _, r string) map[string]any {
				return map[string]any{"name": "k", "role_id": r, "password": testenv.Password}
			}},
			{"POST", "/v1/organizations/" + own.ID + "/api-keys/" + ownKey + "/clone", func(_, u, _ string) map[string]any { return map[string]any{"user_id": u} }},
			{"POST", "/v1/organizations/" + own.ID + "/transfer-ownership", func(_, u, _ string) map[string]any {
				return map[string]any{"user_id": u, "password": testenv.Password}
			}},
			{"PUT", "/v1/stores/" + ownStore.ID + "/members/" + member.user.ID, func(_, _, r string) map[string]any { return map[string]any{"role_id": r} }},
		} {
			got := env.call(outsider.token, c.method, c.path, c.body(store.ID, member.user.ID, role))
			want := env.call(outsider.token, c.method, c.path, c.body(unknown["{store}"], unknown["{user}"], unknown["{role}"]))
			if got.status == 403 || got.status < 400 || got.status >= 500 || got.status != want.status || got.code() != want.code() {
				t.Errorf("%s %s with foreign IDs in the body: %d %s; unknown IDs: %d %s", c.method, c.path, got.status, got.raw, want.status, want.raw)
			}
		}
		// Nothing changed in the organization.
		if n := len(env.must(200, owner.token, "GET", "/v1/organizations/"+org.ID+"/members", nil).list("members")); n != 2 {
			t.Fatalf("members after the run: %d", n)
		}
	})
}

// TestUnknownFieldsRefusedEverywhere sends every operation that takes a JSON body an extra
// field: each is refused with 422 naming the field, before anything happens. Then the
// fields that grant power (operator, verification, status, owner role) are tried on the
// profile and member edits.
func TestUnknownFieldsRefusedEverywhere(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, member := env.person("Olivia"), env.person("Marc")
		org := env.Org(t, owner.actor, "Acme")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgAdmin)
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `json:"operationId"`
				RequestBody struct {
					Content map[string]any `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(env.must(200, "", "GET", "/openapi.json", nil).raw, &doc); err != nil {
			t.Fatal(err)
		}
		ids := strings.NewReplacer("{org}", org.ID, "{user}", member.user.ID)
		checked := 0
		for p, ops := range doc.Paths {
			for method, o := range ops {
				if o.RequestBody.Content["application/json"] == nil {
					continue
				}
				r := env.call(owner.token, strings.ToUpper(method), ids.Replace(p), map[string]any{"zz_unknown": true, "operator": true})
				if r.status != 422 || r.code() != "invalid" || !regexp.MustCompile(`unexpected property|unknown field|unknown object member`).Match(r.raw) {
					t.Errorf("%s %s (%s) with an unknown field: %d %s", method, p, o.OperationID, r.status, r.raw)
				}
				checked++
			}
		}
		if checked < 30 {
			t.Fatalf("only %d operations with a JSON body", checked)
		}
		for _, f := range []map[string]any{{"operator": true}, {"email_verified": true}, {"status": "active"}, {"email": "x@acme.example"}, {"id": "usr_x"}} {
			env.refused(422, "invalid", member.token, "PATCH", "/v1/me", f)
		}
		env.refused(422, "invalid", owner.token, "PATCH", "/v1/organizations/"+org.ID+"/members/"+member.user.ID, map[string]any{"role": "owner"})
		env.refused(422, "invalid", owner.token, "PATCH", "/v1/organizations/"+org.ID+"/members/"+member.user.ID, map[string]any{"user_id": owner.user.ID})
		env.refused(422, "invalid", owner.token, "PATCH", "/v1/organizations/"+org.ID, map[string]any{"owner_id": member.user.ID})
		env.refused(422, "invalid", owner.token, "PATCH", "/v1/organizations/"+org.ID, map[string]any{"store_credits": 100})
		me := env.must(200, member.token, "GET", "/v1/me", nil)
		if me.body["operator"] == true || me.body["email_verified"] == true {
			t.Fatalf("the profile changed: %s", me.raw)
		}
		if m := env.must(200, owner.token, "GET", "/v1/organizations/"+org.ID+"/members/"+member.user.ID, nil); m.str("role") != "admin" {
			t.Fatalf("the membership changed: %s", m.raw)
		}
	})
}

// TestLineBreaksNeverReachAnEmail tries CR and LF in every input that reaches an email's
// headers (names of people, organizations and stores, addresses): each is refused, and no
// email carries the injected header.
func TestLineBreaksNeverReachAnEmail(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSecStack(t, e)
		owner, user := s.person("Olivia"), s.person("Marc")
		org := s.Org(t, owner.actor, "Acme")
		store := s.Store(t, owner.actor, org.ID, "Madrid")
		s.must(201, owner.token, "POST", "/v1/organizations/"+org.ID+"/invitations", map[string]any{"email": "zoe@acme.example"})
		_, invTok := s.link("zoe@acme.example", "invitation")
		for _, evil := range []string{"Eve\r\nBcc: spy@evil.example", "Eve\nBcc: spy@evil.example", "Eve\rBcc: spy@evil.example", "Eve\u0085Bcc: spy@evil.example"} {
			addr := "eve" + testenv.Unique() + "@acme.example"
			for _, c := range []struct {
				token, method, path string
				body                map[string]any
			}{
				{"", "POST", "/v1/auth/signup", map[string]any{"email": addr, "name": evil, "password": testenv.Password}},
				{"", "POST", "/v1/auth/signup", map[string]any{"email": addr + "\r\nBcc: spy@evil.example", "name": "Eve", "password": testenv.Password}},
				{user.token, "PATCH", "/v1/me", map[string]any{"name": evil}},
				{user.token, "POST", "/v1/me/email", map[string]any{"email": "eve@acme.example\r\nBcc: spy@evil.example", "password": testenv.Password}},
				{owner.token, "POST", "/v1/organizations", map[string]any{"name": evil}},
				{owner.token, "PATCH", "/v1/organizations/" + org.ID, map[string]any{"name": evil}},
				{owner.token, "POST", "/v1/organizations/" + org.ID + "/stores", map[string]any{"name": evil}},
				{owner.token, "PATCH", "/v1/stores/" + store.ID, map[string]any{"name": evil}},
				{owner.token, "POST", "/v1/organizations/" + org.ID + "/invitations", map[string]any{"email": addr + "\nBcc: spy@evil.example"}},
				{owner.token, "POST", "/v1/organizations/" + org.ID + "/users", map[string]any{"email": addr, "name": evil}},
				{owner.token, "POST", "/v1/organizations/" + org.ID + "/users", map[string]any{"email": "\r\n" + addr + "\r\nBcc: spy@evil.example", "name": "Eve"}},
				{"", "POST", "/v1/invitations/accept", map[string]any{"token": invTok, "name": evil, "password": testenv.Password}},
				{"", "POST", "/v1/auth/password-reset", map[string]any{"email": user.user.Email + "\r\nBcc: spy@evil.example"}},
			} {
				if r := s.call(c.token, c.method, c.path, c.body); r.status != 422 {
					t.Errorf("%s %s with %q: %d %s", c.method, c.path, evil, r.status, r.raw)
				}
			}
		}
		s.deliver()
		for _, m := range s.box.Messages() {
			if strings.Contains(m.To+m.Subject, "evil.example") || strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("an email carries the injection: %+v", m)
			}
		}
	})
}

// TestRateLimitsPerRecipient: password resets of one address are bounded across Roster
// processes and client addresses, and so are invitation emails to one address across
// organizations, resends included. Every 429 says when to come back.
func TestRateLimitsPerRecipient(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSecStack(t, e)
		_, victim := s.User(t, "Vic")
		// Forgotten password: many processes, many client addresses, one recipient.
		for i := range 12 {
			node := testenv.NewEnvOn(t, s.Env)
			ip := "198.51.100." + string(rune('1'+i%9))
			if err := node.App.Accounts.RequestPasswordReset(testenv.Ctx, roster.Anonymous(ip, "t"), victim.Email); err != nil {
				t.Fatalf("reset #%d: %v", i, err)
			}
		}
		s.deliver()
		resets := 0
		for _, m := range s.box.Messages() {
			if m.To == victim.Email && m.Template == "password_reset" {
				resets++
			}
		}
		if resets == 0 || resets > 5 {
			t.Fatalf("%d reset emails to one address in an hour", resets)
		}
		// One process, one address: the answer says when to come back.
		var last reply
		for range 8 {
			if last = s.call("", "POST", "/v1/auth/password-reset", map[string]any{"email": victim.Email}); last.status == 429 {
				break
			}
		}
		if last.status != 429 || last.code() != "rate_limited" || last.header.Get("Retry-After") == "" {
			t.Fatalf("repeated resets: %d %v %s", last.status, last.header, last.raw)
		}

		// Invitations to one address from many organizations: at most ten an hour, resends
		// included.
		target := "target" + testenv.Unique() + "@acme.example"
		var invs []struct{ token, id string }
		for i := range 10 {
			p := s.person("Inviter")
			org := s.Org(t, p.actor, "Org "+string(rune('A'+i)))
			id := s.must(201, p.token, "POST", "/v1/organizations/"+org.ID+"/invitations", map[string]any{"email": target}).str("id")
			invs = append(invs, struct{ token, id string }{p.token, id})
		}
		s.Clock.Advance(2 * time.Minute) // past the spacing of resends of one invitation
		r := s.call(invs[0].token, "POST", "/v1/invitations/"+invs[0].id+"/resend", nil)
		if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") == "" {
			t.Fatalf("an eleventh invitation email in an hour, as a resend: %d %s", r.status, r.raw)
		}
		s.Clock.Advance(time.Hour)
		s.must(200, invs[0].token, "POST", "/v1/invitations/"+invs[0].id+"/resend", nil)
	})
}

// TestStepUpIsThrottled: a stolen session cannot be used to guess its user's password
// through the operations that ask for it again; wrong answers count with failed logins,
// and a locked account confirms nothing, not even with the right password.
func TestStepUpIsThrottled(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		env.Clock.Advance(11 * time.Minute) // the login no longer stands in for a proof
		var r reply
		for i := range 6 {
			r = env.call(owner.token, "POST", "/v1/me/password", map[string]any{"current_password": "guess number " + string(rune('a'+i)), "new_password": "a brand new long passphrase"})
		}
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("the sixth wrong current password: %d %s", r.status, r.raw)
		}
		for _, c := range []struct {
			path string
			body map[string]any
		}{
			{"/v1/me/password", map[string]any{"current_password": testenv.Password, "new_password": "a brand new long passphrase"}},
			{"/v1/organizations/" + org.ID + "/api-keys", map[string]any{"name": "k", "role_id": "viewer", "password": testenv.Password}},
		} {
			env.refused(429, "rate_limited", owner.token, "POST", c.path, c.body)
		}
		env.refused(429, "rate_limited", "", "POST", "/v1/auth/login", map[string]any{"email": owner.user.Email, "password": testenv.Password})
		// Once the delay is over, the right password works again.
		env.Clock.Advance(time.Hour)
		env.must(201, owner.token, "POST", "/v1/organizations/"+org.ID+"/api-keys", map[string]any{"name": "k", "role_id": "viewer", "password": testenv.Password})
	})
}

// TestHTTPHardening: signed-in answers are never cached, no Server header names a version,
// HSTS comes only with an https base URL, unmatched API paths and methods answer problems.
func TestHTTPHardening(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSecStack(t, e) // https
		plain := newKeysEnv(t, e)
		p := s.person("Olivia")
		for _, r := range []reply{s.call(p.token, "GET", "/v1/me", nil), s.call(p.token, "GET", "/v1/me/organizations", nil), s.call("", "GET", "/v1/me", nil)} {
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
			if r.header.Get("Server") != "" {
				t.Errorf("Server: %q", r.header.Get("Server"))
			}
			if !strings.HasPrefix(r.header.Get("Strict-Transport-Security"), "max-age=") {
				t.Errorf("no HSTS over https: %v", r.header)
			}
		}
		if r := plain.call("", "GET", "/healthz", nil); r.header.Get("Strict-Transport-Security") != "" || r.header.Get("Server") != "" {
			t.Errorf("HSTS or Server over http: %v", r.header)
		}
		// The session cookie: HttpOnly, SameSite=Lax, Path=/, no Domain, Secure on https only.
		for _, c := range []struct {
			env    *keysEnv
			email  string
			secure bool
		}{{s.keysEnv, p.user.Email, true}, {plain, plain.person("Pat").user.Email, false}} {
			r := c.env.must(200, "", "POST", "/v1/auth/login", map[string]any{"email": c.email, "password": testenv.Password})
			cookies := (&http.Response{Header: r.header}).Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies %v", r.header["Set-Cookie"])
			}
			ck := cookies[0]
			if ck.Value != r.str("token") || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != c.secure {
				t.Errorf("session cookie %+v", ck)
			}
			// The bearer API ignores cookies: a cookie alone is no credential.
			req, _ := http.NewRequest("GET", c.env.url+"/v1/me", nil)
			req.AddCookie(ck)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 401 {
				t.Errorf("GET /v1/me with the session cookie alone: %d", res.StatusCode)
			}
		}
		for _, c := range []struct {
			method, path string
			status       int
			code, allow  string
		}{
			{"GET", "/v1/nothing/here", 404, "not_found", ""},
			{"POST", "/v1/me/sessions", 405, "method_not_allowed", "DELETE, GET, HEAD"},
			{"PUT", "/v1/organizations/org_x", 405, "method_not_allowed", "DELETE, GET, HEAD, PATCH"},
		} {
			r := s.call(p.token, c.method, c.path, nil)
			if r.status != c.status || r.code() != c.code || r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("Allow") != c.allow {
				t.Errorf("%s %s: %d %v %s", c.method, c.path, r.status, r.header, r.raw)
			}
		}
	})
}

// TestOpenAPIDocumentsErrors: every operation lists its error answers as problems, with
// Retry-After on 429 and 503, 401 everywhere (an invalid bearer token is refused even on
// public operations) and 403 wherever credentials are needed.
func TestOpenAPIDocumentsErrors(t *testing.T) {
	env := newKeysEnv(t, sqlstore.SQLite)
	var doc struct {
		Servers []struct{ URL string }  `json:"servers"`
		Tags    []struct{ Name string } `json:"tags"`
		Paths   map[string]map[string]struct {
			OperationID string           `json:"operationId"`
			Tags        []string         `json:"tags"`
			Security    []map[string]any `json:"security"`
			Responses   map[string]struct {
				Content map[string]any `json:"content"`
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(env.must(200, "", "GET", "/openapi.json", nil).raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://roster.example" {
		t.Fatalf("servers: %+v", doc.Servers)
	}
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		declared[tag.Name] = true
	}
	for p, ops := range doc.Paths {
		if strings.Contains(p, "{token}") {
			t.Errorf("%s: a path parameter named token (IDs only in paths)", p)
		}
		for m, o := range ops {
			for _, tag := range o.Tags {
				if !declared[tag] {
					t.Errorf("%s %s: tag %q not declared", m, p, tag)
				}
			}
			for _, s := range []string{"500", "503"} {
				if _, ok := o.Responses[s]; !ok {
					t.Errorf("%s %s: no %s", m, p, s)
				}
			}
			_, has401 := o.Responses["401"]
			_, has403 := o.Responses["403"]
			if !has401 || (len(o.Security) > 0 && !has403) {
				t.Errorf("%s %s: 401 documented %v, 403 %v, security %v", m, p, has401, has403, o.Security)
			}
			if _, ok := o.Responses["404"]; strings.Contains(p, "{") && !ok {
				t.Errorf("%s %s: no 404", m, p)
			}
			for code, r := range o.Responses {
				if code[0] == '4' || code[0] == '5' {
					if r.Content["application/problem+json"] == nil {
						t.Errorf("%s %s %s: not a problem", m, p, code)
					}
					if (code == "429" || code == "503") && r.Headers["Retry-After"] == nil {
						t.Errorf("%s %s %s: no Retry-After", m, p, code)
					}
				}
			}
		}
	}
	for _, id := range []string{"login", "request-password-reset", "resend-invitation", "change-password"} {
		found := false
		for _, ops := range doc.Paths {
			for _, o := range ops {
				if o.OperationID == id {
					_, found = o.Responses["429"]
				}
			}
		}
		if !found {
			t.Errorf("%s: no 429", id)
		}
	}
}

// TestBadInputAnswersProblems: a body over the limit is 413, a wrong content type 415,
// malformed JSON 400, wrong types 422, each a problem with a stable code; and an internal
// failure answers "internal error" with a request ID, never the SQL or the driver's words.
func TestBadInputAnswersProblems(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		p := env.person("Olivia")
		send := func(ctype string, body []byte) reply {
			req, _ := http.NewRequest("POST", env.url+"/v1/organizations", bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Authorization", "Bearer "+p.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			r := reply{status: res.StatusCode, header: res.Header}
			_ = json.NewDecoder(res.Body).Decode(&r.body)
			return r
		}
		huge := append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), 2<<20)...)
		for _, c := range []struct {
			ctype  string
			body   []byte
			status int
			code   string
		}{
			{"application/json", append(huge, '"', '}'), 413, "body_too_large"},
			{"text/plain", []byte(`{"name":"Acme"}`), 415, "unsupported_media_type"},
			{"application/json", []byte(`{"name":`), 400, "malformed_request"},
			{"application/json", []byte(`{"name":42}`), 422, "invalid"},
			{"application/json", []byte(`["Acme"]`), 422, "invalid"},
		} {
			r := send(c.ctype, c.body)
			if r.status != c.status || r.code() != c.code || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %.20q: %d %v %v", c.ctype, c.body, r.status, r.header.Get("Content-Type"), r.body)
			}
		}
		if n := len(env.must(200, p.token, "GET", "/v1/organizations", nil).list("organizations")); n != 0 {
			t.Fatalf("%d organizations after refused bodies", n)
		}
		// The database goes away under the API: the answer names no SQL and no driver.
		env.DB.Close()
		r := env.call(p.token, "GET", "/v1/me", nil)
		if r.status < 500 || r.code() == "" || r.str("request_id") == "" || regexp.MustCompile(`(?i)sql|select|pgx|driver|closed`).Match(r.raw) {
			t.Fatalf("after the database closed: %d %s", r.status, r.raw)
		}
		if (r.status == 503) != (r.header.Get("Retry-After") != "") {
			t.Fatalf("%d with Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
	})
}

// TestStepUpRequired: within ten minutes of the login a key and a transfer need nothing more;
// after that an email change, a key and a transfer need the password, which POST /v1/me/step-up
// gives ahead for the next ten minutes; a password change needs the current one always.
func TestStepUpRequired(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, admin := env.person("Olivia"), env.person("Ada")
		org := env.Org(t, owner.actor, "Acme")
		env.Join(t, owner.actor, org.ID, admin.user, roster.OrgAdmin)
		env.must(201, owner.token, "POST", "/v1/organizations/"+org.ID+"/api-keys", map[string]any{"name": "fresh", "role_id": "viewer"})
		env.refused(422, "invalid", owner.token, "POST", "/v1/me/password", map[string]any{"new_password": "a brand new long passphrase"})
		if r := env.must(200, owner.token, "GET", "/v1/me/step-up", nil); r.body["fresh"] != true {
			t.Fatalf("right after the login: %s", r.raw)
		}
		env.Clock.Advance(11 * time.Minute)
		for _, c := range []struct {
			path string
			body map[string]any
		}{
			{"/v1/me/email", map[string]any{"email": "olivia.new@example.com"}},
			{"/v1/organizations/" + org.ID + "/api-keys", map[string]any{"name": "late", "role_id": "viewer"}},
			{"/v1/organizations/" + org.ID + "/transfer-ownership", map[string]any{"user_id": admin.user.ID}},
			{"/v1/me/step-up", map[string]any{}},
		} {
			env.refused(401, "reauthentication_required", owner.token, "POST", c.path, c.body)
		}
		env.refused(401, "invalid_credentials", owner.token, "POST", "/v1/me/step-up", map[string]any{"password": "not the password at all"})
		env.must(204, owner.token, "POST", "/v1/me/step-up", map[string]any{"password": testenv.Password})
		env.must(201, owner.token, "POST", "/v1/organizations/"+org.ID+"/api-keys", map[string]any{"name": "late", "role_id": "viewer"})
		env.must(202, owner.token, "POST", "/v1/me/email", map[string]any{"email": "olivia.new@example.com"})
	})
}
