package app

import (
	"context"
	"net/url"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Operator is what the instance's operators do: the first set-up, every organization and user,
// store credits, service tokens.
type Operator struct{ *core }

// requireOperator lets only operators (and Roster's own command line) through.
func requireOperator(actor roster.Actor) error {
	if actor.Operator && (actor.Kind == roster.ActorUser || actor.Kind == roster.ActorSystem) {
		return nil
	}
	if actor.Kind == roster.ActorAnonymous || actor.Kind == "" {
		return roster.Errorf(roster.EUnauthenticated, "log in first")
	}
	return roster.Forbidden("this is for operators of the instance")
}

// Organizations lists every organization with its counts (operators).
func (a *Operator) Organizations(ctx context.Context, actor roster.Actor, query, cursor string, limit int) (Page[roster.OrganizationSummary], error) {
	if err := requireOperator(actor); err != nil {
		return Page[roster.OrganizationSummary]{}, err
	}
	if cursor != "" && !roster.ValidID(roster.PrefixOrganization, cursor) {
		return Page[roster.OrganizationSummary]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	q, err := text("q", query, false, roster.MaxSearchLength)
	if err != nil {
		return Page[roster.OrganizationSummary]{}, err
	}
	limit = pageLimit(limit)
	orgs, err := a.read().ListOrganizations(ctx, sqlstore.OrganizationFilter{Query: q, Cursor: cursor, Limit: limit + 1})
	if err != nil {
		return Page[roster.OrganizationSummary]{}, err
	}
	return page(orgs, limit, func(o roster.OrganizationSummary) string { return o.ID }), nil
}

// SetStoreCredits sets how many active stores an organization may have (operators). It
// cannot go below the active stores: those would have to be archived first.
func (a *Operator) SetStoreCredits(ctx context.Context, actor roster.Actor, orgID string, credits int) (roster.Organization, error) {
	if err := requireOperator(actor); err != nil {
		return roster.Organization{}, err
	}
	if credits < 0 || credits > roster.MaxStoreCredits {
		return roster.Organization{}, roster.Invalidf("store_credits", "store credits must be between 0 and %d", roster.MaxStoreCredits)
	}
	if !roster.ValidID(roster.PrefixOrganization, orgID) {
		return roster.Organization{}, roster.NotFound("organization")
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Organization, error) {
		var org roster.Organization
		var err error
		if org, err = t.LockOrganization(t.ctx, orgID); err != nil {
			return roster.Organization{}, err
		}
		active, err := t.CountStores(t.ctx, orgID, roster.StoreActive)
		if err != nil {
			return roster.Organization{}, err
		}
		if credits < active {
			return roster.Organization{}, (&roster.Error{Code: roster.EConflict, Field: "store_credits",
				Message: "the organization has more active stores than that; archive stores first"}).With("active_stores", active)
		}
		before := org.StoreCredits
		if err := t.SetStoreCredits(t.ctx, orgID, credits, t.now); err != nil {
			return roster.Organization{}, err
		}
		org.StoreCredits, org.UpdatedAt = credits, t.now
		return org, t.audit(roster.AuditEvent{OrgID: orgID, Action: "organization.store_credits_set", TargetType: "organization", TargetID: orgID,
			Before: map[string]any{"store_credits": before}, After: map[string]any{"store_credits": credits}})
	})
}

// Users lists every user (operators).
func (a *Operator) Users(ctx context.Context, actor roster.Actor, query string, status roster.UserStatus, cursor string, limit int) (Page[roster.User], error) {
	if err := requireOperator(actor); err != nil {
		return Page[roster.User]{}, err
	}
	if cursor != "" && !roster.ValidID(roster.PrefixUser, cursor) {
		return Page[roster.User]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	if status != "" && status != roster.UserActive && status != roster.UserDeactivated {
		return Page[roster.User]{}, roster.Invalidf("status", "status must be active or deactivated")
	}
	q, err := text("q", query, false, roster.MaxSearchLength)
	if err != nil {
		return Page[roster.User]{}, err
	}
	limit = pageLimit(limit)
	users, err := a.read().ListUsers(ctx, sqlstore.UserFilter{Query: q, Status: status, Cursor: cursor, Limit: limit + 1})
	if err != nil {
		return Page[roster.User]{}, err
	}
	return page(users, limit, func(u roster.User) string { return u.ID }), nil
}

// OwnersAmong tells which of the given users own an organization (operators): they cannot be
// deactivated until they hand their organizations over, so the operator's list says so
// instead of offering it.
func (a *Operator) OwnersAmong(ctx context.Context, actor roster.Actor, userIDs []string) (map[string]bool, error) {
	if err := requireOperator(actor); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(userIDs))
	c := a.read()
	for _, id := range userIDs {
		owned, err := c.UserOwnedOrganizations(ctx, id)
		if err != nil {
			return nil, err
		}
		out[id] = len(owned) > 0
	}
	return out, nil
}

// adminUser finds a user for an operator action; IDs and addresses both work.
func (a *Operator) adminUser(t *txn, idOrEmail string) (roster.User, error) {
	if roster.ValidID(roster.PrefixUser, idOrEmail) {
		return t.User(t.ctx, idOrEmail)
	}
	addr, err := email(idOrEmail)
	if err != nil {
		return roster.User{}, roster.NotFound("user")
	}
	u, _, err := t.UserByEmail(t.ctx, addr)
	return u, err
}

// DeactivateUser stops a user from signing in anywhere (operators): every session ends at
// once and their API keys are revoked (reactivation brings none back). An owner must hand
// their organizations over first.
func (a *Operator) DeactivateUser(ctx context.Context, actor roster.Actor, idOrEmail string) (roster.User, error) {
	if err := requireOperator(actor); err != nil {
		return roster.User{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		var u roster.User
		var err error
		if u, err = a.adminUser(t, idOrEmail); err != nil {
			return roster.User{}, err
		}
		if u, err = t.LockUser(t.ctx, u.ID); err != nil { // against a concurrent transfer to them
			return roster.User{}, err
		}
		if u.ID == actor.UserID {
			return roster.User{}, roster.Errorf(roster.EConflict, "you cannot deactivate yourself")
		}
		owned, err := t.UserOwnedOrganizations(t.ctx, u.ID)
		if err != nil {
			return roster.User{}, err
		}
		if len(owned) > 0 {
			return roster.User{}, (&roster.Error{Code: roster.EOwnsOrganizations,
				Message: "this user owns organizations; ownership must be transferred before they can be deactivated"}).With("organizations", owned)
		}
		if u.Status == roster.UserDeactivated {
			return u, nil
		}
		if err := t.SetUserStatus(t.ctx, u.ID, roster.UserDeactivated, t.now); err != nil {
			return roster.User{}, err
		}
		ended, err := t.DeleteUserSessions(t.ctx, u.ID, "")
		if err != nil {
			return roster.User{}, err
		}
		revoked, err := t.revokeUserKeys(u.ID, "user_deactivated")
		if err != nil {
			return roster.User{}, err
		}
		u.Status = roster.UserDeactivated
		return u, t.audit(roster.AuditEvent{Action: "user.deactivated", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"status": "active"}, After: map[string]any{"status": "deactivated", "sessions_ended": ended, "api_keys_revoked": revoked}})
	})
}

