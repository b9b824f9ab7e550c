package console

import (
	"net/http"

	"github.com/rosterhq/roster/app"
)

// The operator's page of the OpenID provider's signing keys: where each is in its life, and
// a rotation at once (what roster keys rotate does), asked for first.

type signingKeysPage struct {
	Keys    []app.OIDCKeyInfo
	Confirm bool // the rotation's confirmation is open (?rotate=1)
}

func (s *Server) operatorSigningKeys(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderSigningKeys(w, r, rq, nil)
}

func (s *Server) renderSigningKeys(w http.ResponseWriter, r *http.Request, rq *request, failed error) error {
	list, err := s.app.SigningKeys.List(r.Context(), rq.id.actor)
	if err != nil {
		return err
	}
	v := s.view(w, r, rq, "signingkeys.title")
	v.D = &signingKeysPage{Keys: list, Confirm: r.URL.Query().Get("rotate") != ""}
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "operator_keys", v)
	return nil
}

func (s *Server) operatorRotateSigningKeys(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.SigningKeys.Rotate(r.Context(), rq.id.actor); err != nil {
		r.URL.RawQuery = ""
		return s.renderSigningKeys(w, r, rq, err)
	}
	redirect(w, r, "/operator/keys", "keys_rotated")
	return nil
}
