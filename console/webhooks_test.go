package console_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	rosterclient "github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// hookReceiver is a webhook receiver on 127.0.0.1 that reports every delivery and answers
// 200 with "received <webhook-id>".
type hookReceiver struct {
	url string
	got chan delivery
}

// delivery is one request the receiver got.
type delivery struct {
	header http.Header
	body   []byte
	event  roster.EventPayload
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{got: make(chan delivery, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{header: req.Header.Clone(), body: body}
		_ = json.Unmarshal(body, &d.event)
		r.got <- d
		_, _ = io.WriteString(w, "received "+req.Header.Get("webhook-id"))
	}))
	t.Cleanup(srv.Close)
	r.url = fmt.Sprintf("http://%s:%d/hooks", receiverHost, srv.Listener.Addr().(*net.TCPAddr).Port)
	return r
}

// next returns the next delivery; the outbox worker sends it on its own.
func (r *hookReceiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	case <-time.After(20 * time.Second): // the worker runs apart: a deadline, not a sleep
		t.Fatal("the receiver got no delivery in 20 s")
	}
	return delivery{}
}

// verify fails unless a delivery carries a valid signature made with each secret.
func (d delivery) verify(t *testing.T, s *site, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		v, err := rosterclient.NewWebhookVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(d.header, d.body, s.env.Clock.Now()); err != nil {
			t.Fatalf("the delivery of %s does not verify with %.12s…: %v", d.event.Type, secret, err)
		}
	}
}

// logged waits until the endpoint's delivery log holds n attempts (the worker records an
// attempt after the receiver answered), and returns it.
func logged(t *testing.T, s *site, actor roster.Actor, orgID, hookID string, n int) []roster.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		list, err := s.env.App.Webhooks.Deliveries(testenv.Ctx, actor, orgID, hookID, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) >= n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery log holds %d attempts after 20 s, want %d", len(list), n)
		}
		<-tick.C
	}
}

