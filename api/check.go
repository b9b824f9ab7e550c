package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Check is one question to the check API.
type Check struct {
	UserID     string `json:"user_id" maxLength:"40"`
	Permission string `json:"permission" maxLength:"100" example:"store.members.invite"`
	StoreID    string `json:"store_id,omitempty" maxLength:"40" doc:"Ask about a store permission in this store"`
	OrgID      string `json:"organization_id,omitempty" maxLength:"40" doc:"Ask about an organization permission in this organization"`
	AtLeast    int64  `json:"at_least_revision,omitempty" minimum:"1" doc:"An access revision (the Roster-Revision header of a write): the answer may come from any state at least this new. Without it, the answer reflects every write that returned before the question arrived."`
}

// CheckResult answers one question.
type CheckResult struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason" doc:"organization_role, store_role, permission_missing, not_member, suspended, no_store_access, store_archived or user_deactivated"`
	OrgID   string `json:"organization_id,omitempty"`
	StoreID string `json:"store_id,omitempty"`
	OrgRole string `json:"organization_role,omitempty"`
	RoleID  string `json:"store_role,omitempty"`
}

func (c Check) input() app.CheckInput {
	return app.CheckInput{UserID: c.UserID, Permission: roster.Permission(c.Permission), StoreID: c.StoreID, OrgID: c.OrgID, AtLeastRevision: c.AtLeast}
}

func checkJSON(r app.CheckResult) CheckResult {
	return CheckResult{Allowed: r.Allowed, Reason: r.Reason, OrgID: r.OrgID, StoreID: r.StoreID, OrgRole: string(r.OrgRole), RoleID: r.RoleID}
}

type checkInput struct{ Body Check }

type checkOutput struct{ Body CheckResult }

type batchInput struct {
	Body struct {
		Checks  []Check `json:"checks" minItems:"1" maxItems:"100"`
		AtLeast int64   `json:"at_least_revision,omitempty" minimum:"1" doc:"As in a single check, for the whole batch"`
	}
}

type batchOutput struct {
	Body struct {
		Results []CheckResult `json:"results" doc:"In the order of the checks"`
	}
}

type userStoresInput struct {
	User       string `path:"user" maxLength:"40"`
	Permission string `query:"permission" maxLength:"100" doc:"Only stores where the user holds this store permission"`
	AtLeast    int64  `query:"at_least_revision" minimum:"1" doc:"As in a check: the answer may come from any state at least this new"`
}

type userStoresOutput struct {
	Body struct {
		Stores []Store `json:"stores"`
	}
}

func (s *Server) registerCheck() {
	const who = " Called by the host application with a service token (roster admin token create)."
	register(s.api, op("check", http.MethodPost, "/v1/check", "May this user do this here?", "Permission checks"),
		func(ctx context.Context, in *checkInput) (*checkOutput, error) {
			r, err := s.app.Access.Check(ctx, actor(ctx), in.Body.input())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &checkOutput{Body: checkJSON(r)}, nil
		}, withDescription("Answers whether a user holds a permission in a store (store_id) or an organization (organization_id), and why."+who), readByPost)

	register(s.api, op("check-batch", http.MethodPost, "/v1/check/batch", "Several permission checks at once", "Permission checks"),
		func(ctx context.Context, in *batchInput) (*batchOutput, error) {
			checks := mapSlice(in.Body.Checks, Check.input)
			if len(checks) > 0 {
				checks[0].AtLeastRevision = max(checks[0].AtLeastRevision, in.Body.AtLeast)
			}
			res, err := s.app.Access.CheckBatch(ctx, actor(ctx), checks)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &batchOutput{}
			out.Body.Results = mapSlice(res, checkJSON)
			return out, nil
		}, withDescription("Up to 100 checks, answered in order."+who), readByPost)

	register(s.api, op("user-stores", http.MethodGet, "/v1/users/{user}/stores", "Stores where a user holds a permission", "Permission checks"),
		func(ctx context.Context, in *userStoresInput) (*userStoresOutput, error) {
			list, err := s.app.Access.UserStores(ctx, actor(ctx), app.UserStoresInput{UserID: in.User, Permission: roster.Permission(in.Permission), AtLeastRevision: in.AtLeast})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &userStoresOutput{}
			l := storeLister{}
			out.Body.Stores = mapSlice(list, func(a roster.StoreAccess) Store { return l.store(a.Store, a.Grant) })
			return out, nil
		}, withDescription("Active stores across all organizations where the user holds the permission (every store they reach without one), "+
			"by organization name, then store name, as people read them (Unicode collation: case and accents do not move a name past another)."+who))
}
