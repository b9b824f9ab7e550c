package app

import (
	"context"
	"net/url"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// SetupLinks is an organization's setup links: its owner makes one for the customer's IT
// administrator, who opens it without an account in Roster and, for seven days or until the
// owner revokes it, verifies the organization's domains, configures its single sign-on and
// creates its SCIM directories — the use cases whose scope is settingsScope. Everything else
// refuses the link's holder: orgScope does not know them, so the members, stores, roles,
// keys, audit log and settings of the organization stay out of sight, as does every other
// organization. The holder acts with what the owner who made the link holds today, so a
// link whose maker left the organization opens nothing; each change is audited with the
// link as its actor.
type SetupLinks struct{ *core }

// CreatedSetupLink is a setup link with the address to give the IT administrator, shown
// once.
type CreatedSetupLink struct {
	Link roster.SetupLink
	URL  string
}

// SetupPortal is what the holder of a setup link sees of the organization: its name, until
// when the link opens, and the access it acts with (for the console to show the settings it
// reaches: the maker's).
type SetupPortal struct {
	OrgID   string
	OrgName string
	Link    roster.SetupLink
	Access  roster.Access
}

// setupLinksScope checks that the actor makes and revokes the organization's setup links
// (roster.Access.MaySetUpLinks: the owner).
func (a *SetupLinks) setupLinksScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	s, err := a.orgScope(ctx, c, actor, orgID, lock)
	if err == nil && !s.acc.MaySetUpLinks() {
		err = deny(orgID, "", roster.PermOrgUpdate, "only the owner hands the organization's sign-in settings to someone else")
	}
	return s, err
}

func setupLinkMap(l roster.SetupLink) map[string]any {
	return map[string]any{"expires_at": l.ExpiresAt.UTC().Format(time.RFC3339)}
}

// Create makes a setup link for the organization (its owner, after a step-up: the link hands
// over who signs in to the organization and who provisions its members). The address, with
// its secret, is returned this once.
func (a *SetupLinks) Create(ctx context.Context, actor roster.Actor, orgID string, proof OwnerProof) (CreatedSetupLink, error) {
	if _, err := a.setupLinksScope(ctx, a.read(), actor, orgID, false); err != nil {
		return CreatedSetupLink{}, a.refused(ctx, actor, err)
	}
	if err := a.requireStepUp(ctx, actor, proof); err != nil {
		return CreatedSetupLink{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (CreatedSetupLink, error) {
		s, err := a.setupLinksScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return CreatedSetupLink{}, err
		}
		open, err := t.OpenSetupLinks(t.ctx, orgID, t.now)
		if err != nil {
			return CreatedSetupLink{}, err
		}
		if len(open) >= roster.MaxSetupLinks {
			return CreatedSetupLink{}, roster.Errorf(roster.EConflict, "at most %d setup links are open at once; revoke one first", roster.MaxSetupLinks)
		}
		plain, hash := token.New(token.PrefixSetup)
		l := roster.SetupLink{ID: roster.NewID(roster.PrefixSetupLink), OrgID: orgID, CreatedBy: s.acc.UserID,
			CreatedAt: t.now, ExpiresAt: t.now.Add(roster.SetupLinkLifetime)}
		if err := t.InsertSetupLink(t.ctx, l, hash); err != nil {
			return CreatedSetupLink{}, err
		}
		return CreatedSetupLink{Link: l, URL: a.app.Link(a.cfg.Pages.ITSetup, url.Values{"token": {plain}})},
			t.audit(roster.AuditEvent{OrgID: orgID, Action: "setup_link.created", TargetType: "setup_link", TargetID: l.ID, After: setupLinkMap(l)})
	})
}

// List lists the organization's setup links that still open their page, newest first
// (its owner). Their secrets are never listed.
func (a *SetupLinks) List(ctx context.Context, actor roster.Actor, orgID string) ([]roster.SetupLink, error) {
	if _, err := a.setupLinksScope(ctx, a.read(), actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	return a.read().OpenSetupLinks(ctx, orgID, a.clock.Now())
}

// Revoke closes a setup link at once (its owner): its page stops opening, for whoever holds
// it; what was set up through it stays.
func (a *SetupLinks) Revoke(ctx context.Context, actor roster.Actor, orgID, id string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if _, err := a.setupLinksScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return err
		}
		l, err := ownSetupLink(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return err
		}
		if !l.Open(t.now) {
			return roster.NotFound("setup link")
		}
		if err := t.RevokeSetupLink(t.ctx, id, t.now); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "setup_link.revoked", TargetType: "setup_link", TargetID: id, Before: setupLinkMap(l)})
	})
}

