package scim

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/app"
)

// coreUserAttributes are RFC 7643's User attributes, by lower-case name: keys sent in another
// case are stored under these names.
var coreUserAttributes = map[string]string{}

func init() {
	for _, a := range []string{"userName", "name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage",
		"locale", "timezone", "active", "password", "emails", "phoneNumbers", "ims", "photos", "addresses", "groups", "entitlements",
		"roles", "x509Certificates", "externalId", "id", "meta", "schemas"} {
		coreUserAttributes[strings.ToLower(a)] = a
	}
	coreUserAttributes[strings.ToLower(URNEnterprise)] = URNEnterprise
}

// canonical renames the top-level keys of a user to RFC 7643's spelling.
func canonical(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if c, ok := coreUserAttributes[strings.ToLower(k)]; ok {
			k = c
		}
		out[k] = v
	}
	return out
}

// notKept are the attributes Roster does not keep as the directory's own: they are its own
// fields (userName, externalId, active), computed (id, meta, groups, schemas), or a secret it
// never stores (password).
var notKept = []string{"schemas", "id", "meta", "userName", "externalId", "active", "groups", "password"}

// userInput reads a user as the directory describes it.
func userInput(m map[string]any) (app.SCIMUserInput, error) {
	m = canonical(m)
	var in app.SCIMUserInput
	var ok bool
	if in.UserName, ok = m["userName"].(string); !ok || strings.TrimSpace(in.UserName) == "" {
		return in, badRequest("invalidValue", "userName is required and must be a string")
	}
	if v, present := m["externalId"]; present && v != nil {
		if in.ExternalID, ok = v.(string); !ok {
			return in, badRequest("invalidValue", "externalId must be a string")
		}
	}
	in.Active = true
	if v, present := m["active"]; present && v != nil {
		if in.Active, ok = boolOf(v); !ok {
			return in, badRequest("invalidValue", "active must be a boolean")
		}
	}
	in.Name = displayName(m)
	in.Email = primaryEmail(m)
	if in.Email == "" {
		in.Email = in.UserName
	}
	kept := map[string]any{}
	for k, v := range m {
		if !contains(notKept, k) && v != nil {
			kept[k] = v
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return in, badRequest("invalidValue", "the user's attributes could not be read")
	}
	in.Attributes = string(b)
	return in, nil
}

// displayName is the name Roster shows: displayName, else name.formatted, else the given and
// family names.
func displayName(m map[string]any) string {
	if s, ok := field(m, "displayName").(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	name, _ := field(m, "name").(map[string]any)
	if s, ok := field(name, "formatted").(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	given, _ := field(name, "givenName").(string)
	family, _ := field(name, "familyName").(string)
	return strings.TrimSpace(given + " " + family)
}

// primaryEmail is the user's primary address, else the work one, else the first.
func primaryEmail(m map[string]any) string {
	var first, work string
	for _, e := range asList(field(m, "emails")) {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		v, _ := field(em, "value").(string)
		if v == "" {
			continue
		}
		if p, _ := boolOf(field(em, "primary")); p {
			return v
		}
		if t, _ := field(em, "type").(string); strings.EqualFold(t, "work") && work == "" {
			work = v
		}
		if first == "" {
			first = v
		}
	}
	if work != "" {
		return work
	}
	return first
}

func (s *server) userLocation(id string) string { return s.base + "/Users/" + id }

// userResource renders a member as a SCIM User: what the directory said, and Roster's own
// truths (id, userName, active, groups, meta).
func (s *server) userResource(r app.SCIMUserRecord) map[string]any {
	res := map[string]any{}
	userName := r.User.Email
	if r.Link != nil {
		dec := json.NewDecoder(strings.NewReader(r.Link.Attributes))
		dec.UseNumber()
		_ = dec.Decode(&res) // written by userInput: a JSON object
		if res == nil {
			res = map[string]any{}
		}
		userName = r.Link.UserName
		if r.Link.ExternalID != "" {
			res["externalId"] = r.Link.ExternalID
		}
	}
	schemas := []string{URNUser}
	if _, ok := res[URNEnterprise]; ok {
		schemas = append(schemas, URNEnterprise)
	}
	res["schemas"] = schemas
	res["id"] = r.User.ID
	res["userName"] = userName
	if _, ok := res["name"]; !ok {
		res["name"] = map[string]any{"formatted": r.User.Name}
	}
	if _, ok := res["displayName"]; !ok {
		res["displayName"] = r.User.Name
	}
	if _, ok := res["emails"]; !ok {
		res["emails"] = []any{map[string]any{"value": r.User.Email, "type": "work", "primary": true}}
	}
	res["active"] = r.Active()
	groups := []any{}
	for _, g := range r.Groups {
		groups = append(groups, map[string]any{"value": g.ID, "display": g.DisplayName, "$ref": s.base + "/Groups/" + g.ID, "type": "direct"})
	}
	if len(groups) > 0 {
		res["groups"] = groups
	}
	modified := r.Membership.UpdatedAt
	if r.User.UpdatedAt.After(modified) {
		modified = r.User.UpdatedAt
	}
	if r.Link != nil && r.Link.UpdatedAt.After(modified) {
		modified = r.Link.UpdatedAt
	}
	res["meta"] = meta{ResourceType: "User", Created: stamp(r.Membership.CreatedAt), LastModified: stamp(modified),
		Location: s.userLocation(r.User.ID), Version: r.Version()}
	return res
}

// writeUser answers one user with its ETag.
func (s *server) writeUser(w http.ResponseWriter, status int, r app.SCIMUserRecord) {
	w.Header().Set("ETag", r.Version())
	if status == http.StatusCreated {
		w.Header().Set("Location", s.userLocation(r.User.ID))
	}
	writeJSON(w, status, s.userResource(r))
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request) error {
	return s.queryUsers(w, r, r.URL.Query().Get)
}

// searchUsers is POST /Users/.search (RFC 7644 §3.4.3): the query in the body.
func (s *server) searchUsers(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return s.queryUsers(w, r, searchParams(body))
}

// searchParams reads a SearchRequest's parameters as a query string's.
func searchParams(body map[string]any) func(string) string {
	return func(name string) string {
		switch v := field(body, name).(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		case []any:
			var parts []string
			for _, x := range v {
				if s, ok := x.(string); ok {
					parts = append(parts, s)
				}
			}
			return strings.Join(parts, ",")
		}
		return ""
	}
}

func (s *server) queryUsers(w http.ResponseWriter, r *http.Request, q func(string) string) error {
	f, err := parseFilter(q("filter"))
	if err != nil {
		return err
	}
	p, err := pageOf(q)
	if err != nil {
		return err
	}
	recs, err := s.app.SCIM.Users(r.Context(), actorOf(r.Context()), userNameOf(f))
	if err != nil {
		return err
	}
	proj := projectionOf(q)
	var found []map[string]any
	for _, rec := range recs {
		if res := s.userResource(rec); matches(f, res) {
			found = append(found, proj.apply(res))
		}
	}
	writeJSON(w, http.StatusOK, list(found, p))
	return nil
}

func (s *server) getUser(w http.ResponseWriter, r *http.Request, id string) error {
	rec, err := s.app.SCIM.User(r.Context(), actorOf(r.Context()), id)
	if err != nil {
		return err
	}
	if notModified(w, r, rec.Version()) {
		return nil
	}
	w.Header().Set("ETag", rec.Version())
	writeJSON(w, http.StatusOK, projectionOf(r.URL.Query().Get).apply(s.userResource(rec)))
	return nil
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	in, err := userInput(body)
	if err != nil {
		return err
	}
	rec, err := s.app.SCIM.CreateUser(r.Context(), actorOf(r.Context()), in)
	if err != nil {
		return err
	}
	s.writeUser(w, http.StatusCreated, rec)
	return nil
}

// replaceUser is PUT: the body is the whole user.
func (s *server) replaceUser(w http.ResponseWriter, r *http.Request, id string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	in, err := userInput(body)
	if err != nil {
		return err
	}
	rec, err := s.app.SCIM.UpdateUser(r.Context(), actorOf(r.Context()), id, ifMatch(r), func(app.SCIMUserRecord) (app.SCIMUserInput, error) {
		return in, nil
	})
	if err != nil {
		return err
	}
	s.writeUser(w, http.StatusOK, rec)
	return nil
}

// patchUser applies a PATCH to the user as it is in the transaction.
func (s *server) patchUser(w http.ResponseWriter, r *http.Request, id string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	ops, err := readPatch(body)
	if err != nil {
		return err
	}
	rec, err := s.app.SCIM.UpdateUser(r.Context(), actorOf(r.Context()), id, ifMatch(r), func(cur app.SCIMUserRecord) (app.SCIMUserInput, error) {
		res := s.userResource(cur)
		for _, k := range []string{"schemas", "id", "meta", "groups"} {
			delete(res, k)
		}
		// Round trip through JSON: the patch works on a copy made of plain JSON values.
		b, err := json.Marshal(res)
		if err != nil {
			return app.SCIMUserInput{}, err
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return app.SCIMUserInput{}, err
		}
		if err := applyPatch(m, ops); err != nil {
			return app.SCIMUserInput{}, err
		}
		return userInput(m)
	})
	if err != nil {
		return err
	}
	s.writeUser(w, http.StatusOK, rec)
	return nil
}

func (s *server) deleteUser(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.app.SCIM.DeleteUser(r.Context(), actorOf(r.Context()), id, ifMatch(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
