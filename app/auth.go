package app

import (
	"context"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Auth signs people in and out: sign-up, the password login and its second step (mfa.go), the
// credentials each request carries (sessions, API keys, service tokens, OpenID access tokens), and
// a user's list of their own sessions (sessions.go).
type Auth struct{ *core }

// SignupInput is what a person gives to create an account.
type SignupInput struct {
	Email    string
	Name     string
	Password string
	Locale   string
}

// Signup creates an account. Its answer never tells whether the address was already taken:
// for a taken address nothing is created and the same (nil) answer comes back after the
// same work; the person then logs in, and the owner of the address is told by email. A new
// account is sent a link to verify its address.
func (a *Auth) Signup(ctx context.Context, actor roster.Actor, in SignupInput) error {
	if a.cfg.Signup != SignupOpen {
		return roster.Errorf(roster.ESignupClosed, "sign-up is by invitation only on this instance")
	}
	u, hash, err := a.newUser(ctx, in)
	if err != nil {
		return err
	}
	err = a.write(ctx, actor, func(t *txn) error {
		u := u // each attempt starts from the user made before the transaction
		if existing, _, err := t.UserByEmail(t.ctx, u.Email); err == nil {
			// The owner of the address hears of it instead (SECURITY.md, enumeration).
			return a.notifySignupAttempt(t, existing)
		} else if roster.ErrorCode(err) != roster.ENotFound {
			return err
		}
		u.CreatedAt, u.UpdatedAt = t.now, t.now
		if err := t.CreateUser(t.ctx, u, hash); err != nil {
			return err
		}
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		if err := t.audit(roster.AuditEvent{Action: "user.signed_up", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"email": u.Email, "name": u.Name}}); err != nil {
			return err
		}
		return t.sendVerification(u)
	})
	if err == errTaken || roster.ErrorCode(err) == roster.EUserExists {
		return nil // the same answer as for a new account
	}
	return err
}

// errTaken ends a sign-up transaction for an address that has an account.
var errTaken = roster.Errorf(roster.EUserExists, "taken")

// newUser validates sign-up input and hashes the password (outside any transaction: the
// hash is the slow part). The password may not be made of the address, the name or the
// words given as context (the inviting organization's name).
func (a *core) newUser(ctx context.Context, in SignupInput, words ...string) (roster.User, string, error) {
	var errs []error
	keep := func(v string, err error) string { errs = append(errs, err); return v }
	addr, name, loc := keep(email(in.Email)), keep(text("name", in.Name, true, roster.MaxNameLength)), keep(locale(in.Locale))
	errs = append(errs, password.Check(in.Password, a.cfg.PasswordMinLength, password.Context{Email: addr, Name: name, Words: words}))
	if err := roster.Invalids(errs...); err != nil { // every field at fault at once
		return roster.User{}, "", err
	}
	hash, err := a.hasher.Hash(ctx, in.Password)
	if err != nil {
		return roster.User{}, "", err
	}
	u := roster.User{ID: roster.NewID(roster.PrefixUser), Email: addr, Name: name, Locale: loc, Status: roster.UserActive, HasPassword: true}
	return u, hash, nil
}

// LoginInput is what a person gives to sign in.
type LoginInput struct {
	Email    string
	Password string
}

// LoginResult is a new session and the secret token that proves it, shown once; or, for an
// account with a second factor, no session yet but the login's next step (MFA).
type LoginResult struct {
	Token   string
	Session roster.Session
	User    roster.User
	MFA     *MFAChallenge // set instead of a session: Auth.CompleteLogin takes the second factor
}

// lockFor is the growing delay after consecutive failed attempts for one account: none for
// the first four, then 1 s doubling up to 15 minutes, and a hard stop of a day at 50
// failures, well before 100. A success or a password reset clears the count.
func lockFor(failures int) time.Duration {
	switch {
	case failures >= 50:
		return 24 * time.Hour
	case failures >= 5:
		d := time.Second << min(failures-5, 10)
		return min(d, 15*time.Minute)
	}
	return 0
}

// loginKey is the key of an address's failure count: a hash of the address, known or not.
func loginKey(addr string) string { return token.Hash("login:" + addr) }

