package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

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
	jws, err := jose.ParseSignedCompact(secret, accessTokenAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return actor, unauth
	}
	// RFC 9068 §4: the header typ says an access token; an ID token ("JWT") is refused.
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), "at+jwt") {
		return actor, unauth
	}
	kid := jws.Signatures[0].Protected.KeyID
	key, ok, err := a.app.SigningKeys.publicKey(ctx, kid)
	if err != nil {
		return actor, err
	}
	if !ok || key.Algorithm != jws.Signatures[0].Protected.Algorithm {
		return actor, unauth
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return actor, unauth
	}
	var c accessTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return actor, unauth
	}
	if c.Issuer != a.app.OIDC.Issuer() || !slices.Contains(c.audiences(), a.app.OIDC.Issuer()) || c.Expiry <= a.clock.Now().Unix() || c.ID == "" {
		return actor, unauth
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
