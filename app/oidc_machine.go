package app

import (
	"context"
	"slices"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Machine clients: confidential clients bound to one organization that take access tokens
// with the client-credentials grant (RFC 6749 §4.4) and act there on their own, with the
// permissions chosen when they were registered (clients.go). Their tokens have no user and
// no refresh token; deleting the client or its organization deletes them.

// ErrClientScope refuses a client-credentials request asking for a permission the client
// was not given: the door answers invalid_scope.
var ErrClientScope = roster.Errorf(roster.EInvalid, "the client was not given every permission asked for")

// ClientGrant is what a machine client's token carries: its organization and the
// permissions it asked for (all of its own when it named none).
type ClientGrant struct {
	Client      roster.OIDCClient
	Permissions []roster.Permission
}

// MachineGrant validates a client-credentials request of an authenticated client: the
// client must be a machine client, and each scope one of its permissions.
func (a *Clients) MachineGrant(ctx context.Context, clientID string, scopes []string) (ClientGrant, error) {
	cl, err := a.ByID(ctx, clientID)
	if err != nil {
		return ClientGrant{}, err
	}
	if !cl.Machine() {
		return ClientGrant{}, ErrOIDCGrant
	}
	g := ClientGrant{Client: cl, Permissions: cl.Permissions}
	if len(scopes) > 0 {
		g.Permissions = nil
		for _, s := range scopes {
			p := roster.Permission(s)
			if !slices.Contains(cl.Permissions, p) {
				return ClientGrant{}, ErrClientScope
			}
			if !slices.Contains(g.Permissions, p) {
				g.Permissions = append(g.Permissions, p)
			}
		}
	}
	return g, nil
}

// IssueToken records a machine client's new access token; it returns its ID (the
// "jti") and expiry.
func (a *Clients) IssueToken(ctx context.Context, g ClientGrant) (Issued, error) {
	return writeValue(ctx, a.core, roster.System(), func(t *txn) (Issued, error) {
		res := Issued{AccessID: roster.NewID(roster.PrefixToken), ExpiresAt: t.now.Add(g.Client.AccessTokenTTL)}
		return res, t.CreateOIDCClientToken(t.ctx, sqlstore.OIDCClientToken{ID: res.AccessID, ClientID: g.Client.ID,
			Permissions: g.Permissions, CreatedAt: t.now, ExpiresAt: res.ExpiresAt})
	})
}

// LiveToken returns a machine client's access token that is neither expired nor
// revoked, with its client, still a machine client: what introspection and the REST API
// accept. A token of a deleted client or organization is gone.
func (a *Clients) LiveToken(ctx context.Context, id string) (sqlstore.OIDCClientToken, roster.OIDCClient, error) {
	return a.liveClientToken(ctx, a.read(), id)
}

func (a *core) liveClientToken(ctx context.Context, c *sqlstore.Conn, id string) (sqlstore.OIDCClientToken, roster.OIDCClient, error) {
	if !roster.ValidID(roster.PrefixToken, id) {
		return sqlstore.OIDCClientToken{}, roster.OIDCClient{}, ErrOIDCGrant
	}
	t, err := c.OIDCClientToken(ctx, id)
	if roster.ErrorCode(err) == roster.ENotFound {
		return t, roster.OIDCClient{}, ErrOIDCGrant
	}
	if err != nil {
		return t, roster.OIDCClient{}, err
	}
	if t.RevokedAt != nil || !a.clock.Now().Before(t.ExpiresAt) {
		return t, roster.OIDCClient{}, ErrOIDCGrant
	}
	cl, _, err := c.OIDCClient(ctx, t.ClientID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !cl.Machine()) {
		return t, cl, ErrOIDCGrant
	}
	return t, cl, err
}

// ClientTokenPermissions is what a live machine token holds: the permissions it asked for
// that its client still has.
func ClientTokenPermissions(t sqlstore.OIDCClientToken, cl roster.OIDCClient) []roster.Permission {
	out := []roster.Permission{}
	for _, p := range t.Permissions {
		if slices.Contains(cl.Permissions, p) {
			out = append(out, p)
		}
	}
	return out
}

// clientActorAccess computes what a machine client's token holds in an organization: nothing
// outside the client's own, and nothing once the token, the client or the organization is
// gone (read afresh, inside the caller's transaction when there is one).
func (a *core) clientActorAccess(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, actor roster.Actor, orgID string) (roster.Access, error) {
	none := roster.NewAccess(orgID, "", "", "", nil, cat)
	if orgID != actor.ClientOrgID {
		return none, nil
	}
	t, cl, err := a.liveClientToken(ctx, c, actor.OIDCTokenID)
	if err == ErrOIDCGrant || (err == nil && (cl.ID != actor.ClientID || cl.OrgID != orgID)) {
		return none, nil
	}
	if err != nil {
		return roster.Access{}, err
	}
	return roster.ClientAccess(orgID, ClientTokenPermissions(t, cl), cat), nil
}

// clientChecks lets a machine client ask /v1/check about its own organization only, and
// only with the right to see who is there: org.settings.read, or, for a store question,
// store.members.read in that store. Anything outside its organization does not exist.
func (a *Access) clientChecks(ctx context.Context, actor roster.Actor, res []CheckResult) error {
	c := a.read()
	cat, err := a.catalog(ctx, c)
	if err != nil {
		return err
	}
	acc, err := a.clientActorAccess(ctx, c, cat, actor, actor.ClientOrgID)
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.OrgID != actor.ClientOrgID || !acc.Active() {
			if r.StoreID != "" {
				return roster.NotFound("store").With("index", i)
			}
			return roster.NotFound("organization").With("index", i)
		}
		if !acc.Can(roster.PermOrgSettingsRead) && (r.StoreID == "" || !acc.CanInStore(r.StoreID, roster.PermStoreMembersRead)) {
			return a.refused(ctx, actor, deny(r.OrgID, r.StoreID, roster.PermOrgSettingsRead, "this client may not see who holds what in this organization"))
		}
	}
	return nil
}

// revokeClientToken revokes a machine client's access token at its request (RFC 7009); a
// token of another client, or none, is left alone.
func (a *OIDC) revokeClientToken(ctx context.Context, clientID, tokenID string) error {
	t, err := a.read().OIDCClientToken(ctx, tokenID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && t.ClientID != clientID) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.write(ctx, roster.System(), func(tx *txn) error {
		if err := tx.RevokeOIDCClientToken(tx.ctx, t.ID, tx.now); err != nil {
			return err
		}
		return tx.audit(roster.AuditEvent{Action: "oidc.token_revoked", TargetType: "oidc_token", TargetID: t.ID})
	})
}