// verifyCredential checks the password of the account at an address. It is the one place
// where Roster checks an account's password: login, step-up, accepting an invitation for an
// address that has an account, and the operator set-up all go through it, and share one
// failure count per address.
//
//  1. Reserve (reserveAttempt): the attempt is counted before the password is verified,
//     in one atomic statement that refuses a locked address (sqlstore.ReserveLoginAttempt),
//     and the lock the new count earns starts at once. Parallel guesses cannot outrun the
//     lock: no more passwords are verified than lockFor allows. Second-factor codes count
//     in the same place (verifySecondFactor).
//  2. Verify the password (a dummy hash for unknown addresses, accounts without a password
//     and oversized input: the same work and the same answer as a wrong password).
//  3. Record: a failure is audited as failAction (when the account exists and failAction is
//     set); a success clears the count, upgrades a hash made with weaker parameters and runs
//     then (when set) in the same transaction.
//
// A deactivated account with the right password gets user_deactivated. Callers reword the
// invalid_credentials answer for their form.
func (a *core) verifyCredential(ctx context.Context, actor roster.Actor, rawAddr, pw, failAction string, then func(t *txn, u roster.User) error) (roster.User, error) {
	if !a.attempts.Enter(ctx) {
		return roster.User{}, &roster.Error{Code: roster.EUnavailable, Message: "too many sign-ins at once; try again in a moment", RetryAfter: time.Second}
	}
	defer a.attempts.Leave()
	bad := roster.Errorf(roster.EInvalidCredentials, "the email address or the password is not correct")
	addr, err := email(rawAddr)
	if err != nil {
		a.hasher.VerifyDummy(ctx, pw)
		return roster.User{}, bad
	}
	key := loginKey(addr)
	if err := a.reserveAttempt(ctx, actor, key); err != nil {
		return roster.User{}, err
	}
	u, hash, err := a.read().UserByEmail(ctx, addr)
	if err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return roster.User{}, err
	}
	ok, rehash := false, false
	if hash == "" || len(pw) > 4*password.MaxLength {
		a.hasher.VerifyDummy(ctx, pw)
	} else if ok, rehash, err = a.hasher.Verify(ctx, pw, hash); err != nil {
		return roster.User{}, err
	}
	if !ok {
		if err := a.attemptFailed(ctx, actor, key, u.ID, failAction); err != nil {
			return roster.User{}, err
		}
		return roster.User{}, bad
	}
	if u.Status != roster.UserActive {
		return roster.User{}, roster.Errorf(roster.EUserDeactivated, "this account has been deactivated; contact your administrator")
	}
	if rehash {
		if hash, err = a.hasher.Hash(ctx, pw); err != nil {
			return roster.User{}, err
		}
	}
	err = a.write(ctx, actor, func(t *txn) error {
		// A password alone clears the count only where it is all the proof asked: an account
		// without a second factor, or a signed-in person confirming. Otherwise the count is
		// cleared by the second step (verifySecondFactor): knowing the password must not
		// reset the guesses at the code.
		mfa, err := t.HasSecondFactor(t.ctx, u.ID)
		if err != nil {
			return err
		}
		if !mfa || actor.Kind == roster.ActorUser {
			if err := t.ClearLoginFailures(t.ctx, key); err != nil {
				return err
			}
		}
		if rehash {
			if err := t.SetPasswordHash(t.ctx, u.ID, hash, t.now); err != nil {
				return err
			}
		}
		if then == nil {
			return nil
		}
		return then(t, u)
	})
	if err != nil {
		return roster.User{}, err
	}
	return u, nil
}

// reserveAttempt counts an attempt at an account's credentials before it is checked, and
// refuses it while the account is locked (rate_limited with the time left).
func (a *core) reserveAttempt(ctx context.Context, actor roster.Actor, key string) error {
	type reservation struct {
		reserved bool
		until    time.Time
	}
	r, err := writeValue(ctx, a, actor, func(t *txn) (reservation, error) {
		reserved, until, err := t.ReserveLoginAttempt(t.ctx, key, t.now, lockFor)
		return reservation{reserved, until}, err
	})
	if err != nil {
		return err
	}
	if !r.reserved {
		return rateLimited(r.until.Sub(a.clock.Now()))
	}
	return nil
}

