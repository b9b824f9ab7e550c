package roster

import (
	"slices"
	"time"
)

// Normalize checks a policy as an owner gives it and returns it in canonical form: domains
// normalized (lower case, IDNA, no trailing dot), sorted and unique; the invitation lifetime
// between MinInvitationTTL and MaxInvitationTTL (zero gives the default).
func (p Policy) Normalize() (Policy, error) {
	out := Policy{BlockFreeProviders: p.BlockFreeProviders, InvitationTTL: p.InvitationTTL, AllowedDomains: []string{}, VerifiedDomainsOnly: p.VerifiedDomainsOnly, RequireTwoFactor: p.RequireTwoFactor}
	if len(p.AllowedDomains) > MaxAllowedDomains {
		return Policy{}, Invalidf("allowed_domains", "at most %d allowed domains", MaxAllowedDomains)
	}
	for _, d := range p.AllowedDomains {
		n, err := NormalizeDomain(d)
		if err != nil {
			return Policy{}, (&Error{Code: EInvalid, Field: "allowed_domains", Message: "invalid domain " + quoteShort(d)}).With("domain", d)
		}
		out.AllowedDomains = append(out.AllowedDomains, n)
	}
	slices.Sort(out.AllowedDomains)
	out.AllowedDomains = slices.Compact(out.AllowedDomains)
	if out.InvitationTTL == 0 {
		out.InvitationTTL = DefaultInvitationTTL
	}
	if out.InvitationTTL < MinInvitationTTL || out.InvitationTTL > MaxInvitationTTL {
		return Policy{}, Invalidf("invitation_ttl", "the invitation lifetime must be between 1 hour and 30 days")
	}
	out.InvitationTTL = out.InvitationTTL.Truncate(time.Second)
	return out, nil
}

func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}

// Check decides whether a normalized address may join an organization under this policy.
// The domain must be one of the allowed domains exactly (a subdomain only when it is listed
// itself), and, when free providers are blocked, not a free or disposable provider's as
// isFree says. The refusal names the rule: EEmailDomainNotAllowed or EFreeEmailBlocked.
func (p Policy) Check(email string, isFree func(domain string) bool) error {
	domain := EmailDomain(email)
	if len(p.AllowedDomains) > 0 && !slices.Contains(p.AllowedDomains, domain) {
		return (&Error{Code: EEmailDomainNotAllowed, Field: "email",
			Message: "this organization accepts only addresses at " + joinDomains(p.AllowedDomains)}).With("allowed_domains", slices.Clone(p.AllowedDomains))
	}
	if p.BlockFreeProviders && isFree != nil && isFree(domain) {
		return (&Error{Code: EFreeEmailBlocked, Field: "email",
			Message: "this organization does not accept addresses of free or disposable email providers such as " + domain}).With("domain", domain)
	}
	return nil
}

func joinDomains(ds []string) string {
	out := ""
	for i, d := range ds {
		switch {
		case i == 0:
		case i == len(ds)-1:
			out += " or "
		default:
			out += ", "
		}
		out += d
	}
	return out
}
