package console_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testchrome"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/sqlstore"
)

// The browser tests drive the real console, served over the same mux as `roster serve`,
// in real headless Chromium. One browser process serves every test; each identity gets a
// browser context of its own (its own cookies), as a separate browser would: a tab that a
// finished test emptied (no cookies, no page) or a new one.

//go:embed testdata/axe.min.js
var axeSource string

var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

// browserParallel is how many tests run at once unless -test.parallel says otherwise: a
// browser test mostly waits for Chromium and the server, so more of them than cores keep the
// cores busy.
const browserParallel = 6

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(browserParallel, runtime.GOMAXPROCS(0))))
	}
	code := m.Run()
	suite.close()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// chromium returns the shared browser, starting it on first use. Without Chromium the
// browser tests skip, except in CI (CI=true), where they fail.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := testchrome.Path(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "roster-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		opts := append(testchrome.Options(path, dir), chromedp.WindowSize(1280, 900))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		shared.ctx = ctx
		shared.cancel = func() { cancelCtx(); cancelAlloc(); os.RemoveAll(dir) }
		shared.err = chromedp.Do(ctx)
	})
	if shared.err != nil {
		t.Fatalf("start Chromium: %v", shared.err)
	}
	return shared.ctx
}

// site is a Roster server for one test: the API and the console on one mux, as serve does,
// with the outbox worker delivering to the development mailbox, and webhooks (an encryption
// key set) that may reach receivers on this machine under the name receiverHost.
type site struct {
	env *testenv.Env
	url string
	box *mail.Mailbox
	dns *testenv.DNS // the DNS server domain verification asks

	counts sync.Map // value of a request's X-Test-Count header → the statements it ran
}

func newSite(t testing.TB, e sqlstore.Engine) *site { return newSiteOn(t, e, nil, nil) }

// newSiteOn is newSite serving on ln (a listener of the test's choosing) when not nil, with
// configure applied to the app's configuration last.
func newSiteOn(t testing.TB, e sqlstore.Engine, ln net.Listener, configure func(*app.Config)) *site {
	t.Helper()
	dns := testenv.DNSServer(t)
	env := testenv.NewEnv(t, e, func(c *app.Config) {
		c.DNSResolver = dns.Addr
		c.EncryptionKey = []byte("0123456789abcdef0123456789abcdef")
		c.WebhookAllowedHosts = []string{receiverHost}
		c.WebhookLookup = func(_ context.Context, host string) ([]netip.Addr, error) {
			if host == receiverHost {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, errors.New("no such host")
		}
		if configure != nil {
			configure(c)
		}
	})
	mux := http.NewServeMux()
	log := testenv.Logger(t)
	api.Register(mux, env.App, api.Options{Log: log, Version: "test"})
	console.Register(mux, env.App, console.Options{Log: log})
	s := &site{env: env, dns: dns}
	h := httpserver.Wrap(mux, httpserver.Options{Log: log, Ready: env.App.Ready, Registry: prometheus.NewRegistry()})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Test-Count"); id != "" {
			ctx, n := sqlstore.CountQueries(r.Context())
			s.counts.Store(id, n)
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	}))
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	t.Cleanup(srv.Close)
	box := mail.NewMailbox(100000, log) // a shared site's tests read their emails from it
	env.App.Outbox.SetMailbox(box)
	env.RunOutbox(t, box, 50*time.Millisecond)
	s.url, s.box = srv.URL, box
	return s
}

// receiverHost is the host name of the test's webhook receivers: allowed, on 127.0.0.1.
const receiverHost = "receiver.internal"

// suite holds the servers that tests share, one per engine, closed by TestMain: each test
// makes users and organizations of its own (unique addresses, its own organizations), so
// most need no server of their own. Tests that move the clock far or need an empty
// instance (the first operator) use newSite.
var suite = &suiteTB{sites: map[sqlstore.Engine]*sharedSite{}}

type sharedSite struct {
	once sync.Once
	site *site
	err  string
}

// sharedSiteOf returns the shared server of an engine, starting it on first use.
func sharedSiteOf(t *testing.T, e sqlstore.Engine) *site {
	t.Helper()
	suite.mu.Lock()
	ss := suite.sites[e]
	if ss == nil {
		ss = &sharedSite{}
		suite.sites[e] = ss
	}
	suite.mu.Unlock()
	ss.once.Do(func() {
		done := make(chan struct{})
		go func() { // Fatal ends this goroutine, never the test's
			defer close(done)
			ss.site = newSite(suite, e)
		}()
		<-done
		if ss.site == nil {
			ss.err = suite.failure()
		}
	})
	if ss.site == nil {
		t.Fatalf("shared %s server: %s", e, ss.err)
	}
	return ss.site
}

