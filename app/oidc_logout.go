package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a user signs out of
// Roster through an application, the other applications that hold live tokens of theirs and
// registered a back-channel logout URI are sent a logout token, so that they end their own
// sessions. Delivery is best effort, in the background, once, with a short timeout: the URIs
// are the operator's, registered with the client.

// backChannelEvent is the event a logout token carries.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTimeout bounds one delivery.
const logoutTimeout = 5 * time.Second

// LogoutToken returns a signed logout token for a user at a client.
// It is signed with the client's algorithm.
func (a *App) LogoutToken(ctx context.Context, clientID, userID string) (string, error) {
	alg := AlgES256
	if cl, err := a.OIDCClientByID(ctx, clientID); err == nil {
		alg = cl.SigningAlg
	}
	k, err := a.OIDCSigningKeyFor(ctx, alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: k.Key, KeyID: k.ID, Algorithm: string(k.Algorithm)}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	now := a.clock.Now()
	payload, err := json.Marshal(map[string]any{
		"iss": a.Issuer(), "aud": clientID, "sub": userID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": token.Random(), "events": map[string]any{backChannelEvent: map[string]any{}},
	})
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// logoutEndedAccess sends a logout token to the applications whose tokens a committed change of
// access ended — a removal, a suspension, a new organization role (stillEntitled), a
// deactivation — so that they end their sessions now rather than at their next call. It runs
// after commit on the node that made the change (the access-change hook): which applications
// to tell is read at once (one indexed query per changed member, usually finding none);
// signing and delivering run in the background, best effort, once, like the logouts that
// follow a sign-out (backChannelLogout).
func (a *App) logoutEndedAccess(ch sqlstore.AccessChange) {
	ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
	defer cancel()
	for _, k := range ch.Keys {
		kind, rest, _ := strings.Cut(k, ":")
		var org, user string
		switch kind {
		case "m":
			org, user, _ = strings.Cut(rest, ":")
		case "u":
			user = rest
		default:
			continue
		}
		clients, err := a.read().OIDCLiveLogoutClients(ctx, user, org, a.clock.Now())
		if err != nil {
			a.log.Warn("back-channel logout: reading the applications to tell", "err", err)
			continue
		}
		for _, lc := range clients {
			if err := a.stillEntitled(ctx, user, org, lc.Oldest); err != ErrOIDCGrant {
				continue // still entitled (a store role changed: the next refresh shows it), or unknown
			}
			// Signing may need a key made (a write): not here, where a SQLite write still holds
			// the writer; in the background, with the delivery.
			go func() {
				tok, err := a.LogoutToken(context.Background(), lc.ClientID, user)
				if err != nil {
					a.log.Warn("back-channel logout: signing", "err", err)
					return
				}
				a.deliverLogout(context.Background(), lc.ClientID, lc.LogoutURI, tok)
			}()
		}
	}
}

// backChannelLogout sends logout tokens for a user to the clients that asked for them, but
// the one named by except (it started the logout). It returns at once; deliveries run in the
// background and their failures are logged.
func (a *App) backChannelLogout(ctx context.Context, userID, except string) error {
	targets, err := a.read().OIDCLogoutTargets(ctx, userID, a.clock.Now())
	if err != nil {
		return err
	}
	for clientID, uri := range targets {
		if clientID == except {
			continue
		}
		tok, err := a.LogoutToken(ctx, clientID, userID)
		if err != nil {
			return err
		}
		go a.deliverLogout(context.WithoutCancel(ctx), clientID, uri, tok)
	}
	return nil
}

func (a *App) deliverLogout(ctx context.Context, clientID, uri, logoutToken string) {
	ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {logoutToken}}.Encode()))
	if err != nil {
		a.log.Error("back-channel logout", "client", clientID, "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := logoutClient.Do(req)
	if err != nil {
		a.log.Warn("back-channel logout not delivered", "client", clientID, "err", err)
		return
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		a.log.Warn("back-channel logout refused", "client", clientID, "status", res.StatusCode)
	}
}

// logoutClient follows no redirect: a logout token goes to the registered URI only.
var logoutClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
