package console

import (
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// Passkeys in the console. Each ceremony is one form: static/passkeys.js posts it to the
// form's data-options address first (an answer in JSON: the options for
// navigator.credentials, or a localized refusal), hands the options to the browser, puts the
// browser's answer in the form's hidden field and submits the form as any other; the
// handler of that post does the rest and redirects (PRG) or renders the page with a
// refusal. Without WebAuthn (or without the script) the form says so and posts nothing.

// passkeyOptions answers a request for a ceremony's options: JSON for the script, or a
// localized refusal it shows beside the form.
func (s *Server) passkeyOptions(w http.ResponseWriter, r *http.Request, rq *request, opts app.PasskeyOptions, err error) error {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		retryAfter(w, err)
		w.WriteHeader(roster.HTTPStatus(roster.ErrorCode(err)))
		return json.NewEncoder(w).Encode(map[string]string{"message": s.cat().errorText(rq.loc, err, httpserver.RequestID(r.Context()))})
	}
	_, err = w.Write(opts)
	return err
}

// accountPasskeyOptions begins adding a passkey (the password, unless given in the last minutes).
func (s *Server) accountPasskeyOptions(w http.ResponseWriter, r *http.Request, rq *request) error {
	opts, err := s.app.Passkeys.BeginRegistration(r.Context(), rq.id.actor, r.PostFormValue("password"))
	return s.passkeyOptions(w, r, rq, opts, err)
}

// accountPasskeyAdd finishes adding a passkey with the browser's answer.
func (s *Server) accountPasskeyAdd(w http.ResponseWriter, r *http.Request, rq *request) error {
	added, err := s.app.Passkeys.FinishRegistration(r.Context(), rq.id.actor, r.PostFormValue("name"), []byte(r.PostFormValue("credential")))
	if err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	if len(added.RecoveryCodes) > 0 { // the account's first second factor: its recovery codes, shown once
		return s.showCodesWith(w, r, rq, added.RecoveryCodes, nil, "passkey_added_codes")
	}
	redirect(w, r, "/account", "passkey_added")
	return nil
}

func (s *Server) accountPasskeyRename(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Passkeys.Rename(r.Context(), rq.id.actor, r.PathValue("passkey"), r.PostFormValue("name")); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "passkey_renamed")
	return nil
}

func (s *Server) accountPasskeyRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Passkeys.Remove(r.Context(), rq.id.actor, r.PathValue("passkey"), ownerProof(r)); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "passkey_removed")
	return nil
}

// loginPasskeyOptions begins signing in with a passkey and no password.
func (s *Server) loginPasskeyOptions(w http.ResponseWriter, r *http.Request, rq *request) error {
	opts, err := s.app.Auth.BeginPasskeyLogin(r.Context(), roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent()))
	return s.passkeyOptions(w, r, rq, opts, err)
}

// loginPasskey finishes signing in with a passkey, as a login with a password and a second
// factor ends; a refusal shows the login page again.
func (s *Server) loginPasskey(w http.ResponseWriter, r *http.Request, rq *request) error {
	res, err := s.app.Auth.FinishPasskeyLogin(r.Context(), roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent()), []byte(r.PostFormValue("credential")))
	if err != nil {
		v := s.view(w, r, rq, "login.title")
		retryAfter(w, err)
		s.render(w, r, s.setError(r, v, err), "login", v)
		return nil
	}
	s.loggedIn(w, r, rq, res)
	return nil
}

// loginMFAPasskeyOptions begins the second step of a login with a passkey.
func (s *Server) loginMFAPasskeyOptions(w http.ResponseWriter, r *http.Request, rq *request) error {
	opts, err := s.app.Auth.BeginPasskeySecondFactor(r.Context(), roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent()), r.PostFormValue("mfa_token"))
	return s.passkeyOptions(w, r, rq, opts, err)
}
