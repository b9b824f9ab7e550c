package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/httpserver"
)

// Problem is an RFC 9457 problem detail with Roster's stable error code.
type Problem struct {
	Type      string         `json:"type,omitempty" doc:"A URI reference that identifies the problem type"`
	Title     string         `json:"title" doc:"A short summary of the problem type"`
	Status    int            `json:"status" doc:"The HTTP status code"`
	Detail    string         `json:"detail,omitempty" doc:"A readable explanation of this occurrence"`
	Code      string         `json:"code" doc:"Stable, machine-readable error code, such as no_store_credits or owner_required"`
	Field     string         `json:"field,omitempty" doc:"The input field at fault"`
	Details   map[string]any `json:"details,omitempty" doc:"Machine-readable facts about the error"`
	Errors    []*FieldError  `json:"errors,omitempty" doc:"Every field at fault, one entry each"`
	RequestID string         `json:"request_id,omitempty" doc:"Quote it when reporting a problem"`

	retryAfter time.Duration
}

// FieldError is one field at fault in a request.
type FieldError struct {
	Message  string `json:"message" doc:"A readable explanation"`
	Location string `json:"location,omitempty" doc:"Where the field is, such as body.name or query.after"`
	Code     string `json:"code,omitempty" doc:"The field's own error code, such as invalid or invalid_email"`
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

// GetHeaders sets Retry-After on rate limits and outages.
func (p *Problem) GetHeaders() http.Header {
	h := http.Header{}
	if v := roster.RetryAfterHeader(p.Status, p.retryAfter); v != "" {
		h.Set("Retry-After", v)
	}
	return h
}

func init() {
	// Every error huma produces by itself becomes a Problem with a code. Validation details
	// keep where and what, never the value: a refused body may hold a password.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg, Code: roster.CodeOfStatus(status)}
		for _, err := range errs {
			var d *huma.ErrorDetail
			if errors.As(err, &d) {
				p.Errors = append(p.Errors, &FieldError{Message: d.Message, Location: d.Location, Code: roster.EInvalid})
			} else if err != nil {
				p.Errors = append(p.Errors, &FieldError{Message: err.Error()})
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
	status := roster.HTTPStatus(e.Code)
	if status == http.StatusServiceUnavailable {
		// Once per request is noise: the database logs an outage when it starts and ends.
		f.log.DebugContext(ctx, "unavailable", "err", err, "request_id", httpserver.RequestID(ctx))
	}
	p := &Problem{Status: status, Title: http.StatusText(status), Detail: e.Message, Code: e.Code, Field: e.Field,
		Details: withLinks(e), RequestID: httpserver.RequestID(ctx), retryAfter: e.RetryAfter}
	for _, fe := range e.Fields { // a body with several fields at fault: each of them
		p.Errors = append(p.Errors, &FieldError{Message: fe.Message, Location: "body." + fe.Field, Code: fe.Code})
	}
	return p
}

// withLinks adds to an error's details the API paths that answer it: app names the
// invitation or organization, the door knows its own routes.
func withLinks(e *roster.Error) map[string]any {
	id, _ := e.Details["invitation_id"].(string)
	org, _ := e.Details["organization_id"].(string)
	switch {
	case e.Code == roster.EInvitationPending && id != "":
		return e.With("resend", "/v1/invitations/"+id+"/resend").Details
	case e.Code == roster.EUserExists && org != "":
		return e.With("invite", "/v1/organizations/"+org+"/invitations").Details
	}
	return e.Details
}
