package oidc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testchrome"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// chromeSteps are the steps a test takes in a Chromium page: where it is, waiting for a page
// state (polling, through navigations, until a deadline), and actions.
type chromeSteps struct {
	t     *testing.T
	ctx   context.Context
	extra func() string // more to say when a step fails
}

func (c *chromeSteps) at() string {
	loc, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`location.href + " " + (document.body ? document.body.innerText.slice(0, 300) : "")`))
	return loc
}

func (c *chromeSteps) more() string {
	if c.extra == nil {
		return ""
	}
	return "\n" + c.extra()
}

func (c *chromeSteps) wait(what, expr string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(c.ctx, time.Until(deadline))
		_, err := chromedp.Run(pctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		// A navigation under way interrupts the poll: poll the new page.
		if !testchrome.Interrupted(err) || time.Now().After(deadline) {
			c.t.Fatalf("%s: %v (at %s)%s", what, err, c.at(), c.more())
		}
	}
}

func (c *chromeSteps) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v (at %s)%s", what, err, c.at(), c.more())
	}
}

// TestBrowserSignIn runs the sign-in in Chromium, as a user would: the console's login form
// (boosted by htmx), the chooser, and the redirect to the application, under the console's
// Content-Security-Policy. A second sign-in with one choice goes straight back.
func TestBrowserSignIn(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		owner, _ := s.User(t, "Olga")
		_, carl := s.User(t, "Carl")
		org := s.Org(t, owner, "Acme")
		north := s.Store(t, owner, org.ID, "North")
		south := s.Store(t, owner, org.ID, "South")
		s.Join(t, owner, org.ID, carl, roster.OrgMember, app.StoreGrantInput{StoreID: north.ID, RoleID: roster.StoreRoleMember},
			app.StoreGrantInput{StoreID: south.ID, RoleID: roster.StoreRoleViewer})

		codes := make(chan string, 4)
		rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("iss") == s.URL {
				codes <- r.URL.Query().Get("code")
			}
			fmt.Fprint(w, `<!doctype html><p id="done">back in the application</p>`)
		}))
		t.Cleanup(rp.Close)
		_, cfg := s.client(t, false, rp.URL+"/callback")

		ctx := testchrome.Context(t)
		steps := &chromeSteps{t: t, ctx: ctx}
		wait, do := steps.wait, steps.do
		verifier := oauth2.GenerateVerifier()
		do("open", chromedp.Navigate(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))))
		wait("the login page", `!!document.querySelector("#email") && window.htmx !== undefined`)
		do("fill in", chromedp.SetValue(chromedp.CSS("#email"), carl.Email, chromedp.NodeReady),
			chromedp.SetValue(chromedp.CSS("#password"), testenv.Password, chromedp.NodeReady),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/login"] button[type=submit]').click()`))
		wait("the chooser", `!!document.querySelector('form[action="/oidc/continue"] input[name=store][value="`+south.ID+`"]')`)
		do("choose", chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/oidc/continue"] input[name=store][value="`+south.ID+`"]').form.querySelector("button").click()`))
		wait("back in the application", `!!document.querySelector("#done")`)
		tok, err := cfg.Exchange(ctx, <-codes, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if c := claims(t, tok.AccessToken); c["store_id"] != south.ID || c["store_roles"].([]any)[0] != "viewer" {
			t.Fatalf("claims: %v", c)
		}

		// Signed in already, naming the store: straight back to the application.
		verifier = oauth2.GenerateVerifier()
		do("open again", chromedp.Navigate(cfg.AuthCodeURL("st2", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("organization", org.ID), oauth2.SetAuthURLParam("store", north.ID))))
		wait("straight back", `!!document.querySelector("#done")`)
		tok, err = cfg.Exchange(ctx, <-codes, oauth2.VerifierOption(verifier))
		if err != nil || !strings.Contains(fmt.Sprint(claims(t, tok.AccessToken)["store_id"]), north.ID) {
			t.Fatalf("second sign-in tokens: %v", err)
		}

		// Another browser, a user with one choice: from the login form straight back.
		_, dora := s.User(t, "Dora")
		s.Join(t, owner, org.ID, dora, roster.OrgMember, app.StoreGrantInput{StoreID: north.ID, RoleID: roster.StoreRoleMember})
		ctx2, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		ctx = ctx2
		steps.ctx = ctx
		verifier = oauth2.GenerateVerifier()
		do("open as Dora", chromedp.Navigate(cfg.AuthCodeURL("st3", oauth2.S256ChallengeOption(verifier))))
		wait("Dora's login page", `!!document.querySelector("#email") && window.htmx !== undefined`)
		do("Dora signs in", chromedp.SetValue(chromedp.CSS("#email"), dora.Email, chromedp.NodeReady),
			chromedp.SetValue(chromedp.CSS("#password"), testenv.Password, chromedp.NodeReady),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/login"] button[type=submit]').click()`))
		wait("Dora back in the application", `!!document.querySelector("#done")`)
		tok, err = cfg.Exchange(ctx, <-codes, oauth2.VerifierOption(verifier))
		if err != nil || claims(t, tok.AccessToken)["sub"] != dora.ID {
			t.Fatalf("Dora's tokens: %v", err)
		}
	})
}
