package scim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/elimity-com/scim/schema"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

var ctx = testenv.Ctx

const (
	urnUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	urnGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	urnEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	urnPatchOp    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// check is one answer to hold against SCIMMY's schemas (testdata/scimmy/validate.mjs).
type check struct {
	Kind   string   `json:"kind"`
	Body   any      `json:"body"`
	Filter string   `json:"filter,omitempty"`
	IDs    []string `json:"ids"`
}

// client speaks SCIM to Roster with a directory's token, as an identity provider does, and
// keeps every answer for the third-party checks.
type client struct {
	t      *testing.T
	base   string
	token  string
	checks *[]check
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

func (c client) do(method, path string, body any, headers ...string) answer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header}
	if len(raw) > 0 {
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			c.t.Fatalf("%s %s: content type %q", method, path, ct)
		}
		if err := json.Unmarshal(raw, &a.body); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	if c.checks != nil && a.body != nil {
		kind := ""
		switch {
		case a.status >= 400:
			kind = "Error"
		case strings.HasPrefix(path, "/Users?") || path == "/Users/.search" || path == "/Users":
			if method == http.MethodGet || strings.HasSuffix(path, ".search") {
				kind = "UserList"
			} else {
				kind = "User"
			}
		case strings.HasPrefix(path, "/Groups?") || path == "/Groups" && method == http.MethodGet:
			kind = "GroupList"
		case strings.HasPrefix(path, "/Users"):
			kind = "User"
		case strings.HasPrefix(path, "/Groups"):
			kind = "Group"
		}
		if kind != "" {
			*c.checks = append(*c.checks, check{Kind: kind, Body: a.body})
		}
		if kind == "User" {
			// elimity-com/scim's RFC 7643 User schema must accept it too.
			if _, err := schema.CoreUserSchema().Validate(a.body); err != nil {
				c.t.Errorf("%s %s: elimity-com/scim refuses the user: %v", method, path, err.Detail)
			}
		}
	}
	return a
}

// want fails unless the answer has the status.
func (a answer) want(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %v", a.status, status, a.body)
	}
	return a
}

// wantError fails unless the answer is a SCIM error with the status and scimType.
func (a answer) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	a.want(t, status)
	if a.str("status") != http.StatusText(status) && a.str("status") != itoa(status) {
		t.Fatalf("error status %q", a.str("status"))
	}
	if a.str("scimType") != scimType {
		t.Fatalf("scimType %q, want %q: %v", a.str("scimType"), scimType, a.body)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (a answer) resources() []map[string]any {
	var out []map[string]any
	for _, r := range a.body["Resources"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func ids(rs []map[string]any) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r["id"].(string))
	}
	return out
}

func q(filter string) string { return "/Users?filter=" + url.QueryEscape(filter) }

func patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{urnPatchOp}, "Operations": list}
}

// runSCIMMY holds every kept answer against SCIMMY.
func runSCIMMY(t *testing.T, checks []check) {
	t.Helper()
	node := testenv.Node(t, "testdata/scimmy")
	in, _ := json.Marshal(map[string]any{"checks": checks})
	cmd := exec.Command(node, "validate.mjs")
	cmd.Dir = "testdata/scimmy"
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scimmy: %v: %s", err, out)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			I     int
			OK    bool
			Error string
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		n++
		if !r.OK {
			b, _ := json.Marshal(checks[r.I].Body)
			t.Errorf("SCIMMY refuses a %s: %s\n%s", checks[r.I].Kind, r.Error, b)
		}
	}
	if n != len(checks) {
		t.Fatalf("SCIMMY answered %d checks of %d", n, len(checks))
	}
}

// env is a running Roster with an organization, its owner and a directory.
type env struct {
	*testserver.Server
	dns      *testenv.DNS
	owner    roster.Actor
	ownerU   roster.User
	org      roster.Organization
	dir      app.CreatedDirectory
	scim     client
	checks   []check
	auditSQL func(action, target string) int
}

