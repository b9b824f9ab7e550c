package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// APIKey is an API key as listed: never its secret.
type APIKey struct {
	ID         string `json:"id"`
	OrgID      string `json:"organization_id"`
	Name       string `json:"name"`
	OwnerID    string `json:"owner_id" doc:"The member the key acts as; it stops working when they lose access"`
	StoreID    string `json:"store_id,omitempty" doc:"The one store the key works in; absent for every store its owner reaches"`
	RoleID     string `json:"role_id" doc:"The store role the key carries: admin, member, viewer or a custom role ID"`
	RoleName   string `json:"role_name,omitempty" doc:"The role's name: a custom role's own, a built-in role's in English; absent once a custom role is deleted"`
	OrgRole    string `json:"organization_role" enum:"admin,member" doc:"Bounds the organization permissions the key carries"`
	Status     string `json:"status" enum:"active,revoked,expired"`
	CreatedBy  string `json:"created_by"`
	CreatedAt  Time   `json:"created_at"`
	ExpiresAt  *Time  `json:"expires_at,omitempty"`
	LastUsedAt *Time  `json:"last_used_at,omitempty"`
	RevokedAt  *Time  `json:"revoked_at,omitempty"`
}

func (s *Server) keyJSON(k roster.APIKey) APIKey {
	return APIKey{ID: k.ID, OrgID: k.OrgID, Name: k.Name, OwnerID: k.UserID, StoreID: k.StoreID, RoleID: k.RoleID, RoleName: k.RoleName, OrgRole: string(k.OrgRole),
		Status: k.Status(s.app.Now()), CreatedBy: k.CreatedBy, CreatedAt: Time(k.CreatedAt), ExpiresAt: (*Time)(k.ExpiresAt), LastUsedAt: (*Time)(k.LastUsedAt), RevokedAt: (*Time)(k.RevokedAt)}
}

// NewAPIKey is a key just created, with its secret: shown this once.
type NewAPIKey struct {
	APIKey
	Secret string `json:"secret" doc:"Send it as Authorization: Bearer. Shown once: only its hash is kept."`
}

// KeyPath names an API key of an organization in a path.
type KeyPath struct {
	OrgPath
	Key string `path:"key" maxLength:"40" doc:"API key ID"`
}