// suiteTB is the testing.TB of what outlives one test: the shared servers. It implements
// what newSite and testenv use; anything else would panic on the nil embedded TB.
type suiteTB struct {
	testing.TB
	mu       sync.Mutex
	sites    map[sqlstore.Engine]*sharedSite
	cleanups []func()
	failed   string
}

func (s *suiteTB) Name() string              { return "shared" }
func (s *suiteTB) Helper()                   {}
func (s *suiteTB) Log(...any)                {}
func (s *suiteTB) Logf(string, ...any)       {}
func (s *suiteTB) Fatal(args ...any)         { s.fail(fmt.Sprint(args...)) }
func (s *suiteTB) Fatalf(f string, a ...any) { s.fail(fmt.Sprintf(f, a...)) }
func (s *suiteTB) Skip(args ...any)          { s.fail(fmt.Sprint(args...)) }
func (s *suiteTB) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}
func (s *suiteTB) TempDir() string {
	dir, err := os.MkdirTemp("", "roster-console-test-")
	if err != nil {
		s.Fatal(err)
	}
	s.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (s *suiteTB) fail(msg string) {
	s.mu.Lock()
	s.failed = msg
	s.mu.Unlock()
	runtime.Goexit()
}

func (s *suiteTB) failure() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// close runs the cleanups, last first.
func (s *suiteTB) close() {
	s.mu.Lock()
	fs := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// mail waits for the newest email of a template to an address (polling the mailbox, with
// a deadline) and returns it.
func (s *site) mail(t *testing.T, to, template string) mail.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, m := range s.box.Messages() {
			if m.To == to && m.Template == template {
				return m
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range s.box.Messages() {
				got = append(got, m.To+" "+m.Template)
			}
			t.Fatalf("no %s email to %s; the mailbox has %q", template, to, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var linkInMail = regexp.MustCompile(`https?://[^\s<>"]+`)

// link returns the path and query of the link in an email that goes to a console page:
// links are built from ROSTER_BASE_URL, and the test serves at another address.
func (s *site) link(t *testing.T, m mail.Message, path string) string {
	t.Helper()
	for _, l := range linkInMail.FindAllString(m.Text, -1) {
		u, err := url.Parse(l)
		if err == nil && u.Path == path {
			return u.RequestURI()
		}
	}
	t.Fatalf("no link to %s in the %s email:\n%s", path, m.Template, m.Text)
	return ""
}

// tab is one person's browser: a browser context of its own, in a language.
type tab struct {
	t       *testing.T
	ctx     context.Context
	site    *site
	lang    string
	name    string
	spoiled bool // the test changed the tab in a way release does not undo: close it after
}

// tabs keeps the tabs of finished tests for the next ones. Opening a tab costs Chromium
// about ten times a page load in CPU (a renderer process and a browser context to set up),
// and the browser tests are bound by Chromium's CPU; a tab handed back is emptied first
// (release): its cookies cleared, its viewport reset, about:blank loaded.
var tabs struct {
	sync.Mutex
	idle []pooledTab
}

type pooledTab struct {
	ctx   context.Context // the tab's chromedp context; cancel closes it
	close context.CancelFunc
}

// browser opens a new, empty browser (own cookies) whose Accept-Language is lang.
func (s *site) browser(t *testing.T, name, lang string) *tab {
	t.Helper()
	root := chromium(t)
	tabs.Lock()
	var pt pooledTab
	if n := len(tabs.idle); n > 0 {
		pt, tabs.idle = tabs.idle[n-1], tabs.idle[:n-1]
	}
	tabs.Unlock()
	if pt.ctx == nil {
		pt.ctx, pt.close = chromedp.NewContext(root, chromedp.WithNewBrowserContext())
		// The tab's event loop lives as long as the context of its first action: this
		// one, not the test's below.
		if err := chromedp.Do(pt.ctx); err != nil {
			pt.close()
			t.Fatalf("%s: open a tab: %v", name, err)
		}
	}
	// Each step has a deadline of its own (a page settles in 45 s, a field appears in 15 s);
	// this one only ends a tab that hangs. A flow's length depends on the machine's load: the
	// race detector and the packages go test runs beside this one stretch it several times.
	ctx, cancelTimeout := context.WithTimeout(pt.ctx, 15*time.Minute)
	b := &tab{t: t, ctx: ctx, site: s, lang: lang, name: name}
	t.Cleanup(func() {
		cancelTimeout()
		b.release(pt)
	})
	b.must(chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}}); err != nil {
			return err
		}
		// No transitions: a tab in the background gets no animation frames to finish them,
		// and screenshots would catch them half-way.
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
		return err
	})))
	return b
}

