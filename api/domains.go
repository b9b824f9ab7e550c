package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
)

// Domain is an email domain of an organization and the DNS record that proves it.
type Domain struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Domain         string `json:"domain" doc:"Normalized: lower case, IDNA (punycode), no trailing dot"`
	Status         string `json:"status" enum:"pending,verified,lapsed" doc:"pending until the TXT record is found; lapsed when it was missing at two re-checks in a row"`
	RecordName     string `json:"record_name" doc:"Publish a TXT record at this name…"`
	RecordValue    string `json:"record_value" doc:"…with this value"`
	JoinPolicy     string `json:"join_policy" enum:"off,suggest,automatic" doc:"suggest: people with a proven address at this domain may ask to join (GET /v1/me/join-suggestions), an owner or admin approves; automatic: whoever proves an address at this domain becomes a member with join_role"`
	JoinRole       string `json:"join_role" enum:"member,admin"`
	VerifiedAt     *Time  `json:"verified_at,omitempty"`
	CheckedAt      *Time  `json:"checked_at,omitempty" doc:"The last verification or re-check"`
	RequireSSO     bool   `json:"require_sso" doc:"Its people sign in through the organization's single sign-on only (PUT /v1/organizations/{org}/sso/domains/{id})"`
	CreatedAt      Time   `json:"created_at"`
}

func domainJSON(d roster.Domain) Domain {
	return Domain{ID: d.ID, OrganizationID: d.OrgID, Domain: d.Domain, Status: string(d.Status), RecordName: d.RecordName(),
		RecordValue: d.RecordValue(), JoinPolicy: string(d.JoinPolicy), JoinRole: string(d.JoinRole), VerifiedAt: optTime(d.VerifiedAt),
		CheckedAt: optTime(d.CheckedAt), CreatedAt: Time(d.CreatedAt), RequireSSO: d.RequireSSO}
}

type domainOut struct{ Body Domain }

type domainsOut struct {
	Body struct {
		Domains []Domain `json:"domains"`
	}
}

type domainPath struct {
	OrgPath
	ID string `path:"id" maxLength:"40"`
}

type addDomainIn struct {
	OrgPath
	Body struct {
		Domain string `json:"domain" maxLength:"253" doc:"A domain the organization owns, such as acme.com or bücher.example"`
	}
}

type domainJoinIn struct {
	OrgPath
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		JoinPolicy string `json:"join_policy" enum:"off,suggest,automatic"`
		JoinRole   string `json:"join_role,omitempty" enum:"member,admin" doc:"member when absent"`
	}
}

