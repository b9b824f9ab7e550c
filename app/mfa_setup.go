package app

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// MFA is a user's own second factors: enrolling an authenticator app, recovery codes, turning
// two-factor authentication off; and an organization resetting the factors of a member who
// lost them (ResetMember). The login step that asks for a factor is in mfa.go, on Auth.
type MFA struct{ *core }

// A user's own second factors: setting up the authenticator app (begin, then confirm with a
// first code, which turns it on and makes the recovery codes), the recovery codes made again,
// and removal. The secret is sealed with the instance's encryption key (seal, oidc_keys.go).

// TOTPSetup is an authenticator app being set up: what to give the app.
type TOTPSetup struct {
	Secret string // base32, to type into the app
	URL    string // the otpauth:// URL a QR code carries
}

// TwoFactor is where a user's authenticator app stands, and their recovery codes (which back
// up the app and the passkeys alike).
type TwoFactor struct {
	Enabled           bool       // the authenticator app is on
	Since             *time.Time // when it was turned on
	LastUsedAt        *time.Time // when its last code was accepted (the time step's start)
	SetupPending      bool       // set-up begun, not yet confirmed with a code
	RecoveryCodesLeft int
}

// Status tells the actor where their two-factor authentication stands.
func (a *MFA) Status(ctx context.Context, actor roster.Actor) (TwoFactor, error) {
	if err := requireUser(actor); err != nil {
		return TwoFactor{}, err
	}
	c := a.read()
	left, err := c.RecoveryCodesLeft(ctx, actor.UserID) // with the app, or with passkeys alone
	if err != nil {
		return TwoFactor{}, err
	}
	f, err := c.TOTP(ctx, actor.UserID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return TwoFactor{RecoveryCodesLeft: left}, nil
	}
	if err != nil {
		return TwoFactor{}, err
	}
	st := TwoFactor{Enabled: f.ConfirmedAt != nil, Since: f.ConfirmedAt, SetupPending: f.ConfirmedAt == nil, RecoveryCodesLeft: left}
	if st.Enabled {
		used := totpStepTime(f.LastStep)
		st.LastUsedAt = &used
	}
	return st, nil
}

// BeginTOTP starts setting up an authenticator app: a new secret, stored sealed and
// unconfirmed (replacing a set-up begun before), that protects nothing until ConfirmTOTP.
// It needs the password entered in the last few minutes, or given now (pw), and an
// encryption key configured for the instance (mfa_unavailable otherwise).
func (a *MFA) BeginTOTP(ctx context.Context, actor roster.Actor, pw string) (TOTPSetup, error) {
	if err := requireUser(actor); err != nil {
		return TOTPSetup{}, err
	}
	if len(a.cfg.EncryptionKey) != EncryptionKeySize || a.cfg.EncryptionKeyEphemeral {
		return TOTPSetup{}, roster.Errorf(roster.EMFAUnavailable,
			"two-factor authentication needs an encryption key: the operator sets ROSTER_ENCRYPTION_KEY (see the README)")
	}
	c := a.read()
	if err := a.stepUp(ctx, c, actor, pw); err != nil {
		return TOTPSetup{}, err
	}
	u, err := c.User(ctx, actor.UserID)
	if err != nil {
		return TOTPSetup{}, err
	}
	raw := make([]byte, 20) // 160 bits, as RFC 4226 recommends
	if _, err := rand.Read(raw); err != nil {
		return TOTPSetup{}, err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	sealed, err := a.seal(totpAD(u.ID), []byte(secret))
	if err != nil {
		return TOTPSetup{}, err
	}
	err = a.write(ctx, actor, func(t *txn) error { return t.BeginTOTP(t.ctx, u.ID, sealed, t.now) })
	if err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: secret, URL: totpURL(u.Email, secret)}, nil
}

// PendingTOTP returns the set-up begun and not yet confirmed, to show it again.
func (a *MFA) PendingTOTP(ctx context.Context, actor roster.Actor) (TOTPSetup, error) {
	if err := requireUser(actor); err != nil {
		return TOTPSetup{}, err
	}
	_, setup, err := a.pendingTOTP(ctx, actor.UserID)
	return setup, err
}

