package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a user signs out of
// Roster (through an application or in the console), or a Roster session of theirs ends
// otherwise (revoked from the account page, a password change or reset), or when a change
// ends their access (a removal, a suspension,
// a new organization role, a deactivation), the applications that hold live tokens of theirs
// and registered a back-channel logout URI are sent a logout token, so that they end their own
// sessions.
//
// Delivery is durable: the transaction that ends access writes one outbox message (kind
// KindBackChannelLogout) per application, so a committed change always has its logouts and a
// rolled-back one never does; the outbox worker posts them, retried after Backoff for about a
// day (OutboxMaxAttempts). The message holds no token: the worker signs one at each attempt,
// with the key that signs now and a lifetime of minutes, and with the same jti on every
// attempt (chosen when the message is written), so that a receiver that got an attempt whose
// answer was lost can tell the retry is the same logout. A token signed once, when the change
// commits, would have had to live a day and could have outlived its key's publication.
//
// The URIs are the operator's, registered with the client: unlike webhooks, which
// organizations' administrators point anywhere, they may name hosts on the operator's own
// network, so no address is refused; redirects are never followed.

// KindBackChannelLogout is the outbox kind of a back-channel logout: one user's logout at one
// application.
const KindBackChannelLogout = sqlstore.WakeLogout

// backChannelEvent is the event a logout token carries.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTimeout bounds one delivery attempt.
const logoutTimeout = 5 * time.Second

// logoutTokenTTL is how long a logout token is valid after it is signed: one attempt.
const logoutTokenTTL = 2 * time.Minute

