package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

type signupInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"320" doc:"The address to sign in with"`
		Name     string `json:"name" maxLength:"100"`
		Password string `json:"password" maxLength:"1024" doc:"15 to 256 characters by default; common passwords are refused"`
		Locale   string `json:"locale,omitempty" enum:"en,fr,es"`
	}
}

type acceptedOutput struct {
	Body struct {
		Status  string `json:"status" example:"accepted"`
		Message string `json:"message"`
	}
}

func accepted(msg string) *acceptedOutput {
	out := &acceptedOutput{}
	out.Body.Status, out.Body.Message = "accepted", msg
	return out
}

type loginInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"320"`
		Password string `json:"password" maxLength:"1024"`
	}
}

type loginOutput struct {
	SetCookie string `header:"Set-Cookie" doc:"The session cookie, when a session was opened"`
	Body      struct {
		Token        string   `json:"token,omitempty" doc:"The session token: send it as Authorization: Bearer. Shown once. Absent when mfa_required is true."`
		ExpiresAt    *Time    `json:"expires_at,omitempty" doc:"When the session ends at the latest"`
		User         *User    `json:"user,omitempty"`
		MFARequired  bool     `json:"mfa_required,omitempty" doc:"true: the password was right and the account has two-factor authentication; no session yet. Send a code with mfa_token to POST /v1/auth/login/mfa."`
		MFAToken     string   `json:"mfa_token,omitempty" doc:"Proves the password step to POST /v1/auth/login/mfa: works once, for 5 minutes. Shown once."`
		MFAExpiresAt *Time    `json:"mfa_expires_at,omitempty" doc:"When mfa_token stops working"`
		Methods      []string `json:"methods,omitempty" enum:"totp,recovery_code,passkey" doc:"The second factors that complete the login"`
	}
}

// loginJSON is the answer of a login step: the session, or the next step.
func (s *Server) loginJSON(res app.LoginResult) *loginOutput {
	out := &loginOutput{}
	if res.MFA != nil {
		out.Body.MFARequired, out.Body.MFAToken, out.Body.MFAExpiresAt, out.Body.Methods = true, res.MFA.Token, (*Time)(&res.MFA.ExpiresAt), res.MFA.Methods
		return out
	}
	c := httpserver.NewSessionCookie(res.Token, res.Session.ExpiresAt, s.https)
	u := userJSON(res.User)
	out.SetCookie, out.Body.Token, out.Body.ExpiresAt, out.Body.User = c.String(), res.Token, (*Time)(&res.Session.ExpiresAt), &u
	return out
}

type loginMFAInput struct {
	Body struct {
		MFAToken string         `json:"mfa_token" maxLength:"200" doc:"The mfa_token of the login's answer"`
		Code     string         `json:"code,omitempty" maxLength:"64" doc:"A code of the authenticator app (6 digits) or an unused recovery code"`
		Passkey  map[string]any `json:"passkey,omitempty" doc:"Or a passkey's answer to the options of POST /v1/auth/login/mfa/passkey-options (PublicKeyCredential.toJSON())"`
	}
}

type logoutOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

type setPasswordInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"200" doc:"The token of the one-time link"`
		Password string `json:"password" maxLength:"1024"`
	}
}

type setupInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"200" doc:"The token of the setup link printed at first start"`
		Email    string `json:"email" maxLength:"320"`
		Name     string `json:"name" maxLength:"100"`
		Password string `json:"password" maxLength:"1024"`
	}
}

type userOutput struct{ Body User }

func (s *Server) registerAuth() {
	register(s.api, public(op("signup", http.MethodPost, "/v1/auth/signup", "Create an account", "Authentication")),
		func(ctx context.Context, in *signupInput) (*acceptedOutput, error) {
			err := s.app.Auth.Signup(ctx, actor(ctx), app.SignupInput{Email: in.Body.Email, Name: in.Body.Name, Password: in.Body.Password, Locale: in.Body.Locale})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return accepted("If this address can be used, the account is ready: log in with it."), nil
		}, withStatus(http.StatusAccepted), withDescription("The answer is the same whether or not the address already had an account."))

	register(s.api, public(op("login", http.MethodPost, "/v1/auth/login", "Log in", "Authentication")),
		func(ctx context.Context, in *loginInput) (*loginOutput, error) {
			res, err := s.app.Auth.Login(ctx, actor(ctx), app.LoginInput{Email: in.Body.Email, Password: in.Body.Password})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return s.loginJSON(res), nil
		}, withDescription("Opens a new session. Wrong passwords and unknown addresses get the same answer; repeated failures are slowed down (429 with Retry-After). "+
			"For an account with two-factor authentication the answer opens no session: it is {\"mfa_required\": true, \"mfa_token\": …, \"methods\": [\"totp\", \"recovery_code\"]}, "+
			"and POST /v1/auth/login/mfa finishes the login."))

	register(s.api, public(op("login-mfa", http.MethodPost, "/v1/auth/login/mfa", "Finish a login with a second factor", "Authentication")),
		func(ctx context.Context, in *loginMFAInput) (*loginOutput, error) {
			res, err := s.app.Auth.CompleteLogin(ctx, actor(ctx), app.SecondFactorInput{Token: in.Body.MFAToken, Code: in.Body.Code, Passkey: answerBytes(in.Body.Passkey)})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return s.loginJSON(res), nil
		}, withDescription("Takes the mfa_token of a login's answer and a code of the authenticator app or a recovery code (each works once), and opens the session as a login does. "+
			"A wrong code is invalid_code (401), counted with the account's failed logins (429 with Retry-After when too many); an unknown, used or expired mfa_token is mfa_expired (401): log in again."))

	register(s.api, op("logout", http.MethodPost, "/v1/auth/logout", "Log out", "Authentication"),
		func(ctx context.Context, _ *struct{}) (*logoutOutput, error) {
			if err := s.app.Auth.Logout(ctx, actor(ctx)); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &logoutOutput{SetCookie: httpserver.NewSessionCookie("", time.Time{}, s.https)}, nil
		}, withStatus(http.StatusNoContent))

	register(s.api, public(op("set-password", http.MethodPost, "/v1/auth/password-reset/confirm", "Set a password through a one-time link", "Authentication")),
		func(ctx context.Context, in *setPasswordInput) (*userOutput, error) {
			u, err := s.app.Accounts.SetPasswordWithLink(ctx, actor(ctx), in.Body.Token, in.Body.Password)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withDescription("Works with a password-reset link and with the set-password link of a user created directly. The link works once; every session of the user ends."))

	register(s.api, public(op("setup", http.MethodPost, "/v1/setup", "Create the first operator", "Operators")),
		func(ctx context.Context, in *setupInput) (*userOutput, error) {
			u, err := s.app.Operator.CompleteSetup(ctx, actor(ctx), in.Body.Token, app.SignupInput{Email: in.Body.Email, Name: in.Body.Name, Password: in.Body.Password})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withDescription("Uses the one-time setup link printed in the log at first start."))
}

// withStatus sets the status of a successful answer.
func withStatus(code int) func(*huma.Operation) {
	return func(o *huma.Operation) { o.DefaultStatus = code }
}

// withDescription documents an operation.
func withDescription(d string) func(*huma.Operation) {
	return func(o *huma.Operation) { o.Description = d }
}
