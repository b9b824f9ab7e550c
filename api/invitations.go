package api

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// Invitation is an invitation as those who manage it see it. It never carries its token.
type Invitation struct {
	ID            string            `json:"id"`
	OrgID         string            `json:"organization_id"`
	Email         string            `json:"email"`
	Role          string            `json:"role" enum:"admin,member"`
	Stores        []StoreMembership `json:"stores"`
	Message       string            `json:"message,omitempty"`
	Locale        string            `json:"locale"`
	Status        string            `json:"status" enum:"pending,accepted,declined,revoked,expired"`
	InvitedBy     string            `json:"invited_by,omitempty" doc:"User ID of the inviter"`
	InviterName   string            `json:"inviter_name,omitempty"`
	CreatedAt     Time              `json:"created_at"`
	ExpiresAt     Time              `json:"expires_at"`
	LastSentAt    Time              `json:"last_sent_at" doc:"When the current link was issued"`
	SendCount     int               `json:"send_count" doc:"How many links were issued (1 + resends)"`
	RespondedAt   *Time             `json:"responded_at,omitempty"`
	AcceptedBy    string            `json:"accepted_by,omitempty"`
	DeliveryError string            `json:"delivery_error,omitempty" doc:"Set when the email could not be delivered"`
}

// invitationPage answers a page of invitations, or the error that refused it.
func (s *Server) invitationPage(ctx context.Context, p app.Page[roster.Invitation], err error) (*invitationsOutput, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	now := s.app.Now()
	out := &invitationsOutput{}
	out.Body.Invitations = mapSlice(p.Items, func(i roster.Invitation) Invitation { return invitationJSON(i, now) })
	out.Body.NextCursor = p.Next
	return out, nil
}

func invitationJSON(i roster.Invitation, now time.Time) Invitation {
	out := Invitation{ID: i.ID, OrgID: i.OrgID, Email: i.Email, Role: string(i.Role), Stores: []StoreMembership{}, Message: i.Message,
		Locale: i.Locale, Status: string(i.Effective(now)), InvitedBy: i.InvitedBy, InviterName: i.InviterName, CreatedAt: Time(i.CreatedAt),
		ExpiresAt: Time(i.ExpiresAt), LastSentAt: Time(i.LastSentAt), SendCount: i.SendCount, RespondedAt: (*Time)(i.RespondedAt), AcceptedBy: i.AcceptedBy,
		DeliveryError: i.DeliveryError}
	for _, s := range i.Stores {
		out.Stores = append(out.Stores, StoreMembership{StoreID: s.StoreID, RoleID: s.RoleID})
	}
	return out
}

// InvitationRequest is one invitation to make.
type InvitationRequest struct {
	Email   string            `json:"email" maxLength:"320"`
	Role    string            `json:"role,omitempty" enum:"admin,member" doc:"Organization role; member when absent"`
	Stores  []StoreMembership `json:"stores,omitempty" maxItems:"500" doc:"Store roles granted on acceptance"`
	Message string            `json:"message,omitempty" maxLength:"1000" doc:"Shown in the email"`
	Locale  string            `json:"locale,omitempty" enum:"en,fr,es" doc:"Language of the email when the address has no account yet"`
}

func (r InvitationRequest) input() app.InvitationInput {
	return app.InvitationInput{Email: r.Email, Role: roster.OrgRole(r.Role), Stores: grantsInput(r.Stores), Message: r.Message, Locale: r.Locale}
}

type createInvitationInput struct {
	OrgPath
	Body InvitationRequest
}

type invitationOutput struct{ Body Invitation }

