package api_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestDomainsAPI walks a domain through the API against a local DNS server: added with its
// record, refused for a free provider, not verified before the record is published, verified
// after, claimed by no second organization, its join policy set, invitations restricted to it;
// each refusal a problem with its code.
func TestDomainsAPI(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		s := newServer(t, e, func(c *app.Config) { c.DNSResolver = dns.Addr })
		newOrg := func(name string) (token, orgID string) {
			token, _ = s.signup(t, name)
			var org struct{ ID string }
			r := s.do(t, "POST", "/v1/organizations", token, map[string]string{"name": name})
			if r.status != 201 {
				t.Fatal(r)
			}
			r.json(t, &org)
			return token, org.ID
		}
		refused := func(r response, status int, code string) {
			t.Helper()
			var p problem
			if r.status != status {
				t.Fatalf("want %d %s, got %s", status, code, r)
			}
			r.json(t, &p)
			if p.Code != code {
				t.Fatalf("want code %s, got %+v", code, p)
			}
		}
		type domain struct {
			ID, Domain, Status, RecordName, RecordValue, JoinPolicy, JoinRole string
		}
		owner, org := newOrg("Acme")
		base := "/v1/organizations/" + org + "/domains"
		refused(s.do(t, "POST", base, owner, map[string]string{"domain": "Hotmail.com"}), 422, "free_email_provider_blocked")
		refused(s.do(t, "POST", base, owner, map[string]string{"domain": "co.uk"}), 422, "invalid")
		r := s.do(t, "POST", base, owner, map[string]string{"domain": "ACME.example."})
		if r.status != 201 {
			t.Fatal(r)
		}
		var raw map[string]any
		r.json(t, &raw)
		d := domain{ID: raw["id"].(string), Domain: raw["domain"].(string), Status: raw["status"].(string),
			RecordName: raw["record_name"].(string), RecordValue: raw["record_value"].(string)}
		if d.Domain != "acme.example" || d.Status != "pending" || d.RecordName != "_roster-verification.acme.example" || len(d.RecordValue) < 40 {
			t.Fatalf("added %+v", raw)
		}
		refused(s.do(t, "POST", base, owner, map[string]string{"domain": "acme.example"}), 409, "conflict")
		refused(s.do(t, "POST", base+"/"+d.ID+"/verify", owner, nil), 422, "domain_verification_failed")
		refused(s.do(t, "PUT", base+"/"+d.ID+"/join", owner, map[string]string{"join_policy": "automatic"}), 409, "conflict")
		dns.SetTXT(d.RecordName, d.RecordValue)
		if r := s.do(t, "POST", base+"/"+d.ID+"/verify", owner, nil); r.status != 200 || !contains(r, `"status":"verified"`) {
			t.Fatal(r)
		}
		refused(s.do(t, "PUT", base+"/"+d.ID+"/join", owner, map[string]string{"join_policy": "automatic", "join_role": "owner"}), 422, "invalid")
		if r := s.do(t, "PUT", base+"/"+d.ID+"/join", owner, map[string]string{"join_policy": "automatic"}); r.status != 200 ||
			!contains(r, `"join_policy":"automatic"`) || !contains(r, `"join_role":"member"`) {
			t.Fatal(r)
		}

		rival, rivalOrg := newOrg("Rival")
		rbase := "/v1/organizations/" + rivalOrg + "/domains"
		r = s.do(t, "POST", rbase, rival, map[string]string{"domain": "acme.example"})
		if r.status != 201 {
			t.Fatal(r)
		}
		r.json(t, &raw)
		refused(s.do(t, "POST", rbase+"/"+raw["id"].(string)+"/verify", rival, nil), 409, "domain_claimed")
		refused(s.do(t, "GET", base+"/"+d.ID, rival, nil), 404, "not_found")
		refused(s.do(t, "GET", rbase+"/"+d.ID, rival, nil), 404, "not_found")

		if r := s.do(t, "PUT", "/v1/organizations/"+org+"/policy", owner, map[string]any{"verified_domains_only": true}); r.status != 200 || !contains(r, `"verified_domains_only":true`) {
			t.Fatal(r)
		}
		inv := "/v1/organizations/" + org + "/invitations"
		refused(s.do(t, "POST", inv, owner, map[string]string{"email": "someone@elsewhere.example"}), 422, "email_domain_not_verified")
		if r := s.do(t, "POST", inv, owner, map[string]string{"email": "someone@acme.example"}); r.status != 201 {
			t.Fatal(r)
		}
		if r := s.do(t, "DELETE", base+"/"+d.ID, owner, nil); r.status != 204 {
			t.Fatal(r)
		}
		if r := s.do(t, "GET", base, owner, nil); r.status != 200 || contains(r, "acme.example") {
			t.Fatal(r)
		}
	})
}

// contains reports whether an answer's body holds s.
func contains(r response, s string) bool { return strings.Contains(string(r.body), s) }
