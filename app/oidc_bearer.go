package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster"
)

// Roster's own access tokens (JWTs its OpenID provider signs) are accepted as bearer tokens
// by the REST API. This file is the whole of that hook: Authenticate hands it anything shaped
// like a JWT.

// Issuer is the OpenID provider's issuer: the base URL, never the request's Host header.
func (a *OIDC) Issuer() string { return strings.TrimSuffix(a.cfg.BaseURL.String(), "/") }

// looksLikeJWT reports whether a bearer token has the shape of a compact JWS.
func looksLikeJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2 && len(s) < 16<<10
}

// accessTokenAlgorithms are the only signature algorithms accepted: "none" and HMAC (which
// would let a public key serve as a shared secret) are refused by construction.
var accessTokenAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

type accessTokenClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	ID       string          `json:"jti"`
	ClientID string          `json:"client_id"`
}

func (c accessTokenClaims) audiences() []string {
	var many []string
	if json.Unmarshal(c.Audience, &many) == nil {
		return many
	}
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	return nil
}

// authenticateAccessToken verifies a Roster access token: its signature by a published key,
// its issuer, its audience (Roster itself), its expiry, and that it is still live (not
// revoked, its user still entitled). The actor is its user, without the operator's
// instance-wide rights, and, for a token issued for an organization, acting in that
// organization only (access.go): a host application holding it reads and changes nothing of
// the user's other organizations, though it may list them (the switcher's data).
func (a *Auth) authenticateAccessToken(ctx context.Context, actor roster.Actor, secret string, unauth error) (roster.Actor, error) {
	c, ok, err := a.verifyAccessToken(ctx, secret)
	if err != nil || !ok {
		return actor, cmp.Or(err, unauth)
	}
	if roster.ValidID(roster.PrefixClient, c.Subject) {
		// A machine client's token (client-credentials grant): the client acts on its own, in
		// its organization only, with the token's permissions (oidc_machine.go).
		_, cl, err := a.app.Clients.LiveToken(ctx, c.ID)
		if err == ErrOIDCGrant || (err == nil && cl.ID != c.Subject) {
			return actor, unauth
		}
		if err != nil {
			return actor, err
		}
		actor.Kind, actor.ClientID, actor.ClientOrgID, actor.OIDCTokenID = roster.ActorClient, cl.ID, cl.OrgID, c.ID
		return actor, nil
	}
	t, err := a.app.OIDC.LiveToken(ctx, c.ID)
	if err == ErrOIDCGrant {
		return actor, unauth
	}
	if err != nil {
		return actor, err
	}
	if t.UserID != c.Subject {
		return actor, unauth
	}
	actor.Kind, actor.UserID, actor.OIDCTokenID, actor.OIDCOrgID = roster.ActorUser, t.UserID, t.ID, t.OrgID
	return actor, nil
}

// verifyAccessToken checks an access token's signature by a published key, its type, issuer,
// audience and expiry, and returns its claims; ok is false for a token that fails any of
// them. A token verified once is remembered (verifiedTokens) until it expires: presented
// again, it costs a hash and a look-up instead of a signature verification, while the key
// that signed it must still be published.
func (a *Auth) verifyAccessToken(ctx context.Context, secret string) (c accessTokenClaims, ok bool, err error) {
	sum := sha256.Sum256([]byte(secret))
	now := a.clock.Now()
	if v, hit := a.verified.get(sum, now); hit {
		key, published, err := a.app.SigningKeys.publicKey(ctx, v.kid)
		if err != nil || !published || key.Algorithm != v.alg {
			return accessTokenClaims{}, false, err
		}
		return v.claims, true, nil
	}
	jws, err := jose.ParseSignedCompact(secret, accessTokenAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return accessTokenClaims{}, false, nil
	}
	// RFC 9068 §4: the header typ says an access token; an ID token ("JWT") is refused.
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), "at+jwt") {
		return accessTokenClaims{}, false, nil
	}
	kid := jws.Signatures[0].Protected.KeyID
	key, ok, err := a.app.SigningKeys.publicKey(ctx, kid)
	if err != nil {
		return accessTokenClaims{}, false, err
	}
	if !ok || key.Algorithm != jws.Signatures[0].Protected.Algorithm {
		return accessTokenClaims{}, false, nil
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return accessTokenClaims{}, false, nil
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return accessTokenClaims{}, false, nil
	}
	if c.Issuer != a.app.OIDC.Issuer() || !slices.Contains(c.audiences(), a.app.OIDC.Issuer()) || c.Expiry <= now.Unix() || c.ID == "" {
		return accessTokenClaims{}, false, nil
	}
	a.verified.put(sum, verifiedToken{claims: c, kid: kid, alg: key.Algorithm}, now)
	return c, true, nil
}

// verifiedTokens remembers the access tokens this node verified, by SHA-256 of the whole
// token, until they expire, at most maxVerifiedTokens of them. Only the signature and the
// claims' checks are remembered: whether the token is still live (revoked, its user
// suspended or removed) is asked on every request.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	claims   accessTokenClaims
	kid, alg string
}

// maxVerifiedTokens bounds verifiedTokens: about 300 bytes each.
const maxVerifiedTokens = 20000

func (v *verifiedTokens) get(sum [sha256.Size]byte, now time.Time) (verifiedToken, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.m[sum]
	if ok && t.claims.Expiry <= now.Unix() {
		delete(v.m, sum)
		return verifiedToken{}, false
	}
	return t, ok
}

func (v *verifiedTokens) put(sum [sha256.Size]byte, t verifiedToken, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[[sha256.Size]byte]verifiedToken{}
	}
	if len(v.m) >= maxVerifiedTokens {
		for k, e := range v.m {
			if e.claims.Expiry <= now.Unix() {
				delete(v.m, k)
			}
		}
		if len(v.m) >= maxVerifiedTokens/2 {
			clear(v.m) // all live: start again rather than grow
		}
	}
	v.m[sum] = t
}

// ownCheck lets a Roster access token ask /v1/check about its own user only.
func ownCheck(actor roster.Actor, in []CheckInput) bool {
	if actor.OIDCTokenID == "" || actor.UserID == "" || len(in) == 0 {
		return false
	}
	for _, q := range in {
		if q.UserID != actor.UserID {
			return false
		}
	}
	return true
}
