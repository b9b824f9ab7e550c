package app

import (
	"context"
	"slices"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// SCIM groups map to roles: a group the directory pushes is mapped by the organization's owner
// or admins (MapDirectoryGroup) to an organization role or to a store role, and its members
// hold that role while they are in it. A member in several mapped groups holds the highest
// organization role among them, and in each store the role of the first group (by ID) that
// maps that store. Leaving the last group that gave an organization role makes one a member
// again; leaving the last group that gave a store role removes one from that store. The
// owner's roles never change this way. Each change runs the checks and writes the audit events
// of the console's own role changes.

// SCIMGroupRecord is a directory's group with its members (members of the organization only).
type SCIMGroupRecord struct {
	Group   roster.SCIMGroup
	Members []roster.User
}

// Version is the group's entity tag.
func (r SCIMGroupRecord) Version() string {
	parts := []any{r.Group.ID, r.Group.DisplayName, r.Group.ExternalID, r.Group.OrgRole, r.Group.StoreID, r.Group.RoleID}
	for _, u := range r.Members {
		parts = append(parts, u.ID)
	}
	return entityTag(parts)
}

// MemberIDs returns the IDs of the group's members.
func (r SCIMGroupRecord) MemberIDs() []string {
	ids := make([]string, len(r.Members))
	for i, u := range r.Members {
		ids[i] = u.ID
	}
	return ids
}

// SCIMGroupInput is a group as a directory describes it.
type SCIMGroupInput struct {
	DisplayName string
	ExternalID  string
	Members     []string // user IDs, each a member of the organization
}

func (in SCIMGroupInput) validate() (SCIMGroupInput, error) {
	var errs []error
	keep := func(v string, err error) string { errs = append(errs, err); return v }
	in.DisplayName = keep(text("displayName", in.DisplayName, true, roster.MaxSCIMDisplayLength))
	in.ExternalID = keep(text("externalId", in.ExternalID, false, roster.MaxSCIMUserName))
	if len(in.Members) > roster.MaxSCIMGroupMembers {
		errs = append(errs, roster.Invalidf("members", "a group holds at most %d members", roster.MaxSCIMGroupMembers))
	}
	slices.Sort(in.Members)
	in.Members = slices.Compact(in.Members)
	return in, roster.Invalids(errs...)
}

// groupState is a directory's groups and who is in each, as read in a transaction.
type groupState struct {
	groups  map[string]roster.SCIMGroup
	members map[string][]string // group ID → user IDs (members of the organization)
}

func readGroupState(ctx context.Context, c *sqlstore.Conn, orgID, dirID string) (groupState, error) {
	gs, err := c.ListSCIMGroups(ctx, dirID)
	if err != nil {
		return groupState{}, err
	}
	st := groupState{groups: map[string]roster.SCIMGroup{}, members: map[string][]string{}}
	for _, g := range gs {
		st.groups[g.ID] = g
	}
	ms, err := c.SCIMGroupMembers(ctx, orgID, dirID)
	if err != nil {
		return groupState{}, err
	}
	for _, m := range ms {
		st.members[m.GroupID] = append(st.members[m.GroupID], m.UserID)
	}
	return st, nil
}

// groupsOf returns the groups a user is in, by ID, with the mapping each has in the state.
func (st groupState) groupsOf(userID string) []roster.SCIMGroup {
	var out []roster.SCIMGroup
	for id, us := range st.members {
		if slices.Contains(us, userID) {
			out = append(out, st.groups[id])
		}
	}
	slices.SortFunc(out, func(a, b roster.SCIMGroup) int { return compareStrings(a.ID, b.ID) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a *core) groupRecord(ctx context.Context, c *sqlstore.Conn, st groupState, g roster.SCIMGroup) (SCIMGroupRecord, error) {
	r := SCIMGroupRecord{Group: g, Members: []roster.User{}}
	for _, id := range st.members[g.ID] {
		u, err := c.User(ctx, id)
		if err != nil {
			return r, err
		}
		r.Members = append(r.Members, u)
	}
	return r, nil
}

// Groups lists the directory's groups with their members (the directory only).
func (a *SCIM) Groups(ctx context.Context, actor roster.Actor) ([]SCIMGroupRecord, error) {
	c := a.read()
	if _, err := a.scimScope(ctx, c, actor, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	st, err := readGroupState(ctx, c, actor.DirectoryOrgID, actor.DirectoryID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(st.groups))
	for id := range st.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]SCIMGroupRecord, 0, len(ids))
	for _, id := range ids {
		r, err := a.groupRecord(ctx, c, st, st.groups[id])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Group reads one of the directory's groups.
func (a *SCIM) Group(ctx context.Context, actor roster.Actor, id string) (SCIMGroupRecord, error) {
	c := a.read()
	if _, err := a.scimScope(ctx, c, actor, false); err != nil {
		return SCIMGroupRecord{}, a.refused(ctx, actor, err)
	}
	return a.ownGroupRecord(ctx, c, actor.DirectoryOrgID, actor.DirectoryID, id)
}

func (a *core) ownGroupRecord(ctx context.Context, c *sqlstore.Conn, orgID, dirID, id string) (SCIMGroupRecord, error) {
	st, err := readGroupState(ctx, c, orgID, dirID)
	if err != nil {
		return SCIMGroupRecord{}, err
	}
	g, ok := st.groups[id]
	if !ok {
		return SCIMGroupRecord{}, roster.NotFound("group")
	}
	return a.groupRecord(ctx, c, st, g)
}

// checkGroupMembers refuses members who are not members of the organization.
func checkGroupMembers(t *txn, orgID string, ids []string) error {
	for _, id := range ids {
		if !roster.ValidID(roster.PrefixUser, id) {
			return (&roster.Error{Code: roster.EInvalid, Field: "members", Message: "a group member is not a member of the organization"}).With("value", id)
		}
		if _, err := t.Membership(t.ctx, orgID, id); roster.ErrorCode(err) == roster.ENotFound {
			return (&roster.Error{Code: roster.EInvalid, Field: "members", Message: "a group member is not a member of the organization"}).With("value", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateGroup adds a group to the directory, with its members. A new group maps to no
// role until an owner or admin maps it.
func (a *SCIM) CreateGroup(ctx context.Context, actor roster.Actor, in SCIMGroupInput) (SCIMGroupRecord, error) {
	in, err := in.validate()
	if err != nil {
		return SCIMGroupRecord{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (SCIMGroupRecord, error) {
		s, err := a.scimScope(t.ctx, &t.Conn, actor, true)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		existing, err := t.ListSCIMGroups(t.ctx, actor.DirectoryID)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		if len(existing) >= roster.MaxSCIMGroups {
			return SCIMGroupRecord{}, roster.Invalidf("displayName", "a directory holds at most %d groups", roster.MaxSCIMGroups)
		}
		if err := checkGroupMembers(t, s.org.ID, in.Members); err != nil {
			return SCIMGroupRecord{}, err
		}
		g := roster.SCIMGroup{ID: roster.NewID(roster.PrefixSCIMGroup), DirectoryID: actor.DirectoryID, OrgID: s.org.ID,
			DisplayName: in.DisplayName, ExternalID: in.ExternalID, CreatedAt: t.now, UpdatedAt: t.now}
		if err := t.InsertSCIMGroup(t.ctx, g); err != nil {
			return SCIMGroupRecord{}, err
		}
		for _, u := range in.Members {
			if err := t.AddSCIMGroupMember(t.ctx, g.ID, u); err != nil {
				return SCIMGroupRecord{}, err
			}
		}
		if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "scim_group.created", TargetType: "group", TargetID: g.ID,
			After: map[string]any{"display_name": g.DisplayName, "members": in.Members}}); err != nil {
			return SCIMGroupRecord{}, err
		}
		return a.ownGroupRecord(t.ctx, &t.Conn, s.org.ID, actor.DirectoryID, g.ID)
	})
}

// UpdateGroup changes a group as the directory asks (SCIM PUT and PATCH): change turns the
// current record into the wanted group, inside the transaction (ifMatch, when given, must be
// its version). Members who join or leave gain or lose the group's role.
func (a *SCIM) UpdateGroup(ctx context.Context, actor roster.Actor, id, ifMatch string, change func(SCIMGroupRecord) (SCIMGroupInput, error)) (SCIMGroupRecord, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (SCIMGroupRecord, error) {
		s, err := a.scimScope(t.ctx, &t.Conn, actor, true)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		before, err := readGroupState(t.ctx, &t.Conn, s.org.ID, actor.DirectoryID)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		g, ok := before.groups[id]
		if !ok {
			return SCIMGroupRecord{}, roster.NotFound("group")
		}
		cur, err := a.groupRecord(t.ctx, &t.Conn, before, g)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		if err := checkVersion(ifMatch, cur.Version()); err != nil {
			return SCIMGroupRecord{}, err
		}
		in, err := change(cur)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		if in, err = in.validate(); err != nil {
			return SCIMGroupRecord{}, err
		}
		if err := checkGroupMembers(t, s.org.ID, in.Members); err != nil {
			return SCIMGroupRecord{}, err
		}
		old := cur.MemberIDs()
		if in.DisplayName != g.DisplayName || in.ExternalID != g.ExternalID || !slices.Equal(old, in.Members) {
			after := g // its members changing changes it too (meta.lastModified)
			after.DisplayName, after.ExternalID, after.UpdatedAt = in.DisplayName, in.ExternalID, t.now
			if err := t.UpdateSCIMGroup(t.ctx, after); err != nil {
				return SCIMGroupRecord{}, err
			}
		}
		var joined, left []string
		for _, u := range in.Members {
			if !slices.Contains(old, u) {
				joined = append(joined, u)
				if err := t.AddSCIMGroupMember(t.ctx, id, u); err != nil {
					return SCIMGroupRecord{}, err
				}
			}
		}
		for _, u := range old {
			if !slices.Contains(in.Members, u) {
				left = append(left, u)
				if err := t.RemoveSCIMGroupMember(t.ctx, id, u); err != nil {
					return SCIMGroupRecord{}, err
				}
			}
		}
		after, err := readGroupState(t.ctx, &t.Conn, s.org.ID, actor.DirectoryID)
		if err != nil {
			return SCIMGroupRecord{}, err
		}
		if len(joined)+len(left) > 0 || in.DisplayName != g.DisplayName {
			if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "scim_group.updated", TargetType: "group", TargetID: id,
				Before: map[string]any{"display_name": g.DisplayName}, After: map[string]any{"display_name": in.DisplayName, "joined": joined, "left": left}}); err != nil {
				return SCIMGroupRecord{}, err
			}
		}
		for _, u := range append(joined, left...) {
			if err := a.syncGroupRoles(t, s, u, before.groupsOf(u), after.groupsOf(u)); err != nil {
				return SCIMGroupRecord{}, err
			}
		}
		return a.groupRecord(t.ctx, &t.Conn, after, after.groups[id])
	})
}

// DeleteGroup deletes a group; its members lose its role.
func (a *SCIM) DeleteGroup(ctx context.Context, actor roster.Actor, id, ifMatch string) error {
	return a.write(ctx, actor, func(t *txn) error {
		s, err := a.scimScope(t.ctx, &t.Conn, actor, true)
		if err != nil {
			return err
		}
		before, err := readGroupState(t.ctx, &t.Conn, s.org.ID, actor.DirectoryID)
		if err != nil {
			return err
		}
		g, ok := before.groups[id]
		if !ok {
			return roster.NotFound("group")
		}
		cur, err := a.groupRecord(t.ctx, &t.Conn, before, g)
		if err != nil {
			return err
		}
		if err := checkVersion(ifMatch, cur.Version()); err != nil {
			return err
		}
		if err := t.DeleteSCIMGroup(t.ctx, id); err != nil {
			return err
		}
		after, err := readGroupState(t.ctx, &t.Conn, s.org.ID, actor.DirectoryID)
		if err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "scim_group.deleted", TargetType: "group", TargetID: id,
			Before: map[string]any{"display_name": g.DisplayName, "members": cur.MemberIDs()}}); err != nil {
			return err
		}
		for _, u := range cur.MemberIDs() {
			if err := a.syncGroupRoles(t, s, u, before.groupsOf(u), after.groupsOf(u)); err != nil {
				return err
			}
		}
		return nil
	})
}

// groupOrgRole is the highest organization role the groups give, "" for none.
func groupOrgRole(gs []roster.SCIMGroup) roster.OrgRole {
	var r roster.OrgRole
	for _, g := range gs {
		if g.OrgRole.Rank() > r.Rank() {
			r = g.OrgRole
		}
	}
	return r
}

// groupStoreRoles is the store role the groups give in each store: the first group's (by ID).
func groupStoreRoles(gs []roster.SCIMGroup) map[string]string {
	out := map[string]string{}
	for _, g := range gs {
		if _, ok := out[g.StoreID]; g.StoreID != "" && !ok {
			out[g.StoreID] = g.RoleID
		}
	}
	return out
}

// syncGroupRoles brings a member's roles in line with a change of their groups (before and
// after, with the mappings in force then), with the actor's scope s: the same checks and audit
// events as the console's changes of organization and store roles. The owner is left alone.
func (a *core) syncGroupRoles(t *txn, s scope, userID string, before, after []roster.SCIMGroup) error {
	m, err := t.Membership(t.ctx, s.org.ID, userID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Role == roster.OrgOwner {
		return nil
	}
	if was, now := groupOrgRole(before), groupOrgRole(after); was != now {
		want := now
		if want == "" {
			want = roster.OrgMember
		}
		if want != m.Role {
			if err := s.acc.MayChangeMembership(m.Role); err != nil {
				return err
			}
			if missing := s.acc.Holds(roster.OrgRolePermissions(want).Sorted()); len(missing) > 0 {
				return escalation(missing)
			}
			if err := t.SetMemberRole(t.ctx, s.org.ID, userID, want, t.now); err != nil {
				return err
			}
			if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "member.role_changed", TargetType: "user", TargetID: userID,
				Before: map[string]any{"role": string(m.Role)}, After: map[string]any{"role": string(want)}}); err != nil {
				return err
			}
		}
	}
	was, now := groupStoreRoles(before), groupStoreRoles(after)
	stores := make([]string, 0, len(was)+len(now))
	for id := range was {
		stores = append(stores, id)
	}
	for id := range now {
		stores = append(stores, id)
	}
	slices.Sort(stores)
	for _, storeID := range slices.Compact(stores) {
		if was[storeID] == now[storeID] {
			continue
		}
		if err := a.setGroupStoreRole(t, s, m, storeID, now[storeID]); err != nil {
			return err
		}
	}
	return nil
}

// setGroupStoreRole gives a member a store role, or removes them from the store when roleID
// is "", with SetStoreRole's and RemoveFromStore's checks and audit events.
func (a *core) setGroupStoreRole(t *txn, s scope, m roster.Membership, storeID, roleID string) error {
	if err := s.acc.MayChangeStoreRolesOf(m.Role); err != nil {
		return err
	}
	old, err := t.StoreMember(t.ctx, storeID, m.UserID)
	switch roster.ErrorCode(err) {
	case "":
		if old.RoleID == roleID {
			return nil
		}
		if err := a.checkManageStoreMember(t, s, storeID, old.RoleID); err != nil {
			return err
		}
	case roster.ENotFound:
		if roleID == "" {
			return nil
		}
	default:
		return err
	}
	if roleID == "" {
		if err := t.RemoveStoreMember(t.ctx, storeID, m.UserID); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: s.org.ID, StoreID: storeID, Action: "store_member.removed", TargetType: "user", TargetID: m.UserID,
			Before: map[string]any{"role": old.RoleID}})
	}
	if _, err := a.checkGrant(t, s, StoreGrantInput{StoreID: storeID, RoleID: roleID}, roster.PermStoreMembersManage); err != nil {
		return err
	}
	if err := t.PutStoreMember(t.ctx, roster.StoreMembership{StoreID: storeID, OrgID: s.org.ID, UserID: m.UserID, RoleID: roleID,
		CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
		return err
	}
	return t.audit(roster.AuditEvent{OrgID: s.org.ID, StoreID: storeID, Action: "store_member.role_set", TargetType: "user", TargetID: m.UserID,
		Before: map[string]any{"role": old.RoleID}, After: map[string]any{"role": roleID}})
}