type listInvitationsInput struct {
	OrgPath
	Status string `query:"status" enum:"pending,accepted,declined,revoked,expired"`
	Query  string `query:"q" maxLength:"100" doc:"Part of the address"`
	Cursor string `query:"cursor" maxLength:"40"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type listStoreInvitationsInput struct {
	StorePath
	Cursor string `query:"cursor" maxLength:"40"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type invitationsOutput struct {
	Body struct {
		Invitations []Invitation `json:"invitations"`
		NextCursor  string       `json:"next_cursor,omitempty"`
	}
}

// bulkBody is the JSON form of a bulk invitation.
type bulkBody struct {
	Invitations []InvitationRequest `json:"invitations" minItems:"1" maxItems:"1000"`
}

type bulkInput struct {
	OrgPath
	ContentType string `header:"Content-Type"`
	RawBody     []byte `contentType:"text/csv"`
}

// BulkRow answers one row of a bulk invitation.
type BulkRow struct {
	Row        int         `json:"row" doc:"Index of the row, from 0"`
	Email      string      `json:"email"`
	Status     string      `json:"status" enum:"invited,refused"`
	Invitation *Invitation `json:"invitation,omitempty"`
	Error      *Problem    `json:"error,omitempty"`
}

type bulkOutput struct {
	Body struct {
		Invited int       `json:"invited"`
		Refused int       `json:"refused"`
		Results []BulkRow `json:"results"`
	}
}

type invitationPath struct {
	ID string `path:"id" maxLength:"40" doc:"Invitation ID"`
}

type lookupInput struct {
	Token string `query:"token" maxLength:"200" doc:"The token of the invitation link"`
}

// InvitationPreview is what the holder of an invitation link sees.
type InvitationPreview struct {
	ID          string         `json:"id"`
	OrgName     string         `json:"organization_name"`
	InviterName string         `json:"inviter_name"`
	Email       string         `json:"email" doc:"The invited address, masked"`
	Role        string         `json:"role" enum:"admin,member"`
	Stores      []PreviewStore `json:"stores"`
	Status      string         `json:"status" enum:"pending,accepted,declined,revoked,expired"`
	ExpiresAt   Time           `json:"expires_at"`
	Message     string         `json:"message,omitempty"`
}

// PreviewStore is a store an invitation grants.
type PreviewStore struct {
	Name     string `json:"name"`
	RoleID   string `json:"role_id"`
	RoleName string `json:"role_name"`
}

type lookupOutput struct {
	ReferrerPolicy string `header:"Referrer-Policy"`
	CacheControl   string `header:"Cache-Control"`
	Body           InvitationPreview
}

type acceptInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"200"`
		Name     string `json:"name,omitempty" maxLength:"100" doc:"For a new account"`
		Password string `json:"password,omitempty" maxLength:"1024" doc:"Without a session: the password of the invited address's account, or of the new account"`
		Locale   string `json:"locale,omitempty" enum:"en,fr,es" doc:"For a new account"`
	}
}

type acceptOutput struct {
	ReferrerPolicy string      `header:"Referrer-Policy"`
	SetCookie      http.Cookie `header:"Set-Cookie"`
	Body           struct {
		Invitation Invitation `json:"invitation"`
		User       User       `json:"user"`
		Token      string     `json:"token,omitempty" doc:"A new session token, when you accepted without one. Shown once."`
		ExpiresAt  *Time      `json:"expires_at,omitempty"`
	}
}

type declineInput struct {
	Body struct {
		Token string `json:"token" maxLength:"200"`
	}
}

func (s *Server) registerInvitations() {
	register(s.api, op("create-invitation", http.MethodPost, "/v1/organizations/{org}/invitations", "Invite someone by email", "Invitations"),
		func(ctx context.Context, in *createInvitationInput) (*invitationOutput, error) {
			inv, err := s.app.Invitations.Create(ctx, actor(ctx), in.Org, in.Body.input())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &invitationOutput{Body: invitationJSON(inv, s.app.Now())}, nil
		}, withStatus(http.StatusCreated),
		withDescription("Owner and admins invite with any role they hold; a store admin invites with the organization role member into stores they administer. "+
			"The email goes out through the outbox with a one-time link valid for the organization's invitation lifetime (7 days by default). "+
			"Refused with already_member, invitation_pending (details.resend points to the resend operation), email_domain_not_allowed or free_email_provider_blocked."))

	register(s.api, op("list-invitations", http.MethodGet, "/v1/organizations/{org}/invitations", "List invitations", "Invitations"),
		func(ctx context.Context, in *listInvitationsInput) (*invitationsOutput, error) {
			p, err := s.app.Invitations.List(ctx, actor(ctx), in.Org, app.InvitationFilter{Status: roster.InvitationStatus(in.Status), Query: in.Query, Cursor: in.Cursor, Limit: in.Limit})
			return s.invitationPage(ctx, p, err)
		}, withDescription("Owner and admins. Newest first, cursor pagination, filter by status and address."))

	register(s.api, op("list-store-invitations", http.MethodGet, "/v1/stores/{store}/invitations", "List a store's pending invitations", "Invitations"),
		func(ctx context.Context, in *listStoreInvitationsInput) (*invitationsOutput, error) {
			p, err := s.app.Invitations.ListForStore(ctx, actor(ctx), in.Store, in.Cursor, in.Limit)
			return s.invitationPage(ctx, p, err)
		}, withDescription("The pending invitations that give a role in this store, newest first, cursor pagination: to those who invite to the store or manage its team (owner and admins do both)."))

	register(s.api, op("bulk-invite", http.MethodPost, "/v1/organizations/{org}/invitations/bulk", "Invite up to 1,000 people at once", "Invitations"),
		s.bulkInvite, withMaxBody(maxUpload), withBulkBody(s.api),
		withDescription("JSON {\"invitations\": […]} or a CSV upload (Content-Type: text/csv) with a header row: email, role, stores, locale, message; "+
			"stores reads store_id:role_id separated by ';'. Each row is answered on its own; refused rows do not stop the others."))

	register(s.api, op("get-invitation", http.MethodGet, "/v1/invitations/{id}", "Read an invitation", "Invitations"),
		func(ctx context.Context, in *invitationPath) (*invitationOutput, error) {
			inv, err := s.app.Invitations.Get(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &invitationOutput{Body: invitationJSON(inv, s.app.Now())}, nil
		})

	register(s.api, op("resend-invitation", http.MethodPost, "/v1/invitations/{id}/resend", "Resend an invitation with a new link", "Invitations"),
		func(ctx context.Context, in *invitationPath) (*invitationOutput, error) {
			inv, err := s.app.Invitations.Resend(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &invitationOutput{Body: invitationJSON(inv, s.app.Now())}, nil
		}, withDescription("The old link stops working at once and the expiry restarts. Resends of one invitation are spaced out (429 with Retry-After)."))

	register(s.api, op("cancel-invitation", http.MethodDelete, "/v1/invitations/{id}", "Cancel an invitation", "Invitations"),
		func(ctx context.Context, in *invitationPath) (*struct{}, error) {
			if err := s.app.Invitations.Cancel(ctx, actor(ctx), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("The link stops working at once."))

	register(s.api, public(op("lookup-invitation", http.MethodGet, "/v1/invitations/lookup", "See an invitation through its link", "Invitations")),
		func(ctx context.Context, in *lookupInput) (*lookupOutput, error) {
			p, err := s.app.Invitations.Lookup(ctx, in.Token)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &lookupOutput{ReferrerPolicy: "no-referrer", CacheControl: "no-store", Body: InvitationPreview{ID: p.ID, OrgName: p.OrgName,
				InviterName: p.InviterName, Email: p.MaskedEmail, Role: string(p.Role), Status: string(p.Status), ExpiresAt: Time(p.ExpiresAt),
				Message: p.Message, Stores: []PreviewStore{}}}
			for _, st := range p.Stores {
				out.Body.Stores = append(out.Body.Stores, PreviewStore{Name: st.StoreName, RoleID: st.RoleID, RoleName: st.RoleName})
			}
			return out, nil
		}, withDescription("Public: the organization, the inviter, the roles, the invited address masked and the status."))

	register(s.api, public(op("accept-invitation", http.MethodPost, "/v1/invitations/accept", "Accept an invitation", "Invitations")),
		func(ctx context.Context, in *acceptInput) (*acceptOutput, error) {
			res, err := s.app.Invitations.Accept(ctx, actor(ctx), app.AcceptInput{Token: in.Body.Token, Name: in.Body.Name, Password: in.Body.Password, Locale: in.Body.Locale})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &acceptOutput{ReferrerPolicy: "no-referrer"}
			out.Body.Invitation, out.Body.User = invitationJSON(res.Invitation, s.app.Now()), userJSON(res.User)
			if res.Session != nil {
				out.SetCookie = httpserver.NewSessionCookie(res.Session.Token, res.Session.Session.ExpiresAt, s.https)
				out.Body.Token, out.Body.ExpiresAt = res.Session.Token, (*Time)(&res.Session.Session.ExpiresAt)
			}
			return out, nil
		}, withDescription("With a session: its user must own the invited address (else invitation_email_mismatch). Without one: the password of the "+
			"invited address's account, or a name and password to create it (the address counts as verified; works in invite-only mode too); "+
			"a new session comes back. Refused with invitation_expired or invitation_not_pending. Of concurrent accepts exactly one wins."))

	register(s.api, public(op("decline-invitation", http.MethodPost, "/v1/invitations/decline", "Decline an invitation", "Invitations")),
		func(ctx context.Context, in *declineInput) (*struct{}, error) {
			if err := s.app.Invitations.Decline(ctx, actor(ctx), in.Body.Token); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent))
}

func (s *Server) bulkInvite(ctx context.Context, in *bulkInput) (*bulkOutput, error) {
	ct, _, _ := mime.ParseMediaType(in.ContentType)
	var rows []app.ImportRow
	switch ct {
	case "text/csv":
		var err error
		if rows, err = app.ParseImportCSV(bytes.NewReader(in.RawBody)); err != nil {
			return nil, s.fail(ctx, err)
		}
	case "application/json", "":
		var body bulkBody
		// As every other body (jsonFormat): names exactly as documented, none twice.
		if err := jsonv2.Unmarshal(in.RawBody, &body, jsonv2.RejectUnknownMembers(true)); err != nil {
			return nil, s.fail(ctx, roster.Invalidf("invitations", "the body must be JSON {\"invitations\": [{\"email\": …}]}: %v", err))
		}
		for i, r := range body.Invitations {
			row := app.ImportRow{Line: i + 1, Email: r.Email, Role: roster.OrgRole(r.Role), Message: r.Message, Locale: r.Locale}
			for _, g := range r.Stores {
				row.Stores = append(row.Stores, app.ImportGrant{Store: g.StoreID, Role: g.RoleID})
			}
			rows = append(rows, row)
		}
	default:
		return nil, &Problem{Status: http.StatusUnsupportedMediaType, Title: http.StatusText(http.StatusUnsupportedMediaType),
			Detail: "send application/json or text/csv", Code: roster.EUnsupportedMediaType}
	}
	results, err := s.app.Members.Import(ctx, actor(ctx), in.Org, rows, app.ImportOptions{})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	now := s.app.Now()
	out := &bulkOutput{}
	out.Body.Results = make([]BulkRow, len(results))
	for i, r := range results {
		row := BulkRow{Row: i, Email: r.Email, Status: "invited"}
		if r.Outcome != app.ImportInvited {
			row.Status, row.Error = "refused", s.fail(ctx, r.Err).(*Problem)
			out.Body.Refused++
		} else {
			inv := invitationJSON(r.Invitation, now)
			row.Invitation = &inv
			out.Body.Invited++
		}
		out.Body.Results[i] = row
	}
	return out, nil
}

// withMaxBody raises the body limit of an operation.
func withMaxBody(n int64) func(*huma.Operation) {
	return func(o *huma.Operation) { o.MaxBodyBytes = n }
}

// withBulkBody documents the JSON form of a bulk invitation next to its CSV form.
func withBulkBody(api huma.API) func(*huma.Operation) {
	return func(o *huma.Operation) {
		schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[bulkBody](), true, "BulkInvitations")
		o.SkipValidateBody = true // decoded by the handler: JSON or CSV
		o.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"application/json": {Schema: schema},
			"text/csv": {Schema: &huma.Schema{Type: "string", Description: "A header row naming the columns (email, name, role, stores, locale, message; only email is required), then one person per row; stores holds store:role pairs separated by \";\", each by ID or name. The same format as the command line's import."}}}}
	}
}

// grantsInput converts store grants given in a request.
func grantsInput(in []StoreMembership) []app.StoreGrantInput {
	out := make([]app.StoreGrantInput, len(in))
	for i, g := range in {
		out[i] = app.StoreGrantInput{StoreID: g.StoreID, RoleID: g.RoleID}
	}
	return out
}
