package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
)

// SetupLink is a setup link of an organization, as listed: never its address, which holds
// the secret.
type SetupLink struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	CreatedBy      string `json:"created_by" doc:"The owner who made it"`
	CreatedAt      Time   `json:"created_at"`
	ExpiresAt      Time   `json:"expires_at"`
	LastUsedAt     *Time  `json:"last_used_at,omitempty"`
}

// NewSetupLink is a setup link with its address: shown this once.
type NewSetupLink struct {
	SetupLink
	URL string `json:"url" doc:"The address to give the IT administrator. Shown once: only the hash of its secret is kept."`
}

func setupLinkJSON(l roster.SetupLink) SetupLink {
	return SetupLink{ID: l.ID, OrganizationID: l.OrgID, CreatedBy: l.CreatedBy, CreatedAt: Time(l.CreatedAt), ExpiresAt: Time(l.ExpiresAt), LastUsedAt: (*Time)(l.LastUsedAt)}
}

type newSetupLinkOut struct{ Body NewSetupLink }
type setupLinksOut struct {
	Body struct {
		SetupLinks []SetupLink `json:"setup_links"`
	}
}

type createSetupLinkIn struct {
	OrgPath
	Body *StepUp `required:"false"`
}

type setupLinkPath struct {
	OrgPath
	ID string `path:"id" maxLength:"40"`
}

func (s *Server) registerSetupLinks() {
	const tag = "Setup links"
	const path = "/v1/organizations/{org}/setup-links"
	const who = " Owner only."
	register(s.api, op("create-setup-link", http.MethodPost, path, "Make a setup link for an IT administrator", tag),
		func(ctx context.Context, in *createSetupLinkIn) (*newSetupLinkOut, error) {
			c, err := s.app.SetupLinks.Create(ctx, actor(ctx), in.Org, in.Body.proof())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &newSetupLinkOut{Body: NewSetupLink{SetupLink: setupLinkJSON(c.Link), URL: c.URL}}, nil
		}, withStatus(http.StatusCreated), withDescription("The address opens, for 7 days or until revoked, a page where the customer's IT "+
			"administrator — with or without an account in Roster — verifies the organization's domains, configures its single sign-on and "+
			"creates its SCIM directories, and sees nothing else of it. They act with what you hold; each change is in the audit log with the "+
			"link as its actor. At most 10 links are open at once."+who+" After a step-up (StepUp), since the link hands over who signs in."))
	register(s.api, op("list-setup-links", http.MethodGet, path, "List the open setup links", tag),
		func(ctx context.Context, in *OrgPath) (*setupLinksOut, error) {
			list, err := s.app.SetupLinks.List(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &setupLinksOut{}
			out.Body.SetupLinks = mapSlice(list, setupLinkJSON)
			return out, nil
		}, withDescription("Links neither expired nor revoked, newest first; their addresses are never listed."+who))
	register(s.api, op("revoke-setup-link", http.MethodDelete, path+"/{id}", "Revoke a setup link", tag),
		func(ctx context.Context, in *setupLinkPath) (*struct{}, error) {
			if err := s.app.SetupLinks.Revoke(ctx, actor(ctx), in.Org, in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Its page stops opening at once; what was set up through it stays."+who))
}
