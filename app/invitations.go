package app

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/freemail"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Invitations invites people into an organization and its stores, and answers invitations: accept
// (with or without an account), decline, resend, cancel, expire.
type Invitations struct{ *core }

// InvitationInput is an invitation as an inviter writes it.
type InvitationInput struct {
	Email   string
	Role    roster.OrgRole // admin or member; member when empty
	Stores  []StoreGrantInput
	Message string // optional, shown in the email
	Locale  string // the email's language when the address has no account yet; English when empty
}

// invitesPerRecipientHr bounds the invitation emails one address receives per hour, all
// organizations together.
const invitesPerRecipientHr = 10

// policyCheck applies an organization's policy to an address (DESIGN §3 rule 6).
func policyCheck(org roster.Organization, addr string) error {
	return org.Policy.Check(addr, freemail.IsFree)
}

// invitationTTL is the lifetime of an organization's invitation links.
func invitationTTL(org roster.Organization) time.Duration {
	if org.Policy.InvitationTTL <= 0 {
		return roster.DefaultInvitationTTL
	}
	return org.Policy.InvitationTTL
}

// Create invites someone by email into an organization with an organization role
// and store roles, and writes the invitation email to the outbox. Owner and admins invite
// with any role they hold themselves; a store admin invites with the organization role
// member into the stores they administer only. The address must satisfy the organization's
// policy, must not belong to a member, and must not have a pending invitation already.
func (a *Invitations) Create(ctx context.Context, actor roster.Actor, orgID string, in InvitationInput) (roster.Invitation, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Invitation, error) {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return roster.Invitation{}, err
		}
		return a.invite(t, s, in)
	})
}

// invite checks one invitation against the inviter's rights and the organization's rules,
// then writes it, its audit event and its email. Nothing is written when it is refused.
func (a *core) invite(t *txn, s scope, in InvitationInput) (roster.Invitation, error) {
	req, err := readInvitation(in)
	if err != nil {
		return roster.Invitation{}, err
	}
	// Who may invite (roster.Access.MayInviteAs), with which organization role, into which stores.
	if err := mayInviteAs(s, req.role, len(in.Stores)); err != nil {
		return roster.Invitation{}, err
	}
	if missing := s.acc.Holds(roster.OrgRolePermissions(req.role).Sorted()); len(missing) > 0 {
		return roster.Invitation{}, escalation(missing)
	}
	stores, storeData, err := a.invitationStores(t, s, in.Stores)
	if err != nil {
		return roster.Invitation{}, err
	}
	if err := policyCheck(s.org, req.addr); err != nil {
		return roster.Invitation{}, err
	}
	if err := verifiedDomainCheck(t.ctx, &t.Conn, s.org, req.addr); err != nil {
		return roster.Invitation{}, err
	}
	existing, err := t.checkInvitee(s.org.ID, req.addr)
	if err != nil {
		return roster.Invitation{}, err
	}
	inviter, err := t.User(t.ctx, s.acc.UserID)
	if err != nil {
		return roster.Invitation{}, err
	}
	inv := roster.Invitation{ID: roster.NewID(roster.PrefixInvitation), OrgID: s.org.ID, Email: req.addr, Role: req.role, Stores: stores,
		Message: req.message, Locale: req.locale, InvitedBy: inviter.ID, InviterName: inviter.Name, Status: roster.InvitationPending,
		CreatedAt: t.now, ExpiresAt: t.now.Add(invitationTTL(s.org)), LastSentAt: t.now, SendCount: 1}
	if err := t.CreateInvitation(t.ctx, inv); err != nil {
		return roster.Invitation{}, err
	}
	if err := t.audit(roster.AuditEvent{OrgID: s.org.ID, Action: "invitation.created", TargetType: "invitation", TargetID: inv.ID,
		After: invitationMap(inv)}); err != nil {
		return roster.Invitation{}, err
	}
	recipientLocale := inv.Locale
	if existing.ID != "" {
		recipientLocale = existing.Locale
	}
	return inv, t.email(roster.Email{Template: "invitation", To: req.addr, Locale: recipientLocale, OrgID: s.org.ID,
		LinkKind: LinkInvitation, LinkRef: inv.ID, Data: map[string]any{
			"org_name": s.org.Name, "inviter_name": inviter.Name, "role": string(req.role), "stores": storeData,
			"message": req.message, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}})
}

