package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testchrome"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/switcher"
)

// inShadow is a script's view of the switcher's shadow root.
const inShadow = `const root = document.querySelector("roster-switcher").shadowRoot;`

// TestSwitcherInChromium: the host application's page, served on its own port, includes
// Roster's <roster-switcher> from Roster's port with one tag, under a strict
// Content-Security-Policy. In Chromium the switcher lists the user's organizations with
// their stores beneath, marks the current one, is driven by the keyboard alone (arrows,
// Escape returning focus, Enter choosing), and the choice reaches the host, which switches its
// tokens and shows the new organization and store; a French page gets French words; the same
// page on an origin the client does not list cannot read Roster's answer and says so.
func TestSwitcherInChromium(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		w := startWorld(t, e)
		w.signIn(t)
		ctx := testchrome.Context(t)

		// The browser takes the host application's session from the cookie jar.
		host, _ := url.Parse(w.base)
		var cookie string
		for _, c := range w.jar.Cookies(host) {
			if c.Name == "hostapp" {
				cookie = c.Value
			}
		}
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "hostapp", Value: cookie, URL: w.base + "/"}); err != nil {
			t.Fatal(err)
		}
		waitFor := func(what, cond string) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { `+inShadow+` return !!(`+cond+`); } catch (e) { return false; } })()`))
				if ok {
					return
				}
				if time.Now().After(deadline) {
					state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector("roster-switcher"); return location.href + " | " + document.body.innerText.slice(0, 400) + " | " + (s && s.shadowRoot ? s.shadowRoot.innerHTML.slice(0, 1500) : "no switcher"); })()`))
					t.Fatalf("waiting for %s: %s", what, state)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		keys := func(k string) {
			t.Helper()
			if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
				t.Fatal(err)
			}
		}
		focused := func() string {
			return evaluate[string](t, ctx, `(() => { `+inShadow+` const a = root.activeElement; return a ? (a.getAttribute("role") || a.tagName) + ":" + a.textContent : "outside"; })()`)
		}

		res, err := chromedp.Run(ctx, chromedp.NavigateResponse(w.base+"/"))
		if err != nil {
			t.Fatal(err)
		}
		csp, _ := res.Headers["Content-Security-Policy"].(string)
		waitFor("the list", `root.querySelectorAll('[role="option"]').length === 4`)
		if !strings.Contains(csp, "script-src 'self' "+w.issuer+";") || strings.Contains(csp, "unsafe") {
			t.Errorf("the host page's policy is not strict: %q", csp)
		}
		options := evaluate[[]string](t, ctx, `(() => { `+inShadow+` return [...root.querySelectorAll('[role="group"]')].map(g => g.getAttribute("aria-labelledby") + ">" + [...g.querySelectorAll('[role="option"]')].map(o => o.className + ":" + o.querySelector(".name").textContent + ":" + o.getAttribute("aria-selected") + ":" + (o.getAttribute("aria-current") || "")).join(",")); })()`)
		want := []string{"o0>organization:Acme:false:,store:North:true:true", "o1>organization:Side project:false:,store:Lab:false:"}
		if strings.Join(options, "|") != strings.Join(want, "|") {
			t.Errorf("the list: %q, want %q", options, want)
		}
		button := evaluate[string](t, ctx, `(() => { `+inShadow+` const b = root.querySelector("button"); return b.textContent + "|" + b.getAttribute("aria-expanded") + "|" + b.getAttribute("aria-haspopup"); })()`)
		if button != "Organization and storeAcme · North|false|listbox" {
			t.Errorf("the button: %q", button)
		}
		// Its constructed style sheet applies under the host's style-src 'self'.
		if style := evaluate[string](t, ctx, `(() => { `+inShadow+` return getComputedStyle(root.querySelector('[role="listbox"]')).position; })()`); style != "absolute" {
			t.Errorf("the component's styles did not apply: position %q", style)
		}

		// Keyboard only: Tab reaches the button; ArrowDown opens on the current store;
		// Escape closes and gives the focus back; Enter on Lab switches.
		for i := 0; i < 10 && !strings.HasPrefix(focused(), "BUTTON:Organization"); i++ {
			keys(kb.Tab)
		}
		if f := focused(); !strings.HasPrefix(f, "BUTTON:Organization") {
			t.Fatalf("Tab never reached the switcher: focus on %q", f)
		}
		keys(kb.ArrowDown)
		waitFor("the open list", `root.querySelector("button").getAttribute("aria-expanded") === "true"`)
		if f := focused(); f != "option:North" {
			t.Errorf("opening focused %q, want the current store", f)
		}
		keys(kb.Escape)
		waitFor("the closed list", `root.querySelector("button").getAttribute("aria-expanded") === "false" && root.querySelector('[role="listbox"]').hidden`)
		if f := focused(); !strings.HasPrefix(f, "BUTTON:") {
			t.Errorf("Escape left the focus on %q", f)
		}
		keys(kb.Enter)
		waitFor("the list opened by Enter", `root.querySelector("button").getAttribute("aria-expanded") === "true"`)
		// axe-core finds nothing serious in the page with the list open (it reads open shadow roots).
		axe, err := os.ReadFile("../../console/testdata/axe.min.js")
		if err != nil {
			t.Fatal(err)
		}
		violations, err := chromedp.Run(ctx, chromedp.Evaluate[string](string(axe)+`;axe.run(document, {resultTypes: ["violations"]}).then(r =>
			JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))))`,
			chromedp.EvalAwaitPromise))
		if err != nil || violations != "[]" {
			t.Errorf("accessibility violations with the list open: %v %s", err, violations)
		}
		keys(kb.End)
		if f := focused(); f != "option:Lab" {
			t.Errorf("End focused %q", f)
		}
		keys(kb.Home)
		keys(kb.ArrowDown)
		keys(kb.ArrowDown)
		if f := focused(); f != "option:Side projectwhole organization" {
			t.Errorf("Home and two arrows down focused %q", f)
		}
		keys(kb.ArrowDown)
		keys(kb.Enter)
		waitFor("the switch", `document.getElementById("org") && document.getElementById("org").textContent.includes("`+w.side.ID+`") && document.getElementById("store").textContent.includes("`+w.lab.ID+`")`)
		waitFor("the list after the switch", `root.querySelector('[role="option"][aria-current="true"] .name').textContent === "Lab"`)
		if org := evaluate[string](t, ctx, `document.getElementById("org").textContent`); !strings.Contains(org, "as owner") {
			t.Errorf("after the switch the host shows %q", org)
		}

		// The page's language: French words, at once.
		evaluate[string](t, ctx, `document.documentElement.lang = "fr"`)
		waitFor("French", `root.querySelector(".label").textContent === "Organisation et boutique" && root.querySelector('[role="listbox"]').getAttribute("aria-label") === "Organisations et boutiques"`)
		evaluate[string](t, ctx, `document.documentElement.lang = "es"`)
		waitFor("Spanish", `root.querySelector(".label").textContent === "Organización y tienda"`)

		// The same page on an origin no client lists: Roster's answer carries no CORS header,
		// the browser keeps it from the page, and the switcher says Roster is out of reach.
		other := httptest.NewServer(w.handler)
		t.Cleanup(other.Close)
		if err := chromedp.Do(ctx, chromedp.Navigate(other.URL+"/")); err != nil {
			t.Fatal(err)
		}
		waitFor("the refusal", `root.querySelector('[role="alert"]') && !root.querySelector('[role="alert"]').hidden && root.querySelector('[role="alert"]').textContent.includes("Roster could not be reached.")`)
		if n := evaluate[int](t, ctx, `(() => { `+inShadow+` return root.querySelectorAll('[role="option"]').length; })()`); n != 0 {
			t.Errorf("a page on another origin listed %d options", n)
		}
	})
}

// evaluate runs a script in the page and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, script string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script))
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return v
}

// TestSwitcherServed: the component is served at its versioned path as a JavaScript module
// any page may load (CORS *, no credentials), cached a week and revalidated by its ETag.
func TestSwitcherServed(t *testing.T) {
	mux := http.NewServeMux()
	switcher.Register(mux)
	srv := httptest.NewServer(httpserver.Wrap(mux, httpserver.Options{Log: testenv.Logger(t)}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+switcher.Path, nil)
	req.Header.Set("Origin", "https://shop.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	h := res.Header
	if res.StatusCode != http.StatusOK || h.Get("Content-Type") != "text/javascript; charset=utf-8" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" || h.Get("Cache-Control") != "public, max-age=604800" || h.Get("ETag") == "" {
		t.Fatalf("served with %d %v", res.StatusCode, h)
	}
	req.Header.Set("If-None-Match", h.Get("ETag"))
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", res.StatusCode)
	}
}