func (s *Server) registerDomains() {
	const tag = "Domains"
	const path = "/v1/organizations/{org}/domains"
	const who = " Owner and admins (org.domains.manage)."
	one := func(ctx context.Context, d roster.Domain, err error) (*domainOut, error) {
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &domainOut{Body: domainJSON(d)}, nil
	}
	register(s.api, op("add-domain", http.MethodPost, path, "Add an email domain", tag),
		func(ctx context.Context, in *addDomainIn) (*domainOut, error) {
			d, err := s.app.Domains.Add(ctx, actor(ctx), in.Org, in.Body.Domain)
			return one(ctx, d, err)
		}, withStatus(http.StatusCreated), withDescription("The domain is pending until its TXT record (record_name, record_value) is "+
			"published and verified. Domains of free and disposable email providers are refused with free_email_provider_blocked, "+
			"a domain the organization has already with conflict."+who))
	register(s.api, op("list-domains", http.MethodGet, path, "List the email domains", tag),
		func(ctx context.Context, in *OrgPath) (*domainsOut, error) {
			list, err := s.app.Domains.List(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &domainsOut{}
			out.Body.Domains = mapSlice(list, domainJSON)
			return out, nil
		}, withDescription(who))
	register(s.api, op("get-domain", http.MethodGet, path+"/{id}", "Show an email domain", tag),
		func(ctx context.Context, in *domainPath) (*domainOut, error) {
			d, err := s.app.Domains.Get(ctx, actor(ctx), in.Org, in.ID)
			return one(ctx, d, err)
		}, withDescription(who))
	register(s.api, op("verify-domain", http.MethodPost, path+"/{id}/verify", "Verify an email domain now", tag),
		func(ctx context.Context, in *domainPath) (*domainOut, error) {
			d, err := s.app.Domains.Verify(ctx, actor(ctx), in.Org, in.ID)
			return one(ctx, d, err)
		}, withDescription("Looks up the TXT record now. Missing or different: domain_verification_failed (details name the record "+
			"expected). Verified by another organization: domain_claimed."+who))
	register(s.api, op("set-domain-join", http.MethodPut, path+"/{id}/join", "Set who joins through a domain", tag),
		func(ctx context.Context, in *domainJoinIn) (*domainOut, error) {
			d, err := s.app.Domains.SetJoin(ctx, actor(ctx), in.Org, in.ID, roster.JoinPolicy(in.Body.JoinPolicy), roster.OrgRole(in.Body.JoinRole))
			return one(ctx, d, err)
		}, withDescription("suggest and automatic need a verified domain (else conflict); the role is member or admin, and the caller must hold it."+who))
	register(s.api, op("remove-domain", http.MethodDelete, path+"/{id}", "Remove an email domain", tag),
		func(ctx context.Context, in *domainPath) (*struct{}, error) {
			if err := s.app.Domains.Remove(ctx, actor(ctx), in.Org, in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription(who))
}

// JoinSuggestion is an organization the caller may ask to join.
type JoinSuggestion struct {
	OrganizationID   string `json:"organization_id"`
	OrganizationName string `json:"organization_name"`
	Domain           string `json:"domain" doc:"The verified domain of the caller's address"`
	RequestID        string `json:"request_id,omitempty" doc:"The caller's pending request, if they asked already"`
}

// JoinRequest is a pending request to join an organization through its verified domain.
type JoinRequest struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	UserID         string `json:"user_id"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	Domain         string `json:"domain"`
	CreatedAt      Time   `json:"created_at"`
}

func joinRequestJSON(r roster.JoinRequest) JoinRequest {
	return JoinRequest{ID: r.ID, OrganizationID: r.OrgID, UserID: r.UserID, Name: r.User.Name, Email: r.User.Email, Domain: r.Domain, CreatedAt: Time(r.CreatedAt)}
}

type joinSuggestionsOut struct {
	Body struct {
		Suggestions []JoinSuggestion `json:"suggestions"`
	}
}

type joinRequestsOut struct {
	Body struct {
		Requests []JoinRequest `json:"requests"`
	}
}

type joinRequestOut struct{ Body JoinRequest }

type requestToJoinIn struct {
	Body struct {
		OrganizationID string `json:"organization_id" maxLength:"40"`
	}
}

type joinRequestPath struct {
	OrgPath
	ID string `path:"id" maxLength:"40"`
}

func (s *Server) registerJoinRequests() {
	const who = " Owner and admins (org.domains.manage)."
	register(s.api, op("list-join-suggestions", http.MethodGet, "/v1/me/join-suggestions", "Organizations I may ask to join", "Me"),
		func(ctx context.Context, _ *struct{}) (*joinSuggestionsOut, error) {
			list, err := s.app.Domains.JoinSuggestions(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &joinSuggestionsOut{}
			out.Body.Suggestions = mapSlice(list, func(j roster.JoinSuggestion) JoinSuggestion {
				return JoinSuggestion{OrganizationID: j.OrgID, OrganizationName: j.OrgName, Domain: j.Domain, RequestID: j.RequestID}
			})
			return out, nil
		}, withDescription("The organizations that verified the domain of the caller's address with join policy suggest, "+
			"that the caller does not belong to. Empty until the caller's address is verified."))
	register(s.api, op("request-to-join", http.MethodPost, "/v1/me/join-requests", "Ask to join an organization", "Me"),
		func(ctx context.Context, in *requestToJoinIn) (*joinRequestOut, error) {
			r, err := s.app.Domains.RequestToJoin(ctx, actor(ctx), in.Body.OrganizationID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &joinRequestOut{Body: joinRequestJSON(r)}, nil
		}, withStatus(http.StatusCreated), withDescription("Only an organization of GET /v1/me/join-suggestions (else not_found); "+
			"an owner or admin approves or declines. A second request answers conflict."))
	register(s.api, op("list-join-requests", http.MethodGet, "/v1/organizations/{org}/join-requests", "List the requests to join", "Domains"),
		func(ctx context.Context, in *OrgPath) (*joinRequestsOut, error) {
			list, err := s.app.Domains.JoinRequests(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &joinRequestsOut{}
			out.Body.Requests = mapSlice(list, joinRequestJSON)
			return out, nil
		}, withDescription(who))
	for _, a := range []struct {
		id, verb, summary, doc string
		approve                bool
	}{
		{"approve-join-request", "approve", "Approve a request to join", "The person becomes a member with the domain's join role (which the caller must hold); the domain must still be verified.", true},
		{"decline-join-request", "decline", "Decline a request to join", "The request goes; the person may ask again.", false},
	} {
		register(s.api, op(a.id, http.MethodPost, "/v1/organizations/{org}/join-requests/{id}/"+a.verb, a.summary, "Domains"),
			func(ctx context.Context, in *joinRequestPath) (*struct{}, error) {
				if err := s.app.Domains.AnswerJoinRequest(ctx, actor(ctx), in.Org, in.ID, a.approve); err != nil {
					return nil, s.fail(ctx, err)
				}
				return nil, nil
			}, withStatus(http.StatusNoContent), withDescription(a.doc+who))
	}
}
