package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// SCIMUserRecord is a member of the organization as its directory sees them: the membership
// and user, what the directory said about them, and the directory's groups they are in.
type SCIMUserRecord struct {
	sqlstore.SCIMMember
	Groups []roster.SCIMGroup
}

// Active reports whether the membership grants access (SCIM's "active").
func (r SCIMUserRecord) Active() bool { return r.Membership.Status == roster.MembershipActive }

// Version is the record's entity tag (SCIM meta.version, the ETag header): it changes with
// anything the directory sees of the member, whoever changed it (the console too).
func (r SCIMUserRecord) Version() string {
	parts := []any{r.User.ID, r.User.Email, r.User.Name, r.Membership.Role, r.Membership.Status}
	if r.Link != nil {
		parts = append(parts, r.Link.UserName, r.Link.ExternalID, r.Link.Attributes)
	}
	for _, g := range r.Groups {
		parts = append(parts, g.ID, g.DisplayName)
	}
	return entityTag(parts)
}

// entityTag is a weak entity tag over values.
func entityTag(parts []any) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:12]) + `"`
}

// checkVersion refuses a change made against another version than the current one (If-Match;
// "" and "*" match anything).
func checkVersion(ifMatch, current string) error {
	if ifMatch == "" || ifMatch == "*" || ifMatch == current || `W/`+ifMatch == current {
		return nil
	}
	return roster.Errorf(roster.EPreconditionFailed, "the resource changed since version %s; read it again", ifMatch)
}

// SCIMUserInput is a user as a directory describes them.
type SCIMUserInput struct {
	UserName   string // required; unique in the directory
	ExternalID string
	Email      string // the Roster account's address: the primary (or work, or first) email, else userName
	Name       string // the display name
	Active     bool
	Attributes string // the other attributes, a JSON object kept as sent
}

func (in SCIMUserInput) validate() (SCIMUserInput, error) {
	var errs []error
	keep := func(v string, err error) string { errs = append(errs, err); return v }
	in.UserName = keep(text("userName", in.UserName, true, roster.MaxSCIMUserName))
	in.ExternalID = keep(text("externalId", in.ExternalID, false, roster.MaxSCIMUserName))
	in.Email = keep(email(in.Email))
	in.Name = keep(text("name", in.Name, false, roster.MaxNameLength))
	if in.Attributes == "" {
		in.Attributes = "{}"
	}
	if len(in.Attributes) > roster.MaxSCIMAttributes || !json.Valid([]byte(in.Attributes)) || !utf8.ValidString(in.Attributes) {
		errs = append(errs, roster.Invalidf("attributes", "the user's attributes must be a JSON object of at most %d bytes", roster.MaxSCIMAttributes))
	}
	return in, roster.Invalids(errs...)
}

// scimRecords reads the members of the directory's organization as records.
func (a *core) scimRecords(ctx context.Context, c *sqlstore.Conn, orgID, dirID, userID string) ([]SCIMUserRecord, error) {
	var ms []sqlstore.SCIMMember
	if userID == "" {
		var err error
		if ms, err = c.SCIMMembers(ctx, orgID, dirID); err != nil {
			return nil, err
		}
	} else {
		m, err := c.SCIMMemberOf(ctx, orgID, dirID, userID)
		if err != nil {
			return nil, err
		}
		ms = []sqlstore.SCIMMember{m}
	}
	groups, err := c.ListSCIMGroups(ctx, dirID)
	if err != nil {
		return nil, err
	}
	byID := map[string]roster.SCIMGroup{}
	for _, g := range groups {
		byID[g.ID] = g
	}
	members, err := c.SCIMGroupMembers(ctx, orgID, dirID)
	if err != nil {
		return nil, err
	}
	of := map[string][]roster.SCIMGroup{}
	for _, gm := range members {
		of[gm.UserID] = append(of[gm.UserID], byID[gm.GroupID])
	}
	out := make([]SCIMUserRecord, len(ms))
	for i, m := range ms {
		out[i] = SCIMUserRecord{SCIMMember: m, Groups: of[m.UserID]}
	}
	return out, nil
}

