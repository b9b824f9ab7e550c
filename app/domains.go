package app

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/freemail"
	"github.com/rosterhq/roster/sqlstore"
)

// Domains is an organization's verified email domains and the joining they allow: suggestions, join
// requests, automatic membership.
type Domains struct{ *core }

// MaxDomains bounds the domains of an organization.
const MaxDomains = 100

// DefaultDomainRecheck is how long after its last check a verified domain is checked again.
const DefaultDomainRecheck = 24 * time.Hour

// dnsTimeout bounds one lookup of a TXT record.
const dnsTimeout = 5 * time.Second

// newResolver returns the resolver of the TXT records: the system's, or one that sends every
// query to addr (ROSTER_DNS_RESOLVER, host:port).
func newResolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// lookupRecord reports whether a domain's TXT record holds its value. A name that does not
// exist or has no such record is found=false with no error; err is for a lookup that could
// not be made (a timeout, a failing server), which says nothing of the record.
func (a *Domains) lookupRecord(ctx context.Context, d roster.Domain) (found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	txts, err := a.dns.LookupTXT(ctx, d.RecordName())
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slices.Contains(txts, d.RecordValue()), nil
}

// domainScope checks that the actor manages the domains of an organization (a setup link's
// holder may: settingsScope).
func (a *Domains) domainScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	s, err := a.settingsScope(ctx, c, actor, orgID, lock)
	if err == nil {
		err = s.require(roster.PermOrgDomainsManage)
	}
	return s, err
}

// joinRequestScope checks that the actor answers requests to join the organization: those
// who manage its domains, but not through a setup link (the people asking are the
// organization's business, not its IT administrator's).
func (a *Domains) joinRequestScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	s, err := a.orgScope(ctx, c, actor, orgID, lock)
	if err == nil {
		err = s.require(roster.PermOrgDomainsManage)
	}
	return s, err
}

// ownDomain reads a domain of the organization, or not_found.
func ownDomain(ctx context.Context, c *sqlstore.Conn, orgID, id string) (roster.Domain, error) {
	if !roster.ValidID(roster.PrefixDomain, id) {
		return roster.Domain{}, roster.NotFound("domain")
	}
	d, err := c.Domain(ctx, id)
	if err == nil && d.OrgID != orgID {
		return roster.Domain{}, roster.NotFound("domain")
	}
	return d, err
}

func domainMap(d roster.Domain) map[string]any {
	return map[string]any{"domain": d.Domain, "status": string(d.Status), "join_policy": string(d.JoinPolicy), "join_role": string(d.JoinRole)}
}

// Add adds an email domain to an organization, pending until its TXT record is found
// (Domains.Verify). Free and disposable email providers' domains and public suffixes are refused.
func (a *Domains) Add(ctx context.Context, actor roster.Actor, orgID, name string) (roster.Domain, error) {
	if utf8.RuneCountInString(name) > roster.MaxDomainLength {
		return roster.Domain{}, roster.Invalidf("domain", "invalid domain")
	}
	n, err := roster.CheckDomainName(name)
	if err != nil {
		return roster.Domain{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Domain, error) {
		if _, err := a.domainScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return roster.Domain{}, err
		}
		// After the permission check: an outsider learns nothing, not even that a domain is free.
		if freemail.IsFree(n) {
			return roster.Domain{}, (&roster.Error{Code: roster.EFreeEmailBlocked, Field: "domain",
				Message: n + " belongs to a free or disposable email provider; no organization can claim it"}).With("domain", n)
		}
		existing, err := t.ListDomains(t.ctx, orgID)
		if err != nil {
			return roster.Domain{}, err
		}
		if len(existing) >= MaxDomains {
			return roster.Domain{}, roster.Invalidf("domain", "at most %d domains", MaxDomains)
		}
		d := roster.Domain{ID: roster.NewID(roster.PrefixDomain), OrgID: orgID, Domain: n, Token: rand.Text(), Status: roster.DomainPending,
			JoinPolicy: roster.JoinOff, JoinRole: roster.OrgMember, CreatedAt: t.now, UpdatedAt: t.now}
		if err := t.InsertDomain(t.ctx, d); err != nil {
			return roster.Domain{}, err
		}
		return d, t.audit(roster.AuditEvent{OrgID: orgID, Action: "domain.added", TargetType: "domain", TargetID: d.ID, After: domainMap(d)})
	})
}

