package roster_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

func TestSSORoleFor(t *testing.T) {
	c := roster.SSOConnection{DefaultRole: roster.OrgMember, RoleMappings: []roster.SSORoleMapping{
		{Group: "sales", Stores: map[string]string{"sto_a": "member"}},
		{Group: "eng", OrgRole: roster.OrgAdmin, Stores: map[string]string{"sto_a": "viewer", "sto_b": "admin"}},
		{Group: "interns", OrgRole: roster.OrgMember},
	}}
	for _, tc := range []struct {
		groups []string
		role   roster.OrgRole
		stores map[string]string
	}{
		{nil, roster.OrgMember, map[string]string{}},
		{[]string{"unknown"}, roster.OrgMember, map[string]string{}},
		{[]string{"sales"}, roster.OrgMember, map[string]string{"sto_a": "member"}},
		{[]string{"eng", "interns"}, roster.OrgAdmin, map[string]string{"sto_a": "viewer", "sto_b": "admin"}},
		{[]string{"sales", "eng"}, roster.OrgAdmin, map[string]string{"sto_a": "member", "sto_b": "admin"}}, // the first mapping naming a store wins
		{[]string{"Eng"}, roster.OrgMember, map[string]string{}},                                            // groups match exactly
	} {
		role, stores := c.SSORoleFor(tc.groups)
		if role != tc.role || !maps.Equal(stores, tc.stores) {
			t.Errorf("%v: %s %v, want %s %v", tc.groups, role, stores, tc.role, tc.stores)
		}
	}
	if role, _ := (roster.SSOConnection{}).SSORoleFor(nil); role != roster.OrgMember {
		t.Errorf("no default role: %s", role)
	}
}

func TestCheckSSO(t *testing.T) {
	good := roster.SSOConnection{Protocol: roster.SSOOIDC, Issuer: "https://idp.example", ClientID: "c", DefaultRole: roster.OrgMember}
	if err := roster.CheckSSO(good); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit  func(*roster.SSOConnection)
		field string
	}{
		"protocol":        {func(c *roster.SSOConnection) { c.Protocol = "ldap" }, "protocol"},
		"issuer scheme":   {func(c *roster.SSOConnection) { c.Issuer = "javascript:alert(1)" }, "issuer"},
		"issuer userinfo": {func(c *roster.SSOConnection) { c.Issuer = "https://u:p@idp.example" }, "issuer"},
		"issuer too long": {func(c *roster.SSOConnection) {
			c.Issuer = "https://idp.example/" + strings.Repeat("a", roster.MaxURILength)
		}, "issuer"},
		"no client":        {func(c *roster.SSOConnection) { c.ClientID = "" }, "client_id"},
		"scope with space": {func(c *roster.SSOConnection) { c.Scopes = []string{"a b"} }, "scopes"},
		"owner by default": {func(c *roster.SSOConnection) { c.DefaultRole = roster.OrgOwner }, "default_role"},
		"owner by mapping": {func(c *roster.SSOConnection) {
			c.RoleMappings = []roster.SSORoleMapping{{Group: "g", OrgRole: roster.OrgOwner}}
		}, "role_mappings"},
		"empty group":  {func(c *roster.SSOConnection) { c.RoleMappings = []roster.SSORoleMapping{{Group: ""}} }, "role_mappings"},
		"saml nothing": {func(c *roster.SSOConnection) { c.Protocol = roster.SSOSAML }, "idp_metadata_url"},
		"too many maps": {func(c *roster.SSOConnection) {
			c.RoleMappings = make([]roster.SSORoleMapping, roster.MaxSSORoleMappings+1)
		}, "role_mappings"},
	} {
		c := good
		tc.edit(&c)
		err := roster.CheckSSO(c)
		found := false
		for _, fe := range roster.FieldErrors(roster.AsError(err)) {
			found = found || fe.Field == tc.field
		}
		if e := roster.AsError(err); e != nil && e.Field == tc.field {
			found = true
		}
		if !found {
			t.Errorf("%s: %v, want a refusal of %s", name, err, tc.field)
		}
	}
}