// invitationRequest is an invitation's input, checked and normalized.
type invitationRequest struct {
	addr, message, locale string
	role                  roster.OrgRole
}

// readInvitation checks what an invitation says on its own, before anything is read.
func readInvitation(in InvitationInput) (invitationRequest, error) {
	var req invitationRequest
	var err error
	if req.addr, err = email(in.Email); err != nil {
		return req, err
	}
	req.role = in.Role
	if req.role == "" {
		req.role = roster.OrgMember
	}
	if err := req.role.CheckAssignable(); err != nil {
		return req, err
	}
	if req.message, err = messageText(in.Message); err != nil {
		return req, err
	}
	if req.locale, err = locale(in.Locale); err != nil {
		return req, err
	}
	return req, grantCount(in.Stores)
}

// invitationStores checks each store grant of an invitation — once per store, each a grant the
// inviter may give (checkGrant with store.members.invite), into an active store — and returns
// them with what the email says of each.
func (a *core) invitationStores(t *txn, s scope, grants []StoreGrantInput) ([]roster.InvitationStore, []any, error) {
	seen := map[string]bool{}
	var stores []roster.InvitationStore
	var storeData []any
	for _, g := range grants {
		if seen[g.StoreID] {
			return nil, nil, (&roster.Error{Code: roster.EInvalid, Field: "stores", Message: "a store appears twice"}).With("store_id", g.StoreID)
		}
		seen[g.StoreID] = true
		r, err := a.checkGrant(t, s, g, roster.PermStoreMembersInvite)
		if err != nil {
			return nil, nil, err
		}
		st, err := t.Store(t.ctx, g.StoreID)
		if err != nil {
			return nil, nil, err
		}
		if st.Status != roster.StoreActive {
			return nil, nil, (&roster.Error{Code: roster.EStoreArchived, Field: "stores", Message: "the store " + st.Name + " is archived"}).With("store_id", st.ID)
		}
		stores = append(stores, roster.InvitationStore{StoreID: g.StoreID, RoleID: r.ID})
		storeData = append(storeData, map[string]any{"name": st.Name, "role": r.ID, "role_name": r.Name})
	}
	return stores, storeData, nil
}

// checkInvitee refuses to invite an address that is a member already, has a pending
// invitation to the organization, or got too many invitation emails this hour. It returns
// the address's account, if it has one.
func (t *txn) checkInvitee(orgID, addr string) (roster.User, error) {
	existing, _, err := t.UserByEmail(t.ctx, addr)
	switch roster.ErrorCode(err) {
	case "":
		if _, err := t.Membership(t.ctx, orgID, existing.ID); err == nil {
			return roster.User{}, (&roster.Error{Code: roster.EAlreadyMember, Field: "email",
				Message: "this person is already a member of the organization"}).With("user_id", existing.ID)
		} else if roster.ErrorCode(err) != roster.ENotFound {
			return roster.User{}, err
		}
	case roster.ENotFound:
	default:
		return roster.User{}, err
	}
	if err := t.ExpireStaleInvitation(t.ctx, orgID, addr, t.now); err != nil {
		return roster.User{}, err
	}
	if p, err := t.PendingInvitation(t.ctx, orgID, addr); err == nil {
		return roster.User{}, (&roster.Error{Code: roster.EInvitationPending, Field: "email",
			Message: "this address already has a pending invitation; resend it instead"}).With("invitation_id", p.ID)
	} else if roster.ErrorCode(err) != roster.ENotFound {
		return roster.User{}, err
	}
	if n, err := t.CountRecentEmails(t.ctx, addr, "invitation", t.now.Add(-time.Hour)); err != nil {
		return roster.User{}, err
	} else if n >= invitesPerRecipientHr {
		return roster.User{}, rateLimited(time.Hour)
	}
	return existing, nil
}

func invitationMap(inv roster.Invitation) map[string]any {
	stores := map[string]any{}
	for _, s := range inv.Stores {
		stores[s.StoreID] = s.RoleID
	}
	return map[string]any{"email": inv.Email, "role": string(inv.Role), "stores": stores, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}
}

// messageText checks the inviter's optional message: line breaks are kept, other control
// characters refused.
func messageText(s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if utf8.RuneCountInString(s) > roster.MaxInvitationMessage {
		return "", roster.Invalidf("message", "message must be at most %d characters", roster.MaxInvitationMessage)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) >= 0 {
		return "", roster.Invalidf("message", "message contains characters that are not allowed")
	}
	return s, nil
}

