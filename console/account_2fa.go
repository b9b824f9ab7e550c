package console

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"github.com/pquerna/otp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// totpSetup is an authenticator app being set up, as the account page shows it: the QR code
// of its otpauth:// URL and the key as text, in groups of four.
type totpSetup struct {
	QR  template.URL // a PNG data URI (the console's CSP allows data: images)
	Key string
}

// newTOTPSetup draws the QR code of a set-up with the encoder pquerna/otp uses
// (boombuler/barcode).
func newTOTPSetup(setup app.TOTPSetup) (*totpSetup, error) {
	key, err := otp.NewKeyFromURL(setup.URL)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	var groups []string
	for i := 0; i < len(setup.Secret); i += 4 {
		groups = append(groups, setup.Secret[i:min(i+4, len(setup.Secret))])
	}
	// #nosec G203 -- a data URI of a PNG encoded here, nothing from outside
	return &totpSetup{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), Key: strings.Join(groups, " ")}, nil
}

// accountTOTPSetup begins setting up an authenticator app and shows its QR code and key.
func (s *Server) accountTOTPSetup(w http.ResponseWriter, r *http.Request, rq *request) error {
	setup, err := s.app.MFA.BeginTOTP(r.Context(), rq.id.actor, r.PostFormValue("password"))
	if err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	return s.showSetup(w, r, rq, setup, nil)
}

func (s *Server) showSetup(w http.ResponseWriter, r *http.Request, rq *request, setup app.TOTPSetup, failed error) error {
	view, err := newTOTPSetup(setup)
	if err != nil {
		return err
	}
	return s.renderAccountWith(w, r, rq, failed, &accountPage{Setup: view})
}

// accountTOTPConfirm turns two-factor authentication on with a first code, and shows the
// recovery codes once; a wrong code shows the set-up again.
func (s *Server) accountTOTPConfirm(w http.ResponseWriter, r *http.Request, rq *request) error {
	codes, err := s.app.MFA.ConfirmTOTP(r.Context(), rq.id.actor, r.PostFormValue("code"))
	if roster.ErrorCode(err) == roster.EInvalidCode {
		setup, perr := s.app.MFA.PendingTOTP(r.Context(), rq.id.actor)
		if perr != nil {
			return s.renderAccount(w, r, rq, perr)
		}
		return s.showSetup(w, r, rq, setup, err)
	}
	return s.showCodes(w, r, rq, codes, err)
}

// accountRecoveryCodes makes a new set of recovery codes and shows it once.
func (s *Server) accountRecoveryCodes(w http.ResponseWriter, r *http.Request, rq *request) error {
	codes, err := s.app.MFA.RegenerateRecoveryCodes(r.Context(), rq.id.actor, ownerProof(r))
	return s.showCodes(w, r, rq, codes, err)
}

func (s *Server) accountTwoFactorRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.MFA.Disable(r.Context(), rq.id.actor, ownerProof(r)); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	flash := "two_factor_removed"
	if keys, err := s.app.Passkeys.List(r.Context(), rq.id.actor); err == nil && len(keys) > 0 {
		flash = "two_factor_app_removed" // the passkeys remain a second factor
	}
	redirect(w, r, "/account", flash)
	return nil
}

// showCodes shows recovery codes once, with a link that saves them as a text file (a data
// URI: they are not kept anywhere to be downloaded later).
func (s *Server) showCodes(w http.ResponseWriter, r *http.Request, rq *request, codes []string, err error) error {
	return s.showCodesWith(w, r, rq, codes, err, "")
}

// showCodesWith shows recovery codes as showCodes does, with a notice (flash, a catalog key).
func (s *Server) showCodesWith(w http.ResponseWriter, r *http.Request, rq *request, codes []string, err error, flash string) error {
	if err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	text := strings.Join(codes, "\n") + "\n"
	// #nosec G203 -- a data URI of codes made by Roster, percent-encoded
	file := template.URL("data:text/plain;charset=utf-8," + strings.ReplaceAll(url.QueryEscape(text), "+", "%20"))
	return s.renderAccountWith(w, r, rq, nil, &accountPage{Codes: codes, CodesFile: file, Flash: flash})
}
