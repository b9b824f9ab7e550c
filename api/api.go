// Package api is Roster's REST API under /v1: huma operations on net/http that decode a
// request, call one app method and encode its result. OpenAPI 3.1 is served at
// /openapi.json and read at /docs. Every error is an RFC 9457 problem with a stable code.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// Options configure the API.
type Options struct {
	Log     *slog.Logger
	Version string
	HTTPS   bool // served over https: cookies are Secure
}

// Server holds the API's operations.
type Server struct {
	failer
	app   *app.App
	api   huma.API
	https bool
}

// Body limits (limits.go).
const (
	maxBody   = roster.MaxJSONBody
	maxUpload = roster.MaxUploadBody
)

// jsonFormat reads request bodies with encoding/json/v2 (github.com/go-json-experiment/json,
// the module that mirrors it, an alias of the standard library's from Go 1.27), and writes
// answers with encoding/json as before. huma decodes every body twice — into a generic value
// for its schema's validation, then into the operation's struct — and v2 does both in half the
// time and garbage. It is stricter than v1: a name must be written exactly as documented
// (huma's validation is told so too: ValidateStrictCasing), and a name given twice or a string
// that is not UTF-8 is refused, with a 400 that says where — no two parsers can read two
// different requests in one body.
//
// An answer that comes encoded already (preEncoded: the selector, whose encoding the access
// index keeps) is written as it is.
var jsonFormat = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		if p, ok := v.(preEncoded); ok && p.encodedJSON() != nil {
			_, err := w.Write(p.encodedJSON())
			return err
		}
		return huma.DefaultJSONFormat.Marshal(w, v)
	},
	Unmarshal: func(data []byte, v any) error {
		return jsonv2.Unmarshal(data, v)
	},
}

// huma's validation matches a body's names in any case unless told otherwise, and jsonFormat
// reads them exactly: one reading for both, for the whole process (the setting is huma's).
func init() { huma.ValidateStrictCasing = true }

// preEncoded is a body that may carry its JSON, made by encodeJSON.
type preEncoded interface{ encodedJSON() []byte }

// encodeJSON encodes v exactly as jsonFormat writes it.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	err := huma.DefaultJSONFormat.Marshal(&b, v)
	return bytes.Clone(b.Bytes()), err // not the buffer's spare room: the index keeps it
}

// Register adds the API's operations, /openapi.json and /docs to mux.
func Register(mux *http.ServeMux, a *app.App, o Options) huma.API {
	cfg := huma.DefaultConfig("Roster API", o.Version)
	cfg.Info.Description = "Organizations, stores, members, roles and invitations for multi-store SaaS. " +
		"Authenticate with `Authorization: Bearer <token>`: a session token from /v1/auth/login, an API key, " +
		"or, for the check API, a service token."
	cfg.CreateHooks = nil // no $schema field in bodies
	cfg.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	cfg.DocsPath = "" // /docs is served from embedded files (docs.go), not a CDN
	cfg.OpenAPIPath = "/openapi"
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "A session token (rs_…), an API key (rk_…) or a service token (rsvc_…)"},
	}
	registerTime(cfg.Components.Schemas) // before any operation's schema is made
	api := humago.New(mux, cfg)
	s := &Server{failer: failer{log: o.Log}, app: a, api: api, https: o.HTTPS}
	api.UseMiddleware(s.cors, s.authenticate)
	s.registerAuth()
	s.registerMe()
	s.registerFactors() // factors.go
	s.registerOrganizations()
	s.registerStores()
	s.registerMembers()
	s.registerCheck()
	s.registerAdmin()
	s.registerAudit()
	s.registerRoles()
	s.registerPermissions()
	s.registerAPIKeys()
	s.registerUsage()
	s.registerAuditExport()
	s.registerInvitations()
	s.registerAccounts()
	s.registerPolicy()
	s.registerStepUp()
	s.registerMailbox()
	s.registerClients()
	s.registerEvents()
	s.registerWebhooks()
	s.registerDomains()
	s.registerSSO() // sso.go
	s.registerJoinRequests()
	s.registerSCIM()
	s.registerSetupLinks() // setuplinks.go
	s.registerCORS(mux)
	registerDocs(mux)
	documentErrors(api.OpenAPI(), a.Config().BaseURL.String())
	documentRevision(api.OpenAPI())
	documentEvents(api.OpenAPI())
	return api
}