// release empties the tab and keeps it for another test, or closes it when the test failed
// (its state is evidence, and may be anything) or spoiled it.
func (b *tab) release(pt pooledTab) {
	if b.spoiled || b.t.Failed() {
		pt.close()
		return
	}
	ctx, cancel := context.WithTimeout(pt.ctx, 10*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
	if err != nil {
		pt.close()
		return
	}
	tabs.Lock()
	tabs.idle = append(tabs.idle, pt)
	tabs.Unlock()
}

// spoil closes the tab after the test instead of handing it to the next one: for a test
// that changes the browser itself (a virtual authenticator, a script run on every page).
func (b *tab) spoil() { b.spoiled = true }

func (b *tab) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

// settle waits until the page in the tab is loaded and htmx is idle.
func (b *tab) settle(cond string) {
	b.t.Helper()
	expr := `document.readyState === "complete" && window.htmx !== undefined && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`
	if cond != "" {
		expr += " && !!(" + cond + ")"
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			b.t.Fatalf("%s: page did not settle (%s): %v\npage text:\n%s", b.name, cond, err, html)
		}
	}
}

// open loads a page and checks it.
func (b *tab) open(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	b.must(chromedp.Do(ctx, chromedp.Navigate(b.site.url+path)))
	b.settle("")
	b.check()
}

// submit clicks a button or link that loads a new page (in place with htmx), and checks it.
func (b *tab) submit(sel string) {
	b.t.Helper()
	b.must(chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("main").dataset.stale = "1"`)))
	b.click(sel)
	b.settle(`document.getElementById("main") && !document.getElementById("main").dataset.stale`)
	b.check()
}

// popup clicks a link that opens a pop-up over the page, and checks it.
func (b *tab) popup(sel string) {
	b.t.Helper()
	b.click(sel)
	b.settle(`document.querySelector("#modal dialog[open]")`)
	b.check()
	b.oneClose()
}

// oneClose fails unless the open pop-up has exactly one close control, drawn once: Pico
// draws a cross for a[rel=prev] in a pop-up's header, so that link must have no text.
func (b *tab) oneClose() {
	b.t.Helper()
	closeSel := fmt.Sprintf(".close-link, .close, [rel=prev], [aria-label=%q]", catalogs[b.lang]["common.close"])
	js := `(function () {
		var d = document.querySelector("#modal dialog[open]");
		var closes = d.querySelectorAll(` + fmt.Sprintf("%q", closeSel) + `);
		var texts = [];
		closes.forEach(function (c) { texts.push(c.textContent.trim()); });
		var crosses = (d.innerText.match(/[×✕✖]/g) || []).length;
		return JSON.stringify({n: closes.length, texts: texts, crosses: crosses});
	})()`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	b.must(err)
	if out != `{"n":1,"texts":[""],"crosses":0}` {
		b.t.Errorf("%s on %s: the pop-up must have one close control, drawn once: %s", b.name, b.path(), out)
	}
}

// fill sets form fields by CSS selector.
func (b *tab) fill(kv ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(kv[i]), kv[i+1], chromedp.NodeReady))
		cancel()
		if err != nil {
			b.t.Fatalf("%s on %s: cannot fill %s: %v", b.name, b.path(), kv[i], err)
		}
	}
}

// choose picks value in the list sel as a user does: the list fires its change event.
func (b *tab) choose(sel, value string) {
	b.t.Helper()
	b.fill(sel, value)
	b.must(chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true}))`, sel))))
}

// memberMenu opens the ⋯ menu of the row of the member whose address is email, and returns
// its selector, for the items inside.
func (b *tab) memberMenu(email string) string {
	b.t.Helper()
	sel := fmt.Sprintf(`tr[data-member=%q] details.row-menu`, email)
	b.menu(sel)
	return sel
}

// menu opens a dropdown menu (of the top bar, or a row's ⋯ menu), unless it is open already (a click on its
// summary would close it).
func (b *tab) menu(sel string) {
	b.t.Helper()
	if b.count(sel+"[open]") == 0 {
		b.click(sel + " > summary")
	}
	b.settle(fmt.Sprintf(`document.querySelector(%q)`, sel+"[open]"))
}

