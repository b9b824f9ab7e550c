package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/httpserver"
)

// Problem is an RFC 9457 problem detail with Roster's stable error code.
type Problem struct {
	Type      string              `json:"type,omitempty" doc:"A URI reference that identifies the problem type"`
	Title     string              `json:"title" doc:"A short summary of the problem type"`
	Status    int                 `json:"status" doc:"The HTTP status code"`
	Detail    string              `json:"detail,omitempty" doc:"A readable explanation of this occurrence"`
	Code      string              `json:"code" doc:"Stable, machine-readable error code, such as no_store_credits or owner_required"`
	Field     string              `json:"field,omitempty" doc:"The input field at fault"`
	Details   map[string]any      `json:"details,omitempty" doc:"Machine-readable facts about the error"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty" doc:"Validation errors, one per field"`
	RequestID string              `json:"request_id,omitempty" doc:"Quote it when reporting a problem"`

	retryAfter time.Duration
}

// Error returns the detail.
func (p *Problem) Error() string { return p.Detail }

// GetStatus returns the HTTP status.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes problems answer as application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// defaultRetryAfter is the Retry-After of a 429 or 503 whose cause named no wait.
const defaultRetryAfter = 5 * time.Second

// GetHeaders sets Retry-After on rate limits and outages.
func (p *Problem) GetHeaders() http.Header {
	h := http.Header{}
	wait := p.retryAfter
	if wait <= 0 && (p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable) {
		// Every 429 and 503 says when to come back, even when its cause gave no time.
		wait = defaultRetryAfter
	}
	if wait > 0 {
		h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	}
	return h
}

// statusOf is the one table from Roster's error codes to HTTP statuses; codes not listed
// are refusals of the input (422) unless they are general codes below.
var statusOf = map[string]int{
	roster.EInvalid:              http.StatusUnprocessableEntity,
	roster.EUnauthenticated:      http.StatusUnauthorized,
	roster.EInvalidCredentials:   http.StatusUnauthorized,
	roster.EReauthRequired:       http.StatusUnauthorized,
	roster.EForbidden:            http.StatusForbidden,
	roster.EUserDeactivated:      http.StatusForbidden,
	roster.EMembershipSuspended:  http.StatusForbidden,
	roster.ERoleEscalation:       http.StatusForbidden,
	roster.ESignupClosed:         http.StatusForbidden,
	roster.EOwnerProtected:       http.StatusForbidden,
	roster.ENotFound:             http.StatusNotFound,
	roster.EConflict:             http.StatusConflict,
	roster.ENoStoreCredits:       http.StatusConflict,
	roster.EAlreadyMember:        http.StatusConflict,
	roster.EUserExists:           http.StatusConflict,
	roster.EInvitationPending:    http.StatusConflict,
	roster.EInvitationNotPending: http.StatusConflict,
	roster.EInvitationExpired:    http.StatusGone,
	roster.EInvitationMismatch:   http.StatusForbidden,
	roster.ERoleInUse:            http.StatusConflict,
	roster.EPermissionInUse:      http.StatusConflict,
	roster.EOwnsOrganizations:    http.StatusConflict,
	roster.EStoreArchived:        http.StatusConflict,
	roster.EStoreNotArchived:     http.StatusConflict,
	roster.EStoreActive:          http.StatusConflict,
	roster.ENotMember:            http.StatusConflict,
	roster.ETransferTarget:       http.StatusConflict,
	roster.ERateLimited:          http.StatusTooManyRequests,
	roster.EUnavailable:          http.StatusServiceUnavailable,
	roster.EInternal:             http.StatusInternalServerError,
	roster.EOwnerRequired:        http.StatusUnprocessableEntity,
	roster.ETokenExpired:         http.StatusGone,
}

// codeOf names the problems huma raises itself (malformed or oversized bodies and the like).
var codeOf = map[int]string{
	http.StatusBadRequest:            "malformed_request",
	http.StatusUnauthorized:          roster.EUnauthenticated,
	http.StatusForbidden:             roster.EForbidden,
	http.StatusNotFound:              roster.ENotFound,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusNotAcceptable:         "not_acceptable",
	http.StatusConflict:              roster.EConflict,
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   roster.EInvalid,
	http.StatusTooManyRequests:       roster.ERateLimited,
	http.StatusServiceUnavailable:    roster.EUnavailable,
}

func init() {
	// Every error huma produces by itself becomes a Problem with a code. Validation details
	// keep where and what, never the value: a refused body may hold a password.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg, Code: codeOf[status]}
		if p.Code == "" {
			p.Code = roster.EInternal
			if status < 500 {
				p.Code = "bad_request"
			}
		}
		for _, err := range errs {
			var d *huma.ErrorDetail
			if errors.As(err, &d) {
				p.Errors = append(p.Errors, &huma.ErrorDetail{Message: d.Message, Location: d.Location})
			} else if err != nil {
				p.Errors = append(p.Errors, &huma.ErrorDetail{Message: err.Error()})
			}
		}
		if status == http.StatusRequestEntityTooLarge {
			p.Errors = nil
		}
		return p
	}
}

// failer turns app errors into problems, logging internal ones with their cause.
type failer struct{ log *slog.Logger }

// fail returns the problem to answer for an error of the app.
func (f failer) fail(ctx context.Context, err error) error {
	e := roster.AsError(err)
	if e == nil || e.Code == roster.EInternal {
		f.log.ErrorContext(ctx, "internal error", "err", err, "request_id", httpserver.RequestID(ctx))
		return &Problem{Status: http.StatusInternalServerError, Title: http.StatusText(http.StatusInternalServerError),
			Detail: "internal error", Code: roster.EInternal, RequestID: httpserver.RequestID(ctx)}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	if status == http.StatusServiceUnavailable {
		// Once per request is noise: the database logs an outage when it starts and ends.
		f.log.DebugContext(ctx, "unavailable", "err", err, "request_id", httpserver.RequestID(ctx))
	}
	return &Problem{Status: status, Title: http.StatusText(status), Detail: e.Message, Code: e.Code, Field: e.Field,
		Details: e.Details, RequestID: httpserver.RequestID(ctx), retryAfter: e.RetryAfter}
}
