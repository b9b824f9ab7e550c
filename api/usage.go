package api

import (
	"context"
	"net/http"
)

// MonthlyCount counts something this calendar month and last (UTC).
type MonthlyCount struct {
	ThisMonth int64 `json:"this_month"`
	LastMonth int64 `json:"last_month"`
}

// StoreUsage is an organization's stores against its credits.
type StoreUsage struct {
	Active   int `json:"active"`
	Archived int `json:"archived"`
	Credits  int `json:"credits" doc:"How many active stores the organization may have"`
}

// Usage is what an organization consumes.
type Usage struct {
	Members            map[string]int `json:"members" doc:"Members by organization role (owner, admin, member); suspended members are counted apart under suspended"`
	PendingInvitations int            `json:"pending_invitations"`
	Stores             StoreUsage     `json:"stores"`
	APIRequests        MonthlyCount   `json:"api_requests" doc:"Requests made with the organization's API keys"`
	EmailsSent         MonthlyCount   `json:"emails_sent"`
}

type usageOutput struct{ Body Usage }

func (s *Server) registerUsage() {
	register(s.api, op("get-usage", http.MethodGet, "/v1/organizations/{org}/usage", "Account usage", "Organizations"),
		func(ctx context.Context, in *OrgPath) (*usageOutput, error) {
			u, err := s.app.Organizations.Usage(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &usageOutput{Body: Usage{Members: u.MembersByRole, PendingInvitations: u.PendingInvitations,
				Stores:      StoreUsage{Active: u.ActiveStores, Archived: u.ArchivedStores, Credits: u.StoreCredits},
				APIRequests: MonthlyCount(u.APIRequests), EmailsSent: MonthlyCount(u.EmailsSent)}}, nil
		}, withDescription("Every member: members by role, pending invitations, stores against credits, API requests and emails sent this month and last."))
}