// GroupMapping is what an owner or admin maps a directory's group to: an organization role,
// or a store role (a store and a role), or nothing (all empty).
type GroupMapping struct {
	OrgRole roster.OrgRole
	StoreID string
	RoleID  string
}

// Groups lists the groups a directory pushed, with their mappings (owner and admins). The
// holder of a setup link, who manages the directories, sees none (groupScope).
func (a *Directories) Groups(ctx context.Context, actor roster.Actor, orgID, dirID string) ([]roster.SCIMGroup, error) {
	c := a.read()
	if actor.Kind == roster.ActorSetupLink {
		_, err := a.directoryScope(ctx, c, actor, orgID, false)
		return nil, err
	}
	if _, err := a.groupScope(ctx, c, actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	if _, err := ownDirectory(ctx, c, orgID, dirID); err != nil {
		return nil, err
	}
	return c.ListSCIMGroups(ctx, dirID)
}

// MapGroup sets what a directory's group gives its members (owner and admins). The
// group's current members gain the new role and lose the old one at once, under the actor's
// own rights: nobody maps a group to a role they could not grant by hand.
func (a *Directories) MapGroup(ctx context.Context, actor roster.Actor, orgID, dirID, groupID string, m GroupMapping) (roster.SCIMGroup, error) {
	if err := roster.CheckGroupMapping(m.OrgRole, m.StoreID, m.RoleID); err != nil {
		return roster.SCIMGroup{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.SCIMGroup, error) {
		s, err := a.groupScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return roster.SCIMGroup{}, err
		}
		if _, err := ownDirectory(t.ctx, &t.Conn, orgID, dirID); err != nil {
			return roster.SCIMGroup{}, err
		}
		before, err := readGroupState(t.ctx, &t.Conn, orgID, dirID)
		if err != nil {
			return roster.SCIMGroup{}, err
		}
		g, ok := before.groups[groupID]
		if !ok {
			return roster.SCIMGroup{}, roster.NotFound("group")
		}
		if m.StoreID != "" {
			if _, err := a.checkGrant(t, s, StoreGrantInput{StoreID: m.StoreID, RoleID: m.RoleID}, roster.PermStoreMembersManage); err != nil {
				return roster.SCIMGroup{}, err
			}
		}
		if m.OrgRole != "" {
			if missing := s.acc.Holds(roster.OrgRolePermissions(m.OrgRole).Sorted()); len(missing) > 0 {
				return roster.SCIMGroup{}, escalation(missing)
			}
		}
		mapped := g
		mapped.OrgRole, mapped.StoreID, mapped.RoleID, mapped.UpdatedAt = m.OrgRole, m.StoreID, m.RoleID, t.now
		if err := t.UpdateSCIMGroup(t.ctx, mapped); err != nil {
			return roster.SCIMGroup{}, err
		}
		if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: "scim_group.mapped", TargetType: "group", TargetID: groupID,
			Before: groupMappingMap(g), After: groupMappingMap(mapped)}); err != nil {
			return roster.SCIMGroup{}, err
		}
		after, err := readGroupState(t.ctx, &t.Conn, orgID, dirID)
		if err != nil {
			return roster.SCIMGroup{}, err
		}
		for _, u := range before.members[groupID] {
			if err := a.syncGroupRoles(t, s, u, before.groupsOf(u), after.groupsOf(u)); err != nil {
				return roster.SCIMGroup{}, err
			}
		}
		return mapped, nil
	})
}

func groupMappingMap(g roster.SCIMGroup) map[string]any {
	return map[string]any{"display_name": g.DisplayName, "org_role": string(g.OrgRole), "store_id": g.StoreID, "role_id": g.RoleID}
}
