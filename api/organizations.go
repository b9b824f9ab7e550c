package api

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// OrgPath names an organization. Path types are exported because huma reads the parameters
// of embedded structs only when they are exported.
type OrgPath struct {
	Org string `path:"org" maxLength:"40" doc:"Organization ID"`
}

type organizationBody struct {
	Name    string              `json:"name" maxLength:"100"`
	Details OrganizationDetails `json:"details,omitempty"`
}

type createOrgInput struct {
	Body organizationBody
}

type updateOrgInput struct {
	OrgPath
	Body organizationBody
}

type orgOutput struct{ Body Organization }

type deleteOrgInput struct {
	OrgPath
	Body *StepUp `required:"false"`
}

type transferInput struct {
	OrgPath
	Body struct {
		UserID string `json:"user_id" maxLength:"40" doc:"The admin who becomes owner"`
		StepUp
	}
}

type logoInput struct {
	OrgPath
	RawBody []byte `contentType:"image/png"`
}

type imageOutput struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

func imageResult(img roster.Image) *imageOutput {
	return &imageOutput{ContentType: img.ContentType, CacheControl: "private, max-age=86400", Body: img.Data}
}

func (s *Server) registerOrganizations() {
	register(s.api, op("create-organization", http.MethodPost, "/v1/organizations", "Create an organization", "Organizations"),
		func(ctx context.Context, in *createOrgInput) (*orgOutput, error) {
			o, err := s.app.Organizations.Create(ctx, actor(ctx), app.OrganizationInput{Name: in.Body.Name, Details: in.Body.Details.domain()})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOutput{Body: orgJSON(o, roster.CreatorRole)}, nil
		}, withStatus(http.StatusCreated), withDescription("The caller becomes the owner. Store credits come from the instance default."))

	register(s.api, op("list-organizations", http.MethodGet, "/v1/organizations", "List my organizations", "Organizations"),
		func(ctx context.Context, _ *struct{}) (*myOrganizationsOutput, error) {
			affs, err := s.app.Accounts.Organizations(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return affiliationsJSON(affs), nil
		})

	register(s.api, op("get-organization", http.MethodGet, "/v1/organizations/{org}", "Read an organization", "Organizations"),
		func(ctx context.Context, in *OrgPath) (*orgOutput, error) {
			o, err := s.app.Organizations.Get(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOutput{Body: orgJSON(o.Organization, o.Access.Role)}, nil
		})

	register(s.api, op("update-organization", http.MethodPatch, "/v1/organizations/{org}", "Edit an organization's name and details", "Organizations"),
		func(ctx context.Context, in *updateOrgInput) (*orgOutput, error) {
			o, err := s.app.Organizations.Update(ctx, actor(ctx), in.Org, app.OrganizationInput{Name: in.Body.Name, Details: in.Body.Details.domain()})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOutput{Body: orgJSON(o.Organization, o.Access.Role)}, nil
		}, withDescription("Owner only. The body replaces the name and every detail."))

	register(s.api, op("delete-organization", http.MethodDelete, "/v1/organizations/{org}", "Delete an organization", "Organizations"),
		func(ctx context.Context, in *deleteOrgInput) (*struct{}, error) {
			if err := s.app.Organizations.Delete(ctx, actor(ctx), in.Org, in.Body.proof()); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent),
		withDescription("Owner only, after a step-up (StepUp). Deletes its stores, memberships, store memberships, invitations, roles, API keys and logos. User accounts and the audit log stay."))

	register(s.api, op("transfer-ownership", http.MethodPost, "/v1/organizations/{org}/transfer-ownership", "Transfer ownership to an admin", "Organizations"),
		func(ctx context.Context, in *transferInput) (*struct{}, error) {
			if err := s.app.Organizations.TransferOwnership(ctx, actor(ctx), in.Org, in.Body.UserID, in.Body.proof()); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Owner only, after a step-up (StepUp), to an active admin. The old owner becomes admin."))

	register(s.api, op("set-organization-logo", http.MethodPut, "/v1/organizations/{org}/logo", "Upload the organization's logo", "Organizations"),
		func(ctx context.Context, in *logoInput) (*orgOutput, error) {
			o, err := s.app.Organizations.SetLogo(ctx, actor(ctx), in.Org, in.RawBody)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOutput{Body: orgJSON(o.Organization, o.Access.Role)}, nil
		}, withUpload, withDescription("Owner only. The body is the image itself: PNG, JPEG or WebP, at most 1 MiB; it is checked by decoding."))

	register(s.api, op("get-organization-logo", http.MethodGet, "/v1/organizations/{org}/logo", "Download the organization's logo", "Organizations"),
		func(ctx context.Context, in *OrgPath) (*imageOutput, error) {
			img, err := s.app.Organizations.Logo(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return imageResult(img), nil
		})
}

// withUpload lets an operation take an image body of up to 2 MiB, declared as a PNG, JPEG or
// WebP image (other content types get 415; the image is then checked by decoding).
func withUpload(o *huma.Operation) {
	o.Middlewares = append(o.Middlewares, func(ctx huma.Context, next func(huma.Context)) {
		if mt, _, _ := mime.ParseMediaType(ctx.Header("Content-Type")); mt != "image/png" && mt != "image/jpeg" && mt != "image/webp" {
			p := huma.NewError(http.StatusUnsupportedMediaType, "send the image itself with Content-Type image/png, image/jpeg or image/webp").(*Problem)
			p.RequestID = httpserver.RequestID(ctx.Context())
			ctx.SetHeader("Content-Type", "application/problem+json")
			ctx.SetStatus(p.Status)
			_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
			return
		}
		next(ctx)
	})
	o.MaxBodyBytes = maxUpload
	o.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"image/png": {Schema: &huma.Schema{Type: "string", Format: "binary"}}, "image/jpeg": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		"image/webp": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
	}}
}
