package roster

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes. They are stable: clients match on them. Every door (the REST API, the console)
// answers each code with the HTTP status of the one table below (HTTPStatus).
const (
	EInvalid         = "invalid"         // the input is malformed or breaks a validation rule
	EUnauthenticated = "unauthenticated" // no valid credentials
	EForbidden       = "forbidden"       // authenticated, but not allowed
	ENotFound        = "not_found"       // no such thing, or not visible to this actor
	EConflict        = "conflict"        // the state does not allow it
	ERateLimited     = "rate_limited"    // too many attempts; RetryAfter says when to try again
	EInternal        = "internal"        // a fault of Roster's, logged with its cause
	EUnavailable     = "unavailable"     // a dependency (the database) is down; try again later

	EInvalidCredentials     = "invalid_credentials" // #nosec G101 -- an error code, no secret
	EPasswordTooShort       = "password_too_short"
	EPasswordTooLong        = "password_too_long"
	EPasswordCommon         = "password_too_common"
	EInvalidEmail           = "invalid_email"
	ESignupClosed           = "signup_closed"
	EReauthRequired         = "reauthentication_required"
	EStepUpRequired         = "step_up_required" // a dangerous action of an account with a second factor: that factor, not the password
	EUserDeactivated        = "user_deactivated"
	ENoStoreCredits         = "no_store_credits"
	EOwnerRequired          = "owner_required"
	EOwnerProtected         = "owner_protected"
	EOwnsOrganizations      = "owns_organizations"
	ETransferTarget         = "transfer_target_not_admin"
	EAlreadyMember          = "already_member"
	EDomainClaimed          = "domain_claimed"             // another organization has verified this domain
	EDomainNotVerified      = "domain_verification_failed" // the TXT record is missing or holds another value
	EEmailDomainNotVerified = "email_domain_not_verified"  // invitations go only to the organization's verified domains
	ESSORequired            = "sso_required"               // the address's domain signs in through its organization's identity provider only
	ESSOUnavailable         = "sso_not_configured"         // no organization signs in this address's domain through single sign-on
	ESSOProvider            = "sso_provider_error"         // the identity provider's discovery, metadata or answer could not be used
	ESSOFailed              = "sso_failed"                 // a sign-in through the identity provider was refused (state, signature, audience, replay…)
	ESSOEmailNotVerified    = "sso_email_not_verified"     // the provider asserted an address outside the organization's verified domains
	ENotMember              = "not_member"
	EMembershipSuspended    = "membership_suspended"
	ETwoFactorRequired      = "two_factor_required" // the organization requires a second factor the user has not set up
	ETwoFactorFirst         = "two_factor_first"    // requiring a second factor of others needs one of one's own
	EAccountNotManaged      = "account_not_managed" // the account is shared with other organizations and not at a domain this one verified
	EStoreArchived          = "store_archived"
	EStoreNotArchived       = "store_not_archived"
	EStoreActive            = "store_active"
	EInvalidImage           = "invalid_image"
	EImageTooLarge          = "image_too_large" // decoding it would take more memory than allowed
	ERoleEscalation         = "role_escalation"
	EUnknownRole            = "unknown_role"
	EUnknownPermission      = "unknown_permission"
	EInvitationPending      = "invitation_pending"
	EInvitationExpired      = "invitation_expired"
	EInvitationNotPending   = "invitation_not_pending"
	EInvitationMismatch     = "invitation_email_mismatch"
	EEmailDomainNotAllowed  = "email_domain_not_allowed"
	EFreeEmailBlocked       = "free_email_provider_blocked"
	EUserExists             = "user_exists"
	ERoleInUse              = "role_in_use"
	EPermissionInUse        = "permission_in_use"
	ETokenInvalid           = "token_invalid"
	ETokenExpired           = "token_expired"
	EInvalidCode            = "invalid_code"        // a wrong, spent or replayed second-factor code
	EMFAExpired             = "mfa_expired"         // the login's second step expired or was already used
	EMFAUnavailable         = "mfa_unavailable"     // no encryption key: secrets of authenticators cannot be sealed
	EPasskeyRefused         = "passkey_refused"     // a passkey's answer did not prove the account (unknown, wrong, cloned, expired request)
	EPreconditionFailed     = "precondition_failed" // the resource changed since the version the client named (If-Match)
)

