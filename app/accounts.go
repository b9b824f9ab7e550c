package app

import (
	"context"
	"net/url"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/token"
)

// Accounts is what a person does with their own account: create it, verify and change its email,
// reset and change its password, read and edit their profile, and remember where they work in the
// console (console_views.go, passwords.go, me.go).
type Accounts struct{ *core }

// resetLimits bounds password reset requests in each process, per IP address and per
// address; the database limits the links one account receives across processes.
type resetLimits struct{ perIP, perAddr *rateLimiter }

func newResetLimits() resetLimits {
	return resetLimits{perIP: newRateLimiter(10, time.Minute), perAddr: newRateLimiter(5, time.Hour)}
}

// Account emails: direct creation of users with a set-password link, password resets,
// address verification and address changes. Every link is a user_tokens row created here
// with an unusable placeholder hash; the outbox worker mints the real token as it sends.

// Per-recipient limits on account emails, within an hour.
const (
	resetsPerHour       = 5
	verifiesPerHour     = 3
	emailChangesPerHour = 5
	signupNoticesPerDay = 1
)

// linkToken creates a one-time link for a user, not yet usable, and returns its ID.
func (t *txn) linkToken(u roster.User, purpose roster.TokenPurpose, addr string) (string, error) {
	id := roster.NewID(roster.PrefixToken)
	err := t.CreateUserToken(t.ctx, roster.UserToken{ID: id, UserID: u.ID, Purpose: purpose, Email: addr, CreatedAt: t.now,
		ExpiresAt: t.now.Add(linkTTL(purpose))}, token.Hash(token.Random()))
	return id, err
}

// sendLink voids a user's earlier links of a purpose, creates a new one and writes the email
// that carries it.
func (t *txn) sendLink(u roster.User, purpose roster.TokenPurpose, template, to, orgID string, data map[string]any) error {
	if err := t.InvalidateUserTokens(t.ctx, u.ID, purpose, t.now); err != nil {
		return err
	}
	id, err := t.linkToken(u, purpose, to)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["name"] = u.Name
	return t.email(roster.Email{Template: template, To: to, Locale: u.Locale, OrgID: orgID, LinkKind: LinkUserToken, LinkRef: id, Data: data})
}

// NewUserInput is a user an admin creates directly, with their roles.
type NewUserInput struct {
	Email  string
	Name   string
	Locale string // the user's language; English when empty
	Role   roster.OrgRole
	Stores []StoreGrantInput
}

// Create creates a new account directly in an organization, with an organization role
// and store roles (owner and admins), and emails the person a link to choose their password:
// a password never travels by email. An address that already has an account gets
// user_exists: invite it instead.
func (a *Accounts) Create(ctx context.Context, actor roster.Actor, orgID string, in NewUserInput) (roster.User, error) {
	if _, err := in.validate(); err != nil {
		return roster.User{}, err
	}
	if err := a.takenAnswersLeft(ctx, actor); err != nil {
		return roster.User{}, err
	}
	u, err := writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return roster.User{}, err
		}
		return a.createUser(t, s, in)
	})
	return u, a.countTakenAnswer(ctx, actor, err)
}

// validate checks a new user's address, name and language and fills the default role.
func (in NewUserInput) validate() (NewUserInput, error) {
	var errs []error
	keep := func(v string, err error) string { errs = append(errs, err); return v }
	in.Email = keep(email(in.Email))
	in.Name = keep(text("name", in.Name, true, roster.MaxNameLength))
	in.Locale = keep(locale(in.Locale))
	if in.Role == "" {
		in.Role = roster.OrgMember
	}
	return in, roster.Invalids(errs...) // every field at fault at once
}