func newEnv(t *testing.T, e sqlstore.Engine) *env {
	dns := testenv.DNSServer(t)
	srv := testserver.Start(t, e, testenv.NewClock(), func(c *app.Config) { c.DNSResolver = dns.Addr })
	owner, ownerU := srv.User(t, "Olivia")
	org := srv.Org(t, owner, "Acme")
	dir, err := srv.App.Directories.Create(ctx, owner, org.ID, "Okta")
	if err != nil {
		t.Fatal(err)
	}
	en := &env{Server: srv, dns: dns, owner: owner, ownerU: ownerU, org: org, dir: dir}
	en.scim = client{t: t, base: srv.URL + "/scim/v2", token: dir.Token, checks: &en.checks}
	db := testenv.SQL(t, e, srv.Env.URL)
	en.auditSQL = func(action, target string) int {
		var n int
		if err := db.QueryRow(testenv.Rebind(e, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND actor_kind = 'directory' AND actor_id = ?
			AND action = ? AND target_id = ?`), org.ID, dir.Directory.ID, action, target).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return en
}

// verifyDomain makes a domain verified by the organization, through a real DNS lookup.
func (en *env) verifyDomain(t *testing.T, name string) {
	d, err := en.App.Domains.Add(ctx, en.owner, en.org.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	en.dns.SetTXT(d.RecordName(), d.RecordValue())
	if _, err := en.App.Domains.Verify(ctx, en.owner, en.org.ID, d.ID); err != nil {
		t.Fatal(err)
	}
}

func (en *env) member(t *testing.T, userID string) roster.Member {
	t.Helper()
	m, err := en.App.Members.Get(ctx, en.owner, en.org.ID, userID)
	if err != nil {
		t.Fatalf("member %s: %v", userID, err)
	}
	return m
}

// TestSCIMProvisioning replays the provisioning sequences Okta and Microsoft Entra ID publish
// in their SCIM guides (requests as they send them, quirks included), then the rules: filters
// and paging, ETags, the owner's protection, groups mapped to roles, deletion; every answer
// is held against SCIMMY's RFC 7643 schemas and every user against elimity-com/scim's.
func TestSCIMProvisioning(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		en := newEnv(t, e)
		c := en.scim
		en.verifyDomain(t, "acme.example")

		// Discovery.
		spc := c.do("GET", "/ServiceProviderConfig", nil).want(t, 200)
		if p, _ := spc.body["patch"].(map[string]any); p["supported"] != true {
			t.Fatalf("ServiceProviderConfig %v", spc.body)
		}
		if rt := c.do("GET", "/ResourceTypes", nil).want(t, 200); rt.body["totalResults"] != float64(2) {
			t.Fatalf("ResourceTypes %v", rt.body)
		}
		sc := c.do("GET", "/Schemas/"+urnUser, nil).want(t, 200)
		if sc.str("id") != urnUser || len(sc.body["attributes"].([]any)) == 0 {
			t.Fatalf("Schemas %v", sc.body)
		}

		// Okta: look the user up by userName, create them, read them back.
		if l := c.do("GET", q(`userName eq "ana@acme.example"`)+"&startIndex=1&count=100", nil).want(t, 200); l.body["totalResults"] != float64(0) {
			t.Fatalf("found before creation: %v", l.body)
		}
		okta := map[string]any{
			"schemas": []string{urnUser}, "userName": "ana@acme.example",
			"name":        map[string]any{"givenName": "Ana", "familyName": "Lima"},
			"emails":      []any{map[string]any{"primary": true, "value": "ana@acme.example", "type": "work"}},
			"displayName": "Ana Lima", "locale": "en-US", "externalId": "00u1okta", "groups": []any{},
			"password": "s3cret-Passw0rd!", "active": true,
		}
		created := c.do("POST", "/Users", okta).want(t, 201)
		ana := created.str("id")
		if created.header.Get("Location") != c.base+"/Users/"+ana || created.header.Get("ETag") == "" {
			t.Fatalf("created headers %v", created.header)
		}
		if _, ok := created.body["password"]; ok || created.body["active"] != true || created.str("externalId") != "00u1okta" {
			t.Fatalf("created %v", created.body)
		}
		if m := en.member(t, ana); m.Role != roster.OrgMember || m.Status != roster.MembershipActive || m.User.Name != "Ana Lima" {
			t.Fatalf("membership %+v", m)
		}
		if en.auditSQL("member.added", ana) != 1 || en.auditSQL("user.created", ana) != 1 {
			t.Fatal("the creation is not audited with the directory as actor")
		}
		got := c.do("GET", "/Users/"+ana, nil).want(t, 200)
		if got.str("userName") != "ana@acme.example" || got.header.Get("ETag") != created.header.Get("ETag") {
			t.Fatalf("get %v", got.body)
		}
		if l := c.do("GET", q(`userName eq "ANA@acme.example"`), nil).want(t, 200); l.body["totalResults"] != float64(1) {
			t.Fatalf("userName is case-insensitive: %v", l.body)
		}
		c.do("POST", "/Users", okta).wantError(t, 409, "uniqueness")

		// Okta deactivates with a path-less replace, then reactivates.
		off := c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "replace", "value": map[string]any{"active": false}})).want(t, 200)
		if off.body["active"] != false || en.member(t, ana).Status != roster.MembershipSuspended {
			t.Fatalf("deactivated %v", off.body)
		}
		if en.auditSQL("member.suspended", ana) != 1 {
			t.Fatal("the suspension is not audited with the directory as actor")
		}
		c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "replace", "value": map[string]any{"active": true}})).want(t, 200)
		if en.member(t, ana).Status != roster.MembershipActive || en.auditSQL("member.reactivated", ana) != 1 {
			t.Fatal("not reactivated")
		}
		// Okta updates a profile with PUT: the whole user.
		okta["name"] = map[string]any{"givenName": "Ana", "familyName": "Lima-Souza"}
		okta["displayName"] = "Ana Lima-Souza"
		put := c.do("PUT", "/Users/"+ana, okta).want(t, 200)
		if put.str("displayName") != "Ana Lima-Souza" || en.member(t, ana).User.Name != "Ana Lima-Souza" {
			t.Fatalf("put %v", put.body)
		}
		if en.auditSQL("scim_user.updated", ana) != 1 || en.auditSQL("user.updated", ana) != 1 {
			t.Fatal("the profile update is not audited with the directory as actor")
		}

		// Entra ID: the same look-up, a user with the enterprise extension, then its PATCHes:
		// "False" as a string, paths with filters, path-less values whose keys are paths.
		c.do("GET", q(`userName eq "bo@acme.example"`), nil).want(t, 200)
		entra := map[string]any{
			"schemas": []string{urnUser, urnEnterprise}, "externalId": "e-0001", "userName": "bo@acme.example", "active": true,
			"displayName": "Bo Berg", "emails": []any{map[string]any{"primary": true, "type": "work", "value": "bo@acme.example"}},
			"meta": map[string]any{"resourceType": "User"}, "name": map[string]any{"formatted": "Bo Berg", "familyName": "Berg", "givenName": "Bo"},
			"title": "Engineer", urnEnterprise: map[string]any{"department": "R&D", "employeeNumber": "42"},
		}
		bo := c.do("POST", "/Users", entra).want(t, 201).str("id")
		c.do("PATCH", "/Users/"+bo, patch(map[string]any{"op": "Replace", "path": "active", "value": "False"})).want(t, 200)
		if en.member(t, bo).Status != roster.MembershipSuspended {
			t.Fatal(`"False" did not suspend`)
		}
		c.do("PATCH", "/Users/"+bo, patch(map[string]any{"op": "Replace", "path": "active", "value": "True"})).want(t, 200)
		edited := c.do("PATCH", "/Users/"+bo, patch(
			map[string]any{"op": "Add", "path": `emails[type eq "work"].value`, "value": "bo.berg@acme.example"},
			map[string]any{"op": "Add", "path": `phoneNumbers[type eq "mobile"].value`, "value": "+33 6 00 00 00 00"},
			map[string]any{"op": "Replace", "path": "name.familyName", "value": "Bergman"},
			map[string]any{"op": "Replace", "path": urnEnterprise + ":department", "value": "Ops"},
			map[string]any{"op": "Replace", "value": map[string]any{"displayName": "Bo Bergman", "name.givenName": "Bob"}},
			map[string]any{"op": "Remove", "path": "title"},
		)).want(t, 200)
		name := edited.body["name"].(map[string]any)
		ext := edited.body[urnEnterprise].(map[string]any)
		if name["familyName"] != "Bergman" || name["givenName"] != "Bob" || ext["department"] != "Ops" || ext["employeeNumber"] != "42" ||
			edited.body["title"] != nil || edited.str("displayName") != "Bo Bergman" {
			t.Fatalf("entra patch %v", edited.body)
		}
		if emails := edited.body["emails"].([]any); len(emails) != 1 || emails[0].(map[string]any)["value"] != "bo.berg@acme.example" {
			t.Fatalf("emails %v", edited.body["emails"])
		}
		if m := en.member(t, bo); m.User.Email != "bo@acme.example" {
			t.Fatalf("the account's address changed through SCIM: %s", m.User.Email)
		}

		// Filters: Roster's selection must be SCIMMY's over the same users.
		for i := range 3 {
			c.do("POST", "/Users", map[string]any{"schemas": []string{urnUser}, "userName": "p" + itoa(i) + "@acme.example",
				"externalId": "page-" + itoa(i), "name": map[string]any{"givenName": "P", "familyName": itoa(i)}}).want(t, 201)
		}
		all := c.do("GET", "/Users", nil).want(t, 200)
		everyone := all.resources()
		if all.body["totalResults"] != float64(6) || len(everyone) != 6 { // the owner, Ana, Bo and three more
			t.Fatalf("all %v", all.body)
		}
		for _, f := range []string{
			`userName eq "ana@acme.example"`,
			`externalId eq "e-0001"`,
			`emails[type eq "work"].value eq "bo.berg@acme.example"`,
			`userName eq "ana@acme.example" or externalId eq "page-1"`,
			`userName sw "p" and not (externalId eq "page-2")`,
			`active eq true and name.familyName co "erg"`,
			`emails[type eq "work" and value ew "@acme.example"]`,
			`userName eq "nobody@acme.example"`,
		} {
			l := c.do("GET", q(f), nil).want(t, 200)
			*c.checks = append(*c.checks, check{Kind: "Filter", Filter: f, Body: everyone, IDs: ids(l.resources())})
			if len(l.resources()) == 0 && !strings.Contains(f, "nobody") {
				t.Fatalf("filter %s selects nobody", f)
			}
		}
		search := c.do("POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter": `externalId eq "e-0001"`, "startIndex": 1, "count": 10}).want(t, 200)
		if !slices.Equal(ids(search.resources()), []string{bo}) {
			t.Fatalf(".search %v", search.body)
		}
		// Paging: startIndex is 1-based, count bounds the page, totalResults counts them all.
		pg := c.do("GET", "/Users?startIndex=2&count=2", nil).want(t, 200)
		if pg.body["totalResults"] != float64(6) || pg.body["startIndex"] != float64(2) || pg.body["itemsPerPage"] != float64(2) ||
			!slices.Equal(ids(pg.resources()), ids(everyone)[1:3]) {
			t.Fatalf("page %v", pg.body)
		}
		if last := c.do("GET", "/Users?startIndex=6&count=5", nil).want(t, 200); len(last.resources()) != 1 {
			t.Fatalf("last page %v", last.body)
		}
		if none := c.do("GET", "/Users?count=0", nil).want(t, 200); none.body["totalResults"] != float64(6) || len(none.resources()) != 0 {
			t.Fatalf("count=0 %v", none.body)
		}
		if ex := c.do("GET", "/Users/"+bo+"?excludedAttributes=emails,name", nil).want(t, 200); ex.body["emails"] != nil || ex.str("userName") == "" {
			t.Fatalf("excludedAttributes %v", ex.body)
		}
		c.do("GET", q(`userName eq`), nil).wantError(t, 400, "invalidFilter")
		c.do("GET", q(`userName zz "a"`), nil).wantError(t, 400, "invalidFilter")
		c.do("GET", "/Users?count=ten", nil).wantError(t, 400, "invalidValue")

		// ETags: a change against an old version is refused with 412 and changes nothing.
		cur := c.do("GET", "/Users/"+ana, nil).want(t, 200)
		etag := cur.header.Get("ETag")
		if cur.body["meta"].(map[string]any)["version"] != etag {
			t.Fatalf("meta.version %v, ETag %s", cur.body["meta"], etag)
		}
		c.do("GET", "/Users/"+ana, nil, "If-None-Match", etag).want(t, 304)
		c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "replace", "path": "title", "value": "Lead"}), "If-Match", etag).want(t, 200)
		c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "replace", "path": "active", "value": false}), "If-Match", etag).want(t, 412)
		c.do("DELETE", "/Users/"+ana, nil, "If-Match", etag).want(t, 412)
		if en.member(t, ana).Status != roster.MembershipActive {
			t.Fatal("a refused change was applied")
		}

		// Bad requests answer in SCIM's format.
		c.do("PATCH", "/Users/"+ana, map[string]any{"schemas": []string{urnPatchOp}}).wantError(t, 400, "invalidSyntax")
		c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "remove"})).wantError(t, 400, "noTarget")
		c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "replace", "path": "id", "value": "usr_x"})).wantError(t, 400, "mutability")
		c.do("PATCH", "/Users/"+ana, patch(map[string]any{"op": "replace", "path": "active", "value": "maybe"})).wantError(t, 400, "invalidValue")
		c.do("POST", "/Users", map[string]any{"schemas": []string{urnUser}}).wantError(t, 400, "invalidValue")
		c.do("GET", "/Users/usr_01J00000000000000000000000", nil).want(t, 404)
		c.do("GET", "/Nothing", nil).want(t, 404)

		// The owner is never suspended nor removed by SCIM.
		ownerRes := c.do("GET", q(`userName eq "`+en.ownerU.Email+`"`), nil).want(t, 200).resources()
		if len(ownerRes) != 1 {
			t.Fatalf("owner not listed")
		}
		c.do("PATCH", "/Users/"+en.ownerU.ID, patch(map[string]any{"op": "replace", "value": map[string]any{"active": false}})).want(t, 403)
		c.do("PUT", "/Users/"+en.ownerU.ID, map[string]any{"schemas": []string{urnUser}, "userName": en.ownerU.Email, "active": false}).want(t, 403)
		c.do("DELETE", "/Users/"+en.ownerU.ID, nil).want(t, 403)
		if m := en.member(t, en.ownerU.ID); m.Role != roster.OrgOwner || m.Status != roster.MembershipActive {
			t.Fatalf("owner %+v", m)
		}

		// Groups map to roles: an organization role, and a store role.
		store := en.Store(t, en.owner, en.org.ID, "Shop")
		admins := c.do("POST", "/Groups", map[string]any{"schemas": []string{urnGroup}, "displayName": "Roster Admins",
			"members": []any{map[string]any{"value": ana}}}).want(t, 201)
		adminsID := admins.str("id")
		staff := c.do("POST", "/Groups", map[string]any{"schemas": []string{urnGroup}, "displayName": "Shop staff", "members": []any{}}).want(t, 201).str("id")
		c.do("POST", "/Groups", map[string]any{"schemas": []string{urnGroup}, "displayName": "Roster Admins"}).wantError(t, 409, "uniqueness")
		if en.member(t, ana).Role != roster.OrgMember {
			t.Fatal("an unmapped group gave a role")
		}
		if _, err := en.App.Directories.MapGroup(ctx, en.owner, en.org.ID, en.dir.Directory.ID, adminsID, app.GroupMapping{OrgRole: roster.OrgAdmin}); err != nil {
			t.Fatal(err)
		}
		if en.member(t, ana).Role != roster.OrgAdmin {
			t.Fatal("mapping the group did not make its member an admin")
		}
		if _, err := en.App.Directories.MapGroup(ctx, en.owner, en.org.ID, en.dir.Directory.ID, staff,
			app.GroupMapping{StoreID: store.ID, RoleID: roster.StoreRoleViewer}); err != nil {
			t.Fatal(err)
		}
		// Okta adds members; Entra ID adds with its own casing.
		c.do("PATCH", "/Groups/"+adminsID, patch(map[string]any{"op": "add", "path": "members",
			"value": []any{map[string]any{"value": bo, "display": "bo@acme.example"}}})).want(t, 200)
		c.do("PATCH", "/Groups/"+staff, patch(map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": ana}}})).want(t, 200)
		if en.member(t, bo).Role != roster.OrgAdmin {
			t.Fatal("joining the group did not make Bo an admin")
		}
		if m := en.member(t, ana); len(m.Stores) != 1 || m.Stores[0].StoreID != store.ID || m.Stores[0].RoleID != roster.StoreRoleViewer {
			t.Fatalf("store role %+v", m.Stores)
		}
		if u := c.do("GET", "/Users/"+ana, nil).want(t, 200); len(u.body["groups"].([]any)) != 2 {
			t.Fatalf("groups of the user %v", u.body["groups"])
		}
		// Okta removes with a filtered path, Entra ID with a value list.
		c.do("PATCH", "/Groups/"+adminsID, patch(map[string]any{"op": "remove", "path": `members[value eq "` + ana + `"]`})).want(t, 200)
		if en.member(t, ana).Role != roster.OrgMember {
			t.Fatal("leaving the group did not take the admin role away")
		}
		c.do("PATCH", "/Groups/"+staff, patch(map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": ana}}})).want(t, 200)
		if m := en.member(t, ana); len(m.Stores) != 0 {
			t.Fatalf("leaving the store group left %+v", m.Stores)
		}
		// Okta renames with a path-less replace that repeats the id.
		ren := c.do("PATCH", "/Groups/"+adminsID, patch(map[string]any{"op": "replace", "value": map[string]any{"id": adminsID, "displayName": "Admins"}})).want(t, 200)
		if ren.str("displayName") != "Admins" {
			t.Fatalf("rename %v", ren.body)
		}
		// The owner in a group mapped to member stays the owner.
		if _, err := en.App.Directories.MapGroup(ctx, en.owner, en.org.ID, en.dir.Directory.ID, staff, app.GroupMapping{OrgRole: roster.OrgMember}); err != nil {
			t.Fatal(err)
		}
		c.do("PATCH", "/Groups/"+staff, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": en.ownerU.ID}}})).want(t, 200)
		if en.member(t, en.ownerU.ID).Role != roster.OrgOwner {
			t.Fatal("a group changed the owner's role")
		}
		gl := c.do("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Admins"`)+"&excludedAttributes=members", nil).want(t, 200)
		if !slices.Equal(ids(gl.resources()), []string{adminsID}) || gl.resources()[0]["members"] != nil {
			t.Fatalf("groups list %v", gl.body)
		}
		// Group ETags too.
		g := c.do("GET", "/Groups/"+adminsID, nil).want(t, 200)
		c.do("PATCH", "/Groups/"+adminsID, patch(map[string]any{"op": "replace", "path": "displayName", "value": "X"}), "If-Match", `W/"stale"`).want(t, 412)
		c.do("PUT", "/Groups/"+adminsID, map[string]any{"schemas": []string{urnGroup}, "displayName": "Admins", "members": []any{}},
			"If-Match", g.header.Get("ETag")).want(t, 200)
		if en.member(t, bo).Role != roster.OrgMember {
			t.Fatal("PUT without Bo did not take the group's role away")
		}
		c.do("DELETE", "/Groups/"+adminsID, nil).want(t, 204)
		c.do("GET", "/Groups/"+adminsID, nil).want(t, 404)

		// Okta's and Entra ID's de-provisioning: DELETE removes the member from the organization.
		c.do("DELETE", "/Users/"+bo, nil).want(t, 204)
		if _, err := en.App.Members.Get(ctx, en.owner, en.org.ID, bo); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("after delete: %v", err)
		}
		if en.auditSQL("member.removed", bo) != 1 {
			t.Fatal("the removal is not audited with the directory as actor")
		}
		c.do("GET", "/Users/"+bo, nil).want(t, 404)
		// Provisioned again later, the same account comes back (its domain is verified).
		if again := c.do("POST", "/Users", entra).want(t, 201); again.str("id") != bo {
			t.Fatalf("re-provisioned as %s, not %s", again.str("id"), bo)
		}

		runSCIMMY(t, en.checks)
	})
}

