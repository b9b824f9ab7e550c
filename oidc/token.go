package oidc

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// The token endpoint's additions to the library: the client's own signing algorithm, and
// access tokens typed "at+jwt" (RFC 9068).

// AccessTokenType is the JOSE header typ of Roster's access tokens (RFC 9068 §2.1). ID tokens
// are typed "JWT", so one cannot be presented as the other.
const AccessTokenType = "at+jwt"

type clientKey struct{}

// withClient names the token request's client in the context, for SigningKey: from HTTP Basic
// authentication, else the form's client_id. The library authenticates the client before it
// signs anything, so a name that is not the caller's signs nothing.
func withClient(r *http.Request) *http.Request {
	id, _, ok := r.BasicAuth()
	if ok {
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
	} else {
		id = r.PostForm.Get("client_id")
	}
	if id == "" {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), clientKey{}, id))
}

func clientOf(ctx context.Context) string {
	id, _ := ctx.Value(clientKey{}).(string)
	return id
}

// signedAlgorithms are the algorithms the provider signs with.
var signedAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// typeAccessToken signs the tokens of a successful token response, which the library signed
// with a placeholder (storage.go, placeholderSigner) and the header typ "JWT": Roster's access
// tokens are "at+jwt", signed by the key the library named; the ID token's at_hash (the hash
// of the access token) is recomputed and the ID token signed to match, with the sid of the
// Roster session the sign-in began in (sid, "" for none known), which back-channel logout
// tokens name too. Any other answer passes unchanged.
func (d *door) typeAccessToken(ctx context.Context, body []byte, sid string) ([]byte, error) {
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(body, &resp); err != nil {
		return body, nil
	}
	var at, idt string
	newAT := ""
	if json.Unmarshal(resp["access_token"], &at) == nil && strings.Count(at, ".") == 2 {
		var err error
		if newAT, err = d.resign(ctx, at, AccessTokenType, nil); err != nil {
			return nil, err
		}
		resp["access_token"], _ = json.Marshal(newAT)
	}
	if json.Unmarshal(resp["id_token"], &idt) == nil && idt != "" {
		newIDT, err := d.resign(ctx, idt, "JWT", func(c map[string]json.RawMessage) {
			if _, ok := c["at_hash"]; ok {
				c["at_hash"], _ = json.Marshal(claimHash(cmp.Or(newAT, at)))
			}
			if sid != "" {
				c["sid"], _ = json.Marshal(sid)
			}
		})
		if err != nil {
			return nil, err
		}
		resp["id_token"], _ = json.Marshal(newIDT)
	}
	if newAT == "" && idt == "" {
		return body, nil
	}
	var out bytes.Buffer
	err := json.NewEncoder(&out).Encode(resp)
	return out.Bytes(), err
}

// resign signs again a token the library has just signed, with the same key, the header typ,
// and its claims edited.
func (d *door) resign(ctx context.Context, compact, typ string, edit func(map[string]json.RawMessage)) (string, error) {
	jws, err := jose.ParseSignedCompact(compact, signedAlgorithms)
	if err != nil {
		return "", err
	}
	payload := jws.UnsafePayloadWithoutVerification() // made by the library in this request
	if edit != nil {
		var c map[string]json.RawMessage
		if err := json.Unmarshal(payload, &c); err != nil {
			return "", err
		}
		edit(c)
		if payload, err = json.Marshal(c); err != nil {
			return "", err
		}
	}
	return d.app.SigningKeys.Sign(ctx, jws.Signatures[0].Protected.KeyID, typ, payload)
}

// claimHash is at_hash (OpenID Connect Core §3.1.3.6): the left half of the SHA-256 of the
// token (ES256 and RS256 both hash with SHA-256), base64url.
func claimHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