// TestWebhookConsole walks an endpoint's life in the console: a bad URL refused beside its
// field with the form kept, the endpoint created with its secret shown once, a test event
// received, verified and logged, a real event redelivered and replayed, the secret rotated
// with an overlap (both signatures), the endpoint disabled and deleted, every step in the
// audit log. A member sees no Webhooks tab and is refused the pages.
func TestWebhookConsole(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		recv := newHookReceiver(t)
		ownerEmail := addr("Wanda")
		b := s.browser(t, "owner", lang)
		b.signup("Wanda Webhook", ownerEmail)
		orgID := b.createOrg("Hooked Co")
		owner := mustActor(t, s, ownerEmail)
		list := "/orgs/" + orgID + "/webhooks"

		b.open("/orgs/" + orgID + "/details")
		b.submit("[data-testid=webhooks-tab]")
		if p := b.path(); p != list {
			t.Fatalf("the Webhooks tab opened %s", p)
		}
		b.expect("main", cat["webhooks.empty"])

		// A URL refused by the app: the field says so, and the form keeps what was typed.
		for _, bad := range []string{"http://hooks.example.com/roster", "not a url"} {
			b.open(list)
			b.popup("[data-testid=new-webhook]")
			b.fill("#h-url", bad, "#h-description", "Provisioning")
			b.click(`#modal input[name=event_types][value="store.created"]`)
			b.click(`#modal input[name=enabled]`) // off
			b.submit("[data-testid=create-webhook]")
			if b.count(`#modal #h-url[aria-invalid=true]`) != 1 || b.text("#modal #err-url") != cat["error.field_invalid"] {
				t.Fatalf("%q: no error beside the URL field: %q", bad, b.text("#modal"))
			}
			if got := b.value("#h-url"); got != bad {
				t.Fatalf("the URL came back as %q, want %q", got, bad)
			}
			if b.value("#h-description") != "Provisioning" || b.count(`#modal input[name=event_types]:checked`) != 1 ||
				b.count(`#modal input[name=event_types][value="store.created"]:checked`) != 1 || b.count(`#modal input[name=enabled]:checked`) != 0 {
				t.Fatalf("%q: the form did not keep what was submitted", bad)
			}
		}

		// Created: the secret is shown once, with its copy button.
		b.fill("#h-url", recv.url)
		b.click(`#modal input[name=enabled]`) // on again
		b.submit("[data-testid=create-webhook]")
		b.noError()
		secret := b.value("[data-testid=webhook-secret]")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("the new endpoint's secret is not shown: %q", secret)
		}
		b.grantClipboard()
		if got := b.copyButton("h-secret"); got != secret {
			t.Fatalf("the copy button copied %q, want the secret", got)
		}
		hooks, err := s.env.App.Webhooks.List(testenv.Ctx, owner, orgID)
		if err != nil || len(hooks) != 1 || !hooks[0].Enabled || hooks[0].Description != "Provisioning" ||
			strings.Join(hooks[0].EventTypes, ",") != "store.created" {
			t.Fatalf("endpoints %+v, %v", hooks, err)
		}
		hookID := hooks[0].ID
		page := list + "/" + hookID
		b.submit("[data-testid=secret-done]")
		if p := b.path(); p != page {
			t.Fatalf("Done went to %s, want the endpoint's page", p)
		}
		for _, p := range []string{page, list} {
			b.open(p)
			if html := b.html(); strings.Contains(html, secret) || strings.Contains(html, secret[6:20]) {
				t.Fatalf("%s shows the secret again", p)
			}
		}
		b.expect(`tr[data-webhook="`+recv.url+`"]`, cat["webhooks.no_delivery"])

		// A test event: received, signed with the secret, in the log, not redeliverable.
		b.open(page)
		b.expect("[data-testid=no-deliveries]", cat["webhooks.no_deliveries"])
		b.submit("[data-testid=send-test]")
		b.expect(".flash.success", cat["flash.webhook_test_sent"])
		test := recv.next(t)
		test.verify(t, s, secret)
		if test.event.Type != app.WebhookTestEvent || test.event.Subject.ID != hookID {
			t.Fatalf("test delivery %+v", test.event)
		}
		logged(t, s, owner, orgID, hookID, 1)
		b.open(page)
		row := fmt.Sprintf(`tr[data-event=%q]`, test.event.ID)
		b.expect(row, app.WebhookTestEvent)
		b.expect(row, "200")
		b.expect(row, "received "+test.event.ID)
		if b.count(row+" [data-testid=redeliver]") != 0 {
			t.Fatal("a test event is offered for redelivery")
		}
		b.open(list)
		b.expect(`tr[data-webhook="`+recv.url+`"]`, "200")
		b.screenshot("org-webhooks")

		// An event of the filter, then its redelivery with the same webhook-id.
		s.env.Store(t, owner, orgID, "Lisbon")
		created := recv.next(t)
		created.verify(t, s, secret)
		if created.event.Type != "store.created" {
			t.Fatalf("delivery of %s, want store.created", created.event.Type)
		}
		logged(t, s, owner, orgID, hookID, 2)
		b.open(page)
		row = fmt.Sprintf(`tr[data-event=%q]`, created.event.ID)
		b.expect(row, cat["eventtype.store.created"])
		b.submit(row + " [data-testid=redeliver]")
		b.expect(".flash.success", cat["flash.webhook_redelivered"])
		if again := recv.next(t); again.event.ID != created.event.ID || again.header.Get("webhook-id") != created.event.ID {
			t.Fatalf("redelivered %s, want %s", again.event.ID, created.event.ID)
		}
		logged(t, s, owner, orgID, hookID, 3)
		b.open(page)
		b.screenshot("org-webhook")

		// Replay since a time before the store: the event comes once more.
		b.fill("#h-since", s.env.Clock.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04"))
		b.submit(`[data-testid=replay] button[type=submit]`)
		b.expect(".flash.success", cat["flash.webhook_replayed"])
		if again := recv.next(t); again.event.ID != created.event.ID {
			t.Fatalf("replayed %s, want %s", again.event.ID, created.event.ID)
		}

		// Rotation with an hour's overlap: a new secret, shown once; both sign meanwhile.
		b.popup("[data-testid=rotate-webhook]")
		b.fill("#h-overlap", "3600")
		b.submit("[data-testid=confirm-rotate]")
		b.noError()
		rotated := b.value("[data-testid=webhook-secret]")
		if !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
			t.Fatalf("the rotated secret: %q", rotated)
		}
		b.submit("[data-testid=secret-done]")
		if b.count("[data-testid=previous-secret]") != 1 {
			t.Fatal("the page does not say the previous secret still signs")
		}
		b.submit("[data-testid=send-test]")
		d := recv.next(t)
		for d.event.ID == created.event.ID {
			// Delivery is at least once: an attempt of the event above may come again (a
			// retry, or a lease that ran out on a loaded machine: seen once in a local run),
			// signed before the rotation. The test event follows.
			d = recv.next(t)
		}
		if d.event.Type != app.WebhookTestEvent {
			t.Fatalf("delivery of %s, want the test event", d.event.Type)
		}
		d.verify(t, s, secret, rotated)

		// Disabled from the edit form, which keeps the other settings.
		b.click(`[data-testid=edit-webhook] input[name=enabled]`)
		b.submit("[data-testid=save-webhook]")
		b.expect(".flash.success", cat["flash.webhook_saved"])
		b.expect("main .section-head", cat["webhooks.disabled"])
		w, err := s.env.App.Webhooks.Get(testenv.Ctx, owner, orgID, hookID)
		if err != nil || w.Enabled || w.URL != recv.url || w.Description != "Provisioning" || strings.Join(w.EventTypes, ",") != "store.created" {
			t.Fatalf("after disabling: %+v, %v", w, err)
		}

		// A member has no Webhooks tab and is refused its pages.
		memberEmail := addr("Mel")
		m := s.browser(t, "member", lang)
		m.signup("Mel Member", memberEmail)
		_, mu := s.env.Login(t, memberEmail)
		s.env.Join(t, owner, orgID, mu, roster.OrgMember)
		m.open("/orgs/" + orgID + "/api-keys")
		if m.count("[data-testid=webhooks-tab]") != 0 {
			t.Fatal("a member is offered the Webhooks tab")
		}
		for _, p := range []string{list, page, list + "/new", page + "/rotate"} {
			m.open(p)
			m.expect("main h1", cat["error.forbidden_heading"])
		}

		// Deleted after a confirmation.
		b.open(page)
		b.popup("[data-testid=delete-webhook]")
		b.submit("[data-testid=confirm-delete-webhook]")
		b.expect(".flash.success", cat["flash.webhook_deleted"])
		if p := b.path(); !strings.HasPrefix(p, list) || b.count("tr[data-webhook]") != 0 {
			t.Fatalf("after deleting: at %s with %d endpoints listed", p, b.count("tr[data-webhook]"))
		}

		// The audit log says it all in words.
		b.open("/orgs/" + orgID + "/audit?action=webhook.")
		for _, a := range []string{"created", "test_sent", "replayed", "secret_rotated", "updated", "deleted"} {
			b.expect("main table", cat["action.webhook."+a])
		}
	})
}