// InvitationFilter narrows a listing of invitations.
type InvitationFilter struct {
	Status roster.InvitationStatus
	Query  string // part of the address
	Cursor string
	Limit  int
}

// Invitations lists an organization's invitations, newest first (owner and admins).
func (a *Invitations) List(ctx context.Context, actor roster.Actor, orgID string, f InvitationFilter) (Page[roster.Invitation], error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil {
		err = s.require(roster.PermOrgSettingsRead)
	}
	if err != nil {
		return Page[roster.Invitation]{}, a.refused(ctx, actor, err)
	}
	if f.Status != "" && !roster.ValidInvitationStatus(f.Status) {
		return Page[roster.Invitation]{}, roster.Invalidf("status", "status must be pending, accepted, declined, revoked or expired")
	}
	if f.Cursor != "" && !roster.ValidID(roster.PrefixInvitation, f.Cursor) {
		return Page[roster.Invitation]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	q, err := text("q", f.Query, false, roster.MaxSearchLength)
	if err != nil {
		return Page[roster.Invitation]{}, err
	}
	limit := pageLimit(f.Limit)
	list, err := c.ListInvitations(ctx, sqlstore.InvitationFilter{OrgID: orgID, Status: f.Status, Query: q, Cursor: f.Cursor, Limit: limit + 1, Now: a.clock.Now()})
	if err != nil {
		return Page[roster.Invitation]{}, err
	}
	return page(list, limit, func(i roster.Invitation) string { return i.ID }), nil
}

// ListForStore lists the pending invitations that grant a role in a store, newest first,
// a page at a time (cursor: the last invitation ID of the page before): to those who invite
// to it or manage its team (owner and admins do both).
func (a *Invitations) ListForStore(ctx context.Context, actor roster.Actor, storeID, cursor string, limit int) (Page[roster.Invitation], error) {
	c := a.read()
	s, st, err := a.storeScope(ctx, c, actor, storeID, false)
	if err == nil && !s.acc.CanInStore(st.ID, roster.PermStoreMembersManage) {
		err = s.requireStore(st.ID, roster.PermStoreMembersInvite)
	}
	if err != nil {
		return Page[roster.Invitation]{}, a.refused(ctx, actor, err)
	}
	if cursor != "" && !roster.ValidID(roster.PrefixInvitation, cursor) {
		return Page[roster.Invitation]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	limit = pageLimit(limit)
	list, err := c.ListInvitations(ctx, sqlstore.InvitationFilter{OrgID: st.OrgID, StoreID: st.ID, Status: roster.InvitationPending,
		Cursor: cursor, Limit: limit + 1, Now: a.clock.Now()})
	if err != nil {
		return Page[roster.Invitation]{}, err
	}
	return page(list, limit, func(i roster.Invitation) string { return i.ID }), nil
}

// Invitation returns one invitation to those who manage it.
func (a *Invitations) Get(ctx context.Context, actor roster.Actor, id string) (roster.Invitation, error) {
	c := a.read()
	inv, s, err := a.invitationScope(ctx, c, actor, id, false)
	if err == nil && !s.acc.Can(roster.PermOrgSettingsRead) {
		err = mayManageInvitation(s, inv)
	}
	if err != nil {
		return roster.Invitation{}, a.refused(ctx, actor, err)
	}
	return inv, nil
}

// invitationScope loads an invitation and the actor's access to its organization: to
// outsiders it does not exist.
func (a *Invitations) invitationScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, id string, lock bool) (roster.Invitation, scope, error) {
	if !roster.ValidID(roster.PrefixInvitation, id) {
		return roster.Invitation{}, scope{}, roster.NotFound("invitation")
	}
	inv, err := c.Invitation(ctx, id)
	if err != nil {
		return roster.Invitation{}, scope{}, err
	}
	s, err := a.orgScope(ctx, c, actor, inv.OrgID, lock)
	if roster.ErrorCode(err) == roster.ENotFound {
		return roster.Invitation{}, scope{}, roster.NotFound("invitation")
	}
	if err != nil {
		return roster.Invitation{}, scope{}, err
	}
	if lock {
		if inv, err = c.LockInvitation(ctx, id); err != nil {
			return roster.Invitation{}, scope{}, err
		}
	}
	return inv, s, nil
}

// mayInviteAs refuses an inviter whom roster.Access.MayInviteAs refuses, with the error
// that says why.
func mayInviteAs(s scope, role roster.OrgRole, stores int) error {
	missing, escalation := s.acc.MayInviteAs(role, stores)
	switch {
	case missing == "":
		return nil
	case escalation:
		return (&roster.Error{Code: roster.ERoleEscalation, Field: "role",
			Message: "store admins invite with the organization role member only"}).With("missing", []string{string(missing)})
	}
	return s.require(missing)
}

// mayManageInvitation: whoever could send an invitation resends and cancels it — those who
// manage members any, a store-level inviter those with the role member into stores where
// they all may invite.
func mayManageInvitation(s scope, inv roster.Invitation) error {
	if missing, _ := s.acc.MayInviteAs(inv.Role, len(inv.Stores)); missing != "" {
		return s.require(missing)
	}
	if s.acc.Can(roster.PermOrgMembersManage) {
		return nil
	}
	for _, st := range inv.Stores {
		if err := s.requireStore(st.StoreID, roster.PermStoreMembersInvite); err != nil {
			return err
		}
	}
	return nil
}

// resendInterval is how long after the last link a new one may be sent: 1 minute after the
// first, doubling with each resend, at most a day.
func resendInterval(sent int) time.Duration {
	if sent < 1 {
		sent = 1
	}
	if sent > 12 {
		return 24 * time.Hour
	}
	return min(time.Minute<<(sent-1), 24*time.Hour)
}

// Resend sends a pending (or expired) invitation again with a new link: the old
// link is dead at once, and the expiry restarts from now. Resends are spaced out per
// invitation.
func (a *Invitations) Resend(ctx context.Context, actor roster.Actor, id string) (roster.Invitation, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Invitation, error) {
		var inv roster.Invitation
		var s scope
		var err error
		if inv, s, err = a.invitationScope(t.ctx, &t.Conn, actor, id, true); err != nil {
			return roster.Invitation{}, err
		}
		if err := mayManageInvitation(s, inv); err != nil {
			return roster.Invitation{}, err
		}
		if inv.Status != roster.InvitationPending {
			return roster.Invitation{}, notPending(inv)
		}
		if wait := inv.LastSentAt.Add(resendInterval(inv.SendCount)).Sub(t.now); wait > 0 {
			return roster.Invitation{}, rateLimited(wait)
		}
		// The per-recipient bound of new invitations holds for resends too: pending
		// invitations from many organizations must not add up to a flood.
		if n, err := t.CountRecentEmails(t.ctx, inv.Email, "invitation", t.now.Add(-time.Hour)); err != nil {
			return roster.Invitation{}, err
		} else if n >= invitesPerRecipientHr {
			return roster.Invitation{}, rateLimited(time.Hour)
		}
		if err := policyCheck(s.org, inv.Email); err != nil {
			return roster.Invitation{}, err
		}
		if err := verifiedDomainCheck(t.ctx, &t.Conn, s.org, inv.Email); err != nil {
			return roster.Invitation{}, err
		}
		inv.ExpiresAt, inv.LastSentAt, inv.SendCount, inv.DeliveryError = t.now.Add(invitationTTL(s.org)), t.now, inv.SendCount+1, ""
		if err := t.RenewInvitation(t.ctx, inv.ID, inv.ExpiresAt, t.now); err != nil {
			return roster.Invitation{}, err
		}
		if err := t.CancelLinkEmails(t.ctx, LinkInvitation, inv.ID); err != nil {
			return roster.Invitation{}, err
		}
		if err := t.audit(roster.AuditEvent{OrgID: inv.OrgID, Action: "invitation.resent", TargetType: "invitation", TargetID: inv.ID,
			After: map[string]any{"email": inv.Email, "expires_at": inv.ExpiresAt.Format(time.RFC3339), "send_count": inv.SendCount}}); err != nil {
			return roster.Invitation{}, err
		}
		return inv, a.emailInvitation(t, s.org, inv)
	})
}