// ReactivateUser lets a deactivated user sign in again (operators).
func (a *Operator) ReactivateUser(ctx context.Context, actor roster.Actor, idOrEmail string) (roster.User, error) {
	if err := requireOperator(actor); err != nil {
		return roster.User{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		var u roster.User
		var err error
		if u, err = a.adminUser(t, idOrEmail); err != nil {
			return roster.User{}, err
		}
		if u.Status == roster.UserActive {
			return u, nil
		}
		if err := t.SetUserStatus(t.ctx, u.ID, roster.UserActive, t.now); err != nil {
			return roster.User{}, err
		}
		u.Status = roster.UserActive
		return u, t.audit(roster.AuditEvent{Action: "user.reactivated", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"status": "deactivated"}, After: map[string]any{"status": "active"}})
	})
}

// SecondFactorAmong tells which of the given users have a second factor that signs in
// (operators): the operator's list offers to reset theirs.
func (a *Operator) SecondFactorAmong(ctx context.Context, actor roster.Actor, userIDs []string) (map[string]bool, error) {
	if err := requireOperator(actor); err != nil {
		return nil, err
	}
	return a.read().UsersWithSecondFactor(ctx, userIDs)
}

// ResetFactors removes a user's second factors — authenticator app, recovery codes, passkeys —
// for someone who lost them and whose account no organization may reset (MFA.ResetMember)
// (operators). The user is emailed; the reset is audited as user.two_factor_reset.
func (a *Operator) ResetFactors(ctx context.Context, actor roster.Actor, idOrEmail string) (roster.User, error) {
	if err := requireOperator(actor); err != nil {
		return roster.User{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		u, err := a.adminUser(t, idOrEmail)
		if err != nil {
			return roster.User{}, err
		}
		return u, resetFactors(t, u, roster.AuditEvent{Action: "user.two_factor_reset"}, "two_factor_reset_by_operator", nil)
	})
}