// Domains lists an organization's domains.
func (a *Domains) List(ctx context.Context, actor roster.Actor, orgID string) ([]roster.Domain, error) {
	if _, err := a.domainScope(ctx, a.read(), actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	return a.read().ListDomains(ctx, orgID)
}

// Domain reads one domain of an organization.
func (a *Domains) Get(ctx context.Context, actor roster.Actor, orgID, id string) (roster.Domain, error) {
	if _, err := a.domainScope(ctx, a.read(), actor, orgID, false); err != nil {
		return roster.Domain{}, a.refused(ctx, actor, err)
	}
	return ownDomain(ctx, a.read(), orgID, id)
}

// Remove removes a domain from an organization; nobody joins through it any more, and
// another organization may verify it.
func (a *Domains) Remove(ctx context.Context, actor roster.Actor, orgID, id string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if _, err := a.domainScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return err
		}
		d, err := ownDomain(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return err
		}
		if err := t.DeleteDomain(t.ctx, id); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "domain.removed", TargetType: "domain", TargetID: id, Before: domainMap(d)})
	})
}

// Verify looks up a domain's TXT record now. Found, the domain is verified (again, if it
// had lapsed); missing or different, the answer is domain_verification_failed and nothing
// changes. A domain another organization has verified gives domain_claimed.
func (a *Domains) Verify(ctx context.Context, actor roster.Actor, orgID, id string) (roster.Domain, error) {
	// The actor's right is checked before anything is looked up: outsiders make no DNS queries.
	d, err := a.Get(ctx, actor, orgID, id)
	if err != nil {
		return d, err
	}
	if err := claimedElsewhere(ctx, a.read(), d); err != nil {
		return d, err
	}
	found, err := a.lookupRecord(ctx, d)
	if err != nil || !found {
		e := &roster.Error{Code: roster.EDomainNotVerified, Field: "domain",
			Message: "no TXT record " + d.RecordName() + " with the value " + d.RecordValue() + " was found; publish it, wait for DNS to spread, then verify again"}
		if err != nil {
			a.log.Info("domain lookup failed", "domain", d.Domain, "err", err)
			e.Message = "the DNS lookup of " + d.RecordName() + " failed; try again in a moment"
		}
		return d, e.With("record_name", d.RecordName()).With("record_value", d.RecordValue())
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Domain, error) {
		if _, err := a.domainScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return roster.Domain{}, err
		}
		d, err := ownDomain(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return d, err
		}
		if err := claimedElsewhere(t.ctx, &t.Conn, d); err != nil {
			return d, err
		}
		was := d.Status
		d.Status, d.CheckedAt, d.Failures, d.UpdatedAt = roster.DomainVerified, t.now, 0, t.now
		if was != roster.DomainVerified {
			d.VerifiedAt = t.now
		}
		if err := t.UpdateDomain(t.ctx, d); err != nil {
			return d, err
		}
		if was == roster.DomainVerified {
			return d, nil // checked again: nothing changed worth an audit entry
		}
		return d, t.audit(roster.AuditEvent{OrgID: orgID, Action: "domain.verified", TargetType: "domain", TargetID: id,
			Before: map[string]any{"status": string(was)}, After: domainMap(d)})
	})
}

// claimedElsewhere refuses a domain another organization has verified.
func claimedElsewhere(ctx context.Context, c *sqlstore.Conn, d roster.Domain) error {
	other, err := c.VerifiedDomain(ctx, d.Domain)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if other.OrgID != d.OrgID {
		return (&roster.Error{Code: roster.EDomainClaimed, Field: "domain",
			Message: "another organization has verified " + d.Domain + "; a domain belongs to one organization"}).With("domain", d.Domain)
	}
	return nil
}

