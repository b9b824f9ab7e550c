// Package scim is Roster's SCIM 2.0 door (RFC 7643, RFC 7644): identity providers such as
// Okta and Microsoft Entra ID provision an organization's members through it, each with the
// bearer token of one of the organization's directories (app/scim.go). It speaks SCIM's own
// media type (application/scim+json) and error format, and calls app for everything: a SCIM
// deactivation runs the same rules as a console click.
//
// Filters and PATCH paths are parsed by github.com/scim2/filter-parser/v2; the schema
// documents served at /Schemas are github.com/elimity-com/scim's definitions of RFC 7643's
// schemas. Users are the organization's members (id: the Roster user ID); Groups are the
// directory's own groups, which owners and admins map to roles.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// Prefix is where the SCIM service is served: the base URL identity providers are given is
// ROSTER_BASE_URL followed by it.
const Prefix = "/scim/v2"

// SCIM's URNs.
const (
	URNUser        = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNGroup       = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNEnterprise  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNError       = "urn:ietf:params:scim:api:messages:2.0:Error"
	URNListResp    = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNPatchOp     = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNSPConfig    = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNResourceTyp = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URNSchema      = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// MediaType is SCIM's media type (RFC 7644 §8.1).
const MediaType = "application/scim+json"

// Options configures the door.
type Options struct {
	Log *slog.Logger
}

type server struct {
	app  *app.App
	log  *slog.Logger
	base string // absolute URL of the service, for meta.location
}

// Register mounts the SCIM service under Prefix.
func Register(mux *http.ServeMux, a *app.App, o Options) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{app: a, log: log, base: strings.TrimSuffix(a.Config().BaseURL.String(), "/") + Prefix}
	mux.Handle(Prefix+"/", http.HandlerFunc(s.serve))
}

type ctxKey struct{}

func actorOf(ctx context.Context) roster.Actor { a, _ := ctx.Value(ctxKey{}).(roster.Actor); return a }

// serve authenticates the directory and routes the request.
func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ip, ua := httpserver.ClientIP(r.Context()), r.Header.Get("User-Agent")
	scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
		s.fail(w, r, roster.Errorf(roster.EUnauthenticated, "send the directory's token: Authorization: Bearer <token>"))
		return
	}
	actor, err := s.app.Directories.Authenticate(r.Context(), roster.Anonymous(ip, ua), strings.TrimSpace(secret))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM", error="invalid_token"`)
		s.fail(w, r, err)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, actor))
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	kind, id, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if strings.Contains(id, "/") {
		s.fail(w, r, roster.NotFound("endpoint"))
		return
	}
	method := r.Method
	switch {
	case kind == "ServiceProviderConfig" && id == "" && method == http.MethodGet:
		err = s.serviceProviderConfig(w, r)
	case kind == "ResourceTypes" && method == http.MethodGet:
		err = s.resourceTypes(w, r, id)
	case kind == "Schemas" && method == http.MethodGet:
		err = s.schemas(w, r, id)
	case kind == "Users" && id == "" && method == http.MethodGet:
		err = s.listUsers(w, r)
	case kind == "Users" && id == "" && method == http.MethodPost:
		err = s.createUser(w, r)
	case kind == "Users" && id == ".search" && method == http.MethodPost:
		err = s.searchUsers(w, r)
	case kind == "Users" && id != "" && method == http.MethodGet:
		err = s.getUser(w, r, id)
	case kind == "Users" && id != "" && method == http.MethodPut:
		err = s.replaceUser(w, r, id)
	case kind == "Users" && id != "" && method == http.MethodPatch:
		err = s.patchUser(w, r, id)
	case kind == "Users" && id != "" && method == http.MethodDelete:
		err = s.deleteUser(w, r, id)
	case kind == "Groups" && id == "" && method == http.MethodGet:
		err = s.listGroups(w, r)
	case kind == "Groups" && id == "" && method == http.MethodPost:
		err = s.createGroup(w, r)
	case kind == "Groups" && id != "" && method == http.MethodGet:
		err = s.getGroup(w, r, id)
	case kind == "Groups" && id != "" && method == http.MethodPut:
		err = s.replaceGroup(w, r, id)
	case kind == "Groups" && id != "" && method == http.MethodPatch:
		err = s.patchGroup(w, r, id)
	case kind == "Groups" && id != "" && method == http.MethodDelete:
		err = s.deleteGroup(w, r, id)
	case kind == "Users" || kind == "Groups" || kind == "ServiceProviderConfig" || kind == "ResourceTypes" || kind == "Schemas":
		err = &scimError{status: http.StatusMethodNotAllowed, detail: "method not allowed here"}
	default:
		err = roster.NotFound("endpoint")
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

// scimError is an error in SCIM's own terms: a status and a scimType (RFC 7644 §3.12).
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string { return e.detail }

func badRequest(scimType, format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: scimType, detail: sprintf(format, args...)}
}