// TestWebhookKeyboard: an endpoint is added and opened with the keyboard alone.
func TestWebhookKeyboard(t *testing.T) {
	chromium(t)
	t.Parallel()
	s := sharedSiteOf(t, sqlstore.SQLite)
	recv := newHookReceiver(t)
	b := s.browser(t, "owner", "en")
	b.signup("Kim Keys", addr("kim"))
	orgID := b.createOrg("Keyboard Hooks " + testenv.Unique())
	list := "/orgs/" + orgID + "/webhooks"
	b.open(list)

	b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("[data-testid=new-webhook]"))))
	b.key(kb.Enter)
	b.settle(`document.querySelector("#modal dialog:modal") && document.activeElement.id === "h-url"`)
	b.must(chromedp.Do(b.ctx, chromedp.KeyEvent(recv.url)))
	// Tab to the first event type and tick it with the space bar.
	for i := 0; i < 10 && !b.is(`document.activeElement.name === "event_types"`); i++ {
		b.key(kb.Tab)
	}
	if !b.is(`document.activeElement.name === "event_types"`) {
		t.Fatalf("Tab never reached the event types (at %q)", b.active())
	}
	b.key(" ")
	b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("#h-url"))))
	b.must(chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("main").dataset.stale = "1"`)))
	b.key(kb.Enter) // submits the form
	b.settle(`document.querySelector("#modal dialog:modal [data-testid=webhook-secret]") && document.activeElement.closest("dialog")`)
	b.noError()
	b.checkAxe()
	if n := b.count(`#modal [data-testid=webhook-secret]`); n != 1 {
		t.Fatalf("%d secrets shown", n)
	}
	// A pop-up the page came with: Escape goes to the page under it, the endpoint's.
	b.key(kb.Escape)
	b.settle(`!document.querySelector("#modal dialog") && location.pathname.indexOf("/webhooks/whk_") > 0`)
	b.open(list)
	b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("[data-testid=open-webhook]"))))
	b.key(kb.Enter)
	b.settle(`location.pathname.indexOf("/webhooks/whk_") > 0 && document.querySelector("[data-testid=edit-webhook]")`)
	if n := b.count(`[data-testid=edit-webhook] input[name=event_types]:checked`); n != 1 {
		t.Fatalf("%d event types ticked, want the one ticked with the space bar", n)
	}
	b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("[data-testid=send-test]"))))
	b.key(kb.Enter)
	b.settle(`document.querySelector(".flash.success")`)
	if d := recv.next(t); d.event.Type != app.WebhookTestEvent {
		t.Fatalf("received %s", d.event.Type)
	}
}

