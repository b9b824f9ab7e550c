package api_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/webauthntest"
	"github.com/rosterhq/roster/sqlstore"
)

// TestFactorsAPI: /v1/me/factors sets up an authenticator app (codes by pquerna/otp) and a
// passkey (answers signed by a software authenticator, checked by go-webauthn), lists both
// with names and times, and removes them after a proof; a login's second step and a
// passwordless sign-in take a passkey; nobody reaches another user's passkey.
func TestFactorsAPI(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e, func(c *app.Config) { c.EncryptionKey = make([]byte, app.EncryptionKeySize) })
		tok, email := s.signup(t, "Ines")
		otherTok, _ := s.signup(t, "Oscar")
		auth := &webauthntest.Authenticator{Origin: "https://roster.example", RPID: "roster.example"}
		problem := func(r response, status int, code string) {
			t.Helper()
			var p struct {
				Code string `json:"code"`
			}
			r.json(t, &p)
			if r.status != status || p.Code != code {
				t.Fatalf("got %s, want %d %s", r, status, code)
			}
		}
		type factors struct {
			Factors []struct {
				ID, Type, Name string
				CreatedAt      time.Time  `json:"created_at"`
				LastUsedAt     *time.Time `json:"last_used_at"`
			} `json:"factors"`
			Left int `json:"recovery_codes_left"`
		}
		list := func() factors {
			t.Helper()
			var f factors
			r := s.do(t, "GET", "/v1/me/factors", tok, nil)
			r.json(t, &f)
			if r.status != 200 {
				t.Fatalf("list: %s", r)
			}
			return f
		}
		if f := list(); len(f.Factors) != 0 || f.Left != 0 {
			t.Fatalf("a new account's factors: %+v", f)
		}

		// The authenticator app.
		var setup struct {
			Secret string `json:"secret"`
			URL    string `json:"otpauth_url"`
		}
		r := s.do(t, "POST", "/v1/me/factors/totp", tok, nil)
		r.json(t, &setup)
		if r.status != 200 || setup.Secret == "" {
			t.Fatalf("begin totp: %s", r)
		}
		code, _ := totp.GenerateCode(setup.Secret, s.env.Clock.Now())
		var codes struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		r = s.do(t, "POST", "/v1/me/factors/totp/confirm", tok, map[string]string{"code": code})
		r.json(t, &codes)
		if r.status != 200 || len(codes.RecoveryCodes) != app.RecoveryCodeCount {
			t.Fatalf("confirm totp: %s", r)
		}

		// A passkey.
		opts := s.do(t, "POST", "/v1/me/factors/passkeys/options", tok, nil)
		if opts.status != 200 {
			t.Fatalf("passkey options: %s", opts)
		}
		answer, key, err := auth.Create([]byte(opts.body))
		if err != nil {
			t.Fatal(err)
		}
		var pk struct {
			ID    string   `json:"id"`
			Name  string   `json:"name"`
			Codes []string `json:"recovery_codes"`
		}
		r = s.do(t, "POST", "/v1/me/factors/passkeys", tok, map[string]any{"name": "Laptop", "credential": json.RawMessage(answer)})
		r.json(t, &pk)
		if r.status != 201 || pk.Name != "Laptop" || pk.ID == "" || pk.Codes != nil { // the app's codes back it up
			t.Fatalf("add passkey: %s", r)
		}
		if r.status != 201 || pk.Name != "Laptop" || pk.ID == "" {
			t.Fatalf("add passkey: %s", r)
		}
		problem(s.do(t, "POST", "/v1/me/factors/passkeys", tok, map[string]any{"name": "Again", "credential": json.RawMessage(answer)}), 409, roster.EConflict)
		f := list()
		if len(f.Factors) != 2 || f.Factors[0].Type != "totp" || f.Factors[1].Type != "passkey" || f.Factors[1].Name != "Laptop" ||
			f.Factors[1].CreatedAt.IsZero() || f.Factors[1].LastUsedAt != nil || f.Left != app.RecoveryCodeCount {
			t.Fatalf("factors: %+v", f)
		}

		// A login: the password, then the passkey.
		var st struct {
			Token    string   `json:"token"`
			MFAToken string   `json:"mfa_token"`
			Methods  []string `json:"methods"`
		}
		r = s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password})
		r.json(t, &st)
		if len(st.Methods) != 3 || st.Methods[2] != app.MethodPasskey {
			t.Fatalf("methods: %s", r)
		}
		opts = s.do(t, "POST", "/v1/auth/login/mfa/passkey-options", "", map[string]string{"mfa_token": st.MFAToken})
		signed, err := auth.Get([]byte(opts.body), key)
		if err != nil || opts.status != 200 {
			t.Fatalf("second-step options: %s %v", opts, err)
		}
		r = s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]any{"mfa_token": st.MFAToken, "passkey": json.RawMessage(signed)})
		r.json(t, &st)
		if r.status != 200 || st.Token == "" {
			t.Fatalf("second step with a passkey: %s", r)
		}

		// No password: a discoverable passkey.
		opts = s.do(t, "POST", "/v1/auth/passkey/options", "", nil)
		signed, err = auth.Get([]byte(opts.body), key)
		if err != nil || opts.status != 200 {
			t.Fatalf("passwordless options: %s %v", opts, err)
		}
		r = s.do(t, "POST", "/v1/auth/passkey", "", map[string]any{"credential": json.RawMessage(signed)})
		r.json(t, &st)
		if r.status != 200 || st.Token == "" || len(cookies(r)) != 1 {
			t.Fatalf("passwordless: %s", r)
		}
		problem(s.do(t, "POST", "/v1/auth/passkey", "", map[string]any{"credential": json.RawMessage(signed)}), 401, roster.EPasskeyRefused)
		problem(s.do(t, "POST", "/v1/auth/passkey", "", map[string]any{"credential": map[string]any{"id": "x"}}), 401, roster.EPasskeyRefused)
		if f := list(); f.Factors[1].LastUsedAt == nil {
			t.Fatalf("last use not recorded: %+v", f)
		}

		// Rename; another user reaches nothing.
		if r := s.do(t, "PATCH", "/v1/me/factors/passkeys/"+pk.ID, tok, map[string]string{"name": "Work laptop"}); r.status != 200 {
			t.Fatalf("rename: %s", r)
		}
		problem(s.do(t, "PATCH", "/v1/me/factors/passkeys/"+pk.ID, otherTok, map[string]string{"name": "Mine"}), 404, roster.ENotFound)
		problem(s.do(t, "DELETE", "/v1/me/factors/passkeys/"+pk.ID, otherTok, map[string]string{"password": testenv.Password}), 409, roster.EConflict)

		// Removal needs a proof, once the login's is older than 10 minutes.
		s.env.Clock.Advance(app.StepUpWindow + time.Second)
		problem(s.do(t, "DELETE", "/v1/me/factors/passkeys/"+pk.ID, tok, nil), 401, roster.EReauthRequired)
		problem(s.do(t, "DELETE", "/v1/me/factors/passkeys/"+pk.ID, tok, map[string]string{"password": "wrong password, long enough"}), 401, roster.EInvalidCredentials)
		if r := s.do(t, "DELETE", "/v1/me/factors/passkeys/"+pk.ID, tok, map[string]string{"password": testenv.Password}); r.status != 204 {
			t.Fatalf("remove passkey: %s", r)
		}
		problem(s.do(t, "DELETE", "/v1/me/factors/passkeys/"+pk.ID, tok, map[string]string{"password": testenv.Password}), 404, roster.ENotFound)
		// Turning the app off is a step-up: the password is not enough; a code given ahead
		// (POST /v1/me/step-up) is.
		problem(s.do(t, "DELETE", "/v1/me/factors/totp", tok, map[string]string{"password": testenv.Password}), 401, roster.EStepUpRequired)
		var state struct {
			Fresh   bool     `json:"fresh"`
			Methods []string `json:"methods"`
		}
		s.do(t, "GET", "/v1/me/step-up", tok, nil).json(t, &state)
		if state.Fresh || !slices.Contains(state.Methods, "totp") {
			t.Fatalf("step-up state: %+v", state)
		}
		s.env.Clock.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(setup.Secret, s.env.Clock.Now())
		if r := s.do(t, "POST", "/v1/me/step-up", tok, map[string]string{"code": code}); r.status != 204 {
			t.Fatalf("step-up with a code: %s", r)
		}
		if r := s.do(t, "DELETE", "/v1/me/factors/totp", tok, nil); r.status != 204 {
			t.Fatalf("remove totp: %s", r)
		}
		if f := list(); len(f.Factors) != 0 || f.Left != 0 {
			t.Fatalf("factors after removal: %+v", f)
		}
	})
}