// SetJoin sets who joins the organization through a verified domain: nobody (off), or,
// automatically, everyone who verifies an address at the domain, with role (member or admin;
// the actor must hold every permission of it).
func (a *Domains) SetJoin(ctx context.Context, actor roster.Actor, orgID, id string, policy roster.JoinPolicy, role roster.OrgRole) (roster.Domain, error) {
	if role == "" {
		role = roster.OrgMember
	}
	if err := roster.CheckJoin(policy, role); err != nil {
		return roster.Domain{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Domain, error) {
		s, err := a.domainScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return roster.Domain{}, err
		}
		if missing := s.acc.Holds(roster.OrgRolePermissions(role).Sorted()); len(missing) > 0 {
			return roster.Domain{}, escalation(missing)
		}
		d, err := ownDomain(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return d, err
		}
		if d.Status != roster.DomainVerified && policy != roster.JoinOff {
			return d, (&roster.Error{Code: roster.EConflict, Field: "join_policy", Message: "verify the domain before people join through it"})
		}
		before := domainMap(d)
		d.JoinPolicy, d.JoinRole, d.UpdatedAt = policy, role, t.now
		if err := t.UpdateDomain(t.ctx, d); err != nil {
			return d, err
		}
		return d, t.audit(roster.AuditEvent{OrgID: orgID, Action: "domain.join_policy_changed", TargetType: "domain", TargetID: id,
			Before: before, After: domainMap(d)})
	})
}

// recheckBatch bounds the domains one round of Domains.Recheck looks up.
const recheckBatch = 100

// Recheck looks up again the TXT record of every verified domain last checked more
// than Config.DomainRecheck ago, a batch at a time until none is due, and returns how many
// lapsed. A record missing at DomainLapseAfter re-checks in a row lapses the domain (audited,
// event domain.lapsed); a lookup that could not be made (a timeout, a failing server) counts
// for nothing and waits for the next interval. Serve runs it every hour; several processes
// may (each outcome is written under the organization's lock, against the domain as it is then).
func (a *Domains) Recheck(ctx context.Context) (int, error) {
	every := a.cfg.DomainRecheck
	if every <= 0 {
		every = DefaultDomainRecheck
	}
	lapsed := 0
	for {
		due, err := a.read().DomainsToRecheck(ctx, a.clock.Now().Add(-every), recheckBatch)
		if err != nil {
			return lapsed, err
		}
		for _, d := range due {
			found, lookupErr := a.lookupRecord(ctx, d)
			if lookupErr != nil {
				a.log.Warn("domain re-check: lookup failed", "domain", d.Domain, "err", lookupErr)
			}
			gone, err := writeValue(ctx, a.core, roster.System(), func(t *txn) (bool, error) {
				return recheckOutcome(t, d, found, lookupErr != nil)
			})
			if err != nil && roster.ErrorCode(err) != roster.ENotFound { // not found: the organization is gone
				return lapsed, err
			}
			if gone {
				lapsed++
			}
		}
		if len(due) < recheckBatch {
			return lapsed, nil
		}
	}
}

// recheckOutcome records one re-check of a domain as it was read (d): the record found, missing,
// or not looked up (unknown). It reports whether the domain lapsed. Every outcome moves the
// domain's check time, so that a round never takes the same domain twice.
func recheckOutcome(t *txn, d roster.Domain, found, unknown bool) (bool, error) {
	if _, err := t.LockOrganization(t.ctx, d.OrgID); err != nil {
		return false, err
	}
	cur, err := t.Domain(t.ctx, d.ID)
	if err != nil || cur.Status != roster.DomainVerified || !cur.CheckedAt.Equal(d.CheckedAt) {
		return false, nil // removed, or changed meanwhile: it is no longer due
	}
	cur.CheckedAt, cur.UpdatedAt = t.now, t.now
	switch {
	case unknown:
	case found:
		cur.Failures = 0
	default:
		cur.Failures++
	}
	if cur.Failures < roster.DomainLapseAfter {
		return false, t.UpdateDomain(t.ctx, cur)
	}
	cur.Status = roster.DomainLapsed
	if err := t.UpdateDomain(t.ctx, cur); err != nil {
		return false, err
	}
	return true, t.audit(roster.AuditEvent{OrgID: cur.OrgID, Action: "domain.lapsed", TargetType: "domain", TargetID: cur.ID,
		Before: map[string]any{"status": string(roster.DomainVerified)}, After: domainMap(cur)})
}