type ctxKey int

const keyActor ctxKey = iota

// actor returns who makes the request: anonymous unless a valid bearer token was given.
func actor(ctx context.Context) roster.Actor {
	if a, ok := ctx.Value(keyActor).(roster.Actor); ok {
		return a
	}
	return roster.Anonymous(httpserver.ClientIP(ctx), "")
}

// authenticate resolves the bearer token of a request, if any. Cookies are ignored: the API
// authenticates with the Authorization header only, so no cross-site request can act for a
// browser's session.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	ctx = huma.WithContext(ctx, app.WithRequestBarrier(ctx.Context())) // one read barrier per request
	ip, ua := httpserver.ClientIP(ctx.Context()), ctx.Header("User-Agent")
	a := roster.Anonymous(ip, ua)
	if h := ctx.Header("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			s.writeErr(ctx, roster.Errorf(roster.EUnauthenticated, "use Authorization: Bearer <token>"))
			return
		}
		var err error
		if a, err = s.app.Auth.Authenticate(ctx.Context(), strings.TrimSpace(secret), ip, ua); err != nil {
			s.writeErr(ctx, err)
			return
		}
	}
	if a.Kind == roster.ActorAnonymous && len(ctx.Operation().Security) > 0 {
		// Deny by default: an operation that needs credentials refuses anonymous callers
		// before their input is even read.
		s.writeErr(ctx, roster.Errorf(roster.EUnauthenticated, "log in first: send Authorization: Bearer <token>"))
		return
	}
	hctx := huma.WithValue(ctx, keyActor, a)
	if writes(ctx.Operation()) {
		hctx = revisionContext{humaContext: huma.WithContext(hctx, app.WithRevisionSink(hctx.Context())), app: s.app}
	}
	next(hctx)
	if a.Kind == roster.ActorAPIKey {
		// The request log of API keys: method, path without its query string, status, address.
		rctx := context.WithoutCancel(ctx.Context())
		if err := s.app.APIKeys.RecordRequest(rctx, a, ctx.Method(), ctx.URL().Path, ctx.Status()); err != nil {
			s.log.ErrorContext(rctx, "record API key request", "err", err, "request_id", httpserver.RequestID(rctx))
		}
	}
}

func (s *Server) writeErr(ctx huma.Context, err error) {
	p := s.fail(ctx.Context(), err).(*Problem)
	for k, v := range p.GetHeaders() {
		ctx.SetHeader(k, v[0])
	}
	if p.Status == http.StatusUnauthorized {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="roster"`)
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// bearer is the security requirement of operations that need a signed-in caller.
var bearer = []map[string][]string{{"bearer": {}}}

// op fills the parts every operation shares.
func op(id, method, path, summary string, tags ...string) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: tags, Security: bearer, MaxBodyBytes: maxBody}
}

// public marks an operation that needs no credentials.
func public(o huma.Operation) huma.Operation {
	o.Security = nil
	return o
}

// readByPost marks an operation that only reads although it is a POST (a question with a
// body, such as a check): like every read, it answers without Roster-Revision.
func readByPost(o *huma.Operation) {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[metaReadByPost] = true
}

const metaReadByPost = "roster-read-by-post"

// writes reports whether an operation may write: what answers with Roster-Revision.
func writes(o *huma.Operation) bool {
	return o.Method != http.MethodGet && o.Method != http.MethodHead && o.Metadata[metaReadByPost] != true
}

// register adds an operation, adjusted by opts, with its handler.
func register[I, O any](api huma.API, o huma.Operation, handler func(context.Context, *I) (*O, error), opts ...func(*huma.Operation)) {
	for _, f := range opts {
		f(&o)
	}
	huma.Register(api, o, handler)
}