// html returns the page's markup.
func (b *tab) html() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	b.must(err)
	return s
}

// TestWebhookPagesRefuse: another organization's owner gets 404 for an endpoint, whether
// through its organization or their own; bad input to every form is a readable refusal on
// the endpoint's page, never a 500; a rotation refused keeps the pop-up open.
func TestWebhookPagesRefuse(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := sharedSiteOf(t, e)
		ownerEmail, otherEmail := addr("rene"), addr("oscar")
		for _, email := range []string{ownerEmail, otherEmail} {
			if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Someone", Password: testenv.Password}); err != nil {
				t.Fatal(err)
			}
		}
		owner, other := mustActor(t, s, ownerEmail), mustActor(t, s, otherEmail)
		org, otherOrg := s.env.Org(t, owner, "Refused Hooks Ltd"), s.env.Org(t, other, "Elsewhere Ltd")
		hook, err := s.env.App.Webhooks.Create(testenv.Ctx, owner, org.ID, app.WebhookInput{URL: "http://" + receiverHost + "/hooks", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		page := "/orgs/" + org.ID + "/webhooks/" + hook.Endpoint.ID

		c := client(t)
		consoleLogin(t, s, c, otherEmail)
		for _, p := range []string{"/orgs/" + org.ID + "/webhooks", page, "/orgs/" + otherOrg.ID + "/webhooks/" + hook.Endpoint.ID} {
			if res, body := do(t, c, "GET", s.url+p, nil, nil); res.StatusCode != http.StatusNotFound || strings.Contains(body, hook.Endpoint.URL) {
				t.Errorf("an outsider GET %s: %d", p, res.StatusCode)
			}
		}
		_, list := do(t, c, "GET", s.url+"/orgs/"+otherOrg.ID+"/webhooks", nil, nil)
		if res, _ := do(t, c, "POST", s.url+"/orgs/"+otherOrg.ID+"/webhooks/"+hook.Endpoint.ID+"/delete", url.Values{"csrf": {csrfOf(t, list)}}, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("an outsider deleting the endpoint through their own organization: %d", res.StatusCode)
		}

		c = client(t)
		consoleLogin(t, s, c, ownerEmail)
		_, html := do(t, c, "GET", s.url+page, nil, nil)
		csrf := csrfOf(t, html)
		for _, bad := range []struct {
			path  string
			form  url.Values
			field string
		}{
			{page, url.Values{"url": {"ftp://" + receiverHost + "/x"}, "event_types": {"no.such_type"}}, "url"},
			{page, url.Values{"url": {"http://" + receiverHost + "/x"}, "event_types": {"no.such_type"}}, "event_types"},
			{page, url.Values{"url": {"https://" + strings.Repeat("a", 2100) + ".example"}}, "url"},
			{page + "/rotate", url.Values{"overlap_seconds": {"soon"}}, "overlap_seconds"},
			{page + "/rotate", url.Values{"overlap_seconds": {"99999999999"}}, "overlap_seconds"},
			{page + "/rotate", url.Values{"overlap_seconds": {"-5"}}, "overlap_seconds"},
			{page + "/replay", url.Values{"since": {"yesterday"}}, "since"},
			{page + "/replay", url.Values{"since": {"2999-01-01T00:00"}}, "since"},
			{page + "/redeliver", url.Values{"event_id": {"evt_nonsense"}}, ""},
		} {
			bad.form.Set("csrf", csrf)
			res, body := do(t, c, "POST", s.url+bad.path, bad.form, map[string]string{"Referer": s.url + page})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `class="flash error"`) {
				t.Errorf("POST %s %v: %d, want 422 with a notice", bad.path, bad.form, res.StatusCode)
				continue
			}
			if bad.field != "" && !strings.Contains(body, `id="err-`+bad.field+`"`) {
				t.Errorf("POST %s %v: no error beside %s", bad.path, bad.form, bad.field)
			}
			if strings.HasSuffix(bad.path, "/rotate") && !strings.Contains(body, `action="`+page+`/rotate"`) {
				t.Errorf("a refused rotation closed its pop-up")
			}
		}
		w, err := s.env.App.Webhooks.Get(testenv.Ctx, owner, org.ID, hook.Endpoint.ID)
		if err != nil || w.URL != hook.Endpoint.URL || len(w.EventTypes) != 0 || w.PreviousSecret != "" {
			t.Fatalf("a refused form changed the endpoint: %+v, %v", w, err)
		}
	})
}

