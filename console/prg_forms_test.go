package console_test

import (
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// postRoute is one "POST …" line of routes.go.
var postRoute = regexp.MustCompile(`s\.handle\(mux, "POST (?:([^"]+)"|"\+(\w+(?:\.\w+)?)(?:\+"([^"]+)")?)`)

// TestEveryPostLandsOnAPage: every form of the console, posted empty (so most are refused)
// from a page, answers with a redirect to a page that opens, or with a page that names the
// address of the page the form was on (data-page-url, which roster.js puts in the address
// bar): a reload then shows that page, never re-posts, never opens the post's own address
// (a raw logo, an accept page without its token). Never a 500. The forms are read from
// routes.go, so a new one cannot be left out.
func TestEveryPostLandsOnAPage(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	pages := reflect.ValueOf(console.Pages)
	var patterns []string
	for _, m := range postRoute.FindAllStringSubmatch(string(src), -1) {
		switch {
		case strings.HasSuffix(m[1], "/passkey/options"), strings.HasSuffix(m[1], "/passkeys/options"), strings.HasSuffix(m[1], "/passkey-options"):
			// The options of a WebAuthn ceremony, fetched by passkeys.js as JSON, no form:
			// console/passkeys_test.go and stepup_test.go drive them in Chromium.
		case m[1] != "":
			patterns = append(patterns, m[1])
		case strings.HasPrefix(m[2], "Pages."):
			patterns = append(patterns, pages.FieldByName(strings.TrimPrefix(m[2], "Pages.")).String()+m[3])
		case m[2] == "oidcContinuePath":
			// The sign-in step of an OpenID Connect request: oidc/console_test.go drives it.
		default:
			t.Fatalf("routes.go posts to %s, which this test cannot resolve", m[2])
		}
	}
	if len(patterns) < 50 {
		t.Fatalf("only %d posts read from routes.go", len(patterns))
	}

	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		ownerEmail := addr("olivia")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: ownerEmail, Name: "Olivia", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		owner := mustActor(t, s, ownerEmail)
		if _, _, err := s.env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), ownerEmail, ""); err != nil {
			t.Fatal(err)
		}
		org := s.env.Org(t, owner, "Acme")
		st := s.env.Store(t, owner, org.ID, "Main")
		_, member := s.env.User(t, "Marc")
		s.env.Join(t, owner, org.ID, member, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleMember})
		role, err := s.env.App.Roles.Create(testenv.Ctx, owner, org.ID, app.RoleInput{Name: "Lead", Permissions: []roster.Permission{roster.PermStoreRead}})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := s.env.App.Invitations.Create(testenv.Ctx, owner, org.ID, app.InvitationInput{Email: addr("ivy")})
		if err != nil {
			t.Fatal(err)
		}
		key, err := s.env.App.APIKeys.Create(testenv.Ctx, owner, org.ID, app.APIKeyInput{Name: "Zendesk", StoreID: st.ID, RoleID: roster.StoreRoleViewer, Proof: app.OwnerProof{Password: testenv.Password}})
		if err != nil {
			t.Fatal(err)
		}
		hook, err := s.env.App.Webhooks.Create(testenv.Ctx, owner, org.ID, app.WebhookInput{URL: "http://" + receiverHost + "/hooks", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		domain, request := joinRequestOf(t, s, owner, org.ID)
		dir, err := s.env.App.Directories.Create(testenv.Ctx, owner, org.ID, "Okta")
		if err != nil {
			t.Fatal(err)
		}
		dirActor, err := s.env.App.Directories.Authenticate(testenv.Ctx, anon(), dir.Token)
		if err != nil {
			t.Fatal(err)
		}
		group, err := s.env.App.SCIM.CreateGroup(testenv.Ctx, dirActor, app.SCIMGroupInput{DisplayName: "Team"})
		if err != nil {
			t.Fatal(err)
		}
		revoked, err := s.env.App.SetupLinks.Create(testenv.Ctx, owner, org.ID, app.OwnerProof{Password: testenv.Password}) // by its form
		if err != nil {
			t.Fatal(err)
		}
		link, err := s.env.App.SetupLinks.Create(testenv.Ctx, owner, org.ID, app.OwnerProof{}) // opens the pages of its forms
		if err != nil {
			t.Fatal(err)
		}
		linkURL, err := url.Parse(link.URL)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"link": revoked.Link.ID, "dir": dir.Directory.ID, "group": group.Group.ID, "passkey": "pky_00000000000000000000000000", "org": org.ID, "store": st.ID, "user": member.ID, "inv": inv.ID, "role": role.ID, "key": key.Key.ID,
			"id": "cli_00000000000000000000000000", "hook": hook.Endpoint.ID, "domain": domain, "request": request}

		for _, pattern := range patterns {
			path := regexp.MustCompile(`\{(\w+)\}`).ReplaceAllStringFunc(pattern, func(v string) string {
				id, ok := vars[v[1:len(v)-1]]
				if !ok {
					t.Fatalf("%s: no value for %s", pattern, v)
				}
				return id
			})
			t.Run(pattern, func(t *testing.T) {
				c := client(t)
				if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {ownerEmail}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("login: %d", res.StatusCode)
				}
				// The page the form is on, as the browser's Referer names it; a setup link's
				// forms are on its pages, opened by the link.
				from := "/account?tab=1"
				if strings.HasPrefix(pattern, console.Pages.ITSetup+"/") {
					do(t, c, "GET", s.url+linkURL.RequestURI(), nil, nil)
					from = console.Pages.ITSetup + "/domains?tab=1"
				}
				_, page := do(t, c, "GET", s.url+from, nil, nil)
				m := csrfField.FindStringSubmatch(page)
				if m == nil {
					t.Fatal("no form token on " + from)
				}
				res, body := do(t, c, "POST", s.url+path, url.Values{"csrf": {m[1]}}, map[string]string{"Referer": s.url + from + "&ok=profile_saved"})
				switch {
				case res.StatusCode >= 500:
					t.Fatalf("%d:\n%s", res.StatusCode, body)
				case res.StatusCode >= 300 && res.StatusCode < 400:
					loc := res.Header.Get("Location")
					if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
						t.Fatalf("redirected off the site: %q", loc)
					}
					for range 3 { // a page may send on once more (signed out: to the sign-in page)
						res, _ = do(t, c, "GET", s.url+loc, nil, nil)
						if res.StatusCode < 300 || res.StatusCode >= 400 {
							break
						}
						loc = res.Header.Get("Location")
					}
					if res.StatusCode != http.StatusOK {
						t.Fatalf("the page after the post (%s) answers %d", loc, res.StatusCode)
					}
				default:
					if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
						t.Fatalf("%d answered with %q, not a page", res.StatusCode, res.Header.Get("Content-Type"))
					}
					if want := `data-page-url="` + strings.ReplaceAll(from, "&", "&amp;") + `"`; !strings.Contains(body, want) {
						t.Fatalf("%d: the page does not name the form's page (%s):\n%s", res.StatusCode, want, body)
					}
				}
			})
		}
	})
}