// Codes that a door raises itself, before any use case runs: the request could not be read.
const (
	EBadRequest           = "bad_request"
	EMalformedRequest     = "malformed_request"
	EBodyTooLarge         = "body_too_large"
	EMethodNotAllowed     = "method_not_allowed"
	ENotAcceptable        = "not_acceptable"
	EUnsupportedMediaType = "unsupported_media_type"
)

// statuses is the one table from error codes to HTTP statuses. A code missing here is a
// refusal of the input (422); a test checks that every code above is listed.
var statuses = map[string]int{
	EInvalid:         http.StatusUnprocessableEntity,
	EUnauthenticated: http.StatusUnauthorized,
	EForbidden:       http.StatusForbidden,
	ENotFound:        http.StatusNotFound,
	EConflict:        http.StatusConflict,
	ERateLimited:     http.StatusTooManyRequests,
	EInternal:        http.StatusInternalServerError,
	EUnavailable:     http.StatusServiceUnavailable,

	EInvalidCredentials:     http.StatusUnauthorized,
	EReauthRequired:         http.StatusUnauthorized,
	EStepUpRequired:         http.StatusUnauthorized,
	EPasswordTooShort:       http.StatusUnprocessableEntity,
	EPasswordTooLong:        http.StatusUnprocessableEntity,
	EPasswordCommon:         http.StatusUnprocessableEntity,
	EInvalidEmail:           http.StatusUnprocessableEntity,
	ESignupClosed:           http.StatusForbidden,
	EUserDeactivated:        http.StatusForbidden,
	ENoStoreCredits:         http.StatusConflict,
	EOwnerRequired:          http.StatusUnprocessableEntity,
	EOwnerProtected:         http.StatusForbidden,
	EOwnsOrganizations:      http.StatusConflict,
	ETransferTarget:         http.StatusConflict,
	EAlreadyMember:          http.StatusConflict,
	EDomainClaimed:          http.StatusConflict,
	EDomainNotVerified:      http.StatusUnprocessableEntity,
	EEmailDomainNotVerified: http.StatusUnprocessableEntity,
	ENotMember:              http.StatusConflict,
	ESSORequired:            http.StatusForbidden,
	ESSOUnavailable:         http.StatusNotFound,
	ESSOProvider:            http.StatusUnprocessableEntity,
	ESSOFailed:              http.StatusUnauthorized,
	ESSOEmailNotVerified:    http.StatusForbidden,
	EMembershipSuspended:    http.StatusForbidden,
	ETwoFactorRequired:      http.StatusForbidden,
	ETwoFactorFirst:         http.StatusUnprocessableEntity,
	EAccountNotManaged:      http.StatusForbidden,
	EStoreArchived:          http.StatusConflict,
	EStoreNotArchived:       http.StatusConflict,
	EStoreActive:            http.StatusConflict,
	EInvalidImage:           http.StatusUnprocessableEntity,
	EImageTooLarge:          http.StatusUnprocessableEntity,
	ERoleEscalation:         http.StatusForbidden,
	EUnknownRole:            http.StatusUnprocessableEntity,
	EUnknownPermission:      http.StatusUnprocessableEntity,
	EInvitationPending:      http.StatusConflict,
	EInvitationExpired:      http.StatusGone,
	EInvitationNotPending:   http.StatusConflict,
	EInvitationMismatch:     http.StatusForbidden,
	EEmailDomainNotAllowed:  http.StatusUnprocessableEntity,
	EFreeEmailBlocked:       http.StatusUnprocessableEntity,
	EUserExists:             http.StatusConflict,
	ERoleInUse:              http.StatusConflict,
	EPermissionInUse:        http.StatusConflict,
	ETokenInvalid:           http.StatusUnprocessableEntity,
	ETokenExpired:           http.StatusGone,
	EInvalidCode:            http.StatusUnauthorized,
	EMFAExpired:             http.StatusUnauthorized,
	EMFAUnavailable:         http.StatusConflict,
	EPasskeyRefused:         http.StatusUnauthorized,
	EPreconditionFailed:     http.StatusPreconditionFailed,

	EBadRequest:           http.StatusBadRequest,
	EMalformedRequest:     http.StatusBadRequest,
	EBodyTooLarge:         http.StatusRequestEntityTooLarge,
	EMethodNotAllowed:     http.StatusMethodNotAllowed,
	ENotAcceptable:        http.StatusNotAcceptable,
	EUnsupportedMediaType: http.StatusUnsupportedMediaType,
}

