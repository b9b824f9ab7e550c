package ssotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Tamper modes of the provider's ID tokens.
const (
	WrongAudience = "aud"       // re-signed by the provider's own key, for another client
	Expired       = "exp"       // re-signed by the provider's own key, expired an hour ago
	BadSignature  = "signature" // signed by another key under the provider's key ID
)

// Tamper makes the provider's token endpoint answer an ID token changed as mode says (the
// rest of the answer is the provider's own).
func (op *OP) Tamper(mode string) {
	op.Wrap = func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/oauth/token" {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["id_token"] == nil {
				copyResponse(w, rec)
				return
			}
			raw, _ := body["id_token"].(string)
			jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				copyResponse(w, rec)
				return
			}
			var claims map[string]any
			_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims)
			sk, _ := op.Storage.SigningKey(context.Background())
			key := sk.Key()
			switch mode {
			case WrongAudience:
				claims["aud"] = []string{"another-application"}
			case Expired:
				claims["iat"], claims["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			case BadSignature:
				key, _ = rsa.GenerateKey(rand.Reader, 2048)
			}
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: sk.ID()}},
				(&jose.SignerOptions{}).WithType("JWT"))
			payload, _ := json.Marshal(claims)
			signed, _ := signer.Sign(payload)
			body["id_token"], _ = signed.CompactSerialize()
			out, _ := json.Marshal(body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(out)
		})
	}
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = bytes.NewReader(rec.Body.Bytes()).WriteTo(w)
}