// joinByDomain makes a user whose address was just proven a member of the organization that
// verified its domain, when that domain's join policy is automatic and the user is not a
// member yet. The organization's own policy (allowed domains, free providers) still applies.
// The membership is audited as member.added with via "domain", by the user.
func (a *Domains) joinByDomain(t *txn, u roster.User) error {
	d, err := t.VerifiedDomain(t.ctx, roster.EmailDomain(u.Email))
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && d.JoinPolicy != roster.JoinAutomatic) {
		return nil
	}
	if err != nil {
		return err
	}
	org, err := t.LockOrganization(t.ctx, d.OrgID)
	if err != nil {
		return err
	}
	if policyCheck(org, u.Email) != nil {
		return nil
	}
	if _, err := t.Membership(t.ctx, org.ID, u.ID); err == nil {
		return nil
	} else if roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	return addDomainMember(t, org.ID, d, u, "domain")
}

// addDomainMember adds a user to an organization with a domain's join role, audited as
// member.added naming how (via) and the domain.
func addDomainMember(t *txn, orgID string, d roster.Domain, u roster.User, via string) error {
	if err := t.AddMember(t.ctx, roster.Membership{OrgID: orgID, UserID: u.ID, Role: d.JoinRole, Status: roster.MembershipActive,
		CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
		return err
	}
	return t.audit(roster.AuditEvent{OrgID: orgID, Action: "member.added", TargetType: "user", TargetID: u.ID,
		After: map[string]any{"email": u.Email, "role": string(d.JoinRole), "stores": map[string]any{}, "via": via, "domain": d.Domain}})
}

// provenUser reads the signed-in user, who must have proven their address.
func provenUser(ctx context.Context, c *sqlstore.Conn, actor roster.Actor) (roster.User, error) {
	if err := requireUser(actor); err != nil {
		return roster.User{}, err
	}
	u, err := c.User(ctx, actor.UserID)
	if err == nil && !u.Verified() {
		err = roster.Forbidden("verify your email address first")
	}
	return u, err
}

// JoinSuggestions lists the organizations the signed-in user may ask to join: those that
// verified the domain of their proven address with join policy suggest. None until the
// address is proven.
func (a *Domains) JoinSuggestions(ctx context.Context, actor roster.Actor) ([]roster.JoinSuggestion, error) {
	u, err := provenUser(ctx, a.read(), actor)
	if roster.ErrorCode(err) == roster.EForbidden && actor.Kind == roster.ActorUser {
		return []roster.JoinSuggestion{}, nil
	}
	if err != nil {
		return nil, err
	}
	return a.read().JoinSuggestions(ctx, roster.EmailDomain(u.Email), u.ID)
}

// RequestToJoin asks to join an organization that suggests it to the signed-in user
// (Domains.JoinSuggestions); an owner or admin approves or declines. Any other organization is
// not_found: nobody learns through it which organizations exist.
func (a *Domains) RequestToJoin(ctx context.Context, actor roster.Actor, orgID string) (roster.JoinRequest, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.JoinRequest, error) {
		u, err := provenUser(t.ctx, &t.Conn, actor)
		if err != nil {
			return roster.JoinRequest{}, err
		}
		d, err := t.VerifiedDomain(t.ctx, roster.EmailDomain(u.Email))
		if err == nil && (d.OrgID != orgID || d.JoinPolicy != roster.JoinSuggest) {
			err = roster.NotFound("organization")
		}
		if err != nil {
			return roster.JoinRequest{}, err
		}
		org, err := t.LockOrganization(t.ctx, orgID)
		if err != nil {
			return roster.JoinRequest{}, err
		}
		if err := policyCheck(org, u.Email); err != nil {
			return roster.JoinRequest{}, err
		}
		if _, err := t.Membership(t.ctx, orgID, u.ID); err == nil {
			return roster.JoinRequest{}, roster.Errorf(roster.EAlreadyMember, "you are a member of this organization already")
		} else if roster.ErrorCode(err) != roster.ENotFound {
			return roster.JoinRequest{}, err
		}
		r := roster.JoinRequest{ID: roster.NewID(roster.PrefixJoinRequest), OrgID: orgID, UserID: u.ID, DomainID: d.ID, CreatedAt: t.now,
			User: u, Domain: d.Domain}
		if err := t.InsertJoinRequest(t.ctx, r); err != nil {
			return roster.JoinRequest{}, err
		}
		return r, t.audit(roster.AuditEvent{OrgID: orgID, Action: "join_request.created", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"email": u.Email, "domain": d.Domain}})
	})
}