// createUser creates an account directly in the scope's organization, inside the caller's
// transaction: Accounts.Create, and bulk imports.
func (a *core) createUser(t *txn, s scope, in NewUserInput) (roster.User, error) {
	in, err := in.validate()
	if err != nil {
		return roster.User{}, err
	}
	orgID := s.org.ID
	if err := s.require(roster.PermOrgMembersManage); err != nil {
		return roster.User{}, err
	}
	if err := policyCheck(s.org, in.Email); err != nil {
		return roster.User{}, err
	}
	if _, _, err := t.UserByEmail(t.ctx, in.Email); err == nil {
		return roster.User{}, (&roster.Error{Code: roster.EUserExists, Field: "email",
			Message: "an account with this address already exists; invite it to the organization instead"}).
			With("organization_id", orgID)
	} else if roster.ErrorCode(err) != roster.ENotFound {
		return roster.User{}, err
	}
	creator, err := t.User(t.ctx, s.acc.UserID)
	if err != nil {
		return roster.User{}, err
	}
	u := roster.User{ID: roster.NewID(roster.PrefixUser), Email: in.Email, Name: in.Name, Locale: in.Locale, Status: roster.UserActive, CreatedAt: t.now, UpdatedAt: t.now}
	if err := t.CreateUser(t.ctx, u, ""); err != nil {
		return roster.User{}, err
	}
	if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: "user.created", TargetType: "user", TargetID: u.ID,
		After: map[string]any{"email": u.Email, "name": u.Name}}); err != nil {
		return roster.User{}, err
	}
	if err := a.join(t, s, u, in.Role, in.Stores); err != nil {
		return roster.User{}, err
	}
	return u, t.sendLink(u, roster.TokenSetPassword, "set_password", u.Email, orgID,
		map[string]any{"org_name": s.org.Name, "inviter_name": creator.Name})
}

// SendPasswordReset emails a member a link to choose a new password (owner and admins,
// never on the owner). Their password keeps working until they use the link.
func (a *Accounts) SendPasswordReset(ctx context.Context, actor roster.Actor, orgID, userID string) error {
	return a.memberWrite(ctx, actor, orgID, userID, func(t *txn, s scope, m roster.Membership) error {
		u, err := t.User(t.ctx, userID)
		if err != nil {
			return err
		}
		if u.Status != roster.UserActive {
			return roster.Errorf(roster.EUserDeactivated, "this account is deactivated")
		}
		if n, err := t.CountRecentUserTokens(t.ctx, u.ID, roster.TokenPasswordReset, t.now.Add(-time.Hour)); err != nil {
			return err
		} else if n >= resetsPerHour {
			return rateLimited(time.Hour)
		}
		by, err := t.User(t.ctx, s.acc.UserID)
		if err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: "member.password_reset_sent", TargetType: "user", TargetID: u.ID}); err != nil {
			return err
		}
		return t.sendLink(u, roster.TokenPasswordReset, "password_reset", u.Email, orgID,
			map[string]any{"org_name": s.org.Name, "requested_by": by.Name})
	})
}

// RequestPasswordReset emails a link to choose a new password to the account of an address.
// The answer is the same, after the same work, whether or not the address has an account;
// requests are limited per IP address and per address.
func (a *Accounts) RequestPasswordReset(ctx context.Context, actor roster.Actor, rawEmail string) error {
	addr, err := email(rawEmail)
	if err != nil {
		return err
	}
	now := a.clock.Now()
	if ok, wait := a.resets.perIP.allow(actor.IP, now); !ok {
		return rateLimited(wait)
	}
	if ok, wait := a.resets.perAddr.allow(addr, now); !ok {
		return rateLimited(wait)
	}
	return a.write(ctx, actor, func(t *txn) error {
		u, _, err := t.UserByEmail(t.ctx, addr)
		if roster.ErrorCode(err) == roster.ENotFound || (err == nil && u.Status != roster.UserActive) {
			// Same work as below, nothing sent.
			_, err := t.CountRecentEmails(t.ctx, addr, "password_reset", t.now.Add(-time.Hour))
			if err != nil {
				return err
			}
			return t.audit(roster.AuditEvent{Action: "user.password_reset_requested", TargetType: "user", After: map[string]any{"known": false}})
		}
		if err != nil {
			return err
		}
		if n, err := t.CountRecentUserTokens(t.ctx, u.ID, roster.TokenPasswordReset, t.now.Add(-time.Hour)); err != nil {
			return err
		} else if n >= resetsPerHour {
			return nil // quietly: the answer must not differ
		}
		if err := t.audit(roster.AuditEvent{Action: "user.password_reset_requested", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"known": true}}); err != nil {
			return err
		}
		return t.sendLink(u, roster.TokenPasswordReset, "password_reset", u.Email, "", nil)
	})
}

// sendVerification emails a user a link that proves their address.
func (t *txn) sendVerification(u roster.User) error {
	return t.sendLink(u, roster.TokenVerifyEmail, "verify_email", u.Email, "", nil)
}

