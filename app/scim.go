package app

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Directories is an organization's SCIM directories, as its owners and admins manage them:
// create one (its token shown once), rotate its token, delete it, map the groups it pushed
// to roles; and the authentication of a directory's token at /scim/v2.
type Directories struct{ *core }

// SCIM is what a directory does, acting as an actor of kind directory in its one
// organization: its users (the organization's members, scim_users.go) and groups
// (scim_groups.go), by the same rules as a console change.
type SCIM struct{ *core }

// SCIM directories: an identity provider provisions one organization's members over SCIM 2.0
// (package scim) with a bearer token of its own. The directory acts as an actor of kind
// directory, holding what an admin holds in that organization only (roster.DirectoryAccess),
// so every change it asks for runs through the same rules as a console change: the owner's
// membership is out of reach, nobody is granted more than an admin holds, and each change is
// audited with the directory as its actor. This file holds the directories' management by the
// organization's owner and admins and the authentication of their tokens; scim_users.go and
// scim_groups.go the provisioning itself.

// CreatedDirectory is a directory with its bearer token, shown once (at creation and at
// each rotation).
type CreatedDirectory struct {
	Directory roster.Directory
	Token     string
}

// directoryScope checks that the actor manages the organization's directories (a setup
// link's holder may: settingsScope).
func (a *core) directoryScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	s, err := a.settingsScope(ctx, c, actor, orgID, lock)
	return s, mayManageDirectories(s, err)
}

// groupScope checks that the actor maps the groups of the organization's directories to
// roles: those who manage its directories, but not through a setup link (the roles and stores
// are the organization's business, not its IT administrator's).
func (a *core) groupScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	s, err := a.orgScope(ctx, c, actor, orgID, lock)
	return s, mayManageDirectories(s, err)
}

func mayManageDirectories(s scope, err error) error {
	if err == nil && !s.acc.MayManageDirectories() {
		err = deny(s.org.ID, "", roster.PermOrgMembersManage, "only the owner and admins manage the organization's SCIM directories")
	}
	return err
}

// ownDirectory reads a directory of the organization, or not_found.
func ownDirectory(ctx context.Context, c *sqlstore.Conn, orgID, id string) (roster.Directory, error) {
	if !roster.ValidID(roster.PrefixDirectory, id) {
		return roster.Directory{}, roster.NotFound("directory")
	}
	d, err := c.Directory(ctx, id)
	if err == nil && d.OrgID != orgID {
		return roster.Directory{}, roster.NotFound("directory")
	}
	return d, err
}

func directoryMap(d roster.Directory) map[string]any { return map[string]any{"name": d.Name} }

// Create creates a SCIM directory for an organization and returns its token, shown
// this once (owner and admins).
func (a *Directories) Create(ctx context.Context, actor roster.Actor, orgID, name string) (CreatedDirectory, error) {
	name, err := text("name", name, true, roster.MaxNameLength)
	if err != nil {
		return CreatedDirectory{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (CreatedDirectory, error) {
		s, err := a.directoryScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return CreatedDirectory{}, err
		}
		existing, err := t.ListDirectories(t.ctx, orgID)
		if err != nil {
			return CreatedDirectory{}, err
		}
		if len(existing) >= roster.MaxDirectories {
			return CreatedDirectory{}, roster.Invalidf("name", "at most %d SCIM directories", roster.MaxDirectories)
		}
		plain, hash := token.New(token.PrefixSCIM)
		d := roster.Directory{ID: roster.NewID(roster.PrefixDirectory), OrgID: orgID, Name: name, CreatedBy: s.acc.UserID,
			TokenCreatedAt: t.now, CreatedAt: t.now, UpdatedAt: t.now}
		if err := t.InsertDirectory(t.ctx, d, hash); err != nil {
			return CreatedDirectory{}, err
		}
		return CreatedDirectory{Directory: d, Token: plain}, t.audit(roster.AuditEvent{OrgID: orgID, Action: "scim_directory.created",
			TargetType: "directory", TargetID: d.ID, After: directoryMap(d)})
	})
}