// CreatedSecret is a secret shown once, at creation.
type CreatedSecret struct {
	ID     string
	Secret string
}

// CreateServiceToken makes an instance token for the host application to call the check
// API (operators and the command line). Its secret is shown once and stored hashed.
func (a *Operator) CreateServiceToken(ctx context.Context, actor roster.Actor, name string) (CreatedSecret, error) {
	if err := requireOperator(actor); err != nil {
		return CreatedSecret{}, err
	}
	name, err := text("name", name, true, roster.MaxNameLength)
	if err != nil {
		return CreatedSecret{}, err
	}
	plain, hash := token.New(token.PrefixService)
	id := roster.NewID(roster.PrefixServiceToken)
	err = a.write(ctx, actor, func(t *txn) error {
		if err := t.CreateServiceToken(t.ctx, roster.ServiceToken{ID: id, Name: name, CreatedAt: t.now}, hash); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "service_token.created", TargetType: "service_token", TargetID: id, After: map[string]any{"name": name}})
	})
	return CreatedSecret{ID: id, Secret: plain}, err
}

// ServiceTokens lists the instance tokens (operators).
func (a *Operator) ServiceTokens(ctx context.Context, actor roster.Actor) ([]roster.ServiceToken, error) {
	if err := requireOperator(actor); err != nil {
		return nil, err
	}
	return a.read().ListServiceTokens(ctx)
}

// RevokeServiceToken stops an instance token (operators).
func (a *Operator) RevokeServiceToken(ctx context.Context, actor roster.Actor, id string) error {
	if err := requireOperator(actor); err != nil {
		return err
	}
	if !roster.ValidID(roster.PrefixServiceToken, id) {
		return roster.NotFound("service token")
	}
	return a.write(ctx, actor, func(t *txn) error {
		if err := t.RevokeServiceToken(t.ctx, id, t.now); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "service_token.revoked", TargetType: "service_token", TargetID: id})
	})
}

// Link builds an absolute link to a console page from ROSTER_BASE_URL, never from a request.
func (a *App) Link(path string, query url.Values) string {
	u := *a.cfg.BaseURL
	u.Path = joinPath(u.Path, path)
	u.RawQuery = query.Encode()
	return u.String()
}

func joinPath(base, p string) string {
	if len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}

// operatorSetupTTL is how long the first operator's setup link works.
const operatorSetupTTL = 24 * time.Hour

// SetupPending reports whether the instance still has no operator: the first start's setup
// link (printed in the log) or "roster admin create-operator" has not been used yet.
func (a *Operator) SetupPending(ctx context.Context) (bool, error) {
	n, err := a.read().CountOperators(ctx)
	return n == 0, err
}

// SetupLink returns a new one-time link to create the first operator while the instance has
// none, and "" once it has one. Each call voids the links made before.
func (a *Operator) SetupLink(ctx context.Context) (string, error) {
	return writeValue(ctx, a.core, roster.System(), func(t *txn) (string, error) {
		n, err := t.CountOperators(t.ctx)
		if err != nil || n > 0 {
			return "", err
		}
		if err := t.InvalidateSetupTokens(t.ctx, t.now); err != nil {
			return "", err
		}
		plain, hash := token.New(token.PrefixLink)
		if err := t.CreateUserToken(t.ctx, roster.UserToken{ID: roster.NewID(roster.PrefixToken), Purpose: roster.TokenOperatorSetup,
			CreatedAt: t.now, ExpiresAt: t.now.Add(operatorSetupTTL)}, hash); err != nil {
			return "", err
		}
		return a.app.Link(a.cfg.Pages.Setup, url.Values{"token": {plain}}), nil
	})
}