// TestSCIMAccountTakeover: a directory never attaches an existing account outside the
// organization unless its address is at a domain the organization verified.
func TestSCIMAccountTakeover(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		en := newEnv(t, e)
		c := en.scim
		_, stranger := en.User(t, "Sam") // sam.<unique>@example.com, not a member
		body := map[string]any{"schemas": []string{urnUser}, "userName": stranger.Email,
			"emails": []any{map[string]any{"value": stranger.Email, "primary": true}}}
		c.do("POST", "/Users", body).wantError(t, 409, "uniqueness")
		if _, err := en.App.Members.Get(ctx, en.owner, en.org.ID, stranger.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("the stranger was attached: %v", err)
		}
		// userName names a stranger's address while emails name a new one: the account is the
		// new address's, never the stranger's.
		other := map[string]any{"schemas": []string{urnUser}, "userName": stranger.Email,
			"emails": []any{map[string]any{"value": "fresh@new.example", "primary": true}}}
		made := c.do("POST", "/Users", other).want(t, 201)
		if made.str("id") == stranger.ID {
			t.Fatal("the stranger's account was attached")
		}
		// Once example.com is verified by the organization, its accounts are the organization's.
		en.verifyDomain(t, "example.com")
		_, colleague := en.User(t, "Cleo")
		if got := c.do("POST", "/Users", map[string]any{"schemas": []string{urnUser}, "userName": colleague.Email}).want(t, 201); got.str("id") != colleague.ID {
			t.Fatalf("attached %s, want %s", got.str("id"), colleague.ID)
		}
		runSCIMMY(t, en.checks)
	})
}

