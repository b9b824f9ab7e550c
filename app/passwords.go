package app

import (
	"context"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/token"
)

// SetPasswordWithLink sets a password through a one-time link: a password reset, or the
// first password of a user created directly. The link works once and only before it expires;
// using it proves the address, and ends every session of the user. A reset also revokes every
// API key of the user, in every organization.
func (a *Accounts) SetPasswordWithLink(ctx context.Context, actor roster.Actor, secret, pw string) (roster.User, error) {
	bad := roster.Errorf(roster.ETokenInvalid, "this link is invalid, already used or expired; ask for a new one")
	if !token.WellFormed(token.PrefixLink, secret) {
		return roster.User{}, bad
	}
	c := a.read()
	hash := token.Hash(secret)
	var tok roster.UserToken
	var err error
	for _, p := range []roster.TokenPurpose{roster.TokenPasswordReset, roster.TokenSetPassword} {
		if tok, err = c.UserTokenByHash(ctx, p, hash); err == nil || roster.ErrorCode(err) != roster.ENotFound {
			break
		}
	}
	if roster.ErrorCode(err) == roster.ENotFound {
		return roster.User{}, bad
	}
	if err != nil {
		return roster.User{}, err
	}
	if tok.UsedAt != nil || !a.clock.Now().Before(tok.ExpiresAt) {
		return roster.User{}, bad
	}
	u, err := c.User(ctx, tok.UserID)
	if err != nil {
		return roster.User{}, err
	}
	if err := password.Check(pw, a.cfg.PasswordMinLength, password.Context{Email: u.Email, Name: u.Name}); err != nil {
		return roster.User{}, err
	}
	pwHash, err := a.hasher.Hash(ctx, pw)
	if err != nil {
		return roster.User{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		u := u // each attempt starts from the user read before the transaction
		if _, err := t.ConsumeUserToken(t.ctx, tok.Purpose, hash, t.now); err != nil {
			if roster.ErrorCode(err) == roster.ENotFound {
				return roster.User{}, bad
			}
			return roster.User{}, err
		}
		if err := t.SetPasswordHash(t.ctx, u.ID, pwHash, t.now); err != nil {
			return roster.User{}, err
		}
		if err := t.SetEmailVerified(t.ctx, u.ID, t.now); err != nil {
			return roster.User{}, err
		}
		if _, err := t.endSessions(u.ID, "", ""); err != nil {
			return roster.User{}, err
		}
		if err := t.ClearLoginFailures(t.ctx, loginKey(u.Email)); err != nil {
			return roster.User{}, err
		}
		if u.EmailVerifiedAt == nil {
			u.EmailVerifiedAt = &t.now
		}
		u.HasPassword = true
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		after := map[string]any{"via": string(tok.Purpose)}
		if tok.Purpose == roster.TokenPasswordReset {
			// Whoever knew the old password may have minted keys that act as the user.
			n, err := t.revokeUserKeys(u.ID, "password_reset")
			if err != nil {
				return roster.User{}, err
			}
			after["api_keys_revoked"] = n
		}
		if err := t.audit(roster.AuditEvent{Action: "user.password_set", TargetType: "user", TargetID: u.ID, After: after}); err != nil {
			return roster.User{}, err
		}
		if tok.Purpose == roster.TokenPasswordReset {
			return u, a.notifyPasswordChanged(t, u)
		}
		return u, nil
	})
}
