package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Two-factor authentication. A login happens in steps: the password (Login, through
// verifyCredential), then, for an account with a confirmed second factor, that factor
// (Auth.CompleteLogin). Between the two there is no session, only a login challenge: a random
// token stored as its SHA-256, bound to the user, used once, dead after five minutes. Every
// door (the API's login, the console's login page and so "Sign in with Roster") goes through
// Login and Auth.CompleteLogin; another factor (passkeys) or another first step (SSO) plugs in by
// naming its method in MFAChallenge.Methods and proving it in verifySecondFactor.
//
// Codes count as attempts at the account's credentials: each is reserved in the failure count
// of the account's address before it is checked (reserveAttempt, the password's own
// throttle), and only a successful second step clears the count.

// LoginChallengeLifetime is how long the second step of a login may wait.
const LoginChallengeLifetime = 5 * time.Minute

// Second-factor methods, as a login's next step names them.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
)

// RecoveryCodeCount is how many recovery codes a user gets at once.
const RecoveryCodeCount = 10

// totpOpts are the parameters every authenticator app knows: 6 digits, 30 s, SHA-1 (RFC 6238).
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// MFAChallenge is a login waiting for its second factor.
type MFAChallenge struct {
	Token     string // shown once: it proves the password step to Auth.CompleteLogin
	ExpiresAt time.Time
	Methods   []string // the factors that complete it (MethodTOTP, MethodRecoveryCode, MethodPasskey)
}

// passwordAccepted is the end of a login's password step: a session for an account without
// a second factor; for the others, a login challenge and no session.
func (a *Auth) passwordAccepted(t *txn, u roster.User) (LoginResult, error) {
	mfa, err := t.HasSecondFactor(t.ctx, u.ID)
	if err != nil || !mfa {
		if err != nil {
			return LoginResult{}, err
		}
		return a.openSession(t, u)
	}
	methods, err := a.secondFactorMethods(t.ctx, &t.Conn, u.ID) // passkeys.go
	if err != nil {
		return LoginResult{}, err
	}
	plain, hash := token.New(token.PrefixLogin)
	ch := &MFAChallenge{Token: plain, ExpiresAt: t.now.Add(LoginChallengeLifetime), Methods: methods}
	if err := t.CreateLoginChallenge(t.ctx, hash, u.ID, t.now, ch.ExpiresAt); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{User: u, MFA: ch}, nil
}

// SecondFactorInput is the second step of a login: the challenge's token and a code from the
// authenticator app or a recovery code, or a passkey's answer to BeginPasskeySecondFactor.
type SecondFactorInput struct {
	Token   string
	Code    string
	Passkey []byte // the browser's answer (WebAuthn JSON); when set, Code is not read
}

// CompleteLogin finishes a login that waits for its second factor and opens the session, as
// Login does for an account without one. An unknown, used or expired challenge gets
// mfa_expired (log in again); a wrong or replayed code gets invalid_code, counted with the
// account's failed logins.
func (a *Auth) CompleteLogin(ctx context.Context, actor roster.Actor, in SecondFactorInput) (LoginResult, error) {
	if ok, wait := a.ipRate.allow("login:"+actor.IP, a.clock.Now()); !ok {
		return LoginResult{}, rateLimited(wait)
	}
	expired := roster.Errorf(roster.EMFAExpired, "this sign-in expired or was already completed; log in again")
	if !token.WellFormed(token.PrefixLogin, in.Token) {
		return LoginResult{}, expired
	}
	hash := token.Hash(in.Token)
	c := a.read()
	userID, err := c.LoginChallengeUser(ctx, hash, a.clock.Now())
	if roster.ErrorCode(err) == roster.ENotFound {
		return LoginResult{}, expired
	}
	if err != nil {
		return LoginResult{}, err
	}
	u, err := c.User(ctx, userID)
	if err != nil {
		return LoginResult{}, err
	}
	if u.Status != roster.UserActive {
		return LoginResult{}, roster.Errorf(roster.EUserDeactivated, "this account has been deactivated; contact your administrator")
	}
	return committed(func(attempt func(*txn) error) error {
		if len(in.Passkey) > 0 {
			return a.verifyPasskeyStep(ctx, actor, u, hash, in.Passkey, attempt) // passkeys.go
		}
		return a.verifySecondFactor(ctx, actor, u, in.Code, secondStepFailed, func(t *txn, _ string) error { return attempt(t) })
	}, func(t *txn) (LoginResult, error) {
		if err := t.UseLoginChallenge(t.ctx, hash, u.ID, t.now); err != nil {
			if roster.ErrorCode(err) == roster.ENotFound {
				return LoginResult{}, expired
			}
			return LoginResult{}, err
		}
		res, err := a.openSession(t, u)
		if err != nil {
			return LoginResult{}, err
		}
		return res, t.audit(roster.AuditEvent{Action: "user.logged_in", TargetType: "session", TargetID: res.Session.ID,
			After: map[string]any{"second_factor": true}})
	})
}

// errCodeRefused ends the transaction of a code found spent or replayed when it was consumed.
var errCodeRefused = roster.Errorf(roster.EInvalidCode, "refused")

