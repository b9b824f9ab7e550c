package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// rateLimitedOps are the operations that may answer 429: logins and everything that checks
// a password, mails a link or an invitation, or sends a notice to an address; logo uploads.
var rateLimitedOps = map[string]bool{
	"login": true, "login-mfa": true, "signup": true, "request-password-reset": true, "accept-invitation": true,
	"resend-invitation": true, "create-invitation": true, "bulk-invite": true, "create-user": true,
	"send-password-reset": true, "change-email": true, "resend-verification": true, "change-password": true,
	"create-api-key": true, "transfer-ownership": true, "delete-organization": true,
	"set-organization-logo": true, "set-store-logo": true,
	"login-mfa-passkey-options": true, "login-passkey-options": true, "login-passkey": true, "begin-totp": true,
	"remove-totp": true, "regenerate-recovery-codes": true, "begin-passkey-registration": true, "remove-passkey": true,
	"step-up": true, "set-policy": true, "clone-api-key": true,
}

// forbiddenPublicOps are the public operations that may refuse with 403: sign-up when it is
// by invitation only, accepting an invitation for another address or a deactivated account.
var forbiddenPublicOps = map[string]bool{"signup": true, "accept-invitation": true, "login": true, "login-mfa": true, "login-passkey": true}

// tokenOps are the operations that take a one-time link's token, which may have expired (410).
var tokenOps = map[string]bool{
	"accept-invitation": true, "lookup-invitation": true, "decline-invitation": true, "set-password": true,
	"verify-email": true, "confirm-email-change": true, "setup": true,
}

// documentErrors lists, on every operation of the OpenAPI document, the error statuses it
// may answer, each an RFC 9457 problem, with Retry-After on 429 and 503; names the server
// from the configured base URL; and declares the tags operations use. huma alone documents
// only a "default" error.
func documentErrors(doc *huma.OpenAPI, baseURL string) {
	if baseURL != "" && len(doc.Servers) == 0 {
		doc.Servers = []*huma.Server{{URL: baseURL}}
	}
	defer declareTags(doc)
	// One response per status, shared by every operation: the document is only marshalled, and
	// a response per operation and status was a megabyte and a half of every node's heap.
	problems := map[int]*huma.Response{}
	problem := func(status int) *huma.Response {
		if r, ok := problems[status]; ok {
			return r
		}
		r := &huma.Response{
			Description: http.StatusText(status),
			Content:     map[string]*huma.MediaType{"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/Problem"}}},
		}
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			r.Headers = map[string]*huma.Param{"Retry-After": {Description: "Seconds to wait before trying again",
				Schema: &huma.Schema{Type: huma.TypeInteger, Format: "int32", Minimum: ptr(1.0), Maximum: ptr(86400.0)}}}
		}
		problems[status] = r
		return r
	}
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post,
			http.MethodPut: item.Put, http.MethodPatch: item.Patch, http.MethodDelete: item.Delete} {
			if op == nil {
				continue
			}
			// 401 everywhere: a public operation too refuses an invalid bearer token, and
			// logins refuse wrong passwords.
			statuses := []int{http.StatusUnauthorized, http.StatusInternalServerError, http.StatusServiceUnavailable}
			if len(op.Security) > 0 || forbiddenPublicOps[op.OperationID] {
				statuses = append(statuses, http.StatusForbidden)
			}
			if strings.Contains(path, "{") {
				statuses = append(statuses, http.StatusNotFound)
			}
			if len(op.Parameters) > 0 || op.RequestBody != nil {
				statuses = append(statuses, http.StatusUnprocessableEntity)
			}
			if op.RequestBody != nil {
				statuses = append(statuses, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
			}
			if method != http.MethodGet {
				statuses = append(statuses, http.StatusConflict)
			}
			if tokenOps[op.OperationID] {
				statuses = append(statuses, http.StatusGone)
			}
			if rateLimitedOps[op.OperationID] {
				statuses = append(statuses, http.StatusTooManyRequests)
			}
			if op.Responses == nil {
				op.Responses = map[string]*huma.Response{}
			}
			for _, s := range statuses {
				if _, ok := op.Responses[strconv.Itoa(s)]; !ok {
					op.Responses[strconv.Itoa(s)] = problem(s)
				}
			}
		}
	}
}

// declareTags lists every tag an operation uses in the document's tags, sorted.
func declareTags(doc *huma.OpenAPI) {
	seen := map[string]bool{}
	for _, t := range doc.Tags {
		seen[t.Name] = true
	}
	var names []string
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			for _, t := range op.Tags {
				if !seen[t] {
					seen[t] = true
					names = append(names, t)
				}
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		doc.Tags = append(doc.Tags, &huma.Tag{Name: n})
	}
}

func ptr[T any](v T) *T { return &v }