// List lists an organization's SCIM directories (owner and admins). Tokens are never
// listed.
func (a *Directories) List(ctx context.Context, actor roster.Actor, orgID string) ([]roster.Directory, error) {
	if _, err := a.directoryScope(ctx, a.read(), actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	return a.read().ListDirectories(ctx, orgID)
}

// Get reads one SCIM directory of an organization (owner and admins).
func (a *Directories) Get(ctx context.Context, actor roster.Actor, orgID, id string) (roster.Directory, error) {
	if _, err := a.directoryScope(ctx, a.read(), actor, orgID, false); err != nil {
		return roster.Directory{}, a.refused(ctx, actor, err)
	}
	return ownDirectory(ctx, a.read(), orgID, id)
}

// RotateToken gives a directory a new token, shown this once; the old one stops
// working at once (owner and admins).
func (a *Directories) RotateToken(ctx context.Context, actor roster.Actor, orgID, id string) (CreatedDirectory, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (CreatedDirectory, error) {
		if _, err := a.directoryScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return CreatedDirectory{}, err
		}
		d, err := ownDirectory(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return CreatedDirectory{}, err
		}
		plain, hash := token.New(token.PrefixSCIM)
		if err := t.SetDirectoryToken(t.ctx, id, hash, t.now); err != nil {
			return CreatedDirectory{}, err
		}
		d.TokenCreatedAt, d.UpdatedAt = t.now, t.now
		return CreatedDirectory{Directory: d, Token: plain}, t.audit(roster.AuditEvent{OrgID: orgID, Action: "scim_directory.token_rotated",
			TargetType: "directory", TargetID: id, After: directoryMap(d)})
	})
}

// Delete deletes a SCIM directory: its token stops working, what it said about users
// and its groups are forgotten; the members it provisioned stay, with their roles (owner and
// admins).
func (a *Directories) Delete(ctx context.Context, actor roster.Actor, orgID, id string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if _, err := a.directoryScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return err
		}
		d, err := ownDirectory(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return err
		}
		if err := t.DeleteDirectory(t.ctx, id); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "scim_directory.deleted", TargetType: "directory", TargetID: id, Before: directoryMap(d)})
	})
}

// Authenticate returns the actor of a SCIM directory's bearer token: kind directory,
// bound to the directory's organization. A malformed, unknown, rotated or deleted token is
// unauthenticated.
func (a *Directories) Authenticate(ctx context.Context, actor roster.Actor, secret string) (roster.Actor, error) {
	unauth := roster.Errorf(roster.EUnauthenticated, "invalid SCIM token")
	if !token.WellFormed(token.PrefixSCIM, secret) {
		return actor, unauth
	}
	hash := token.Hash(secret)
	d, stored, err := a.read().DirectoryByToken(ctx, hash)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !token.Equal(stored, hash)) {
		return actor, unauth
	}
	if err != nil {
		return actor, err
	}
	if now := a.clock.Now(); d.LastUsedAt == nil || now.Sub(*d.LastUsedAt) > time.Minute { // one write a minute at most
		if err := a.write(ctx, roster.System(), func(t *txn) error { return t.MarkDirectoryUsed(t.ctx, d.ID, t.now) }); err != nil {
			return actor, err
		}
	}
	actor.Kind, actor.DirectoryID, actor.DirectoryOrgID = roster.ActorDirectory, d.ID, d.OrgID
	return actor, nil
}

// directoryActorAccess computes what a directory actor holds in an organization: an admin's
// access in its own organization while the directory exists, nothing anywhere else.
func (a *core) directoryActorAccess(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, actor roster.Actor, orgID string) (roster.Access, error) {
	none := roster.NewAccess(orgID, "", "", "", nil, cat)
	if orgID != actor.DirectoryOrgID {
		return none, nil
	}
	d, err := c.Directory(ctx, actor.DirectoryID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && d.OrgID != orgID) {
		return none, nil
	}
	if err != nil {
		return roster.Access{}, err
	}
	return roster.DirectoryAccess(orgID, cat), nil
}

// scimScope is the organization a directory provisions, locked for a write: the directory
// must still exist and manage members there.
func (a *core) scimScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, lock bool) (scope, error) {
	if actor.Kind != roster.ActorDirectory {
		return scope{}, roster.Errorf(roster.EUnauthenticated, "a SCIM directory's token is needed")
	}
	s, err := a.orgScope(ctx, c, actor, actor.DirectoryOrgID, lock)
	if roster.ErrorCode(err) == roster.ENotFound {
		return scope{}, roster.Errorf(roster.EUnauthenticated, "invalid SCIM token") // deleted meanwhile
	}
	if err == nil {
		err = s.require(roster.PermOrgMembersManage)
	}
	return s, err
}