// click clicks an element once it is visible. The click is the element's own (as a
// keyboard user's would be), so a sticky header never swallows it.
func (b *tab) click(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("%s on %s: nothing visible matches %s: %v", b.name, b.path(), sel, err)
	}
	b.must(chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, sel))))
}

// text returns the visible text of the first element matching sel ("" when none).
func (b *tab) text(sel string) string {
	b.t.Helper()
	js := fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:""})()`, sel)
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	b.must(err)
	return s
}

// grantClipboard lets the page read and write the clipboard, as a user who allows it would.
func (b *tab) grantClipboard() {
	b.t.Helper()
	b.spoil()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.Call(b.ctx, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: name},
			Setting: browser.PermissionSettingGranted, BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID})
		b.must(err)
	}
}

// clipboardMu serializes the tests' use of the clipboard: the browser's tabs share one.
var clipboardMu sync.Mutex

// copyButton clicks a copy button, waits for its status to say it copied, and returns what
// is then on the clipboard (grantClipboard first).
func (b *tab) copyButton(id string) string {
	b.t.Helper()
	clipboardMu.Lock()
	defer clipboardMu.Unlock()
	sel := fmt.Sprintf("button[data-copy=%q]", id)
	b.click(sel)
	b.settle(fmt.Sprintf(`document.querySelector(%q).textContent === document.querySelector(%q).dataset.copied`, sel+" + .copy-status", sel))
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	b.must(err)
	return s
}

// value returns the value of the first input matching sel.
func (b *tab) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.value:""})()`, sel)))
	b.must(err)
	return s
}

// count returns how many elements match sel.
func (b *tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	b.must(err)
	return n
}

// download fetches the target of a download link as the browser would, same-origin with its
// cookies, and returns the response's content type and body; it fails unless the status is 200
// and the response is an attachment.
func (b *tab) download(sel string) (ctype, body string) {
	b.t.Helper()
	js := fmt.Sprintf(`fetch(document.querySelector(%q).href).then(function (r) {
		return r.text().then(function (t) {
			return JSON.stringify({status: r.status, type: r.headers.get("Content-Type") || "", disposition: r.headers.get("Content-Disposition") || "", body: t});
		});
	})`, sel)
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	b.must(err)
	var res struct {
		Status                  int
		Type, Disposition, Body string
	}
	b.must(json.Unmarshal([]byte(out), &res))
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Disposition, "attachment") {
		b.t.Fatalf("%s on %s: download %s: %d %q\n%s", b.name, b.path(), sel, res.Status, res.Disposition, res.Body)
	}
	return res.Type, res.Body
}

// path returns the path of the page shown.
func (b *tab) path() string {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	b.must(err)
	return s
}

// expect fails when the page does not contain want (in the text of sel, "main" by default).
func (b *tab) expect(sel, want string) {
	b.t.Helper()
	if sel == "" {
		sel = "body"
	}
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Fatalf("%s on %s: %q not found in %s:\n%s", b.name, b.path(), want, sel, got)
	}
}

// noError fails when the page shows an error message.
func (b *tab) noError() {
	b.t.Helper()
	if e := b.text(".flash.error"); e != "" {
		b.t.Fatalf("%s on %s: unexpected error %q", b.name, b.path(), e)
	}
}

// check runs the checks every page must pass: axe-core finds no serious or critical
// accessibility violation (checked once per page, in English), and in French or Spanish no
// English text of the catalog shows.
func (b *tab) check() {
	b.t.Helper()
	b.checkAxe()
	if b.lang != "en" {
		b.checkLanguage()
	}
}

var axeSeen sync.Map // page path patterns already checked with axe, per language

func (b *tab) checkAxe() {
	b.t.Helper()
	if b.lang != "en" {
		return // the markup is the same in every language; the English runs check it
	}
	p := regexp.MustCompile(`(org|sto|usr|ses)_[0-9a-z]{26}`).ReplaceAllString(b.path(), "${1}_ID")
	p = strings.Split(p, "?")[0]
	if _, seen := axeSeen.LoadOrStore(b.lang+" "+p+fmt.Sprint(b.count("#modal dialog[open]")), true); seen {
		return
	}
	js := axeSource + `;axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return JSON.stringify(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
			.map(function (v) { return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(function (n) { return n.html; })}; }));
	})`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	b.must(err)
	if out != "[]" {
		b.t.Errorf("%s: accessibility violations on %s:\n%q", b.name, p, out)
	}
}

// catalogs are the console's texts, read by the tests from the embedded JSON files.
var catalogs = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, loc := range []string{"en", "fr", "es"} {
		b, err := os.ReadFile(filepath.Join("i18n", loc+".json"))
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(err)
		}
		out[loc] = m
	}
	return out
}()