// logoutToken returns a logout token for a user at a client, signed now with the client's
// algorithm, whose jti is jti; sid, when not "", names the Roster session that ended (the
// sid of the ID tokens issued in it), else the logout is of every session of the user.
func (a *Outbox) logoutToken(ctx context.Context, cl roster.OIDCClient, userID, sid, jti string) (string, error) {
	k, err := a.app.SigningKeys.For(ctx, cl.SigningAlg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: k.Key, KeyID: k.ID, Algorithm: string(k.Algorithm)}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	now := a.clock.Now()
	claims := map[string]any{
		"iss": a.app.OIDC.Issuer(), "aud": cl.ID, "sub": userID, "iat": now.Unix(), "exp": now.Add(logoutTokenTTL).Unix(),
		"jti": jti, "events": map[string]any{backChannelEvent: map[string]any{}},
	}
	if sid != "" {
		claims["sid"] = sid
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// enqueueLogout writes the back-channel logout of a user at a client to the outbox, in the
// transaction of the change that causes it: of the user's sessions begun in the Roster
// session sid, or of all of them when sid is "". Its jti is chosen here, once for every
// attempt.
func enqueueLogout(ctx context.Context, tx *sqlstore.Tx, clientID, userID, sid string, now time.Time) error {
	data := map[string]any{"client_id": clientID, "user_id": userID, "jti": token.Random()}
	if sid != "" {
		data["sid"] = sid
	}
	return tx.Enqueue(ctx, KindBackChannelLogout, roster.Email{ID: roster.NewID(roster.PrefixMessage), Template: KindBackChannelLogout,
		To: clientID, Data: data}, now)
}

// endSessions ends Roster sessions of a user — the one sessionID, or, when it is "", every
// one but except — and with them the applications' sessions that began in them: their tokens
// are revoked, and the applications that registered a back-channel logout URI are sent a
// logout naming the session (sid). It returns how many Roster sessions ended.
func (t *txn) endSessions(userID, sessionID, except string) (int64, error) {
	n := int64(1)
	var err error
	if sessionID != "" {
		err = t.DeleteSession(t.ctx, userID, sessionID)
	} else {
		n, err = t.DeleteUserSessions(t.ctx, userID, except)
	}
	if err != nil {
		return 0, err
	}
	apps, err := t.OIDCSessionApps(t.ctx, userID, sessionID, except, t.now)
	if err != nil || len(apps) == 0 {
		return n, err
	}
	for _, ap := range apps {
		if ap.LogoutURI == "" {
			continue
		}
		if err := enqueueLogout(t.ctx, t.Tx, ap.ClientID, userID, ap.SessionID, t.now); err != nil {
			return 0, err
		}
	}
	_, err = t.RevokeOIDCSessions(t.ctx, userID, sessionID, except, t.now)
	return n, err
}

// queueEndedAccessLogouts runs in every transaction that changes access, before it commits
// (sqlstore.DB.OnAccessWrite): for each member or user whose access changed, it queues a
// logout for the applications holding their tokens that the change ended — a removal, a
// suspension, a new organization role (entitled), a deactivation. A store role that changed
// ends no token (the next refresh shows it). One indexed query per changed member, usually
// finding none.
func (a *core) queueEndedAccessLogouts(ctx context.Context, tx *sqlstore.Tx, keys []string) error {
	now := a.clock.Now()
	queued := map[[2]string]bool{}
	for _, k := range keys {
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
		clients, err := tx.OIDCLiveLogoutClients(ctx, user, org, now)
		if err != nil {
			return err
		}
		for _, lc := range clients {
			if queued[[2]string{lc.ClientID, user}] {
				continue
			}
			err := a.entitled(ctx, &tx.Conn, user, org, lc.Oldest)
			if err == nil {
				continue
			}
			if err != ErrOIDCGrant {
				return err
			}
			if err := enqueueLogout(ctx, tx, lc.ClientID, user, "", now); err != nil {
				return err
			}
			queued[[2]string{lc.ClientID, user}] = true
		}
	}
	return nil
}

// queueSignOutLogouts queues, in a sign-out's transaction, the logouts of a user at the
// applications holding live tokens of theirs that asked for them, but the one named by except
// (it started the sign-out).
func (t *txn) queueSignOutLogouts(userID, except string) error {
	targets, err := t.OIDCLogoutTargets(t.ctx, userID, t.now)
	if err != nil {
		return err
	}
	for clientID := range targets {
		if clientID == except {
			continue
		}
		if err := enqueueLogout(t.ctx, t.Tx, clientID, userID, "", t.now); err != nil {
			return err
		}
	}
	return nil
}

// ClaimLogouts leases up to limit back-channel logouts that are due, for OutboxLease.
func (a *Outbox) ClaimLogouts(ctx context.Context, limit int) ([]OutboundEmail, error) {
	return a.Claim(ctx, []string{KindBackChannelLogout}, limit)
}

// errLogoutGone ends a logout whose receiver answered 410 Gone: it will never take one.
var errLogoutGone = errors.New("HTTP 410 Gone")

// DeliverLogout makes one attempt at a claimed back-channel logout and records its outcome:
// sent; retried after Backoff; given up after OutboxMaxAttempts (about a day) or at once on
// 410 Gone, which the audit log records; cancelled when the client is deleted or no longer
// has a logout URI. The URI is the client's as registered now. It returns an error only when
// the outcome could not be recorded (the lease then runs out and the attempt is made again).
func (a *Outbox) DeliverLogout(ctx context.Context, m OutboundEmail) error {
	clientID, _ := m.Data["client_id"].(string)
	userID, _ := m.Data["user_id"].(string)
	jti, _ := m.Data["jti"].(string)
	sid, _ := m.Data["sid"].(string)
	cl, err := a.app.Clients.ByID(ctx, clientID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && cl.BackChannelLogoutURI == "") {
		_, err = txValue(ctx, a.db, func(tx *sqlstore.Tx) (bool, error) {
			return tx.EndEmail(ctx, m.ID, "cancelled", "the client is deleted or has no back-channel logout URI")
		})
		return err
	}
	if err != nil {
		return err
	}
	tok, cause := a.logoutToken(ctx, cl, userID, sid, jti)
	if cause == nil {
		cause = a.postLogout(ctx, cl.BackChannelLogoutURI, tok)
	}
	if cause == nil {
		return a.EmailSent(context.WithoutCancel(ctx), m.ID)
	}
	a.log.Warn("back-channel logout not delivered", "id", m.ID, "client", clientID, "attempt", m.Attempts, "err", cause)
	msg := truncate(cause.Error(), 500)
	return a.write(context.WithoutCancel(ctx), roster.System(), func(t *txn) error {
		if !errors.Is(cause, errLogoutGone) && m.Attempts < OutboxMaxAttempts {
			return t.RetryEmail(t.ctx, m.ID, t.now.Add(Backoff(m.Attempts)), msg)
		}
		ended, err := t.EndEmail(t.ctx, m.ID, "failed", msg)
		if err != nil || !ended {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "oidc.backchannel_logout_failed", TargetType: "client", TargetID: clientID,
			After: map[string]any{"user_id": userID, "attempts": m.Attempts, "error": msg}})
	})
}

// postLogout posts a logout token to a URI; the receiver answers 200 or 204 when it took it.
func (a *Outbox) postLogout(ctx context.Context, uri, logoutToken string) error {
	ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {logoutToken}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := logoutClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return nil
	case http.StatusGone:
		return errLogoutGone
	}
	return fmt.Errorf("HTTP %d %s", res.StatusCode, http.StatusText(res.StatusCode))
}

// logoutClient follows no redirect: a logout token goes to the registered URI only.
var logoutClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