type listKeysInput struct {
	OrgPath
	Cursor string `query:"cursor" maxLength:"40"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type keysOutput struct {
	Body struct {
		Keys       []APIKey `json:"api_keys"`
		NextCursor string   `json:"next_cursor,omitempty"`
	}
}

type keyOutput struct{ Body APIKey }

type newKeyOutput struct{ Body NewAPIKey }

type createKeyInput struct {
	OrgPath
	Body struct {
		Name      string `json:"name" maxLength:"100" example:"Zendesk connection"`
		StoreID   string `json:"store_id,omitempty" maxLength:"40" doc:"Limit the key to one store; omit for every store you reach"`
		RoleID    string `json:"role_id" maxLength:"40" doc:"Store role the key carries: admin, member, viewer or a custom role ID"`
		OrgRole   string `json:"organization_role,omitempty" enum:"admin,member" doc:"Organization permissions the key carries (default member: see the organization and its usage)"`
		ExpiresAt *Time  `json:"expires_at,omitempty" doc:"When the key stops working; omit for a key that does not expire"`
		StepUp
	}
}

type cloneKeyInput struct {
	KeyPath
	Body struct {
		UserID    string `json:"user_id" maxLength:"40" doc:"The member who will own the copy"`
		Name      string `json:"name,omitempty" maxLength:"100" doc:"Defaults to the original's name"`
		ExpiresAt *Time  `json:"expires_at,omitempty" doc:"Defaults to the original's expiry"`
		StepUp
	}
}

type keyRequestsInput struct {
	KeyPath
	Cursor string `query:"cursor" maxLength:"40"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// APIKeyRequest is one request made with a key.
type APIKeyRequest struct {
	ID     string `json:"id"`
	At     Time   `json:"at"`
	Method string `json:"method"`
	Path   string `json:"path" doc:"Without the query string"`
	Status int    `json:"status"`
	IP     string `json:"ip"`
}

type keyRequestsOutput struct {
	Body struct {
		Requests   []APIKeyRequest `json:"requests"`
		NextCursor string          `json:"next_cursor,omitempty"`
	}
}

func (s *Server) registerAPIKeys() {
	register(s.api, op("list-api-keys", http.MethodGet, "/v1/organizations/{org}/api-keys", "List API keys", "API keys"),
		func(ctx context.Context, in *listKeysInput) (*keysOutput, error) {
			p, err := s.app.APIKeys.List(ctx, actor(ctx), in.Org, in.Cursor, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &keysOutput{}
			out.Body.Keys, out.Body.NextCursor = mapSlice(p.Items, s.keyJSON), p.Next
			return out, nil
		}, withDescription("Newest first. Owner and admins see every key; store admins the keys of their stores; everyone their own keys."))

	register(s.api, op("create-api-key", http.MethodPost, "/v1/organizations/{org}/api-keys", "Create an API key", "API keys"),
		func(ctx context.Context, in *createKeyInput) (*newKeyOutput, error) {
			b := in.Body
			k, err := s.app.APIKeys.Create(ctx, actor(ctx), in.Org, app.APIKeyInput{Name: b.Name, StoreID: b.StoreID, RoleID: b.RoleID,
				OrgRole: roster.OrgRole(b.OrgRole), ExpiresAt: (*time.Time)(b.ExpiresAt), Proof: b.proof()})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &newKeyOutput{Body: NewAPIKey{APIKey: s.keyJSON(k.Key), Secret: k.Secret}}, nil
		}, withStatus(http.StatusCreated), withDescription("Owner and admins (any scope), store admins (keys limited to their stores), "+
			"signed in and after a step-up (StepUp: a second factor, or the password for an account without one; none within 10 minutes of one in the same session). The key acts as you, with exactly "+
			"its roles' permissions and never more than yours; nobody mints a key with a permission they lack (role_escalation). "+
			"The secret (rk_…) is in this answer only."))

	register(s.api, op("get-api-key", http.MethodGet, "/v1/organizations/{org}/api-keys/{key}", "Read an API key", "API keys"),
		func(ctx context.Context, in *KeyPath) (*keyOutput, error) {
			k, err := s.app.APIKeys.Get(ctx, actor(ctx), in.Org, in.Key)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &keyOutput{Body: s.keyJSON(k)}, nil
		})

	register(s.api, op("revoke-api-key", http.MethodDelete, "/v1/organizations/{org}/api-keys/{key}", "Revoke an API key", "API keys"),
		func(ctx context.Context, in *KeyPath) (*struct{}, error) {
			if err := s.app.APIKeys.Revoke(ctx, actor(ctx), in.Org, in.Key); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("The key stops working at once; it stays listed as revoked, with its request log."))

	register(s.api, op("clone-api-key", http.MethodPost, "/v1/organizations/{org}/api-keys/{key}/clone", "Clone an API key for another member", "API keys"),
		func(ctx context.Context, in *cloneKeyInput) (*newKeyOutput, error) {
			b := in.Body
			k, err := s.app.APIKeys.Clone(ctx, actor(ctx), in.Org, in.Key, app.CloneInput{UserID: b.UserID, Name: b.Name, ExpiresAt: (*time.Time)(b.ExpiresAt), Proof: b.proof()})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &newKeyOutput{Body: NewAPIKey{APIKey: s.keyJSON(k.Key), Secret: k.Secret}}, nil
		}, withStatus(http.StatusCreated), withDescription("A new key with the same store, store role and organization role, owned by another member, "+
			"with a new secret shown once, after a step-up as for a new key. The new owner must hold every permission of the key; the copy stops working when they lose access."))

	register(s.api, op("list-api-key-requests", http.MethodGet, "/v1/organizations/{org}/api-keys/{key}/requests", "Read an API key's request log", "API keys"),
		func(ctx context.Context, in *keyRequestsInput) (*keyRequestsOutput, error) {
			p, err := s.app.APIKeys.Requests(ctx, actor(ctx), in.Org, in.Key, in.Cursor, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &keyRequestsOutput{}
			out.Body.Requests = mapSlice(p.Items, func(r roster.APIKeyRequest) APIKeyRequest {
				return APIKeyRequest{ID: r.ID, At: Time(r.At), Method: r.Method, Path: r.Path, Status: r.Status, IP: r.IP}
			})
			out.Body.NextCursor = p.Next
			return out, nil
		}, withDescription("Newest first, kept for ROSTER_API_KEY_LOG_RETENTION (30 days by default). Those who see the key."))
}
