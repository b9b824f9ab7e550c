package api_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestLoginWithSecondFactor: for an account with an authenticator, POST /v1/auth/login opens
// no session (no token, no cookie) and answers the next step; POST /v1/auth/login/mfa with a
// code of the app (made by pquerna/otp) or a recovery code opens it, each once; a wrong code
// is 401 invalid_code, a spent or forged mfa_token 401 mfa_expired, bad input 422.
func TestLoginWithSecondFactor(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e, func(c *app.Config) { c.EncryptionKey = make([]byte, app.EncryptionKeySize) })
		_, email := s.signup(t, "Ines")
		actor, _ := s.env.Login(t, email)
		setup, err := s.env.App.MFA.BeginTOTP(testenv.Ctx, actor, "")
		if err != nil {
			t.Fatal(err)
		}
		first, _ := totp.GenerateCode(setup.Secret, s.env.Clock.Now())
		recovery, err := s.env.App.MFA.ConfirmTOTP(testenv.Ctx, actor, first)
		if err != nil {
			t.Fatal(err)
		}
		s.env.Clock.Advance(30 * time.Second)

		type step struct {
			Token       string   `json:"token"`
			MFARequired bool     `json:"mfa_required"`
			MFAToken    string   `json:"mfa_token"`
			Methods     []string `json:"methods"`
			User        *struct {
				Email string `json:"email"`
			} `json:"user"`
		}
		login := func() step {
			t.Helper()
			r := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password})
			var st step
			r.json(t, &st)
			if r.status != 200 || !st.MFARequired || st.MFAToken == "" || st.Token != "" || st.User != nil || len(cookies(r)) != 0 {
				t.Fatalf("password step: %s %v", r, cookies(r))
			}
			if len(st.Methods) != 2 || st.Methods[0] != app.MethodTOTP || st.Methods[1] != app.MethodRecoveryCode {
				t.Fatalf("methods %v", st.Methods)
			}
			return st
		}
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
		st := login()
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": st.MFAToken, "code": "000000"}), 401, roster.EInvalidCode)
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": "rmfa_forged", "code": "000000"}), 401, roster.EMFAExpired)
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]any{"mfa_token": st.MFAToken, "code": 123456}), 422, roster.EInvalid)

		code, _ := totp.GenerateCode(setup.Secret, s.env.Clock.Now())
		r := s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": st.MFAToken, "code": code})
		var done step
		r.json(t, &done)
		if r.status != 200 || done.Token == "" || done.User == nil || done.User.Email != email || len(cookies(r)) != 1 || cookies(r)[0].Value != done.Token {
			t.Fatalf("second step: %s", r)
		}
		if me := s.do(t, "GET", "/v1/me", done.Token, nil); me.status != 200 {
			t.Fatalf("the session: %s", me)
		}
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": st.MFAToken, "code": code}), 401, roster.EMFAExpired)
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": login().MFAToken, "code": code}), 401, roster.EInvalidCode)

		// A recovery code, once.
		st = login()
		if r := s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": st.MFAToken, "code": recovery[0]}); r.status != 200 {
			t.Fatalf("recovery code: %s", r)
		}
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": login().MFAToken, "code": recovery[0]}), 401, roster.EInvalidCode)

		// Five minutes, and the step grants nothing.
		st = login()
		s.env.Clock.Advance(app.LoginChallengeLifetime)
		code, _ = totp.GenerateCode(setup.Secret, s.env.Clock.Now())
		problem(s.do(t, "POST", "/v1/auth/login/mfa", "", map[string]string{"mfa_token": st.MFAToken, "code": code}), 401, roster.EMFAExpired)
	})
}