// emailInvitation writes an invitation's email to the outbox, in the recipient's language
// if they have an account, else in the inviter's choice.
func (a *Invitations) emailInvitation(t *txn, org roster.Organization, inv roster.Invitation) error {
	loc := inv.Locale
	if u, _, err := t.UserByEmail(t.ctx, inv.Email); err == nil {
		loc = u.Locale
	} else if roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	res := a.resolver(t.ctx, &t.Conn, nil, org.ID)
	var stores []any
	for _, is := range inv.Stores {
		st, err := t.Store(t.ctx, is.StoreID)
		if err != nil {
			return err
		}
		name := is.RoleID
		if !roster.IsBuiltinStoreRole(is.RoleID) {
			if r, err := res.customRole(is.RoleID); err == nil {
				name = r.Name
			}
		}
		stores = append(stores, map[string]any{"name": st.Name, "role": is.RoleID, "role_name": name})
	}
	return t.email(roster.Email{Template: "invitation", To: inv.Email, Locale: loc, OrgID: org.ID, LinkKind: LinkInvitation, LinkRef: inv.ID,
		Data: map[string]any{"org_name": org.Name, "inviter_name": inv.InviterName, "role": string(inv.Role), "stores": stores,
			"message": inv.Message, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}})
}

// customRole returns an organization's custom role by ID, without the catalog.
func (r *roleResolver) customRole(id string) (roster.Role, error) {
	roles, err := r.c.Roles(r.ctx, r.orgID)
	if err != nil {
		return roster.Role{}, err
	}
	for _, role := range roles {
		if role.ID == id {
			return role, nil
		}
	}
	return roster.Role{}, roster.NotFound("role")
}