// attemptFailed records that a reserved attempt was wrong, audited as failAction when the
// account exists and failAction is set. The third failure at the second step of a login within
// secondStepWindow emails the account's owner: whoever tries knows their password.
func (a *core) attemptFailed(ctx context.Context, actor roster.Actor, key, userID, failAction string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if err := t.NoteLoginFailure(t.ctx, key, t.now); err != nil || userID == "" || failAction == "" {
			return err
		}
		t.actor.Kind, t.actor.UserID = roster.ActorUser, userID
		if err := t.audit(roster.AuditEvent{Action: failAction, TargetType: "user", TargetID: userID}); err != nil || failAction != secondStepFailed {
			return err
		}
		n, err := t.CountRecentAudit(t.ctx, secondStepFailed, userID, t.now.Add(-secondStepWindow))
		if err != nil || n != secondStepNotice {
			return err
		}
		u, err := t.User(t.ctx, userID)
		if err != nil {
			return err
		}
		return t.notifyUser(u, "second_factor_failures", "", map[string]any{"count": n})
	})
}

// secondStepFailed is the audit action of a wrong code or passkey at the second step of a
// login; the secondStepNotice-th within secondStepWindow emails the person.
const (
	secondStepFailed = "user.second_factor_failed"
	secondStepNotice = 3
	secondStepWindow = 15 * time.Minute
)

// Login checks an address and password and opens a new session: the credential
// (verifyCredential), then the session, in the transaction that records the success. For an
// account with a second factor it opens none: the result's MFA is the pending step that
// Auth.CompleteLogin finishes (mfa.go).
// Unknown addresses, wrong passwords and accounts without a password get the same answer
// after the same work.
func (a *Auth) Login(ctx context.Context, actor roster.Actor, in LoginInput) (LoginResult, error) {
	if ok, wait := a.ipRate.allow("login:"+actor.IP, a.clock.Now()); !ok {
		return LoginResult{}, rateLimited(wait)
	}
	var res LoginResult
	_, err := a.verifyCredential(ctx, actor, in.Email, in.Password, "user.login_failed", func(t *txn, u roster.User) error {
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		if err := a.passwordAllowed(t, u); err != nil { // a domain that requires SSO (sso_login.go)
			return err
		}
		var err error
		if res, err = a.passwordAccepted(t, u); err != nil || res.MFA != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "user.logged_in", TargetType: "session", TargetID: res.Session.ID})
	})
	if err != nil {
		return LoginResult{}, err
	}
	return res, nil
}

// openSession creates a session for a user who just proved who they are: always a new
// token, so no session can be fixed in advance.
func (a *core) openSession(t *txn, u roster.User) (LoginResult, error) {
	plain, hash := token.New(token.PrefixSession)
	s := roster.Session{
		ID: roster.NewID(roster.PrefixSession), UserID: u.ID, CreatedAt: t.now, LastSeenAt: t.now,
		ExpiresAt: t.now.Add(a.cfg.SessionLifetime), ReauthAt: t.now, StepUpAt: t.now, IP: t.actor.IP, UserAgent: truncate(t.actor.UserAgent, roster.MaxUserAgentLength),
	}
	if err := t.CreateSession(t.ctx, s, hash); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: plain, Session: s, User: u}, nil
}

func rateLimited(wait time.Duration) error {
	if wait < time.Second {
		wait = time.Second
	}
	return &roster.Error{Code: roster.ERateLimited, Message: "too many attempts; try again later", RetryAfter: wait.Round(time.Second)}
}

// Logout ends the actor's current session.
func (a *Auth) Logout(ctx context.Context, actor roster.Actor) error {
	if actor.SessionID == "" {
		return roster.Errorf(roster.EInvalid, "only a session can be logged out; API keys are revoked instead")
	}
	return a.write(ctx, actor, func(t *txn) error {
		if _, err := t.endSessions(actor.UserID, actor.SessionID, ""); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "user.logged_out", TargetType: "session", TargetID: actor.SessionID})
	})
}

// touchEvery bounds how often a session's last use is written: at most once a minute.
const touchEvery = time.Minute