// TestOperatorWebhooks: operators manage the instance's endpoints on the same pages, in the
// operator's tabs: one added with its secret shown once receives every organization's events
// (signed with that secret), a test event, and shows its delivery log; deleting it empties
// the list. The pages do not exist for anyone else.
func TestOperatorWebhooks(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e) // an instance-wide endpoint hears every organization: no shared server
		opEmail, userEmail := addr("opal"), addr("uma")
		for _, email := range []string{opEmail, userEmail} {
			if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Someone", Password: testenv.Password}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), opEmail, ""); err != nil {
			t.Fatal(err)
		}
		op, user := mustActor(t, s, opEmail), mustActor(t, s, userEmail)

		c := client(t)
		consoleLogin(t, s, c, userEmail)
		for _, p := range []string{"/operator/webhooks", "/operator/webhooks/new"} {
			if res, _ := do(t, c, "GET", s.url+p, nil, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("a user GET %s: %d, want 404", p, res.StatusCode)
			}
		}

		c = client(t)
		consoleLogin(t, s, c, opEmail)
		res, page := do(t, c, "GET", s.url+"/operator/webhooks", nil, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, `href="/operator/webhooks" aria-current="page"`) || !strings.Contains(page, `href="/operator/webhooks/new"`) {
			t.Fatalf("the operator's webhooks tab: %d\n%.2000s", res.StatusCode, page)
		}
		recv := newHookReceiver(t)
		form := url.Values{"csrf": {csrfOf(t, page)}, "url": {recv.url}, "event_types": {"organization.created"}, "enabled": {"on"}}
		res, page = do(t, c, "POST", s.url+"/operator/webhooks/new", form, nil)
		secret := ""
		if m := regexp.MustCompile(`value="(whsec_[^"]+)" data-testid="webhook-secret"`).FindStringSubmatch(page); m != nil {
			secret = html.UnescapeString(m[1])
		}
		if res.StatusCode != http.StatusOK || secret == "" {
			t.Fatalf("create: %d, secret %q\n%.2000s", res.StatusCode, secret, page)
		}
		hooks, err := s.env.App.Webhooks.List(testenv.Ctx, op, "")
		if err != nil || len(hooks) != 1 || hooks[0].OrgID != "" {
			t.Fatalf("instance endpoints: %+v, %v", hooks, err)
		}
		hook := "/operator/webhooks/" + hooks[0].ID

		org := s.env.Org(t, user, "Anywhere Ltd")
		if d := recv.next(t); d.event.Type != "organization.created" || d.event.OrganizationID != org.ID {
			t.Fatalf("delivered %s of %s", d.event.Type, d.event.OrganizationID)
		} else {
			d.verify(t, s, secret)
		}
		if res, _ := do(t, c, "POST", s.url+hook+"/test", url.Values{"csrf": {csrfOf(t, page)}}, nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != hook+"?ok=webhook_test_sent" {
			t.Fatalf("send a test event: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if d := recv.next(t); d.event.Type != "webhook.test" {
			t.Fatalf("delivered %s, want the test event", d.event.Type)
		}
		logged(t, s, op, "", hooks[0].ID, 2)
		if _, page = do(t, c, "GET", s.url+hook, nil, nil); !strings.Contains(page, `data-type="organization.created"`) || !strings.Contains(page, `data-type="webhook.test"`) ||
			!strings.Contains(page, `href="/operator/webhooks"`) {
			t.Fatalf("the endpoint's page lacks its delivery log:\n%.3000s", page)
		}
		if res, _ := do(t, c, "POST", s.url+hook+"/delete", url.Values{"csrf": {csrfOf(t, page)}}, nil); res.StatusCode != http.StatusSeeOther ||
			res.Header.Get("Location") != "/operator/webhooks?ok=webhook_deleted" {
			t.Fatalf("delete: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if hooks, err := s.env.App.Webhooks.List(testenv.Ctx, op, ""); err != nil || len(hooks) != 0 {
			t.Fatalf("after delete: %+v, %v", hooks, err)
		}
	})
}
