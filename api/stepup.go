package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster/app"
)

// StepUp is the proof a dangerous action asks of a person (README, Step-up): transferring or
// deleting an organization, making an API key, changing the policy, removing the authenticator
// app. A second factor for an account that has one, else the password; none when one was
// given in the same session in the last 10 minutes (POST /v1/me/step-up, or an earlier action).
type StepUp struct {
	Password string         `json:"password,omitempty" maxLength:"1024" doc:"Your password, when your account has no second factor"`
	Code     string         `json:"code,omitempty" maxLength:"64" doc:"When your account has two-factor authentication: a code of your authenticator app, or an unused recovery code"`
	Passkey  map[string]any `json:"passkey,omitempty" doc:"Or a passkey's answer to the options of POST /v1/me/step-up/passkey-options (PublicKeyCredential.toJSON())"`
}

func (p *StepUp) proof() app.OwnerProof {
	if p == nil {
		return app.OwnerProof{}
	}
	return app.OwnerProof{Password: p.Password, Code: p.Code, Passkey: answerBytes(p.Passkey)}
}

type stepUpInput struct {
	Body *StepUp `required:"false"`
}

type stepUpStateOutput struct {
	Body struct {
		Fresh   bool     `json:"fresh" doc:"A proof was given in this session in the last 10 minutes: the dangerous actions ask for none"`
		Methods []string `json:"methods" enum:"totp,recovery_code,passkey" doc:"The second factors that prove it; empty: the password"`
	}
}

func (s *Server) registerStepUp() {
	register(s.api, op("get-step-up", http.MethodGet, "/v1/me/step-up", "What a dangerous action would ask for now", "Account"),
		func(ctx context.Context, _ *struct{}) (*stepUpStateOutput, error) {
			st, err := s.app.Auth.StepUpState(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &stepUpStateOutput{}
			out.Body.Fresh, out.Body.Methods = st.Fresh, st.Methods
			if out.Body.Methods == nil {
				out.Body.Methods = []string{}
			}
			return out, nil
		}, withDescription("Signed-in people only."))

	register(s.api, op("step-up", http.MethodPost, "/v1/me/step-up", "Confirm it is you, ahead of dangerous actions", "Account"),
		func(ctx context.Context, in *stepUpInput) (*struct{}, error) {
			if err := s.app.Auth.StepUp(ctx, actor(ctx), in.Body.proof()); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent),
		withDescription("With a session: checks the proof (a second factor, or the password for an account without one) and remembers it for 10 minutes, "+
			"during which transferring or deleting an organization, making an API key, changing a policy and removing the authenticator app ask for none. "+
			"Wrong proofs count with the account's failed logins. Without a proof: reauthentication_required (the password is asked) or step_up_required (a second factor: its field is code, or passkey for an account with passkeys only)."))

	register(s.api, op("step-up-passkey-options", http.MethodPost, "/v1/me/step-up/passkey-options", "Begin confirming with a passkey", "Account"),
		func(ctx context.Context, _ *struct{}) (*passkeyOptionsOutput, error) {
			opts, err := s.app.Auth.BeginStepUpPasskey(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return optionsJSON(opts)
		}, withDescription("The options for navigator.credentials.get, limited to your passkeys; send the answer as passkey to POST /v1/me/step-up "+
			"(or with the dangerous action itself) within 5 minutes, once."))
}
