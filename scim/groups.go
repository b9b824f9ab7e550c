package scim

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster/app"
)

func (s *server) groupLocation(id string) string { return s.base + "/Groups/" + id }

// groupResource renders a directory's group as a SCIM Group.
func (s *server) groupResource(r app.SCIMGroupRecord) map[string]any {
	members := []any{}
	for _, u := range r.Members {
		members = append(members, map[string]any{"value": u.ID, "display": u.Name, "$ref": s.userLocation(u.ID), "type": "User"})
	}
	res := map[string]any{
		"schemas":     []string{URNGroup},
		"id":          r.Group.ID,
		"displayName": r.Group.DisplayName,
		"members":     members,
		"meta": meta{ResourceType: "Group", Created: stamp(r.Group.CreatedAt), LastModified: stamp(r.Group.UpdatedAt),
			Location: s.groupLocation(r.Group.ID), Version: r.Version()},
	}
	if r.Group.ExternalID != "" {
		res["externalId"] = r.Group.ExternalID
	}
	return res
}

func (s *server) writeGroup(w http.ResponseWriter, status int, r app.SCIMGroupRecord) {
	w.Header().Set("ETag", r.Version())
	if status == http.StatusCreated {
		w.Header().Set("Location", s.groupLocation(r.Group.ID))
	}
	writeJSON(w, status, s.groupResource(r))
}

// groupInput reads a group as the directory describes it.
func groupInput(m map[string]any) (app.SCIMGroupInput, error) {
	var in app.SCIMGroupInput
	var ok bool
	if in.DisplayName, ok = field(m, "displayName").(string); !ok || strings.TrimSpace(in.DisplayName) == "" {
		return in, badRequest("invalidValue", "displayName is required and must be a string")
	}
	if v := field(m, "externalId"); v != nil {
		if in.ExternalID, ok = v.(string); !ok {
			return in, badRequest("invalidValue", "externalId must be a string")
		}
	}
	ids, err := memberIDs(field(m, "members"))
	in.Members = ids
	return in, err
}

// memberIDs reads the value of each member.
func memberIDs(v any) ([]string, error) {
	ids := []string{}
	for _, el := range asList(v) {
		m, ok := el.(map[string]any)
		id, _ := field(m, "value").(string)
		if !ok || id == "" {
			return nil, badRequest("invalidValue", "each member needs a value: the user's id")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *server) listGroups(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get
	f, err := parseFilter(q("filter"))
	if err != nil {
		return err
	}
	p, err := pageOf(q)
	if err != nil {
		return err
	}
	recs, err := s.app.SCIM.Groups(r.Context(), actorOf(r.Context()))
	if err != nil {
		return err
	}
	proj := projectionOf(q)
	var found []map[string]any
	for _, rec := range recs {
		if res := s.groupResource(rec); matches(f, res) {
			found = append(found, proj.apply(res))
		}
	}
	writeJSON(w, http.StatusOK, list(found, p))
	return nil
}

func (s *server) getGroup(w http.ResponseWriter, r *http.Request, id string) error {
	rec, err := s.app.SCIM.Group(r.Context(), actorOf(r.Context()), id)
	if err != nil {
		return err
	}
	if notModified(w, r, rec.Version()) {
		return nil
	}
	w.Header().Set("ETag", rec.Version())
	writeJSON(w, http.StatusOK, projectionOf(r.URL.Query().Get).apply(s.groupResource(rec)))
	return nil
}

func (s *server) createGroup(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	in, err := groupInput(body)
	if err != nil {
		return err
	}
	rec, err := s.app.SCIM.CreateGroup(r.Context(), actorOf(r.Context()), in)
	if err != nil {
		return err
	}
	s.writeGroup(w, http.StatusCreated, rec)
	return nil
}

func (s *server) replaceGroup(w http.ResponseWriter, r *http.Request, id string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	in, err := groupInput(body)
	if err != nil {
		return err
	}
	rec, err := s.app.SCIM.UpdateGroup(r.Context(), actorOf(r.Context()), id, ifMatch(r), func(app.SCIMGroupRecord) (app.SCIMGroupInput, error) {
		return in, nil
	})
	if err != nil {
		return err
	}
	s.writeGroup(w, http.StatusOK, rec)
	return nil
}

// patchGroup applies a PATCH to a group as it is in the transaction: displayName,
// externalId and members (add, remove by filter or by value, replace).
func (s *server) patchGroup(w http.ResponseWriter, r *http.Request, id string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	ops, err := readPatch(body)
	if err != nil {
		return err
	}
	rec, err := s.app.SCIM.UpdateGroup(r.Context(), actorOf(r.Context()), id, ifMatch(r), func(cur app.SCIMGroupRecord) (app.SCIMGroupInput, error) {
		members := []any{}
		for _, id := range cur.MemberIDs() {
			members = append(members, map[string]any{"value": id})
		}
		m := map[string]any{"displayName": cur.Group.DisplayName, "members": members}
		if cur.Group.ExternalID != "" {
			m["externalId"] = cur.Group.ExternalID
		}
		if err := applyPatch(m, ops); err != nil {
			return app.SCIMGroupInput{}, err
		}
		return groupInput(m)
	})
	if err != nil {
		return err
	}
	s.writeGroup(w, http.StatusOK, rec)
	return nil
}

func (s *server) deleteGroup(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.app.SCIM.DeleteGroup(r.Context(), actorOf(r.Context()), id, ifMatch(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
