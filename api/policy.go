package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
)

// Policy is what an organization requires of everyone who joins it.
type Policy struct {
	AllowedDomains      []string `json:"allowed_domains,omitempty" maxItems:"100" doc:"Only addresses at these domains may join (exact match; list subdomains explicitly). Empty: any domain."`
	BlockFreeProviders  bool     `json:"block_free_providers,omitempty" doc:"Refuse addresses of free and disposable email providers (gmail.com, hotmail.com, …)"`
	InvitationTTLHours  int      `json:"invitation_ttl_hours,omitempty" minimum:"1" maximum:"720" doc:"Lifetime of invitation links, 1 hour to 30 days; 168 (7 days) when absent"`
	VerifiedDomainsOnly bool     `json:"verified_domains_only,omitempty" doc:"Invite only addresses at the organization's verified domains (GET …/domains); others are refused with email_domain_not_verified"`
	RequireTwoFactor    bool     `json:"require_two_factor,omitempty" doc:"Members need a second factor (an authenticator app or a passkey) to open the organization with a session or a Roster access token; without one they get two_factor_required (403) until they set one up. API keys keep working. Whoever turns it on must have a second factor."`
}

func policyJSON(p roster.Policy) Policy {
	out := Policy{AllowedDomains: p.AllowedDomains, BlockFreeProviders: p.BlockFreeProviders, InvitationTTLHours: int(p.InvitationTTL / time.Hour),
		VerifiedDomainsOnly: p.VerifiedDomainsOnly, RequireTwoFactor: p.RequireTwoFactor}
	if out.AllowedDomains == nil {
		out.AllowedDomains = []string{}
	}
	return out
}

type policyOutput struct{ Body Policy }

type setPolicyInput struct {
	OrgPath
	Body struct {
		Policy
		StepUp
	}
}

func (s *Server) registerPolicy() {
	register(s.api, op("get-policy", http.MethodGet, "/v1/organizations/{org}/policy", "Read the organization's policy", "Organizations"),
		func(ctx context.Context, in *OrgPath) (*policyOutput, error) {
			p, err := s.app.Organizations.Policy(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &policyOutput{Body: policyJSON(p)}, nil
		}, withDescription("Owner and admins."))

	register(s.api, op("set-policy", http.MethodPut, "/v1/organizations/{org}/policy", "Replace the organization's policy", "Organizations"),
		func(ctx context.Context, in *setPolicyInput) (*policyOutput, error) {
			p, err := s.app.Organizations.SetPolicy(ctx, actor(ctx), in.Org, roster.Policy{AllowedDomains: in.Body.AllowedDomains,
				BlockFreeProviders: in.Body.BlockFreeProviders, InvitationTTL: time.Duration(in.Body.InvitationTTLHours) * time.Hour,
				VerifiedDomainsOnly: in.Body.VerifiedDomainsOnly, RequireTwoFactor: in.Body.RequireTwoFactor}, in.Body.proof())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &policyOutput{Body: policyJSON(p)}, nil
		}, withDescription("Owner only, after a step-up (StepUp). Applies to invitations, acceptances, direct creation and email changes from now on; "+
			"existing members stay (list those who break it with GET …/members?breaks_policy=true)."))
}
