package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// StorePath names a store.
type StorePath struct {
	Store string `path:"store" maxLength:"40" doc:"Store ID"`
}

type storeBody struct {
	Name     string `json:"name" maxLength:"100"`
	Website  string `json:"website,omitempty" maxLength:"300"`
	Currency string `json:"currency,omitempty" maxLength:"3" doc:"ISO 4217 code, such as EUR"`
	TimeZone string `json:"time_zone,omitempty" maxLength:"64" doc:"IANA time zone, such as Europe/Madrid"`
}

func (b storeBody) input() app.StoreInput {
	return app.StoreInput{Name: b.Name, Website: b.Website, Currency: b.Currency, TimeZone: b.TimeZone}
}

type createStoreInput struct {
	OrgPath
	Body storeBody
}

type listStoresInput struct {
	OrgPath
	Status string `query:"status" enum:"active,archived" doc:"Only stores with this status (owner and admins see archived stores)"`
}

type storesOutput struct {
	Body struct {
		Stores []Store `json:"stores"`
	}
}

type storeOutput struct{ Body Store }

type updateStoreInput struct {
	StorePath
	Body storeBody
}

type storeLogoInput struct {
	StorePath
	RawBody []byte `contentType:"image/png"`
}

type storeActionInput struct {
	StorePath
}

func (s *Server) registerStores() {
	register(s.api, op("create-store", http.MethodPost, "/v1/organizations/{org}/stores", "Create a store", "Stores"),
		func(ctx context.Context, in *createStoreInput) (*storeOutput, error) {
			st, err := s.app.Stores.Create(ctx, actor(ctx), in.Org, in.Body.input())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &storeOutput{Body: storeJSON(st, roster.StoreGrant{})}, nil
		}, withStatus(http.StatusCreated), withDescription("Owner only. Uses one store credit; refused with no_store_credits when none is left."))

	register(s.api, op("list-stores", http.MethodGet, "/v1/organizations/{org}/stores", "List an organization's stores", "Stores"),
		func(ctx context.Context, in *listStoresInput) (*storesOutput, error) {
			list, err := s.app.Stores.List(ctx, actor(ctx), in.Org, roster.StoreStatus(in.Status))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &storesOutput{}
			l := storeLister{}
			out.Body.Stores = mapSlice(list, func(v app.StoreView) Store { return l.store(v.Store, v.Grant) })
			return out, nil
		}, withDescription("Owner and admins see every store; members see the active stores they belong to."))

	register(s.api, op("get-store", http.MethodGet, "/v1/stores/{store}", "Read a store", "Stores"),
		func(ctx context.Context, in *StorePath) (*storeOutput, error) {
			v, err := s.app.Stores.Get(ctx, actor(ctx), in.Store)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &storeOutput{Body: storeJSON(v.Store, v.Grant)}, nil
		})

	register(s.api, op("update-store", http.MethodPatch, "/v1/stores/{store}", "Edit a store's name and details", "Stores"),
		func(ctx context.Context, in *updateStoreInput) (*storeOutput, error) {
			st, err := s.app.Stores.Update(ctx, actor(ctx), in.Store, in.Body.input())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &storeOutput{Body: storeJSON(st, roster.StoreGrant{})}, nil
		}, withDescription("Store admins, and the organization's owner and admins. The body replaces the name and every detail."))

	register(s.api, op("archive-store", http.MethodPost, "/v1/stores/{store}/archive", "Archive a store", "Stores"),
		func(ctx context.Context, in *storeActionInput) (*storeOutput, error) {
			st, err := s.app.Stores.Archive(ctx, actor(ctx), in.Store)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &storeOutput{Body: storeJSON(st, roster.StoreGrant{})}, nil
		}, withDescription("Owner and admins. An archived store uses no store credit."))

	register(s.api, op("unarchive-store", http.MethodPost, "/v1/stores/{store}/unarchive", "Unarchive a store", "Stores"),
		func(ctx context.Context, in *storeActionInput) (*storeOutput, error) {
			st, err := s.app.Stores.Unarchive(ctx, actor(ctx), in.Store)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &storeOutput{Body: storeJSON(st, roster.StoreGrant{})}, nil
		}, withDescription("Owner and admins. Needs a free store credit."))

	register(s.api, op("delete-store", http.MethodDelete, "/v1/stores/{store}", "Delete an archived store", "Stores"),
		func(ctx context.Context, in *StorePath) (*struct{}, error) {
			if err := s.app.Stores.Delete(ctx, actor(ctx), in.Store); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Owner and admins. Only archived stores can be deleted; their store memberships go with them."))

	register(s.api, op("set-store-logo", http.MethodPut, "/v1/stores/{store}/logo", "Upload a store's logo", "Stores"),
		func(ctx context.Context, in *storeLogoInput) (*storeOutput, error) {
			st, err := s.app.Stores.SetLogo(ctx, actor(ctx), in.Store, in.RawBody)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &storeOutput{Body: storeJSON(st, roster.StoreGrant{})}, nil
		}, withUpload, withDescription("PNG, JPEG or WebP, at most 1 MiB, checked by decoding."))

	register(s.api, op("get-store-logo", http.MethodGet, "/v1/stores/{store}/logo", "Download a store's logo", "Stores"),
		func(ctx context.Context, in *StorePath) (*imageOutput, error) {
			img, err := s.app.Stores.Logo(ctx, actor(ctx), in.Store)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return imageResult(img), nil
		})
}