// ownSetupLink reads a setup link of the organization, or not_found.
func ownSetupLink(ctx context.Context, c *sqlstore.Conn, orgID, id string) (roster.SetupLink, error) {
	if !roster.ValidID(roster.PrefixSetupLink, id) {
		return roster.SetupLink{}, roster.NotFound("setup link")
	}
	l, err := c.SetupLink(ctx, id)
	if err == nil && l.OrgID != orgID {
		return roster.SetupLink{}, roster.NotFound("setup link")
	}
	return l, err
}

// Authenticate returns the actor of a setup link's secret: kind setup_link, bound to the
// link's organization. A malformed or unknown secret is token_invalid; a link that expired
// or was revoked is token_expired, and says to ask the owner for a new one.
func (a *SetupLinks) Authenticate(ctx context.Context, actor roster.Actor, secret string) (roster.Actor, error) {
	invalid := roster.Errorf(roster.ETokenInvalid, "this setup link is not valid: check that it was copied whole")
	if !token.WellFormed(token.PrefixSetup, secret) {
		return actor, invalid
	}
	hash := token.Hash(secret)
	l, stored, err := a.read().SetupLinkByToken(ctx, hash)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !token.Equal(stored, hash)) {
		return actor, invalid
	}
	if err != nil {
		return actor, err
	}
	now := a.clock.Now()
	if !l.Open(now) {
		return actor, roster.Errorf(roster.ETokenExpired, "this setup link has expired or was revoked: ask the organization's owner for a new one")
	}
	if l.LastUsedAt == nil || now.Sub(*l.LastUsedAt) > time.Minute { // one write a minute at most
		if err := a.write(ctx, roster.System(), func(t *txn) error { return t.MarkSetupLinkUsed(t.ctx, l.ID, t.now) }); err != nil {
			return actor, err
		}
	}
	actor.Kind, actor.SetupLinkID, actor.SetupLinkOrgID = roster.ActorSetupLink, l.ID, l.OrgID
	return actor, nil
}

// Portal returns what the holder of a setup link sees of its organization: the name, and the
// link's expiry. A link that closed since Authenticate, or whose maker can no longer set up
// the organization's sign-in, opens nothing.
func (a *SetupLinks) Portal(ctx context.Context, actor roster.Actor) (SetupPortal, error) {
	if actor.Kind != roster.ActorSetupLink {
		return SetupPortal{}, roster.Errorf(roster.EUnauthenticated, "a setup link is needed")
	}
	c := a.read()
	s, err := a.settingsScope(ctx, c, actor, actor.SetupLinkOrgID, false)
	if err != nil {
		return SetupPortal{}, err
	}
	l, err := c.SetupLink(ctx, actor.SetupLinkID)
	if err != nil {
		return SetupPortal{}, err
	}
	return SetupPortal{OrgID: s.org.ID, OrgName: s.org.Name, Link: l, Access: s.acc}, nil
}

// setupLinkActorAccess computes what the holder of a setup link holds in an organization:
// in the link's organization, while the link is open, what its maker holds there today;
// nothing anywhere else. app lets it act only through settingsScope.
func (a *core) setupLinkActorAccess(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, actor roster.Actor, orgID string) (roster.Access, error) {
	none := roster.NewAccess(orgID, "", "", "", nil, cat)
	if orgID != actor.SetupLinkOrgID {
		return none, nil
	}
	l, err := c.SetupLink(ctx, actor.SetupLinkID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && (l.OrgID != orgID || !l.Open(a.clock.Now()))) {
		return none, nil
	}
	if err != nil {
		return roster.Access{}, err
	}
	return a.userAccess(ctx, c, cat, orgID, l.CreatedBy)
}