// TestSCIMTenantIsolation: a directory's token reaches its own organization only; a rotated
// or deleted directory's token is refused.
func TestSCIMTenantIsolation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		en := newEnv(t, e)
		a := en.scim
		ana := a.do("POST", "/Users", map[string]any{"schemas": []string{urnUser}, "userName": "ana@a.example"}).want(t, 201).str("id")
		ga := a.do("POST", "/Groups", map[string]any{"schemas": []string{urnGroup}, "displayName": "A team"}).want(t, 201).str("id")

		ownerB, _ := en.User(t, "Bruno")
		orgB := en.Org(t, ownerB, "Beta")
		_, memberB := en.User(t, "Bea")
		en.Join(t, ownerB, orgB.ID, memberB, roster.OrgMember)
		dirB, err := en.App.Directories.Create(ctx, ownerB, orgB.ID, "Entra")
		if err != nil {
			t.Fatal(err)
		}
		b := client{t: t, base: a.base, token: dirB.Token, checks: a.checks}
		gb := b.do("POST", "/Groups", map[string]any{"schemas": []string{urnGroup}, "displayName": "B team"}).want(t, 201).str("id")

		// A's token sees none of B's members or groups, and changes none.
		for _, r := range a.do("GET", "/Users", nil).want(t, 200).resources() {
			if r["id"] == memberB.ID || r["id"] == ownerB.UserID {
				t.Fatal("A lists a member of B")
			}
		}
		a.do("GET", "/Users/"+memberB.ID, nil).want(t, 404)
		a.do("PATCH", "/Users/"+memberB.ID, patch(map[string]any{"op": "replace", "value": map[string]any{"active": false}})).want(t, 404)
		a.do("PUT", "/Users/"+memberB.ID, map[string]any{"schemas": []string{urnUser}, "userName": memberB.Email, "active": false}).want(t, 404)
		a.do("DELETE", "/Users/"+memberB.ID, nil).want(t, 404)
		a.do("GET", "/Groups/"+gb, nil).want(t, 404)
		a.do("PATCH", "/Groups/"+gb, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": ana}}})).want(t, 404)
		a.do("DELETE", "/Groups/"+gb, nil).want(t, 404)
		a.do("PATCH", "/Groups/"+ga, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": memberB.ID}}})).wantError(t, 400, "invalidValue")
		if l := a.do("GET", "/Groups", nil).want(t, 200); !slices.Equal(ids(l.resources()), []string{ga}) {
			t.Fatalf("A's groups %v", l.body)
		}
		b.do("GET", "/Users/"+ana, nil).want(t, 404)
		if m, err := en.App.Members.Get(ctx, ownerB, orgB.ID, memberB.ID); err != nil || m.Status != roster.MembershipActive {
			t.Fatalf("B's member %+v %v", m, err)
		}
		// A's directory is not B's to manage, nor a member's of A.
		if _, err := en.App.Directories.RotateToken(ctx, ownerB, en.org.ID, en.dir.Directory.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("B's owner rotates A's directory: %v", err)
		}
		if _, err := en.App.Directories.List(ctx, ownerB, en.org.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("B's owner lists A's directories: %v", err)
		}
		mia, miaU := en.User(t, "Mia")
		en.Join(t, en.owner, en.org.ID, miaU, roster.OrgMember)
		if _, err := en.App.Directories.Create(ctx, mia, en.org.ID, "Mine"); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("a member creates a directory: %v", err)
		}
		if _, err := en.App.Directories.List(ctx, mia, en.org.ID); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("a member lists directories: %v", err)
		}
		// Tokens: a rotated one stops at once, a deleted directory's too; a session token or
		// an unknown one is no directory's.
		rot, err := en.App.Directories.RotateToken(ctx, en.owner, en.org.ID, en.dir.Directory.ID)
		if err != nil {
			t.Fatal(err)
		}
		a.do("GET", "/Users", nil).wantError(t, 401, "")
		fresh := client{t: t, base: a.base, token: rot.Token, checks: a.checks}
		fresh.do("GET", "/Users", nil).want(t, 200)
		if err := en.App.Directories.Delete(ctx, en.owner, en.org.ID, en.dir.Directory.ID); err != nil {
			t.Fatal(err)
		}
		fresh.do("GET", "/Users", nil).wantError(t, 401, "")
		client{t: t, base: a.base, token: "rscim_" + strings.Repeat("A", 43)}.do("GET", "/Users", nil).wantError(t, 401, "")
		client{t: t, base: a.base, token: "nonsense"}.do("GET", "/ServiceProviderConfig", nil).wantError(t, 401, "")
		if m, err := en.App.Members.Get(ctx, en.owner, en.org.ID, ana); err != nil || m.Status != roster.MembershipActive {
			t.Fatalf("deleting the directory changed its members: %+v %v", m, err)
		}
		runSCIMMY(t, *a.checks)
	})
}