// notPending is the refusal to act on an invitation that is no longer pending.
func notPending(inv roster.Invitation) error {
	return (&roster.Error{Code: roster.EInvitationNotPending, Message: "this invitation was already " + string(inv.Status)}).With("status", string(inv.Status))
}

// Cancel revokes a pending invitation: its link is dead at once, and its email is
// not sent if it has not gone out yet.
func (a *Invitations) Cancel(ctx context.Context, actor roster.Actor, id string) error {
	return a.write(ctx, actor, func(t *txn) error {
		inv, s, err := a.invitationScope(t.ctx, &t.Conn, actor, id, true)
		if err != nil {
			return err
		}
		if err := mayManageInvitation(s, inv); err != nil {
			return err
		}
		if inv.Status != roster.InvitationPending {
			return notPending(inv)
		}
		return revokeInvitation(t, inv, "")
	})
}

// revokeInvitation kills a pending invitation's link at once, cancels its emails still
// waiting and records why ("" when someone cancelled it).
func revokeInvitation(t *txn, inv roster.Invitation, reason string) error {
	if err := t.RespondInvitation(t.ctx, inv.ID, roster.InvitationRevoked, "", t.now); err != nil {
		return err
	}
	if err := t.CancelLinkEmails(t.ctx, LinkInvitation, inv.ID); err != nil {
		return err
	}
	after := map[string]any{"status": "revoked"}
	if reason != "" {
		after["reason"] = reason
	}
	return t.audit(roster.AuditEvent{OrgID: inv.OrgID, Action: "invitation.revoked", TargetType: "invitation", TargetID: inv.ID,
		Before: map[string]any{"email": inv.Email, "status": "pending"}, After: after})
}

// revokeInvitationsBy revokes the pending invitations a member sent, as they leave or are
// removed: accepting grants roles with the inviter's authority, which is gone, so the links
// could only fail; revoked, they show the organization's admins whom to invite again.
func (a *Invitations) revokeInvitationsBy(t *txn, orgID, userID string) error {
	invs, err := t.PendingInvitationsBy(t.ctx, orgID, userID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if err := revokeInvitation(t, inv, "inviter_left"); err != nil {
			return err
		}
	}
	return nil
}

// InvitationPreview is what the holder of an invitation link may see before answering.
type InvitationPreview struct {
	ID          string
	OrgName     string
	OrgLogo     string // the path of the organization's logo on this site; "" when it has none
	InviterName string
	MaskedEmail string
	Role        roster.OrgRole
	Stores      []InvitationStoreView
	Status      roster.InvitationStatus
	ExpiresAt   time.Time
	Message     string

	email string // the invited address, never shown: IsFor compares with it
}

// IsFor reports whether the invitation is for an address (a signed-in user's), so that a page
// offers Accept only to the identity that may accept, without showing the invited address.
func (p InvitationPreview) IsFor(addr string) bool {
	a, err := roster.NormalizeEmail(addr)
	return err == nil && a == p.email
}

