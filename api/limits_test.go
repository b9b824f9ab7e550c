package api_test

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// schemaLimits says which constant of limits.go each bound of the OpenAPI document states:
// by "Schema.field" first, then by field (a query or path parameter, or a body field).
var schemaLimits = map[string]int{
	// maxLength
	"name": roster.MaxNameLength, "CreateRoleInputBody.name": roster.MaxRoleNameLength, "UpdateRoleInputBody.name": roster.MaxRoleNameLength,
	"description": roster.MaxDescriptionLength, "area": roster.MaxAreaLength, "q": roster.MaxSearchLength,
	"message": roster.MaxInvitationMessage, "website": roster.MaxWebsiteLength, "email": roster.MaxEmailLength,
	"password": roster.MaxPasswordField, "current_password": roster.MaxPasswordField, "new_password": roster.MaxPasswordField,
	"token": roster.MaxTokenLength, "mfa_token": roster.MaxTokenLength, "code": roster.MaxCodeLength, "time_zone": roster.MaxTimeZoneLength, "permission": roster.MaxPermissionKey,
	"key": roster.MaxPermissionKey, "backchannel_logout_uri": roster.MaxURILength,
	"legal_name": roster.MaxLegalNameLength, "address_line1": roster.MaxAddressLineLength, "address_line2": roster.MaxAddressLineLength,
	"city": roster.MaxCityLength, "region": roster.MaxRegionLength, "postal_code": roster.MaxPostalCodeLength,
	"phone": roster.MaxPhoneLength, "currency": roster.CurrencyCodeLength, "country": roster.CountryCodeLength,
	"id": roster.MaxIDLength, "cursor": roster.MaxIDLength, "user_id": roster.MaxIDLength, "organization_id": roster.MaxIDLength,
	"store_id": roster.MaxIDLength, "event_id": roster.MaxIDLength, "after": roster.MaxIDLength, "Last-Event-ID": roster.MaxIDLength, "wait": roster.MaxDurationLength, "role_id": roster.MaxIDLength, "actor_id": roster.MaxIDLength, "target_id": roster.MaxIDLength,
	"session": roster.MaxIDLength, "passkey": roster.MaxIDLength, "user": roster.MaxIDLength, "org": roster.MaxIDLength, "store": roster.MaxIDLength,
	"role": roster.MaxIDLength, "replacement_role_id": roster.MaxIDLength, "action": roster.MaxSearchLength,
	"param.key": roster.MaxIDLength, "param.user": roster.MaxIDLength, "param.group": roster.MaxIDLength,
	"/v1/admin/users/{user}/deactivate.user": roster.MaxEmailLength, // an ID or an address
	"/v1/admin/users/{user}/reactivate.user": roster.MaxEmailLength,
	"/v1/admin/users/{user}/factors.user":    roster.MaxEmailLength,
	"/v1/permissions/{key}.key":              roster.MaxPermissionKey,
	"issuer":                                 roster.MaxURILength, "idp_metadata_url": roster.MaxURILength, "client_id": roster.MaxSSOClientID,
	"client_secret": roster.MaxSSOClientSecret, "email_claim": roster.MaxSSOClaimLength, "name_claim": roster.MaxSSOClaimLength,
	"groups_claim": roster.MaxSSOClaimLength, "idp_metadata_xml": roster.MaxSSOMetadataBytes, "group": roster.MaxSSOGroupLength,
	"role_mappings": roster.MaxSSORoleMappings, "SsoInBody.scopes": roster.MaxSSOScopes,
	// maxItems
	"permissions": roster.MaxRolePermissions, "stores": roster.MaxStoreGrants, "invitations": roster.MaxImportRows,
	"checks": roster.MaxBatchChecks, "allowed_domains": roster.MaxAllowedDomains, "redirect_uris": roster.MaxRedirectURIs,
	"post_logout_redirect_uris": roster.MaxRedirectURIs, "scopes": roster.MaxClientScopes,
	"cors_origins": roster.MaxCORSOrigins, "domain": roster.MaxDomainLength,
	// maximum
	"limit": roster.MaxPageSize, "store_credits": roster.MaxStoreCredits, "invitation_ttl_hours": roster.MaxInvitationTTLHours,
	"access_token_ttl": roster.MaxAccessTokenSeconds, "refresh_token_ttl": roster.MaxRefreshTokenSeconds,
}