// TestSCIMIfMatchUnderConcurrency: changes made at once against the same version: exactly one
// applies, the others get 412; a change made in the console also moves the version.
func TestSCIMIfMatchUnderConcurrency(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		en := newEnv(t, e)
		c := en.scim
		c.checks = nil
		id := c.do("POST", "/Users", map[string]any{"schemas": []string{urnUser}, "userName": "race@race.example"}).want(t, 201).str("id")
		etag := c.do("GET", "/Users/"+id, nil).want(t, 200).header.Get("ETag")
		const n = 8
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("PATCH", c.base+"/Users/"+id, strings.NewReader(`{"schemas":["`+urnPatchOp+`"],"Operations":[{"op":"replace","path":"title","value":"T`+itoa(i)+`"}]}`))
				req.Header.Set("Authorization", "Bearer "+c.token)
				req.Header.Set("Content-Type", "application/scim+json")
				req.Header.Set("If-Match", etag)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[200] != 1 || count[412] != n-1 {
			t.Fatalf("statuses %v: want one 200 and %d 412", count, n-1)
		}
		// The console suspends the member: the directory's version is stale.
		etag = c.do("GET", "/Users/"+id, nil).want(t, 200).header.Get("ETag")
		if err := en.App.Members.Suspend(ctx, en.owner, en.org.ID, id); err != nil {
			t.Fatal(err)
		}
		c.do("PATCH", "/Users/"+id, patch(map[string]any{"op": "replace", "path": "active", "value": true}), "If-Match", etag).want(t, 412)
		if got := c.do("GET", "/Users/"+id, nil).want(t, 200); got.body["active"] != false || got.header.Get("ETag") == etag {
			t.Fatalf("after the console's suspension %v", got.body)
		}
	})
}