// InvitationStoreView is a store an invitation grants, named.
type InvitationStoreView struct {
	StoreName string
	RoleID    string
	RoleName  string
}

// errBadInvitationLink answers links that are malformed, unknown or replaced by a resend.
func errBadInvitationLink() error {
	return roster.Errorf(roster.ETokenInvalid, "this invitation link is invalid or was replaced by a newer one; ask for a new invitation")
}

// invitationByToken finds the invitation a link belongs to.
func (a *Invitations) invitationByToken(ctx context.Context, c *sqlstore.Conn, secret string) (roster.Invitation, error) {
	if !token.WellFormed(token.PrefixLink, secret) {
		return roster.Invitation{}, errBadInvitationLink()
	}
	inv, err := c.InvitationByTokenHash(ctx, token.Hash(secret))
	if roster.ErrorCode(err) == roster.ENotFound {
		return roster.Invitation{}, errBadInvitationLink()
	}
	return inv, err
}

// Lookup shows an invitation to the holder of its link, without signing in: the
// organization, the inviter, the roles, the invited address masked, and its status.
func (a *Invitations) Lookup(ctx context.Context, secret string) (InvitationPreview, error) {
	c := a.read()
	inv, err := a.invitationByToken(ctx, c, secret)
	if err != nil {
		return InvitationPreview{}, err
	}
	org, err := c.Organization(ctx, inv.OrgID)
	if err != nil {
		return InvitationPreview{}, err
	}
	p := InvitationPreview{ID: inv.ID, OrgName: org.Name, OrgLogo: a.organizationLogoPath(org), InviterName: inv.InviterName, MaskedEmail: roster.MaskEmail(inv.Email),
		Role: inv.Role, Status: inv.Effective(a.clock.Now()), ExpiresAt: inv.ExpiresAt, Message: inv.Message, email: inv.Email}
	cat, err := a.catalog(ctx, c)
	if err != nil {
		return InvitationPreview{}, err
	}
	res := a.resolver(ctx, c, cat, inv.OrgID)
	for _, is := range inv.Stores {
		st, err := c.Store(ctx, is.StoreID)
		if err != nil {
			return InvitationPreview{}, err
		}
		v := InvitationStoreView{StoreName: st.Name, RoleID: is.RoleID, RoleName: is.RoleID}
		if r, err := res.role(is.RoleID); err == nil {
			v.RoleName = r.Name
		}
		p.Stores = append(p.Stores, v)
	}
	return p, nil
}

// checkAnswerable refuses an invitation that can no longer be answered.
func (a *Invitations) checkAnswerable(inv roster.Invitation, now time.Time) error {
	switch inv.Effective(now) {
	case roster.InvitationPending:
		return nil
	case roster.InvitationExpired:
		return (&roster.Error{Code: roster.EInvitationExpired, Message: "this invitation has expired; ask for a new one"}).With("expired_at", inv.ExpiresAt.Format(time.RFC3339))
	}
	return notPending(inv)
}

// AcceptInput answers an invitation. A signed-in user accepts as themselves; otherwise the
// password signs in the invited address's account, or, for an address without an account,
// creates one with the name and password (the address counts as verified: the link proves it).
type AcceptInput struct {
	Token    string
	Name     string
	Password string
	Locale   string
}

// AcceptResult is the membership an acceptance gave, and the new session when the person
// signed in or signed up while accepting.
type AcceptResult struct {
	Invitation roster.Invitation
	User       roster.User
	Session    *LoginResult
}