// englishTexts are, for a language, the English texts of the catalog that differ from that
// language's translation: a page in that language must show none of them. Texts without a
// placeholder are looked up whole; those with one are patterns, tried only on a text that
// holds their longest fixed part (a page has hundreds of texts, the catalog a thousand).
type englishTexts struct {
	whole    map[string]bool
	patterns []englishPattern
}

type englishPattern struct {
	part string // the longest fixed part
	re   *regexp.Regexp
}

func (e englishTexts) matches(s string) bool {
	if e.whole[s] {
		return true
	}
	for _, p := range e.patterns {
		if strings.Contains(s, p.part) && p.re.MatchString(s) {
			return true
		}
	}
	return false
}

var englishTextsOf = sync.OnceValue(func() map[string]englishTexts {
	out := map[string]englishTexts{}
	ph := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, loc := range []string{"fr", "es"} {
		own := map[string]bool{}
		for _, v := range catalogs[loc] {
			own[v] = true
		}
		texts := englishTexts{whole: map[string]bool{}}
		for k, en := range catalogs["en"] {
			if catalogs[loc][k] == en || own[en] || len(en) < 4 {
				continue
			}
			parts := ph.Split(en, -1)
			if len(parts) == 1 {
				texts.whole[en] = true
				continue
			}
			if letters(strings.Join(parts, "")) < 8 {
				continue // "{count} store" would match any name ending in "store"
			}
			longest := ""
			for i := range parts {
				if len(parts[i]) > len(longest) {
					longest = parts[i]
				}
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			texts.patterns = append(texts.patterns, englishPattern{longest, regexp.MustCompile(`^` + strings.Join(parts, `.+`) + `$`)})
		}
		out[loc] = texts
	}
	return out
})

// checkLanguage fails when a text node or a readable attribute of the page is an English
// text of the catalog while the page is in another language.
func (b *tab) checkLanguage() {
	b.t.Helper()
	js := `(function () {
		var out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		var page = document.documentElement.lang;
		while (w.nextNode()) {
			var s = w.currentNode.nodeValue.trim(), in_ = w.currentNode.parentElement.closest("[lang]");
			// Text marked as another language (an email shown in the mailbox) is not the page's.
			if (s && (!in_ || in_.lang === page)) out.push(s);
		}
		document.querySelectorAll("[placeholder],[aria-label],[title],[alt]").forEach(function (e) {
			["placeholder", "aria-label", "title", "alt"].forEach(function (a) { var v = e.getAttribute(a); if (v) out.push(v.trim()); });
		});
		out.push(document.title.replace(/ · Roster$/, ""));
		return out;
	})()`
	texts, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](js))
	b.must(err)
	english := englishTextsOf()[b.lang]
	var bad []string
	for _, s := range texts {
		if english.matches(s) {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		b.t.Errorf("%s: page %s in %s shows English texts: %q", b.name, b.path(), b.lang, bad)
	}
}

// shots remembers the screenshots already taken in this run.
var shots sync.Map

// screenshot saves the page as docs/screenshots/NAME-desktop.png and NAME-phone.png when
// ROSTER_SCREENSHOTS=1 (English pages of SQLite runs only, the first time), each only when
// README.md shows it: no screenshot is written that nothing references.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("ROSTER_SCREENSHOTS") != "1" || b.lang != "en" {
		return
	}
	if _, done := shots.LoadOrStore(name, true); done {
		return
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	b.must(err)
	for _, size := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 860, false}, {"phone", 390, 844, true}} {
		file := name + "-" + size.suffix + ".png"
		if !bytes.Contains(readme, []byte("docs/screenshots/"+file)) {
			continue
		}
		var opts []chromedp.EmulateViewportOption
		if size.mobile {
			opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
		}
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(size.w, size.h, opts...)))
		b.settle("")
		img, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		b.must(err)
		b.must(os.WriteFile(filepath.Join("..", "docs", "screenshots", file), img, 0o644))
	}
	b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 900)))
}

// logoPNG writes a small PNG logo and returns its path.
func logoPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := 0; x < 64; x++ {
		for y := 0; y < 64; y++ {
			img.Set(x, y, color.RGBA{uint8(58 + x), 72, uint8(197 - y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// chromedpSetUpload chooses a file in a file input.
func chromedpSetUpload(b *tab, sel, path string) error {
	return chromedp.Do(b.ctx, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}, chromedp.NodeReady))
}

// letters counts the letters of s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
