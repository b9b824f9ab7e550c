package oidc_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testchrome"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// oauth2ProxyVersion is the oauth2-proxy release the test builds from its Go module.
const oauth2ProxyVersion = "v7.15.6"

var (
	oauth2ProxyOnce sync.Once
	oauth2ProxyBin  string
	oauth2ProxyErr  error
)

// oauth2Proxy returns the oauth2-proxy binary, built once from its Go module into the user's
// cache (.ci/run builds it beforehand). Without Go's module proxy the test skips, and fails
// in CI.
func oauth2Proxy(t *testing.T) string {
	t.Helper()
	oauth2ProxyOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "roster-test", "oauth2-proxy-"+oauth2ProxyVersion)
		oauth2ProxyBin = filepath.Join(dir, "oauth2-proxy")
		if _, err := os.Stat(oauth2ProxyBin); err == nil {
			return
		}
		cmd := exec.Command("go", "install", "github.com/oauth2-proxy/oauth2-proxy/v7@"+oauth2ProxyVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			oauth2ProxyErr = fmt.Errorf("go install oauth2-proxy: %v\n%s", err, out)
		}
	})
	if oauth2ProxyErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(oauth2ProxyErr)
		}
		t.Skip(oauth2ProxyErr)
	}
	return oauth2ProxyBin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestOAuth2ProxyInFrontOfAnApplication: oauth2-proxy (a widely used OIDC reverse proxy we
// did not write) protects a tiny upstream with Roster as its OpenID provider. A user signs in
// through Chromium; the upstream receives them with the Roster access token, whose claims
// carry the organization, the store and the permissions there.
func TestOAuth2ProxyInFrontOfAnApplication(t *testing.T) {
	bin := oauth2Proxy(t)
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		box := s.Outbox(t)
		owner, _ := s.User(t, "Olga")
		_, eli := s.User(t, "Eli")
		if _, err := s.App.Accounts.VerifyEmail(testenv.Ctx, roster.Actor{Kind: roster.ActorAnonymous}, testenv.Token(box.Last(t, eli.Email, "verify_email"))); err != nil {
			t.Fatal(err) // oauth2-proxy admits verified addresses only
		}
		org := s.Org(t, owner, "Acme")
		shop := s.Store(t, owner, org.ID, "North")
		s.Join(t, owner, org.ID, eli, roster.OrgMember, app.StoreGrantInput{StoreID: shop.ID, RoleID: roster.StoreRoleMember})

		seen := make(chan http.Header, 4)
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case seen <- r.Header.Clone():
			default:
			}
			fmt.Fprintf(w, `<!doctype html><p id="upstream">hello %s</p>`, r.Header.Get("X-Forwarded-Email"))
		}))
		t.Cleanup(upstream.Close)

		addr := freeAddr(t)
		proxyURL := "http://" + addr
		_, cfg := s.client(t, false, proxyURL+"/oauth2/callback")
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		cmd := exec.Command(bin, "--provider=oidc", "--oidc-issuer-url="+s.URL, "--client-id="+cfg.ClientID, "--client-secret="+cfg.ClientSecret,
			"--redirect-url="+proxyURL+"/oauth2/callback", "--upstream="+upstream.URL, "--http-address="+addr,
			"--cookie-secret="+base64.RawURLEncoding.EncodeToString(secret), "--cookie-secure=false", "--email-domain=*",
			"--scope=openid profile email organization", "--code-challenge-method=S256", "--skip-provider-button=true",
			"--pass-access-token=true", "--pass-authorization-header=true", "--set-xauthrequest=true")
		var logs strings.Builder
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// Waiting on another process: poll its health endpoint, with a deadline.
		for deadline := time.Now().Add(30 * time.Second); ; {
			if res, err := http.Get(proxyURL + "/ping"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("oauth2-proxy did not start:\n%s", logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}

		steps := &chromeSteps{t: t, ctx: testchrome.Context(t), extra: func() string { return "oauth2-proxy:\n" + logs.String() }}
		steps.do("open the application", chromedp.Navigate(proxyURL+"/"))
		steps.wait("Roster's login page, through oauth2-proxy", `!!document.querySelector("#email") && window.htmx !== undefined`)
		steps.do("sign in", chromedp.SetValue(chromedp.CSS("#email"), eli.Email, chromedp.NodeReady),
			chromedp.SetValue(chromedp.CSS("#password"), testenv.Password, chromedp.NodeReady),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/login"] button[type=submit]').click()`))
		steps.wait("the upstream, signed in", `!!document.querySelector("#upstream")`)

		h := <-seen
		if h.Get("X-Forwarded-Email") != eli.Email || h.Get("X-Forwarded-User") != eli.ID {
			t.Errorf("the upstream was not told who signed in: email %q user %q", h.Get("X-Forwarded-Email"), h.Get("X-Forwarded-User"))
		}
		c := claims(t, h.Get("X-Forwarded-Access-Token"))
		if c["sub"] != eli.ID || c["org_id"] != org.ID || c["store_id"] != shop.ID || !strings.Contains(fmt.Sprint(c["permissions"]), string(roster.PermStoreRead)) {
			t.Errorf("the access token the upstream received: %v", c)
		}
		if id := claims(t, strings.TrimPrefix(h.Get("Authorization"), "Bearer ")); id["org_id"] != org.ID || id["email"] != eli.Email {
			t.Errorf("the ID token the upstream received: %v", id)
		}
	})
}