// Authenticate returns the actor a bearer token or session cookie stands for. Expired,
// revoked, forged and malformed tokens, and tokens of deactivated users, all get
// "unauthenticated".
func (a *Auth) Authenticate(ctx context.Context, secret, ip, userAgent string) (roster.Actor, error) {
	unauth := errUnauthenticated
	actor := roster.Actor{IP: ip, UserAgent: userAgent}
	switch {
	case token.WellFormed(token.PrefixSession, secret):
		return a.authenticateSession(ctx, actor, secret, unauth)
	case strings.HasPrefix(secret, token.PrefixAPIKey):
		return a.authenticateAPIKey(ctx, actor, secret, unauth)
	case looksLikeJWT(secret):
		return a.authenticateAccessToken(ctx, actor, secret, unauth) // oidc_bearer.go
	case token.WellFormed(token.PrefixService, secret):
		// Verified from the access index (a keyed hash of the secret) when it may answer.
		src, err := a.source(ctx, 0)
		if err != nil {
			return actor, err
		}
		now := a.clock.Now()
		id, touch, err := src.serviceToken(ctx, secret, func(st *roster.ServiceToken) bool {
			return st.LastUsedAt == nil || now.Sub(*st.LastUsedAt) > touchEvery
		})
		if roster.ErrorCode(err) == roster.ENotFound {
			return actor, unauth
		}
		if err != nil {
			return actor, err
		}
		if touch {
			if err := a.write(ctx, actor, func(t *txn) error { return t.TouchServiceToken(t.ctx, id, t.now) }); err != nil {
				return actor, err
			}
		}
		actor.Kind, actor.ServiceTokenID = roster.ActorService, id
		return actor, nil
	}
	return actor, unauth
}

// errUnauthenticated refuses credentials; one value, made once (callers never change errors
// they are given: roster.Error.With copies).
var errUnauthenticated = roster.Errorf(roster.EUnauthenticated, "the credentials are missing, invalid or expired; log in again")

func (a *Auth) authenticateSession(ctx context.Context, actor roster.Actor, secret string, unauth error) (roster.Actor, error) {
	su, err := a.read().SessionUserByTokenHash(ctx, token.Hash(secret))
	if roster.ErrorCode(err) == roster.ENotFound {
		return actor, unauth
	}
	if err != nil {
		return actor, err
	}
	now := a.clock.Now()
	if !a.sessionLive(su.Session, now) {
		return actor, unauth
	}
	return a.sessionActor(ctx, actor, su.Session, su.User, now, unauth)
}

// requireUser refuses actors that are not a signed-in user.
func requireUser(actor roster.Actor) error {
	if actor.Kind == roster.ActorUser && actor.UserID != "" {
		return nil
	}
	if actor.Kind == roster.ActorAnonymous || actor.Kind == "" {
		return roster.Errorf(roster.EUnauthenticated, "log in first")
	}
	return roster.Forbidden("this needs a signed-in user")
}

// reauthWindow is how recently the password must have been entered for sensitive actions
// that do not ask for it again.
const reauthWindow = 10 * time.Minute

// stepUp proves that the person at the keyboard is the account's owner before a sensitive
// action: the password given now, or entered in this session in the last few minutes. The
// dangerous actions ask for more (requireStepUp, stepup.go).
func (a *core) stepUp(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, pw string) error {
	if actor.Kind != roster.ActorUser || actor.UserID == "" {
		return roster.Forbidden("this needs a signed-in person who confirms with their password; API keys cannot")
	}
	if pw == "" {
		if actor.SessionID != "" {
			sessions, err := c.ListSessions(ctx, actor.UserID)
			if err != nil {
				return err
			}
			for _, s := range sessions {
				if s.ID == actor.SessionID && a.clock.Now().Sub(s.ReauthAt) < reauthWindow {
					return nil
				}
			}
		}
		return &roster.Error{Code: roster.EReauthRequired, Field: "password", Message: "enter your password to confirm"}
	}
	// Wrong passwords here count with failed logins of the account, and a locked account
	// confirms nothing: a stolen session must not become a way to guess the password.
	u, err := c.User(ctx, actor.UserID)
	if err != nil {
		return err
	}
	if _, err := a.verifyCredential(ctx, actor, u.Email, pw, "user.reauth_failed", nil); err != nil {
		if roster.ErrorCode(err) == roster.EInvalidCredentials {
			return &roster.Error{Code: roster.EInvalidCredentials, Field: "password", Message: "the password is not correct"}
		}
		return err
	}
	return nil
}