// HTTPStatus returns the HTTP status that answers an error code.
func HTTPStatus(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusUnprocessableEntity
}

// codeOfStatus names the errors that a door's HTTP library raises with a status alone
// (a malformed or oversized body, a wrong method…).
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            EMalformedRequest,
	http.StatusUnauthorized:          EUnauthenticated,
	http.StatusForbidden:             EForbidden,
	http.StatusNotFound:              ENotFound,
	http.StatusMethodNotAllowed:      EMethodNotAllowed,
	http.StatusNotAcceptable:         ENotAcceptable,
	http.StatusConflict:              EConflict,
	http.StatusRequestEntityTooLarge: EBodyTooLarge,
	http.StatusUnsupportedMediaType:  EUnsupportedMediaType,
	http.StatusUnprocessableEntity:   EInvalid,
	http.StatusTooManyRequests:       ERateLimited,
	http.StatusServiceUnavailable:    EUnavailable,
}

// CodeOfStatus returns the code of an error known only by its HTTP status: a client error
// without a more precise code is "bad_request", a server error "internal".
func CodeOfStatus(status int) string {
	if c, ok := codeOfStatus[status]; ok {
		return c
	}
	if status < 500 {
		return EBadRequest
	}
	return EInternal
}

// DefaultRetryAfter is the wait announced by a 429 or 503 whose cause named none.
const DefaultRetryAfter = 5 * time.Second

// RetryAfterHeader returns the value of the Retry-After header (whole seconds, rounded up)
// of an answer with the given status whose cause asked for the given wait, or "" when none is
// due. Every 429 and 503 has one.
func RetryAfterHeader(status int, wait time.Duration) string {
	if wait <= 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		wait = DefaultRetryAfter
	}
	if wait <= 0 {
		return ""
	}
	return strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10)
}

// Error is the one error type that carries a user-facing meaning. Anything else reaching a
// transport is an internal error: logged with its cause, shown as "internal error".
type Error struct {
	Code    string         // stable, machine-readable: one of the E… constants
	Message string         // a readable English sentence, safe to show
	Field   string         // the input field at fault, when there is one
	Details map[string]any // extra machine-readable facts (who holds a role, where to resend…)

	// RetryAfter, for rate limits and outages, says when trying again makes sense.
	RetryAfter time.Duration

	// Fields are the errors of every field at fault when a form had several (Invalids);
	// Field and Message are then the first's, Code is EInvalid.
	Fields []*Error
}

// Error returns the message, prefixed by the code.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an "invalid" error for one input field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalids reports every field at fault at once. It returns nil when errs holds no error,
// the first error that is not about a field (it says more than the fields), the one field
// error alone, or one EInvalid error whose Fields are each field's error, in order.
func Invalids(errs ...error) error {
	var fields []*Error
	for _, err := range errs {
		if err == nil {
			continue
		}
		e := AsError(err)
		if e == nil || e.Field == "" {
			return err
		}
		fields = append(fields, e)
	}
	switch len(fields) {
	case 0:
		return nil
	case 1:
		return fields[0]
	}
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Message
	}
	return &Error{Code: EInvalid, Field: fields[0].Field, Message: strings.Join(msgs, "; "), Fields: fields}
}

// FieldErrors returns the errors of every field at fault in err: its Fields, or err itself
// when it names one field; nil otherwise.
func FieldErrors(err error) []*Error {
	e := AsError(err)
	switch {
	case e == nil:
		return nil
	case len(e.Fields) > 0:
		return e.Fields
	case e.Field != "":
		return []*Error{e}
	}
	return nil
}

// NotFound returns the error shown for anything that does not exist or that the actor may not
// know exists: outsiders cannot tell the two apart.
func NotFound(what string) *Error {
	return &Error{Code: ENotFound, Message: what + " not found"}
}

// Forbidden returns the error for an authenticated actor who lacks a permission.
func Forbidden(format string, args ...any) *Error {
	return &Error{Code: EForbidden, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with one more detail.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// ErrorCode returns the code of err, EInternal when err is not an *Error, "" when nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// AsError returns err as an *Error, or nil when it is not one.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