func (a *MFA) pendingTOTP(ctx context.Context, userID string) (sqlstore.TOTPFactor, TOTPSetup, error) {
	c := a.read()
	f, err := c.TOTP(ctx, userID)
	if err == nil && f.ConfirmedAt != nil || roster.ErrorCode(err) == roster.ENotFound {
		return f, TOTPSetup{}, roster.Errorf(roster.EConflict, "no set-up of an authenticator app is waiting; start it again")
	}
	if err != nil {
		return f, TOTPSetup{}, err
	}
	u, err := c.User(ctx, userID)
	if err != nil {
		return f, TOTPSetup{}, err
	}
	secret, _, err := a.totpSecret(f) // sealed under a previous key: sealed again at its first use after confirmation
	if err != nil {
		return f, TOTPSetup{}, err
	}
	return f, TOTPSetup{Secret: secret, URL: totpURL(u.Email, secret)}, nil
}

// ConfirmTOTP turns two-factor authentication on with a first code of the app being set up,
// and returns the recovery codes, shown this once.
func (a *MFA) ConfirmTOTP(ctx context.Context, actor roster.Actor, code string) ([]string, error) {
	if err := requireUser(actor); err != nil {
		return nil, err
	}
	f, setup, err := a.pendingTOTP(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	method, norm := parseCode(code)
	step := int64(0)
	if method == MethodTOTP {
		step = matchStep(setup.Secret, norm, a.clock.Now())
	}
	if step == 0 {
		return nil, &roster.Error{Code: roster.EInvalidCode, Field: "code", Message: "the code is not correct: check the app's clock and try the next code"}
	}
	codes, hashes := newRecoveryCodes()
	err = a.write(ctx, actor, func(t *txn) error {
		if err := t.ConfirmTOTP(t.ctx, f.UserID, step, t.now); err != nil {
			if roster.ErrorCode(err) == roster.ENotFound {
				return roster.Errorf(roster.EConflict, "no set-up of an authenticator app is waiting; start it again")
			}
			return err
		}
		if err := t.ReplaceRecoveryCodes(t.ctx, f.UserID, hashes, t.now); err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{Action: "user.two_factor_enabled", TargetType: "user", TargetID: f.UserID,
			After: map[string]any{"method": MethodTOTP}}); err != nil {
			return err
		}
		return a.notifyFactors(t, f.UserID, "two_factor_enabled")
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// notifyFactors tells a user of a change to their second factors, so that one they did not
// make does not go unnoticed.
func (a *MFA) notifyFactors(t *txn, userID, template string) error {
	u, err := t.User(t.ctx, userID)
	if err != nil {
		return err
	}
	return t.notifyUser(u, template, "", nil)
}

// ResetMember removes the second factors of a member who lost them — the authenticator app,
// the recovery codes and the passkeys — so that they sign in with their password and set up a
// factor again (owner and admins; never on the owner unless the actor is the owner, never on
// oneself, who has the account page). An account is one person's across every organization
// they belong to, so an organization resets it only when the account is its own: the person
// belongs to no other organization, or their address is at a domain this organization
// verified. Otherwise account_not_managed: the person uses a recovery code, or the operator
// helps. The member is emailed and the reset audited in the organization; a member with no
// factor is left as they are.
func (a *MFA) ResetMember(ctx context.Context, actor roster.Actor, orgID, userID string) error {
	return a.memberWrite(ctx, actor, orgID, userID, func(t *txn, s scope, m roster.Membership) error {
		if userID == actor.UserID {
			return roster.Errorf(roster.EConflict, "change your own second factors on your account page")
		}
		u, err := t.User(t.ctx, userID)
		if err != nil {
			return err
		}
		if err := accountManagedBy(t, orgID, u); err != nil {
			return err
		}
		by := s.org.Name
		if actor.UserID != "" {
			me, err := t.User(t.ctx, actor.UserID)
			if err != nil {
				return err
			}
			by = me.Name
		}
		return resetFactors(t, u, roster.AuditEvent{OrgID: orgID, Action: "member.two_factor_reset"},
			"two_factor_reset", map[string]any{"org_name": s.org.Name, "requested_by": by})
	})
}

// resetFactors removes u's second factors, audits it as ev and emails u the template, when u
// has any; with none it does nothing.
func resetFactors(t *txn, u roster.User, ev roster.AuditEvent, template string, data map[string]any) error {
	if on, err := t.HasSecondFactor(t.ctx, u.ID); err != nil {
		return err
	} else if !on {
		left, err := t.RecoveryCodesLeft(t.ctx, u.ID)
		if err != nil || left == 0 {
			return err // nothing to reset: done, and nobody to tell
		}
	}
	if err := t.DeleteAllFactors(t.ctx, u.ID); err != nil {
		return err
	}
	ev.TargetType, ev.TargetID = "user", u.ID
	if err := t.audit(ev); err != nil {
		return err
	}
	return t.notifyUser(u, template, ev.OrgID, data)
}

// accountManagedBy fails with account_not_managed unless u's account is the organization's
// own: u belongs to no other organization, or u's address is at a domain it verified.
func accountManagedBy(t *txn, orgID string, u roster.User) error {
	d, err := t.VerifiedDomain(t.ctx, roster.EmailDomain(u.Email))
	if err == nil && d.OrgID == orgID {
		return nil
	}
	if err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	orgs, err := t.UserOrganizationIDs(t.ctx, u.ID)
	if err != nil {
		return err
	}
	for _, id := range orgs {
		if id != orgID {
			return roster.Errorf(roster.EAccountNotManaged,
				"this person also belongs to other organizations and their address is not at a domain this organization verified: they can sign in with a recovery code, or the instance's operator can help")
		}
	}
	return nil
}

// OwnerProof is how a signed-in person proves again that the account is theirs: the
// password, a current code (or a recovery code), or a passkey's answer to
// Auth.BeginStepUpPasskey. Which of them counts depends on the action (stepup.go).
type OwnerProof struct {
	Password string
	Code     string
	Passkey  []byte // the browser's answer (WebAuthn JSON)
}

func (p OwnerProof) empty() bool { return p.Password == "" && p.Code == "" && len(p.Passkey) == 0 }

// Disable removes the authenticator app, and the recovery codes unless passkeys remain that
// they back up: a dangerous action, confirmed by a second factor (requireStepUp), never by
// the password alone.
func (a *MFA) Disable(ctx context.Context, actor roster.Actor, proof OwnerProof) error {
	if err := a.twoFactorOn(ctx, actor); err != nil {
		return err
	}
	return a.withStepUp(ctx, actor, proof, func(t *txn, u roster.User) error {
		passkeys, err := t.CountPasskeys(t.ctx, u.ID)
		if err != nil {
			return err
		}
		if passkeys > 0 {
			err = t.DeleteTOTP(t.ctx, u.ID)
		} else {
			err = t.DeleteSecondFactors(t.ctx, u.ID)
		}
		if err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{Action: "user.two_factor_disabled", TargetType: "user", TargetID: u.ID}); err != nil {
			return err
		}
		return t.notifyUser(u, "two_factor_disabled", "", nil)
	})
}

// RegenerateRecoveryCodes makes a new set of recovery codes, shown this once; the old ones
// stop working.
func (a *MFA) RegenerateRecoveryCodes(ctx context.Context, actor roster.Actor, proof OwnerProof) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := a.withOwnerProof(ctx, actor, proof, func(t *txn, u roster.User) error {
		if err := t.ReplaceRecoveryCodes(t.ctx, u.ID, hashes, t.now); err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{Action: "user.recovery_codes_regenerated", TargetType: "user", TargetID: u.ID}); err != nil {
			return err
		}
		return t.notifyUser(u, "recovery_codes_regenerated", "", nil)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// twoFactorOn refuses an actor who is not a signed-in person with a second factor.
func (a *core) twoFactorOn(ctx context.Context, actor roster.Actor) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	if on, err := a.read().HasSecondFactor(ctx, actor.UserID); err != nil || !on {
		if err != nil {
			return err
		}
		return roster.Errorf(roster.EConflict, "two-factor authentication is not on")
	}
	return nil
}

// withOwnerProof checks proof for the actor, whose two-factor authentication must be on, and
// runs then in the transaction that records the success: the password, a code, a passkey, or
// none within the step-up window of the session (stepup.go, checkProof).
func (a *core) withOwnerProof(ctx context.Context, actor roster.Actor, proof OwnerProof, then func(t *txn, u roster.User) error) error {
	if err := a.twoFactorOn(ctx, actor); err != nil {
		return err
	}
	st, u, err := a.stepUpState(ctx, a.read(), actor)
	if err != nil {
		return err
	}
	withUser := func(t *txn) error { return then(t, u) }
	if st.Fresh {
		return a.write(ctx, actor, func(t *txn) error {
			t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
			return withUser(t)
		})
	}
	given, err := a.checkProof(ctx, actor, u, proof, true, true, withUser)
	if !given {
		return &roster.Error{Code: roster.EReauthRequired, Field: "password", Message: "enter your password or a code from your authenticator app to confirm"}
	}
	return err
}

// totpURL is the otpauth:// URL of a secret, as authenticator apps read it from a QR code.
func totpURL(accountName, secret string) string {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return ""
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "Roster", AccountName: accountName, Period: totpOpts.Period,
		Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm, Secret: raw})
	if err != nil {
		return ""
	}
	return k.URL()
}
