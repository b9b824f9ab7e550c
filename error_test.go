package roster

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// errorCodes lists every E… constant of error.go, read from the source so that a code added
// later cannot be forgotten by this test.
func errorCodes(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, "E") || i >= len(v.Values) {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				codes[n.Name] = code
			}
		}
	}
	if len(codes) < 40 {
		t.Fatalf("found only %d error codes in error.go", len(codes))
	}
	return codes
}

func TestEveryErrorCodeHasAStatus(t *testing.T) {
	for name, code := range errorCodes(t) {
		s, ok := statuses[code]
		if !ok {
			t.Errorf("%s (%q) has no entry in the status table", name, code)
			continue
		}
		if s < 400 || s > 599 {
			t.Errorf("%s answers %d, not an error status", name, s)
		}
	}
	for code := range statuses {
		found := false
		for _, c := range errorCodes(t) {
			found = found || c == code
		}
		if !found {
			t.Errorf("the status table names %q, which is no constant of error.go", code)
		}
	}
}

func TestHTTPStatusOfCodes(t *testing.T) {
	for code, want := range map[string]int{
		ESignupClosed:       http.StatusForbidden,
		EInvitationMismatch: http.StatusForbidden,
		EBodyTooLarge:       http.StatusRequestEntityTooLarge,
		EUnavailable:        http.StatusServiceUnavailable,
		ENotFound:           http.StatusNotFound,
		"confirm_mismatch":  http.StatusUnprocessableEntity, // a door's own input refusal
	} {
		if got := HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", code, got, want)
		}
	}
	// A status that a door's library raises by itself maps back to a code of the table.
	for _, s := range []int{400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 503} {
		if got := HTTPStatus(CodeOfStatus(s)); got != s {
			t.Errorf("HTTPStatus(CodeOfStatus(%d)) = %d", s, got)
		}
	}
	if CodeOfStatus(418) != EBadRequest || CodeOfStatus(502) != EInternal {
		t.Errorf("unlisted statuses: %q, %q", CodeOfStatus(418), CodeOfStatus(502))
	}
}

func TestRetryAfterHeader(t *testing.T) {
	for _, c := range []struct {
		status int
		wait   time.Duration
		want   string
	}{
		{http.StatusTooManyRequests, 1500 * time.Millisecond, "2"}, // rounded up, never 1 s early
		{http.StatusTooManyRequests, 3 * time.Second, "3"},
		{http.StatusServiceUnavailable, 0, "5"}, // every 503 says when to come back
		{http.StatusTooManyRequests, 0, "5"},
		{http.StatusServiceUnavailable, 200 * time.Millisecond, "1"},
		{http.StatusConflict, 0, ""},
		{http.StatusConflict, 2 * time.Second, "2"},
	} {
		if got := RetryAfterHeader(c.status, c.wait); got != c.want {
			t.Errorf("RetryAfterHeader(%d, %v) = %q, want %q", c.status, c.wait, got, c.want)
		}
	}
}

// TestInvalidsReportsEveryField: several fields at fault make one error naming them all, in
// order; one stays itself; an error that is not about a field wins; none is nil.
func TestInvalidsReportsEveryField(t *testing.T) {
	name, site := Invalidf("name", "name is required"), &Error{Code: EInvalidEmail, Field: "email", Message: "bad address"}
	if err := Invalids(nil, nil); err != nil {
		t.Errorf("no error: %v", err)
	}
	if err := Invalids(nil, name); err != name {
		t.Errorf("one error: %v", err)
	}
	e := AsError(Invalids(name, nil, site))
	if e == nil || e.Code != EInvalid || e.Field != "name" || len(e.Fields) != 2 || e.Fields[1] != site || !strings.Contains(e.Message, "bad address") {
		t.Fatalf("two errors: %+v", e)
	}
	if fe := FieldErrors(e); len(fe) != 2 {
		t.Errorf("FieldErrors of two: %v", fe)
	}
	if fe := FieldErrors(name); len(fe) != 1 || fe[0] != name {
		t.Errorf("FieldErrors of one: %v", fe)
	}
	other := Errorf(EForbidden, "no")
	if err := Invalids(name, other, site); err != other {
		t.Errorf("an error about no field: %v", err)
	}
	if fe := FieldErrors(other); fe != nil {
		t.Errorf("FieldErrors of an error about no field: %v", fe)
	}
}