// verifySecondFactor checks a code of u's second factor: a TOTP code (the current time step
// or one either side, later than the last one accepted) or an unused recovery code. The
// attempt is reserved in the failure count of u's address first, as for a password; a
// success consumes the code, clears the count and runs then in one transaction; a failure
// is audited as failAction.
func (a *core) verifySecondFactor(ctx context.Context, actor roster.Actor, u roster.User, code, failAction string, then func(t *txn, method string) error) error {
	key := loginKey(u.Email)
	if err := a.reserveAttempt(ctx, actor, key); err != nil {
		return err
	}
	bad := &roster.Error{Code: roster.EInvalidCode, Field: "code", Message: "the code is not correct, or was already used"}
	method, norm := parseCode(code)
	var step int64
	resealed := false // the secret opened with a previous encryption key: sealed again on success
	if method == MethodTOTP {
		f, err := a.read().TOTP(ctx, u.ID)
		if err != nil && roster.ErrorCode(err) != roster.ENotFound {
			return err
		}
		if err == nil && f.ConfirmedAt != nil {
			secret, old, err := a.totpSecret(f)
			if err != nil {
				return err
			}
			resealed = old
			if step = matchStep(secret, norm, a.clock.Now()); step <= f.LastStep {
				step = 0
			}
		}
		if step == 0 {
			method = ""
		}
	}
	if method != "" {
		err := a.write(ctx, actor, func(t *txn) error {
			t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
			if method == MethodTOTP {
				if err := t.UseTOTPStep(t.ctx, u.ID, step); err != nil {
					return spent(err)
				}
				if resealed {
					if err := a.resealTOTP(t, u.ID); err != nil {
						return err
					}
				}
			} else {
				if err := t.UseRecoveryCode(t.ctx, u.ID, recoveryHash(norm), t.now); err != nil {
					return spent(err)
				}
				left, err := t.RecoveryCodesLeft(t.ctx, u.ID)
				if err != nil {
					return err
				}
				if err := t.audit(roster.AuditEvent{Action: "user.recovery_code_used", TargetType: "user", TargetID: u.ID,
					After: map[string]any{"recovery_codes_left": left}}); err != nil {
					return err
				}
			}
			if err := t.ClearLoginFailures(t.ctx, key); err != nil {
				return err
			}
			return then(t, method)
		})
		if err != errCodeRefused {
			return err
		}
	}
	if err := a.attemptFailed(ctx, actor, key, u.ID, failAction); err != nil {
		return err
	}
	return bad
}

// spent turns the not_found of a spent code into errCodeRefused.
func spent(err error) error {
	if roster.ErrorCode(err) == roster.ENotFound {
		return errCodeRefused
	}
	return err
}

// parseCode tells what a code typed is: six digits (spaces allowed) are a TOTP code, 20
// hexadecimal digits (dashes and spaces allowed, any case) a recovery code; anything else
// matches nothing ("").
func parseCode(code string) (method, norm string) {
	if len(code) > roster.MaxCodeLength {
		return "", ""
	}
	norm = strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code))
	digits, hexa := true, true
	for _, c := range norm {
		digits = digits && c >= '0' && c <= '9'
		hexa = hexa && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
	}
	switch {
	case len(norm) == 6 && digits:
		return MethodTOTP, norm
	case len(norm) == 20 && hexa:
		return MethodRecoveryCode, norm
	}
	return "", ""
}

// matchStep returns the time step (Unix time / 30 s) whose code is code, among the current
// step and one either side for clocks a little off; 0 when none matches.
func matchStep(secret, code string, now time.Time) int64 {
	cur := now.Unix() / int64(totpOpts.Period)
	for _, s := range []int64{cur, cur - 1, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(totpOpts.Period), 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s
		}
	}
	return 0
}

// recoveryHash is what is stored of a recovery code (normalized). Each has 80 random bits,
// beyond the reach of a search even against a fast hash.
func recoveryHash(norm string) string { return token.Hash("recovery:" + norm) }

// newRecoveryCodes makes a set of recovery codes, as shown to the user (xxxxx-xxxxx-xxxxx-xxxxx),
// and their hashes.
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			panic("app: crypto/rand failed: " + err.Error())
		}
		h := hex.EncodeToString(b)
		codes = append(codes, h[0:5]+"-"+h[5:10]+"-"+h[10:15]+"-"+h[15:20])
		hashes = append(hashes, recoveryHash(h))
	}
	return codes, hashes
}

// totpStepTime is when a time step began: last_step is the step of the last code accepted
// (the first at set-up), so this is when the authenticator was last used.
func totpStepTime(step int64) time.Time { return time.Unix(step*int64(totpOpts.Period), 0).UTC() }

// totpAD is the additional data of a user's sealed TOTP secret: a sealed secret cannot be
// moved to another user's row.
func totpAD(userID string) string { return "totp:" + userID }

// totpSecret unseals an authenticator's secret; old says a previous encryption key sealed it.
// When no key opens it (the key was changed without keeping the old one as a previous key),
// the answer says to use a recovery code.
func (a *core) totpSecret(f sqlstore.TOTPFactor) (secret string, old bool, err error) {
	b, old, err := a.unsealAny(totpAD(f.UserID), f.SecretSealed)
	if err != nil {
		a.log.Warn("a TOTP secret cannot be unsealed with this instance's encryption keys", "user", f.UserID, "err", err)
		return "", false, roster.Errorf(roster.EMFAUnavailable, "codes of the authenticator app cannot be checked on this instance now; use a recovery code")
	}
	return string(b), old, nil
}

// resealTOTP seals a user's authenticator secret again under the current encryption key, in
// the transaction of a code it accepted: after a key rotation, each secret moves to the new
// key at its next use, and the previous key can go once no secret needs it.
func (a *core) resealTOTP(t *txn, userID string) error {
	f, err := t.TOTP(t.ctx, userID)
	if err != nil {
		return err
	}
	secret, _, err := a.totpSecret(f)
	if err != nil {
		return err
	}
	sealed, err := a.seal(totpAD(userID), []byte(secret))
	if err != nil {
		return err
	}
	return t.ResealTOTP(t.ctx, userID, sealed)
}
