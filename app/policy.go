package app

import (
	"context"
	"slices"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// This file reads and changes an organization's policy (Organizations.Policy, SetPolicy); what
// a policy is and what it requires is the root's policy.go.

// Policy returns an organization's policy (owner and admins).
func (a *Organizations) Policy(ctx context.Context, actor roster.Actor, orgID string) (roster.Policy, error) {
	s, err := a.orgScope(ctx, a.read(), actor, orgID, false)
	if err == nil {
		err = s.require(roster.PermOrgSettingsRead)
	}
	if err != nil {
		return roster.Policy{}, a.refused(ctx, actor, err)
	}
	return s.org.Policy, nil
}

// SetPolicy replaces an organization's policy (owner): the allowed email domains, whether
// free email providers are refused, and the lifetime of invitation links. It applies to
// every invitation, acceptance, direct creation and email change from now on; existing
// members are never removed by it (Members with BreaksPolicy lists who breaks it). The owner
// steps up first (stepup.go); no API key or machine client holds org.update.
func (a *Organizations) SetPolicy(ctx context.Context, actor roster.Actor, orgID string, p roster.Policy, proof OwnerProof) (roster.Policy, error) {
	p, err := p.Normalize()
	if err != nil {
		return roster.Policy{}, err
	}
	if err := a.precheck(ctx, actor, orgID, roster.PermOrgUpdate); err != nil {
		return roster.Policy{}, err
	}
	if err := a.requireStepUp(ctx, actor, proof); err != nil {
		return roster.Policy{}, err
	}
	err = a.orgWrite(ctx, actor, orgID, roster.PermOrgUpdate, func(t *txn, s scope) error {
		if p.RequireTwoFactor && !s.org.Policy.RequireTwoFactor && actor.Kind == roster.ActorUser {
			// Whoever turns it on keeps the organization open: they must have a factor first.
			has, err := a.hasSecondFactor(t.ctx, &t.Conn, actor.UserID)
			if err != nil {
				return err
			}
			if !has {
				return &roster.Error{Code: roster.ETwoFactorFirst, Field: "require_two_factor",
					Message: "set up two-factor authentication for yourself first (an authenticator app or a passkey): otherwise this would close the organization to you"}
			}
		}
		if err := t.SetPolicy(t.ctx, orgID, p, t.now); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "organization.policy_changed", TargetType: "organization", TargetID: orgID,
			Before: policyMap(s.org.Policy), After: policyMap(p)})
	})
	return p, err
}

func policyMap(p roster.Policy) map[string]any {
	return map[string]any{"allowed_domains": slices.Clone(p.AllowedDomains), "block_free_providers": p.BlockFreeProviders,
		"invitation_ttl_seconds": int64(p.InvitationTTL / time.Second), "verified_domains_only": p.VerifiedDomainsOnly,
		"require_two_factor": p.RequireTwoFactor}
}

// membersBreakingPolicy pages through an organization's members and keeps those whose
// address breaks its policy, until limit+1 are found or the members run out. The policy
// needs Go (the free provider list), so the filter cannot be SQL.
func (a *Organizations) membersBreakingPolicy(ctx context.Context, c *sqlstore.Conn, org roster.Organization, f sqlstore.MemberFilter, limit int) ([]roster.Member, error) {
	var out []roster.Member
	f.Limit = 500
	for {
		batch, err := c.ListMembers(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, m := range batch {
			if err := policyCheck(org, m.User.Email); err != nil {
				m.PolicyViolation = roster.ErrorCode(err)
				out = append(out, m)
				if len(out) > limit {
					return out, nil
				}
			}
		}
		if len(batch) < f.Limit {
			return out, nil
		}
		f.Cursor = batch[len(batch)-1].UserID
	}
}