// Accept accepts an invitation: the invitee joins the organization with its roles,
// in one transaction with the organization locked. Of concurrent accepts exactly one wins;
// the others get invitation_not_pending. Sign-up through an invitation works even when open
// sign-up is closed.
func (a *Invitations) Accept(ctx context.Context, actor roster.Actor, in AcceptInput) (AcceptResult, error) {
	c := a.read()
	invited, err := a.invitationByToken(ctx, c, in.Token)
	if err != nil {
		return AcceptResult{}, err
	}
	if err := a.checkAnswerable(invited, a.clock.Now()); err != nil {
		return AcceptResult{}, err
	}
	invitee, newHash, err := a.invitee(ctx, c, actor, invited, in)
	if err != nil {
		return AcceptResult{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (AcceptResult, error) {
		// Each attempt starts from the state read before the transaction (see writeValue).
		inv, u := invited, invitee
		org, err := t.LockOrganization(t.ctx, inv.OrgID)
		if err != nil {
			return AcceptResult{}, err
		}
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		if err := a.respondAccepted(t, inv, u); err != nil {
			return AcceptResult{}, err
		}
		if err := policyCheck(org, u.Email); err != nil {
			return AcceptResult{}, err
		}
		if newHash != "" {
			u.CreatedAt, u.UpdatedAt, u.EmailVerifiedAt = t.now, t.now, &t.now
			if err := t.CreateUser(t.ctx, u, newHash); err != nil {
				return AcceptResult{}, err
			}
		}
		if err := a.joinInvited(t, org, inv, u); err != nil {
			return AcceptResult{}, err
		}
		if u, err = t.inviteeJoined(u, newHash != ""); err != nil {
			return AcceptResult{}, err
		}
		if err := t.audit(roster.AuditEvent{OrgID: inv.OrgID, Action: "invitation.accepted", TargetType: "invitation", TargetID: inv.ID,
			After: map[string]any{"user_id": u.ID, "email": u.Email}}); err != nil {
			return AcceptResult{}, err
		}
		res := AcceptResult{}
		mfa, err := t.HasSecondFactor(t.ctx, u.ID)
		if err != nil {
			return AcceptResult{}, err
		}
		// An account with a second factor is not signed in by its password alone: it logs in.
		if !actor.IsUser() && !mfa {
			s, err := a.openSession(t, u)
			if err != nil {
				return AcceptResult{}, err
			}
			res.Session = &s
			if err := t.audit(roster.AuditEvent{Action: "user.logged_in", TargetType: "session", TargetID: s.Session.ID,
				After: map[string]any{"via": "invitation"}}); err != nil {
				return AcceptResult{}, err
			}
		}
		inv.Status, inv.AcceptedBy, inv.RespondedAt = roster.InvitationAccepted, u.ID, &t.now
		res.Invitation, res.User = inv, u
		return res, a.notifyAccepted(t, org, inv, u)
	})
}

// invitee is who accepts: the signed-in user, who must own the invited address, or, without a
// session, the invited address's account or a new one (inviteeCredentials; newHash is the new
// account's password hash).
func (a *Invitations) invitee(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, inv roster.Invitation, in AcceptInput) (u roster.User, newHash string, err error) {
	if !actor.IsUser() {
		return a.inviteeCredentials(ctx, actor, inv, in)
	}
	if actor.Kind != roster.ActorUser {
		return roster.User{}, "", roster.Forbidden("accept an invitation with a session, not an API key")
	}
	if u, err = c.User(ctx, actor.UserID); err != nil {
		return roster.User{}, "", err
	}
	if u.Email != inv.Email {
		return roster.User{}, "", (&roster.Error{Code: roster.EInvitationMismatch,
			Message: "this invitation is for another email address; log in with that address to accept it"}).With("invited_email", roster.MaskEmail(inv.Email))
	}
	return u, "", nil
}

// respondAccepted marks a pending invitation accepted, or says why it no longer can be.
func (a *Invitations) respondAccepted(t *txn, inv roster.Invitation, u roster.User) error {
	return a.respond(t, inv, roster.InvitationAccepted, u.ID)
}

// respond answers a pending invitation (accepted by userID, or declined), or says why it no
// longer can be: answered already, cancelled, expired.
func (a *Invitations) respond(t *txn, inv roster.Invitation, status roster.InvitationStatus, userID string) error {
	err := t.RespondInvitation(t.ctx, inv.ID, status, userID, t.now)
	if roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	now, err := t.Invitation(t.ctx, inv.ID)
	if err != nil {
		return err
	}
	if err := a.checkAnswerable(now, t.now); err != nil {
		return err
	}
	return notPending(now)
}

// inviteeJoined records what joining says of the invitee: a new account signed up through
// the invitation, or an existing one whose address the link proved.
func (t *txn) inviteeJoined(u roster.User, created bool) (roster.User, error) {
	if created {
		return u, t.audit(roster.AuditEvent{Action: "user.signed_up", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"email": u.Email, "name": u.Name, "via": "invitation"}})
	}
	if u.Verified() {
		return u, nil
	}
	// Following the link proved the address.
	if err := t.SetEmailVerified(t.ctx, u.ID, t.now); err != nil {
		return u, err
	}
	u.EmailVerifiedAt = &t.now
	return u, nil
}