// Users lists the members of the directory's organization (the directory only): every
// one, or with userName set only those the directory may know by that userName (the ones it
// gave it, and the one whose address it is). The SCIM door filters and pages them.
func (a *SCIM) Users(ctx context.Context, actor roster.Actor, userName string) ([]SCIMUserRecord, error) {
	c := a.read()
	if _, err := a.scimScope(ctx, c, actor, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	if userName == "" {
		return a.scimRecords(ctx, c, actor.DirectoryOrgID, actor.DirectoryID, "")
	}
	addr, _ := roster.NormalizeEmail(userName) // "" when it is no address
	ms, err := c.SCIMMembersNamed(ctx, actor.DirectoryOrgID, actor.DirectoryID, userName, addr)
	if err != nil {
		return nil, err
	}
	out := make([]SCIMUserRecord, 0, len(ms))
	for _, m := range ms {
		rs, err := a.scimRecords(ctx, c, actor.DirectoryOrgID, actor.DirectoryID, m.UserID)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// User reads one member of the directory's organization; anyone else is not found.
func (a *SCIM) User(ctx context.Context, actor roster.Actor, userID string) (SCIMUserRecord, error) {
	c := a.read()
	if _, err := a.scimScope(ctx, c, actor, false); err != nil {
		return SCIMUserRecord{}, a.refused(ctx, actor, err)
	}
	return a.scimRecord(ctx, c, actor, userID)
}

func (a *core) scimRecord(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, userID string) (SCIMUserRecord, error) {
	if !roster.ValidID(roster.PrefixUser, userID) {
		return SCIMUserRecord{}, roster.NotFound("user")
	}
	rs, err := a.scimRecords(ctx, c, actor.DirectoryOrgID, actor.DirectoryID, userID)
	if err != nil {
		return SCIMUserRecord{}, err
	}
	return rs[0], nil
}

// verifiedByOrg reports whether an address's domain is verified by the organization: the
// organization controls its mailboxes, so an account at that address is the organization's
// to provision.
func verifiedByOrg(t *txn, orgID, addr string) (bool, error) {
	d, err := t.VerifiedDomain(t.ctx, roster.EmailDomain(addr))
	if roster.ErrorCode(err) == roster.ENotFound {
		return false, nil
	}
	return err == nil && d.OrgID == orgID, err
}

// claimUserName frees a userName held by a former member's stale record, and refuses one
// that a current member holds.
func claimUserName(t *txn, s scope, dirID, userName, self string) error {
	holder, err := t.SCIMUserByName(t.ctx, dirID, userName)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && holder == self) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := t.Membership(t.ctx, s.org.ID, holder); err == nil {
		return (&roster.Error{Code: roster.EConflict, Field: "userName", Message: "another user of this directory has this userName"}).With("user_id", holder)
	} else if roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	return t.DeleteSCIMUser(t.ctx, dirID, holder)
}

// CreateUser provisions a user: a new Roster account (emailed a link to choose a
// password), or an existing account whose address is at a domain the organization has
// verified; never another existing account (it would hand a stranger's account to the
// organization: invite them instead). The membership has the role member; groups give more.
func (a *SCIM) CreateUser(ctx context.Context, actor roster.Actor, in SCIMUserInput) (SCIMUserRecord, error) {
	if in.Email == "" {
		in.Email = in.UserName
	}
	in, err := in.validate()
	if err != nil {
		return SCIMUserRecord{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (SCIMUserRecord, error) {
		s, err := a.scimScope(t.ctx, &t.Conn, actor, true)
		if err != nil {
			return SCIMUserRecord{}, err
		}
		dir, err := t.Directory(t.ctx, actor.DirectoryID)
		if err != nil {
			return SCIMUserRecord{}, err
		}
		if err := policyCheck(s.org, in.Email); err != nil {
			return SCIMUserRecord{}, err
		}
		u, _, err := t.UserByEmail(t.ctx, in.Email)
		created := false
		switch roster.ErrorCode(err) {
		case "":
			if _, err := t.Membership(t.ctx, s.org.ID, u.ID); err == nil {
				return SCIMUserRecord{}, (&roster.Error{Code: roster.EAlreadyMember, Field: "userName",
					Message: "this person is already a member of the organization; find them with a filter on userName or emails"}).With("user_id", u.ID)
			} else if roster.ErrorCode(err) != roster.ENotFound {
				return SCIMUserRecord{}, err
			}
			ok, err := verifiedByOrg(t, s.org.ID, u.Email)
			if err != nil {
				return SCIMUserRecord{}, err
			}
			if !ok {
				return SCIMUserRecord{}, (&roster.Error{Code: roster.EUserExists, Field: "userName",
					Message: "an account with this address already exists and its domain is not verified by the organization; verify the domain, or invite the person"})
			}
		case roster.ENotFound:
			name := in.Name
			if name == "" {
				name = in.UserName
			}
			if name, err = text("name", name, true, roster.MaxNameLength); err != nil {
				return SCIMUserRecord{}, err
			}
			u = roster.User{ID: roster.NewID(roster.PrefixUser), Email: in.Email, Name: name, Locale: roster.Locales[0], Status: roster.UserActive,
				CreatedAt: t.now, UpdatedAt: t.now}
			if err := t.CreateUser(t.ctx, u, ""); err != nil {
				return SCIMUserRecord{}, err
			}
			if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "user.created", TargetType: "user", TargetID: u.ID,
				After: map[string]any{"email": u.Email, "name": u.Name}}); err != nil {
				return SCIMUserRecord{}, err
			}
			created = true
		default:
			return SCIMUserRecord{}, err
		}
		if err := claimUserName(t, s, dir.ID, in.UserName, u.ID); err != nil {
			return SCIMUserRecord{}, err
		}
		if err := a.join(t, s, u, roster.OrgMember, nil); err != nil {
			return SCIMUserRecord{}, err
		}
		if err := t.PutSCIMUser(t.ctx, roster.SCIMUser{DirectoryID: dir.ID, OrgID: s.org.ID, UserID: u.ID, UserName: in.UserName,
			ExternalID: in.ExternalID, Attributes: in.Attributes, CreatedAccount: created, CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
			return SCIMUserRecord{}, err
		}
		if !in.Active {
			m, err := t.Membership(t.ctx, s.org.ID, u.ID)
			if err != nil {
				return SCIMUserRecord{}, err
			}
			if err := setMemberStatus(t, s, m, roster.MembershipSuspended); err != nil {
				return SCIMUserRecord{}, err
			}
		}
		if created {
			if err := t.sendLink(u, roster.TokenSetPassword, "set_password", u.Email, s.org.ID,
				map[string]any{"org_name": s.org.Name, "inviter_name": dir.Name}); err != nil {
				return SCIMUserRecord{}, err
			}
		}
		return a.scimRecord(t.ctx, &t.Conn, actor, u.ID)
	})
}

// setMemberStatus suspends or reactivates a membership as UpdateMember does: never the
// owner's, audited as member.suspended or member.reactivated.
func setMemberStatus(t *txn, s scope, m roster.Membership, status roster.MembershipStatus) error {
	if m.Status == status {
		return nil
	}
	if err := s.acc.MayChangeMembership(m.Role); err != nil {
		return err
	}
	if err := t.SetMemberStatus(t.ctx, m.OrgID, m.UserID, status, t.now); err != nil {
		return err
	}
	action := "member.suspended"
	if status == roster.MembershipActive {
		action = "member.reactivated"
	}
	return t.audit(roster.AuditEvent{OrgID: m.OrgID, Action: action, TargetType: "user", TargetID: m.UserID,
		Before: map[string]any{"status": string(m.Status)}, After: map[string]any{"status": string(status)}})
}

// UpdateUser changes a member as the directory asks (SCIM PUT and PATCH): change turns
// the current record into the wanted user, inside the transaction, against the record as it
// is then (ifMatch, when given, must be its version). active false suspends the membership
// and true lifts the suspension (never the owner's); the Roster account's name follows only
// for an account the directory created or at a domain the organization verified, and its
// address never changes (the directory's emails are kept as attributes).
func (a *SCIM) UpdateUser(ctx context.Context, actor roster.Actor, userID, ifMatch string, change func(SCIMUserRecord) (SCIMUserInput, error)) (SCIMUserRecord, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (SCIMUserRecord, error) {
		s, err := a.scimScope(t.ctx, &t.Conn, actor, true)
		if err != nil {
			return SCIMUserRecord{}, err
		}
		cur, err := a.scimRecord(t.ctx, &t.Conn, actor, userID)
		if err != nil {
			return SCIMUserRecord{}, err
		}
		if err := checkVersion(ifMatch, cur.Version()); err != nil {
			return SCIMUserRecord{}, err
		}
		in, err := change(cur)
		if err != nil {
			return SCIMUserRecord{}, err
		}
		in.Email = cur.User.Email // the account's address never changes through SCIM
		if in, err = in.validate(); err != nil {
			return SCIMUserRecord{}, err
		}
		want := roster.MembershipSuspended
		if in.Active {
			want = roster.MembershipActive
		}
		if err := setMemberStatus(t, s, cur.Membership, want); err != nil {
			return SCIMUserRecord{}, err
		}
		link := roster.SCIMUser{DirectoryID: actor.DirectoryID, OrgID: s.org.ID, UserID: userID, CreatedAt: t.now}
		if cur.Link != nil {
			link = *cur.Link
		}
		if in.Name != "" && in.Name != cur.User.Name {
			ours, err := verifiedByOrg(t, s.org.ID, cur.User.Email)
			if err != nil {
				return SCIMUserRecord{}, err
			}
			if ours || link.CreatedAccount {
				if err := t.UpdateUserProfile(t.ctx, userID, in.Name, cur.User.Locale, t.now); err != nil {
					return SCIMUserRecord{}, err
				}
				if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "user.updated", TargetType: "user", TargetID: userID,
					Before: map[string]any{"name": cur.User.Name}, After: map[string]any{"name": in.Name}}); err != nil {
					return SCIMUserRecord{}, err
				}
			}
		}
		if cur.Link == nil || link.UserName != in.UserName || link.ExternalID != in.ExternalID || link.Attributes != in.Attributes {
			if err := claimUserName(t, s, actor.DirectoryID, in.UserName, userID); err != nil {
				return SCIMUserRecord{}, err
			}
			before := map[string]any{"user_name": link.UserName, "external_id": link.ExternalID, "attributes": attributeKeys(link.Attributes)}
			link.UserName, link.ExternalID, link.Attributes, link.UpdatedAt = in.UserName, in.ExternalID, in.Attributes, t.now
			if err := t.PutSCIMUser(t.ctx, link); err != nil {
				return SCIMUserRecord{}, err
			}
			if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "scim_user.updated", TargetType: "user", TargetID: userID, Before: before,
				After: map[string]any{"user_name": link.UserName, "external_id": link.ExternalID, "attributes": attributeKeys(link.Attributes)}}); err != nil {
				return SCIMUserRecord{}, err
			}
		}
		return a.scimRecord(t.ctx, &t.Conn, actor, userID)
	})
}

// DeleteUser removes a member from the organization as RemoveMember does (never the
// owner), with their store memberships and API keys, and forgets what the directory said
// about them.
func (a *SCIM) DeleteUser(ctx context.Context, actor roster.Actor, userID, ifMatch string) error {
	return a.write(ctx, actor, func(t *txn) error {
		s, err := a.scimScope(t.ctx, &t.Conn, actor, true)
		if err != nil {
			return err
		}
		cur, err := a.scimRecord(t.ctx, &t.Conn, actor, userID)
		if err != nil {
			return err
		}
		if err := checkVersion(ifMatch, cur.Version()); err != nil {
			return err
		}
		if err := s.acc.MayChangeMembership(cur.Membership.Role); err != nil {
			return err
		}
		if err := t.DeleteSCIMUser(t.ctx, actor.DirectoryID, userID); err != nil {
			return err
		}
		return a.removeMember(t, s.org, cur.Membership, "member.removed")
	})
}

// attributeKeys names the attributes a directory keeps for a user, for the audit log (their
// values may be personal data the log need not copy).
func attributeKeys(attrs string) []string {
	var m map[string]any
	_ = json.Unmarshal([]byte(attrs), &m) // written by SCIMUserInput.validate: a JSON object
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