// ResendVerification sends the signed-in user a new link to verify their address.
func (a *Accounts) ResendVerification(ctx context.Context, actor roster.Actor) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	return a.write(ctx, actor, func(t *txn) error {
		u, err := t.User(t.ctx, actor.UserID)
		if err != nil {
			return err
		}
		if u.Verified() {
			return roster.Errorf(roster.EConflict, "your address is already verified")
		}
		if n, err := t.CountRecentUserTokens(t.ctx, u.ID, roster.TokenVerifyEmail, t.now.Add(-time.Hour)); err != nil {
			return err
		} else if n >= verifiesPerHour {
			return rateLimited(time.Hour)
		}
		return t.sendVerification(u)
	})
}

// VerifyEmail proves a user's address through the link sent after sign-up. It works once,
// and only for the address the link was sent to.
func (a *Accounts) VerifyEmail(ctx context.Context, actor roster.Actor, secret string) (roster.User, error) {
	bad := roster.Errorf(roster.ETokenInvalid, "this link is invalid, already used or expired; ask for a new one")
	if !token.WellFormed(token.PrefixLink, secret) {
		return roster.User{}, bad
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		var u roster.User
		tok, err := t.ConsumeUserToken(t.ctx, roster.TokenVerifyEmail, token.Hash(secret), t.now)
		if roster.ErrorCode(err) == roster.ENotFound {
			return roster.User{}, bad
		}
		if err != nil {
			return roster.User{}, err
		}
		if u, err = t.User(t.ctx, tok.UserID); err != nil {
			return roster.User{}, err
		}
		if u.Email != tok.Email {
			return roster.User{}, bad
		}
		if err := t.SetEmailVerified(t.ctx, u.ID, t.now); err != nil {
			return roster.User{}, err
		}
		if u.EmailVerifiedAt == nil {
			u.EmailVerifiedAt = &t.now
		}
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		if err := t.audit(roster.AuditEvent{Action: "user.email_verified", TargetType: "user", TargetID: u.ID, After: map[string]any{"email": u.Email}}); err != nil {
			return roster.User{}, err
		}
		return u, a.app.Domains.joinByDomain(t, u)
	})
}

// checkAllPolicies refuses an address that breaks the policy of any organization the user
// belongs to, naming the organization.
func (a *Accounts) checkAllPolicies(ctx context.Context, t *txn, userID, addr string) error {
	affs, err := t.Affiliations(ctx, userID)
	if err != nil {
		return err
	}
	for _, af := range affs {
		if err := policyCheck(af.Organization, addr); err != nil {
			e := roster.AsError(err)
			e.Message = af.Organization.Name + ": " + e.Message
			return e.With("organization_id", af.Organization.ID)
		}
	}
	return nil
}

// RequestEmailChange starts changing the signed-in user's address: after their password (or
// one entered in this session in the last minutes), a confirmation link goes to the new
// address. Nothing changes until it is followed. The new address must be free and satisfy
// the policy of every organization the user belongs to.
func (a *Accounts) RequestEmailChange(ctx context.Context, actor roster.Actor, newEmail, pw string) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	addr, err := email(newEmail)
	if err != nil {
		return err
	}
	c := a.read()
	if err := a.takenAnswersLeft(ctx, actor); err != nil {
		return err
	}
	if err := a.stepUp(ctx, c, actor, pw); err != nil {
		return err
	}
	err = a.write(ctx, actor, func(t *txn) error {
		u, err := t.User(t.ctx, actor.UserID)
		if err != nil {
			return err
		}
		if u.Email == addr {
			return roster.Invalidf("email", "this is already your address")
		}
		if _, _, err := t.UserByEmail(t.ctx, addr); err == nil {
			return &roster.Error{Code: roster.EUserExists, Field: "email", Message: "another account uses this address"}
		} else if roster.ErrorCode(err) != roster.ENotFound {
			return err
		}
		if err := a.checkAllPolicies(t.ctx, t, u.ID, addr); err != nil {
			return err
		}
		if n, err := t.CountRecentUserTokens(t.ctx, u.ID, roster.TokenChangeEmail, t.now.Add(-time.Hour)); err != nil {
			return err
		} else if n >= emailChangesPerHour {
			return rateLimited(time.Hour)
		}
		if err := t.audit(roster.AuditEvent{Action: "user.email_change_requested", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"email": u.Email}, After: map[string]any{"email": addr}}); err != nil {
			return err
		}
		return t.sendLink(u, roster.TokenChangeEmail, "change_email", addr, "", map[string]any{"new_email": addr})
	})
	return a.countTakenAnswer(ctx, actor, err)
}

