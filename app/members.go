package app

import (
	"context"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Members is an organization's people: listing, roles, suspension, removal, leaving, store teams
// and store roles, and the bulk import (import.go).
type Members struct{ *core }

// MemberFilter narrows a listing of members.
type MemberFilter struct {
	Query  string
	Role   roster.OrgRole
	Status roster.MembershipStatus
	Cursor string
	Limit  int

	// BreaksPolicy keeps only the members whose address breaks the organization's policy.
	BreaksPolicy bool
}

// Members lists an organization's members a page at a time (owner and admins).
func (a *Members) List(ctx context.Context, actor roster.Actor, orgID string, f MemberFilter) (Page[roster.Member], error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil {
		err = s.require(roster.PermOrgSettingsRead)
	}
	if err != nil {
		return Page[roster.Member]{}, a.refused(ctx, actor, err)
	}
	if f.Role != "" && !f.Role.Valid() {
		return Page[roster.Member]{}, roster.Invalidf("role", "role must be owner, admin or member")
	}
	if f.Status != "" && f.Status != roster.MembershipActive && f.Status != roster.MembershipSuspended {
		return Page[roster.Member]{}, roster.Invalidf("status", "status must be active or suspended")
	}
	if f.Cursor != "" && !roster.ValidID(roster.PrefixUser, f.Cursor) {
		return Page[roster.Member]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	q, err := text("q", f.Query, false, roster.MaxSearchLength)
	if err != nil {
		return Page[roster.Member]{}, err
	}
	limit := pageLimit(f.Limit)
	sf := sqlstore.MemberFilter{OrgID: orgID, Query: q, Role: f.Role, Status: f.Status, Cursor: f.Cursor, Limit: limit + 1, Details: true}
	var ms []roster.Member
	if f.BreaksPolicy {
		ms, err = a.app.Organizations.membersBreakingPolicy(ctx, c, s.org, sf, limit)
	} else {
		ms, err = c.ListMembers(ctx, sf)
	}
	if err != nil {
		return Page[roster.Member]{}, err
	}
	for i := range ms {
		if err := policyCheck(s.org, ms[i].User.Email); err != nil {
			ms[i].PolicyViolation = roster.ErrorCode(err)
		}
	}
	return page(ms, limit, func(m roster.Member) string { return m.UserID }), nil
}

// Member returns one member with their store memberships: to owner and admins, and to the
// member themselves.
func (a *Members) Get(ctx context.Context, actor roster.Actor, orgID, userID string) (roster.Member, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil && userID != actor.UserID {
		err = s.require(roster.PermOrgSettingsRead)
	}
	if err != nil {
		return roster.Member{}, a.refused(ctx, actor, err)
	}
	if !roster.ValidID(roster.PrefixUser, userID) {
		return roster.Member{}, roster.NotFound("member")
	}
	m, err := c.Membership(ctx, orgID, userID)
	if err != nil {
		return roster.Member{}, err
	}
	u, err := c.User(ctx, userID)
	if err != nil {
		return roster.Member{}, err
	}
	stores, err := c.MemberStores(ctx, orgID, userID)
	if err != nil {
		return roster.Member{}, err
	}
	on, err := c.HasSecondFactor(ctx, userID)
	return roster.Member{Membership: m, User: u, Stores: stores, TwoFactor: on}, err
}

// memberWrite runs fn on a member the actor manages: with org.members.manage, and never on
// the owner unless the actor is the owner.
func (a *core) memberWrite(ctx context.Context, actor roster.Actor, orgID, userID string, fn func(t *txn, s scope, m roster.Membership) error) error {
	return a.orgWrite(ctx, actor, orgID, roster.PermOrgMembersManage, func(t *txn, s scope) error {
		m, err := a.member(t, orgID, userID)
		if err != nil {
			return err
		}
		if err := s.acc.MayChangeMembership(m.Role); err != nil {
			return err
		}
		return fn(t, s, m)
	})
}

// MemberUpdate changes a membership; nil fields stay as they are.
type MemberUpdate struct {
	Role   *roster.OrgRole
	Status *roster.MembershipStatus
}

// Update changes a member's organization role (admin or member; ownership moves only
// by transfer) and suspends or reactivates them, in one transaction (owner and admins).
// A suspended membership keeps its roles and grants nothing from the member's next request.
func (a *Members) Update(ctx context.Context, actor roster.Actor, orgID, userID string, u MemberUpdate) error {
	if u.Role == nil && u.Status == nil {
		return roster.Invalidf("role", "give a role or a status")
	}
	if u.Role != nil {
		if err := u.Role.CheckAssignable(); err != nil {
			return err
		}
	}
	if u.Status != nil && *u.Status != roster.MembershipActive && *u.Status != roster.MembershipSuspended {
		return roster.Invalidf("status", "status must be active or suspended")
	}
	return a.memberWrite(ctx, actor, orgID, userID, func(t *txn, s scope, m roster.Membership) error {
		if u.Role != nil && *u.Role != m.Role {
			if missing := s.acc.Holds(roster.OrgRolePermissions(*u.Role).Sorted()); len(missing) > 0 {
				return escalation(missing)
			}
			if err := t.SetMemberRole(t.ctx, orgID, userID, *u.Role, t.now); err != nil {
				return err
			}
			if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: "member.role_changed", TargetType: "user", TargetID: userID,
				Before: map[string]any{"role": string(m.Role)}, After: map[string]any{"role": string(*u.Role)}}); err != nil {
				return err
			}
		}
		if u.Status != nil && *u.Status != m.Status {
			if userID == actor.UserID {
				return roster.Errorf(roster.EConflict, "you cannot suspend or reactivate yourself")
			}
			if err := t.SetMemberStatus(t.ctx, orgID, userID, *u.Status, t.now); err != nil {
				return err
			}
			action := "member.suspended"
			if *u.Status == roster.MembershipActive {
				action = "member.reactivated"
			}
			if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: action, TargetType: "user", TargetID: userID,
				Before: map[string]any{"status": string(m.Status)}, After: map[string]any{"status": string(*u.Status)}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// ChangeRole sets a member's organization role to admin or member.
func (a *Members) ChangeRole(ctx context.Context, actor roster.Actor, orgID, userID string, role roster.OrgRole) error {
	return a.Update(ctx, actor, orgID, userID, MemberUpdate{Role: &role})
}

// escalation is the refusal to grant permissions one does not hold.
func escalation(missing []roster.Permission) error {
	keys := make([]string, len(missing))
	for i, p := range missing {
		keys[i] = string(p)
	}
	return (&roster.Error{Code: roster.ERoleEscalation, Field: "role", Message: "you cannot grant permissions you do not hold yourself"}).With("missing", keys)
}

// Suspend suspends a membership.
func (a *Members) Suspend(ctx context.Context, actor roster.Actor, orgID, userID string) error {
	st := roster.MembershipSuspended
	return a.Update(ctx, actor, orgID, userID, MemberUpdate{Status: &st})
}

// Reactivate lifts a suspension.
func (a *Members) Reactivate(ctx context.Context, actor roster.Actor, orgID, userID string) error {
	st := roster.MembershipActive
	return a.Update(ctx, actor, orgID, userID, MemberUpdate{Status: &st})
}

// Remove removes someone from an organization, with all their store memberships and
// API keys there, in one transaction, and tells them by email.
func (a *Members) Remove(ctx context.Context, actor roster.Actor, orgID, userID string) error {
	return a.memberWrite(ctx, actor, orgID, userID, func(t *txn, s scope, m roster.Membership) error {
		return a.removeMember(t, s.org, m, "member.removed")
	})
}

// Leave removes the actor from an organization. The owner cannot leave.
func (a *Members) Leave(ctx context.Context, actor roster.Actor, orgID string) error {
	if err := requireUser(actor); err != nil {
		return err // a person leaves; an API key cannot make its owner leave
	}
	return a.write(ctx, actor, func(t *txn) error {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if roster.ErrorCode(err) == roster.EMembershipSuspended {
			s.org, err = t.LockOrganization(t.ctx, orgID)
		}
		if err != nil {
			return err
		}
		m, err := t.Membership(t.ctx, orgID, actor.UserID)
		if err != nil {
			return err
		}
		if m.Role == roster.OrgOwner {
			return roster.Errorf(roster.EOwnerProtected, "the owner cannot leave; transfer ownership to an admin first")
		}
		return a.removeMember(t, s.org, m, "member.left")
	})
}

func (a *core) removeMember(t *txn, org roster.Organization, m roster.Membership, action string) error {
	stores, err := t.MemberStores(t.ctx, org.ID, m.UserID)
	if err != nil {
		return err
	}
	if err := t.RemoveMember(t.ctx, org.ID, m.UserID); err != nil {
		return err
	}
	storeIDs := make([]string, len(stores))
	for i, sm := range stores {
		storeIDs[i] = sm.StoreID
	}
	if err := t.audit(roster.AuditEvent{OrgID: org.ID, Action: action, TargetType: "user", TargetID: m.UserID,
		Before: map[string]any{"role": string(m.Role), "status": string(m.Status), "stores": storeIDs}}); err != nil {
		return err
	}
	if err := a.app.Invitations.revokeInvitationsBy(t, org.ID, m.UserID); err != nil {
		return err
	}
	if action == "member.left" {
		return nil
	}
	u, err := t.User(t.ctx, m.UserID)
	if err != nil {
		return err
	}
	return t.notifyUser(u, "access_removed", org.ID, map[string]any{"org_name": org.Name})
}

// StoreGrantInput gives a role in one store.
type StoreGrantInput struct {
	StoreID string
	RoleID  string
}

// checkGrant validates one store grant that the actor gives: the store belongs to the
// organization, the role exists there, and the actor holds every permission of the role in
// that store (no escalation) as well as the right to add people to it.
func (a *core) checkGrant(t *txn, s scope, g StoreGrantInput, perm roster.Permission) (roster.Role, error) {
	if !roster.ValidID(roster.PrefixStore, g.StoreID) {
		return roster.Role{}, (&roster.Error{Code: roster.ENotFound, Field: "stores", Message: "store not found"}).With("store_id", g.StoreID)
	}
	st, err := t.Store(t.ctx, g.StoreID)
	if err != nil || st.OrgID != s.org.ID {
		return roster.Role{}, (&roster.Error{Code: roster.ENotFound, Field: "stores", Message: "store not found"}).With("store_id", g.StoreID)
	}
	if err := s.requireStore(st.ID, perm); err != nil {
		return roster.Role{}, err
	}
	role, err := a.resolver(t.ctx, &t.Conn, s.cat, s.org.ID).role(g.RoleID)
	if err != nil {
		return roster.Role{}, err
	}
	if missing := s.acc.HoldsInStore(st.ID, role.Permissions); len(missing) > 0 {
		return roster.Role{}, escalation(missing)
	}
	return role, nil
}

// Add adds an existing user to an organization with an organization role and store
// grants (owner and admins). People usually join by invitation; this is the direct path
// for those who already have an account and are known to the organization.
func (a *Members) Add(ctx context.Context, actor roster.Actor, orgID, userID string, role roster.OrgRole, grants []StoreGrantInput) error {
	return a.orgWrite(ctx, actor, orgID, roster.PermOrgMembersManage, func(t *txn, s scope) error {
		if !roster.ValidID(roster.PrefixUser, userID) {
			return roster.NotFound("user")
		}
		u, err := t.User(t.ctx, userID)
		if err != nil {
			return err
		}
		return a.join(t, s, u, role, grants)
	})
}

// join makes a user a member with an organization role and store grants, checking that the
// actor may grant each of them.
func (a *core) join(t *txn, s scope, u roster.User, role roster.OrgRole, grants []StoreGrantInput) error {
	if err := role.CheckAssignable(); err != nil {
		return err
	}
	if err := grantCount(grants); err != nil {
		return err
	}
	if missing := s.acc.Holds(roster.OrgRolePermissions(role).Sorted()); len(missing) > 0 {
		return escalation(missing)
	}
	if err := t.AddMember(t.ctx, roster.Membership{OrgID: s.org.ID, UserID: u.ID, Role: role, Status: roster.MembershipActive,
		CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
		return err
	}
	seen := map[string]bool{}
	stores := map[string]any{}
	for _, g := range grants {
		if seen[g.StoreID] {
			return (&roster.Error{Code: roster.EInvalid, Field: "stores", Message: "a store appears twice"}).With("store_id", g.StoreID)
		}
		seen[g.StoreID] = true
		if _, err := a.checkGrant(t, s, g, roster.PermStoreMembersInvite); err != nil {
			return err
		}
		if err := t.PutStoreMember(t.ctx, roster.StoreMembership{StoreID: g.StoreID, OrgID: s.org.ID, UserID: u.ID, RoleID: g.RoleID,
			CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
			return err
		}
		stores[g.StoreID] = g.RoleID
	}
	return t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "member.added", TargetType: "user", TargetID: u.ID,
		After: map[string]any{"email": u.Email, "role": string(role), "stores": stores}})
}

// StoreTeam lists who reaches a store and with which role.
func (a *Members) StoreTeam(ctx context.Context, actor roster.Actor, storeID string) ([]roster.TeamMember, error) {
	c := a.read()
	s, st, err := a.storeScope(ctx, c, actor, storeID, false)
	if err == nil && !s.acc.Can(roster.PermOrgSettingsRead) {
		err = s.requireStore(st.ID, roster.PermStoreMembersRead)
	}
	if err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	team, err := c.StoreTeam(ctx, st.OrgID, st.ID)
	if err != nil {
		return nil, err
	}
	// Role names come with the team: someone who may see the team but not list the
	// organization's roles still learns what each role of it is called.
	res := a.resolver(ctx, c, s.cat, st.OrgID)
	for i := range team {
		if team[i].RoleName, err = res.name(team[i].RoleID); err != nil {
			return nil, err
		}
	}
	return team, nil
}

// SetStoreRole gives a member of the organization a role in a store, or changes it (store
// admins, and owner and admins). Nobody grants a role holding permissions they lack, nor
// changes the role of someone whose current role holds permissions they lack.
func (a *Members) SetStoreRole(ctx context.Context, actor roster.Actor, storeID, userID, roleID string) error {
	return a.storeWrite(ctx, actor, storeID, roster.PermStoreMembersManage, func(t *txn, s scope, st roster.Store) error {
		m, err := a.member(t, st.OrgID, userID)
		if err != nil {
			return err
		}
		if err := s.acc.MayChangeStoreRolesOf(m.Role); err != nil {
			return err
		}
		if _, err := a.checkGrant(t, s, StoreGrantInput{StoreID: st.ID, RoleID: roleID}, roster.PermStoreMembersManage); err != nil {
			return err
		}
		before := ""
		if old, err := t.StoreMember(t.ctx, st.ID, userID); err == nil {
			before = old.RoleID
			if err := a.checkManageStoreMember(t, s, st.ID, old.RoleID); err != nil {
				return err
			}
		} else if roster.ErrorCode(err) != roster.ENotFound {
			return err
		}
		if before == roleID {
			return nil
		}
		if err := t.PutStoreMember(t.ctx, roster.StoreMembership{StoreID: st.ID, OrgID: st.OrgID, UserID: userID, RoleID: roleID,
			CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: st.OrgID, StoreID: st.ID, Action: "store_member.role_set", TargetType: "user", TargetID: userID,
			Before: map[string]any{"role": before}, After: map[string]any{"role": roleID}})
	})
}

// checkManageStoreMember refuses to change or remove a store membership whose current role
// holds a permission the actor lacks in that store (roster.Access.MayManageStoreMember). A
// role deleted under a race holds nothing.
func (a *core) checkManageStoreMember(t *txn, s scope, storeID, currentRoleID string) error {
	target, err := a.resolver(t.ctx, &t.Conn, s.cat, s.org.ID).role(currentRoleID)
	if roster.ErrorCode(err) == roster.EUnknownRole {
		target, err = roster.Role{ID: currentRoleID}, nil
	}
	if err != nil {
		return err
	}
	if missing := s.acc.MayManageStoreMember(storeID, target); len(missing) > 0 {
		e := escalation(missing).(*roster.Error)
		e.Field, e.Message = "user_id", "you cannot change or remove someone whose store role holds permissions you do not hold yourself"
		return e
	}
	return nil
}

// RemoveFromStore removes a member from a store (store admins, and owner and admins; never
// someone whose store role holds permissions the actor lacks); they stay in the
// organization and are told by email.
func (a *Members) RemoveFromStore(ctx context.Context, actor roster.Actor, storeID, userID string) error {
	return a.storeWrite(ctx, actor, storeID, roster.PermStoreMembersManage, func(t *txn, s scope, st roster.Store) error {
		if !roster.ValidID(roster.PrefixUser, userID) {
			return roster.NotFound("store member")
		}
		old, err := t.StoreMember(t.ctx, st.ID, userID)
		if err != nil {
			return err
		}
		if m, err := t.Membership(t.ctx, st.OrgID, userID); err != nil {
			return err
		} else if err := s.acc.MayChangeStoreRolesOf(m.Role); err != nil {
			return err
		}
		if err := a.checkManageStoreMember(t, s, st.ID, old.RoleID); err != nil {
			return err
		}
		if err := t.RemoveStoreMember(t.ctx, st.ID, userID); err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{OrgID: st.OrgID, StoreID: st.ID, Action: "store_member.removed", TargetType: "user", TargetID: userID,
			Before: map[string]any{"role": old.RoleID}}); err != nil {
			return err
		}
		u, err := t.User(t.ctx, userID)
		if err != nil {
			return err
		}
		return t.notifyUser(u, "access_removed", st.OrgID, map[string]any{"org_name": s.org.Name, "store_name": st.Name})
	})
}