// inviteeCredentials checks the credentials given while accepting without a session: the
// password of the invited address's account, or the name and password of a new account.
// Both paths cost one password hash.
func (a *Invitations) inviteeCredentials(ctx context.Context, actor roster.Actor, inv roster.Invitation, in AcceptInput) (roster.User, string, error) {
	now := a.clock.Now()
	if ok, wait := a.ipRate.allow("login:"+actor.IP, now); !ok {
		return roster.User{}, "", rateLimited(wait)
	}
	c := a.read()
	existing, _, err := c.UserByEmail(ctx, inv.Email)
	if roster.ErrorCode(err) == roster.ENotFound {
		loc := in.Locale
		if loc == "" {
			loc = inv.Locale
		}
		org, err := c.Organization(ctx, inv.OrgID)
		if err != nil {
			return roster.User{}, "", err
		}
		u, h, err := a.newUser(ctx, SignupInput{Email: inv.Email, Name: in.Name, Password: in.Password, Locale: loc}, org.Name)
		return u, h, err
	}
	if err != nil {
		return roster.User{}, "", err
	}
	u, err := a.verifyCredential(ctx, actor, existing.Email, in.Password, "", nil)
	if roster.ErrorCode(err) == roster.EInvalidCredentials {
		return roster.User{}, "", &roster.Error{Code: roster.EInvalidCredentials, Field: "password",
			Message: "this address has an account: enter its password to accept, or log in first"}
	}
	return u, "", err
}

// joinInvited adds the invitee with the invitation's roles, granted with the inviter's
// authority as it stands now: an inviter who has since lost the right to grant them cannot
// grant them through an old invitation. Store roles deleted since are skipped.
func (a *Invitations) joinInvited(t *txn, org roster.Organization, inv roster.Invitation, u roster.User) error {
	cat, err := a.catalog(t.ctx, &t.Conn)
	if err != nil {
		return err
	}
	stale := roster.Errorf(roster.EForbidden, "the person who invited you can no longer grant these roles; ask for a new invitation")
	if inv.InvitedBy == "" {
		return stale
	}
	acc, err := a.userAccess(t.ctx, &t.Conn, cat, org.ID, inv.InvitedBy)
	if err != nil {
		return err
	}
	if !acc.Active() {
		return stale
	}
	res := a.resolver(t.ctx, &t.Conn, cat, org.ID)
	var grants []StoreGrantInput
	for _, s := range inv.Stores {
		if _, err := res.role(s.RoleID); roster.ErrorCode(err) == roster.EUnknownRole {
			continue
		} else if err != nil {
			return err
		}
		grants = append(grants, StoreGrantInput{StoreID: s.StoreID, RoleID: s.RoleID})
	}
	err = a.join(t, scope{org: org, acc: acc, cat: cat}, u, inv.Role, grants)
	var d *denial
	if errors.As(err, &d) || roster.ErrorCode(err) == roster.ERoleEscalation {
		return stale
	}
	return err
}

// notifyAccepted tells the inviter that their invitation was accepted.
func (a *Invitations) notifyAccepted(t *txn, org roster.Organization, inv roster.Invitation, invitee roster.User) error {
	if inv.InvitedBy == "" || inv.InvitedBy == invitee.ID {
		return nil
	}
	inviter, err := t.User(t.ctx, inv.InvitedBy)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return t.notifyUser(inviter, "invitation_accepted", org.ID, map[string]any{
		"org_name": org.Name, "invitee_name": invitee.Name, "invitee_email": invitee.Email})
}

// Decline declines an invitation through its link; no account is needed.
func (a *Invitations) Decline(ctx context.Context, actor roster.Actor, secret string) error {
	inv, err := a.invitationByToken(ctx, a.read(), secret)
	if err != nil {
		return err
	}
	if err := a.checkAnswerable(inv, a.clock.Now()); err != nil {
		return err
	}
	return a.write(ctx, actor, func(t *txn) error {
		if err := a.respond(t, inv, roster.InvitationDeclined, ""); err != nil {
			return err
		}
		if err := t.CancelLinkEmails(t.ctx, LinkInvitation, inv.ID); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: inv.OrgID, Action: "invitation.declined", TargetType: "invitation", TargetID: inv.ID,
			After: map[string]any{"email": inv.Email}})
	})
}