// takenAnswersPerUser is how many "this address has an account" answers (user_exists) a user
// gets before waiting an hour between them: such answers tell whether an address has an
// account, and no account may become a way to enumerate addresses.
const takenAnswersPerUser = 5

func takenAnswersKey(actor roster.Actor) string { return token.Hash("address-taken:" + actor.UserID) }

// takenAnswersLeft refuses, until the wait is over, a user who had their share of user_exists
// answers. The count is in the database (the login-throttle table), shared by every process.
func (a *Accounts) takenAnswersLeft(ctx context.Context, actor roster.Actor) error {
	_, until, err := a.read().LoginThrottle(ctx, takenAnswersKey(actor))
	if err != nil {
		return err
	}
	if now := a.clock.Now(); until.After(now) {
		return rateLimited(until.Sub(now))
	}
	return nil
}

// countTakenAnswer counts a user_exists answer about to be given, and returns err.
func (a *Accounts) countTakenAnswer(ctx context.Context, actor roster.Actor, err error) error {
	if roster.ErrorCode(err) != roster.EUserExists {
		return err
	}
	if werr := a.write(ctx, actor, func(t *txn) error {
		_, err := t.RecordLoginFailure(t.ctx, takenAnswersKey(actor), t.now, func(n int) time.Duration {
			if n >= takenAnswersPerUser {
				return time.Hour
			}
			return 0
		})
		return err
	}); werr != nil {
		return werr
	}
	return err
}

// ConfirmEmailChange applies an address change through the link sent to the new address.
// The policies and the address's availability are checked again; the old address is told.
// Links sent to the old address (password resets, verification) stop working.
func (a *Accounts) ConfirmEmailChange(ctx context.Context, actor roster.Actor, secret string) (roster.User, error) {
	bad := roster.Errorf(roster.ETokenInvalid, "this link is invalid, already used or expired; ask for a new one")
	if !token.WellFormed(token.PrefixLink, secret) {
		return roster.User{}, bad
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		var u roster.User
		tok, err := t.ConsumeUserToken(t.ctx, roster.TokenChangeEmail, token.Hash(secret), t.now)
		if roster.ErrorCode(err) == roster.ENotFound {
			return roster.User{}, bad
		}
		if err != nil {
			return roster.User{}, err
		}
		old, err := t.User(t.ctx, tok.UserID)
		if err != nil {
			return roster.User{}, err
		}
		if err := a.checkAllPolicies(t.ctx, t, old.ID, tok.Email); err != nil {
			return roster.User{}, err
		}
		if err := t.SetUserEmail(t.ctx, old.ID, tok.Email, t.now); err != nil {
			return roster.User{}, err
		}
		for _, p := range []roster.TokenPurpose{roster.TokenPasswordReset, roster.TokenVerifyEmail, roster.TokenSetPassword} {
			if err := t.InvalidateUserTokens(t.ctx, old.ID, p, t.now); err != nil {
				return roster.User{}, err
			}
		}
		if err := t.ClearLoginFailures(t.ctx, loginKey(old.Email)); err != nil {
			return roster.User{}, err
		}
		u = old
		u.Email, u.EmailVerifiedAt, u.UpdatedAt = tok.Email, &t.now, t.now
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		if err := t.audit(roster.AuditEvent{Action: "user.email_changed", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"email": old.Email}, After: map[string]any{"email": u.Email}}); err != nil {
			return roster.User{}, err
		}
		if err := a.app.Domains.joinByDomain(t, u); err != nil {
			return roster.User{}, err
		}
		return u, t.notifyUser(old, "email_changed", "", map[string]any{"new_email": roster.MaskEmail(u.Email)})
	})
}

// notifySignupAttempt tells the owner of an address that someone tried to sign up with it,
// at most once a day: the person signing up sees the same answer as for a new address.
func (a *Auth) notifySignupAttempt(t *txn, u roster.User) error {
	n, err := t.CountRecentEmails(t.ctx, u.Email, "signup_attempt", t.now.Add(-24*time.Hour))
	if err != nil || n >= signupNoticesPerDay {
		return err
	}
	return t.email(roster.Email{Template: "signup_attempt", To: u.Email, Locale: u.Locale,
		Data: map[string]any{"name": u.Name, "url": a.app.Link(a.cfg.Pages.Login, url.Values{})}})
}