// TestLimitsMatchTheSchema: every maxLength, maxItems and maximum of the OpenAPI document is a
// constant of limits.go, with its value; so is every maxlength of the console's templates.
func TestLimitsMatchTheSchema(t *testing.T) {
	s := newServer(t, sqlstore.SQLite)
	var doc map[string]any
	s.do(t, "GET", "/openapi.json", "", nil).json(t, &doc)

	var problems []string
	seen := 0
	check := func(where, schema, field string, node map[string]any) {
		for _, kw := range []string{"maxLength", "maxItems", "maximum"} {
			v, ok := node[kw].(float64)
			if !ok {
				continue
			}
			seen++
			want, known := schemaLimits[schema+"."+field]
			if !known {
				want, known = schemaLimits[field]
			}
			switch {
			case !known:
				problems = append(problems, fmt.Sprintf("%s: %s %s=%v names no constant of limits.go (add it to schemaLimits)", where, field, kw, v))
			case int(v) != want:
				problems = append(problems, fmt.Sprintf("%s: %s %s=%v, but limits.go says %d", where, field, kw, v, want))
			}
		}
	}
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, raw := range schemas {
		props, _ := raw.(map[string]any)["properties"].(map[string]any)
		for field, p := range props {
			check("schema "+name, name, field, p.(map[string]any))
		}
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if sch, ok := pm["schema"].(map[string]any); ok {
					name := pm["name"].(string)
					where := strings.ToUpper(method) + " " + path
					if _, ok := schemaLimits[path+"."+name]; ok {
						check(where, path, name, sch)
					} else {
						check(where, "param", name, sch)
					}
				}
			}
		}
	}
	if seen < 50 {
		t.Fatalf("only %d bounds found in the OpenAPI document: the walk is broken", seen)
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}

	// The console's fields take their maxlength from limits.go (the maxlen function); a literal
	// number is allowed only for a code whose pattern fixes its length.
	literal := regexp.MustCompile(`<input[^>]*maxlength="\d+"[^>]*>|<textarea[^>]*maxlength="\d+"`)
	dir := "../console/templates"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllString(string(b), -1) {
			if !strings.Contains(m, "pattern=") {
				t.Errorf("%s: a literal maxlength: %s (use maxlen)", e.Name(), m)
			}
		}
	}
}

// TestReadmeListsTheLimits: the README's "Limits" table shows each limit with its value.
func TestReadmeListsTheLimits(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(Max\\w+|DefaultPageSize)` \\| ([0-9,]+) \\|").FindAllStringSubmatch(string(b), -1) {
		rows[m[1]] = strings.ReplaceAll(m[2], ",", "")
	}
	for name, v := range readmeLimits {
		if got, ok := rows[name]; !ok {
			t.Errorf("README: no row for %s in the Limits table", name)
		} else if got != strconv.Itoa(v) {
			t.Errorf("README: %s is %s, limits.go says %d", name, got, v)
		}
	}
}

var readmeLimits = map[string]int{
	"MaxNameLength": roster.MaxNameLength, "MaxRoleNameLength": roster.MaxRoleNameLength,
	"MaxDescriptionLength": roster.MaxDescriptionLength, "MaxSearchLength": roster.MaxSearchLength,
	"MaxInvitationMessage": roster.MaxInvitationMessage, "MaxEmailLength": roster.MaxEmailLength,
	"MaxWebsiteLength": roster.MaxWebsiteLength, "DefaultPageSize": roster.DefaultPageSize, "MaxPageSize": roster.MaxPageSize,
	"MaxRolePermissions": roster.MaxRolePermissions, "MaxStoreGrants": roster.MaxStoreGrants, "MaxImportRows": roster.MaxImportRows,
	"MaxBatchChecks": roster.MaxBatchChecks, "MaxAllowedDomains": roster.MaxAllowedDomains,
	"MaxPermissionsFile": roster.MaxPermissionsFile, "MaxStoreCredits": roster.MaxStoreCredits,
	"MaxInvitationTTLHours": roster.MaxInvitationTTLHours, "MaxRedirectURIs": roster.MaxRedirectURIs,
	"MaxClientScopes": roster.MaxClientScopes, "MaxAccessTokenSeconds": roster.MaxAccessTokenSeconds,
	"MaxRefreshTokenSeconds": roster.MaxRefreshTokenSeconds, "MaxDomainLength": roster.MaxDomainLength,
	"MaxDirectories": roster.MaxDirectories, "MaxSetupLinks": roster.MaxSetupLinks, "MaxSCIMGroups": roster.MaxSCIMGroups, "MaxSCIMGroupMembers": roster.MaxSCIMGroupMembers,
	"MaxSCIMPatchOps": roster.MaxSCIMPatchOps, "MaxSCIMPageSize": roster.MaxSCIMPageSize, "MaxSCIMAttributes": roster.MaxSCIMAttributes,
}
