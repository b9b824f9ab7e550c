package console

import (
	"net/http"

	"github.com/rosterhq/roster/app"
)

// Step-up (app/stepup.go): the forms of the dangerous actions — transferring or deleting an
// organization, making an API key, the policy, removing the authenticator app — ask what
// the "stepup" partial shows: nothing within ten minutes of a proof in this session, the
// password for an account without a second factor, else a code, with a link to the
// confirmation page for a passkey. The confirmation page (/account/confirm) takes any of them
// ahead of the action and goes back to the form.

// withStepUp loads what the next dangerous action would ask the person for, for the partial.
func (s *Server) withStepUp(r *http.Request, rq *request, v *view) error {
	st, err := s.app.Auth.StepUpState(r.Context(), rq.id.actor)
	if err != nil {
		return err
	}
	v.StepUp = &st
	return nil
}

// confirmPage is the step-up page: a passkey, a code or the password, then back to next.
type confirmPage struct {
	Next string
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderConfirm(w, r, rq, r.URL.Query().Get("next"), nil)
}

func (s *Server) renderConfirm(w http.ResponseWriter, r *http.Request, rq *request, next string, failed error) error {
	v := s.view(w, r, rq, "stepup.title")
	v.D = &confirmPage{Next: safeNext(next)}
	if err := s.withStepUp(r, rq, v); err != nil {
		return err
	}
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "account_confirm", v)
	return nil
}

// confirm checks the proof posted by the confirmation page and goes back to the form.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := safeNext(r.PostFormValue("next"))
	if err := s.app.Auth.StepUp(r.Context(), rq.id.actor, ownerProof(r)); err != nil {
		return s.renderConfirm(w, r, rq, next, err)
	}
	redirect(w, r, next, "stepped_up")
	return nil
}

// confirmPasskeyOptions begins confirming with a passkey (passkeys.js posts here first).
func (s *Server) confirmPasskeyOptions(w http.ResponseWriter, r *http.Request, rq *request) error {
	opts, err := s.app.Auth.BeginStepUpPasskey(r.Context(), rq.id.actor)
	return s.passkeyOptions(w, r, rq, opts, err)
}

func ownerProof(r *http.Request) app.OwnerProof {
	p := app.OwnerProof{Password: r.PostFormValue("password"), Code: r.PostFormValue("code")}
	if pk := r.PostFormValue("passkey"); pk != "" {
		p.Passkey = []byte(pk)
	}
	return p
}
