package scim

import (
	"fmt"
	"net/http"

	"github.com/elimity-com/scim/schema"

	"github.com/rosterhq/roster"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// serviceProviderConfig says what this service supports (RFC 7643 §5).
func (s *server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{URNSPConfig},
		"documentationUri": s.base[:len(s.base)-len(Prefix)] + "/docs",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": roster.MaxSCIMPageSize},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "The token of one of the organization's SCIM directories, created by its owner or an admin in the console or the API",
		}},
		"meta": meta{ResourceType: "ServiceProviderConfig", Location: s.base + "/ServiceProviderConfig"},
	})
	return nil
}

func (s *server) resourceTypeList() []map[string]any {
	return []map[string]any{
		{
			"schemas": []string{URNResourceTyp}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "A member of the organization", "schema": URNUser,
			"schemaExtensions": []any{map[string]any{"schema": URNEnterprise, "required": false}},
			"meta":             meta{ResourceType: "ResourceType", Location: s.base + "/ResourceTypes/User"},
		},
		{
			"schemas": []string{URNResourceTyp}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "A group of the directory, which the organization maps to a role", "schema": URNGroup,
			"meta": meta{ResourceType: "ResourceType", Location: s.base + "/ResourceTypes/Group"},
		},
	}
}

func (s *server) resourceTypes(w http.ResponseWriter, r *http.Request, id string) error {
	all := s.resourceTypeList()
	if id == "" {
		writeJSON(w, http.StatusOK, list(all, page{start: 1, count: len(all)}))
		return nil
	}
	for _, t := range all {
		if t["id"] == id {
			writeJSON(w, http.StatusOK, t)
			return nil
		}
	}
	s.fail(w, r, roster.NotFound("resource type"))
	return nil
}

// schemaList is RFC 7643's schemas of the resources served, as elimity-com/scim defines them.
func (s *server) schemaList() []map[string]any {
	var out []map[string]any
	for _, sc := range []schema.Schema{schema.CoreUserSchema(), schema.ExtensionEnterpriseUser(), schema.CoreGroupSchema()} {
		m := sc.ToMap()
		m["schemas"] = []string{URNSchema}
		m["meta"] = meta{ResourceType: "Schema", Location: s.base + "/Schemas/" + sc.ID}
		out = append(out, m)
	}
	return out
}

func (s *server) schemas(w http.ResponseWriter, r *http.Request, id string) error {
	all := s.schemaList()
	if id == "" {
		writeJSON(w, http.StatusOK, list(all, page{start: 1, count: len(all)}))
		return nil
	}
	for _, sc := range all {
		if sc["id"] == id {
			writeJSON(w, http.StatusOK, sc)
			return nil
		}
	}
	s.fail(w, r, roster.NotFound("schema"))
	return nil
}