// CompleteSetup creates the first operator through the setup link: a new account, or an
// existing one whose password is given, is made operator. The link works once.
func (a *Operator) CompleteSetup(ctx context.Context, actor roster.Actor, secret string, in SignupInput) (roster.User, error) {
	bad := roster.Errorf(roster.ETokenInvalid, "this setup link is invalid, used or expired; restart Roster for a new one")
	if !token.WellFormed(token.PrefixLink, secret) {
		return roster.User{}, bad
	}
	// The link first: without a live one, nobody learns whether an address has an account,
	// nor whether a password is right.
	c := a.read()
	tok, err := c.UserTokenByHash(ctx, roster.TokenOperatorSetup, token.Hash(secret))
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && (tok.UsedAt != nil || !a.clock.Now().Before(tok.ExpiresAt))) {
		return roster.User{}, bad
	}
	if err != nil {
		return roster.User{}, err
	}
	addr, err := email(in.Email)
	if err != nil {
		return roster.User{}, err
	}
	_, _, err = c.UserByEmail(ctx, addr)
	var existing roster.User
	var newHash string
	switch {
	case err == nil:
		if existing, err = a.verifyCredential(ctx, actor, addr, in.Password, "", nil); roster.ErrorCode(err) == roster.EInvalidCredentials {
			return roster.User{}, &roster.Error{Code: roster.EInvalidCredentials, Field: "password", Message: "this address has an account: enter its password to make it operator"}
		} else if err != nil {
			return roster.User{}, err
		}
	case roster.ErrorCode(err) == roster.ENotFound:
		if existing, newHash, err = a.newUser(ctx, in); err != nil {
			return roster.User{}, err
		}
	default:
		return roster.User{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		u := existing // each attempt starts from the user read or made before the transaction
		if _, err := t.ConsumeUserToken(t.ctx, roster.TokenOperatorSetup, token.Hash(secret), t.now); err != nil {
			if roster.ErrorCode(err) == roster.ENotFound {
				return roster.User{}, bad
			}
			return roster.User{}, err
		}
		if n, err := t.CountOperators(t.ctx); err != nil || n > 0 {
			if err == nil {
				err = bad
			}
			return roster.User{}, err
		}
		if newHash != "" {
			u.Operator, u.EmailVerifiedAt, u.CreatedAt, u.UpdatedAt = true, &t.now, t.now, t.now
			if err := t.CreateUser(t.ctx, u, newHash); err != nil {
				return roster.User{}, err
			}
		} else if err := t.SetUserOperator(t.ctx, u.ID, true, t.now); err != nil {
			return roster.User{}, err
		}
		u.Operator = true
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		return u, t.audit(roster.AuditEvent{Action: "operator.created", TargetType: "user", TargetID: u.ID, After: map[string]any{"email": u.Email, "via": "setup_link"}})
	})
}

// CreateOperator makes a user operator from the command line: an existing account is
// promoted; for a new address an account is created and a one-time link to choose its
// password is returned (printed on the operator's terminal, never emailed with a password).
func (a *Operator) CreateOperator(ctx context.Context, actor roster.Actor, addr, name string) (roster.User, string, error) {
	if err := requireOperator(actor); err != nil {
		return roster.User{}, "", err
	}
	addr, err := email(addr)
	if err != nil {
		return roster.User{}, "", err
	}
	type created struct {
		u    roster.User
		link string
	}
	c, err := writeValue(ctx, a.core, actor, func(t *txn) (created, error) {
		var u roster.User
		var link string
		name := name // each attempt starts from the name given
		existing, _, err := t.UserByEmail(t.ctx, addr)
		switch {
		case err == nil:
			u = existing
			if err := t.SetUserOperator(t.ctx, u.ID, true, t.now); err != nil {
				return created{}, err
			}
		case roster.ErrorCode(err) == roster.ENotFound:
			if name == "" {
				name = addr[:len(addr)-len(roster.EmailDomain(addr))-1]
			}
			if name, err = text("name", name, true, roster.MaxNameLength); err != nil {
				return created{}, err
			}
			u = roster.User{ID: roster.NewID(roster.PrefixUser), Email: addr, Name: name, Locale: roster.Locales[0], Status: roster.UserActive,
				Operator: true, CreatedAt: t.now, UpdatedAt: t.now}
			if err := t.CreateUser(t.ctx, u, ""); err != nil {
				return created{}, err
			}
			plain, hash := token.New(token.PrefixLink)
			if err := t.CreateUserToken(t.ctx, roster.UserToken{ID: roster.NewID(roster.PrefixToken), UserID: u.ID, Purpose: roster.TokenSetPassword,
				Email: addr, CreatedAt: t.now, ExpiresAt: t.now.Add(operatorSetupTTL)}, hash); err != nil {
				return created{}, err
			}
			link = a.app.Link(a.cfg.Pages.SetPassword, url.Values{"token": {plain}})
		default:
			return created{}, err
		}
		u.Operator = true
		return created{u, link}, t.audit(roster.AuditEvent{Action: "operator.created", TargetType: "user", TargetID: u.ID, After: map[string]any{"email": u.Email, "via": "command_line"}})
	})
	return c.u, c.link, err
}