// errorBody is SCIM's error response (RFC 7644 §3.12).
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// fail answers an error in SCIM's format: Roster's codes map to SCIM's statuses and types.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *scimError
	if !errors.As(err, &se) {
		se = fromRoster(err)
		if se.status >= 500 {
			s.log.Error("scim request failed", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", httpserver.RequestID(r.Context()))
			se.detail = "internal error; request " + httpserver.RequestID(r.Context())
		}
	}
	var re *roster.Error
	if errors.As(err, &re) && re.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((re.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, se.status, errorBody{Schemas: []string{URNError}, Status: strconv.Itoa(se.status), ScimType: se.scimType, Detail: se.detail})
}

// fromRoster maps a Roster error to SCIM's terms.
func fromRoster(err error) *scimError {
	code := roster.ErrorCode(err)
	msg := err.Error()
	var re *roster.Error
	if errors.As(err, &re) {
		msg = re.Message
	}
	switch code {
	case roster.EInvalid, roster.EInvalidEmail, roster.EEmailDomainNotAllowed, roster.EFreeEmailBlocked, roster.EUnknownRole:
		return &scimError{status: http.StatusBadRequest, scimType: "invalidValue", detail: msg}
	case roster.EConflict, roster.EAlreadyMember, roster.EUserExists:
		return &scimError{status: http.StatusConflict, scimType: "uniqueness", detail: msg}
	case roster.EOwnerProtected, roster.ERoleEscalation, roster.EForbidden:
		return &scimError{status: http.StatusForbidden, detail: msg}
	case roster.ENotFound:
		return &scimError{status: http.StatusNotFound, detail: msg}
	case "":
		return &scimError{status: http.StatusInternalServerError, detail: "internal error"}
	}
	return &scimError{status: roster.HTTPStatus(code), detail: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody reads a JSON object body of SCIM's or JSON's media type, at most
// roster.MaxJSONBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != MediaType && mt != "application/json") {
			return nil, &scimError{status: http.StatusUnsupportedMediaType, detail: "send " + MediaType}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, roster.MaxJSONBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &scimError{status: http.StatusRequestEntityTooLarge, detail: "the body is too large"}
	}
	if err != nil {
		return nil, badRequest("invalidSyntax", "the body could not be read")
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, badRequest("invalidSyntax", "the body must be one JSON object")
	}
	return m, nil
}

// ifMatch returns the version a change is made against (If-Match), "" when none is given.
func ifMatch(r *http.Request) string { return strings.TrimSpace(r.Header.Get("If-Match")) }

// notModified answers 304 when If-None-Match names the current version.
func notModified(w http.ResponseWriter, r *http.Request, version string) bool {
	inm := strings.TrimSpace(r.Header.Get("If-None-Match"))
	if inm == "" {
		return false
	}
	for _, v := range strings.Split(inm, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || v == version || "W/"+v == version {
			w.Header().Set("ETag", version)
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// meta is a resource's meta attribute.
type meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location"`
	Version      string `json:"version,omitempty"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// page is a list request's startIndex and count (RFC 7644 §3.4.2.4).
type page struct{ start, count int }

func pageOf(q func(string) string) (page, error) {
	p := page{start: 1, count: roster.DefaultSCIMPageSize}
	if v := q("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("invalidValue", "startIndex must be an integer")
		}
		p.start = max(n, 1)
	}
	if v := q("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("invalidValue", "count must be an integer")
		}
		p.count = min(max(n, 0), roster.MaxSCIMPageSize)
	}
	return p, nil
}

// listResponse is SCIM's list answer.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// list pages matching resources.
func list(all []map[string]any, p page) listResponse {
	out := listResponse{Schemas: []string{URNListResp}, TotalResults: len(all), StartIndex: p.start, Resources: []any{}}
	for i := p.start - 1; i < len(all) && len(out.Resources) < p.count; i++ {
		out.Resources = append(out.Resources, all[i])
	}
	out.ItemsPerPage = len(out.Resources)
	return out
}

// projection applies the attributes and excludedAttributes parameters to top-level
// attributes (id, schemas and meta always stay).
type projection struct{ only, except []string }

func projectionOf(q func(string) string) projection {
	split := func(s string) []string {
		var out []string
		for _, a := range strings.Split(s, ",") {
			if a = strings.TrimSpace(a); a != "" {
				if i := strings.LastIndex(a, ":"); i >= 0 && strings.HasPrefix(strings.ToLower(a), "urn:") && !strings.EqualFold(a[:i], URNEnterprise) {
					a = a[i+1:] // a core attribute named by its schema's URN
				}
				a, _, _ = strings.Cut(a, ".")
				out = append(out, strings.ToLower(a))
			}
		}
		return out
	}
	return projection{only: split(q("attributes")), except: split(q("excludedAttributes"))}
}

func (p projection) apply(m map[string]any) map[string]any {
	if len(p.only) == 0 && len(p.except) == 0 {
		return m
	}
	out := map[string]any{}
	for k, v := range m {
		lk := strings.ToLower(k)
		keep := lk == "id" || lk == "schemas" || lk == "meta"
		if !keep {
			keep = (len(p.only) == 0 || contains(p.only, lk)) && !contains(p.except, lk)
		}
		if keep {
			out[k] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