// JoinRequests lists an organization's pending requests to join (owner and admins). The
// holder of a setup link, who manages the domains, sees none (joinRequestScope).
func (a *Domains) JoinRequests(ctx context.Context, actor roster.Actor, orgID string) ([]roster.JoinRequest, error) {
	if actor.Kind == roster.ActorSetupLink {
		_, err := a.domainScope(ctx, a.read(), actor, orgID, false)
		return nil, err
	}
	if _, err := a.joinRequestScope(ctx, a.read(), actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	return a.read().ListJoinRequests(ctx, orgID)
}

// AnswerJoinRequest approves a request to join (the person becomes a member with the
// domain's join role, which the approver must hold; the domain must still be verified) or
// declines it. Either way the request goes, and the answer is audited.
func (a *Domains) AnswerJoinRequest(ctx context.Context, actor roster.Actor, orgID, id string, approve bool) error {
	return a.write(ctx, actor, func(t *txn) error {
		s, err := a.joinRequestScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return err
		}
		r, err := ownJoinRequest(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return err
		}
		if err := t.DeleteJoinRequest(t.ctx, id); err != nil {
			return err
		}
		after := map[string]any{"email": r.User.Email, "domain": r.Domain}
		if !approve {
			return t.audit(roster.AuditEvent{OrgID: orgID, Action: "join_request.declined", TargetType: "user", TargetID: r.UserID, After: after})
		}
		d, err := t.Domain(t.ctx, r.DomainID)
		if err != nil {
			return err
		}
		if d.Status != roster.DomainVerified {
			return roster.Errorf(roster.EConflict, "the domain %s is no longer verified: verify it again, or decline the request", d.Domain)
		}
		if missing := s.acc.Holds(roster.OrgRolePermissions(d.JoinRole).Sorted()); len(missing) > 0 {
			return escalation(missing)
		}
		u, err := t.User(t.ctx, r.UserID)
		if err != nil {
			return err
		}
		if err := policyCheck(s.org, u.Email); err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: "join_request.approved", TargetType: "user", TargetID: r.UserID, After: after}); err != nil {
			return err
		}
		return addDomainMember(t, orgID, d, u, "join_request")
	})
}

// ownJoinRequest reads a pending request to join the organization, or not_found.
func ownJoinRequest(ctx context.Context, c *sqlstore.Conn, orgID, id string) (roster.JoinRequest, error) {
	if !roster.ValidID(roster.PrefixJoinRequest, id) {
		return roster.JoinRequest{}, roster.NotFound("join request")
	}
	r, err := c.JoinRequest(ctx, id)
	if err == nil && r.OrgID != orgID {
		return roster.JoinRequest{}, roster.NotFound("join request")
	}
	return r, err
}

// verifiedDomainCheck refuses an invitation to an address outside the organization's verified
// domains when its policy says so (Policy.VerifiedDomainsOnly).
func verifiedDomainCheck(ctx context.Context, c *sqlstore.Conn, org roster.Organization, addr string) error {
	if !org.Policy.VerifiedDomainsOnly {
		return nil
	}
	ds, err := c.ListDomains(ctx, org.ID)
	if err != nil {
		return err
	}
	domain := roster.EmailDomain(addr)
	verified := []string{}
	for _, d := range ds {
		if d.Status == roster.DomainVerified {
			if d.Domain == domain {
				return nil
			}
			verified = append(verified, d.Domain)
		}
	}
	msg := "this organization invites only addresses at its verified domains"
	if len(verified) > 0 {
		msg += ": " + strings.Join(verified, ", ")
	}
	return (&roster.Error{Code: roster.EEmailDomainNotVerified, Field: "email", Message: msg}).With("verified_domains", verified)
}
