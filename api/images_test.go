package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// upload sends a raw body with PUT.
func (e *keysEnv) upload(token, path string, body raw) reply {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPut, e.url+path, bytes.NewReader(body.data))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", body.contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := reply{status: res.StatusCode, raw: data, header: res.Header}
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(data, &r.body); err != nil {
			e.t.Fatalf("decode %s: %v", data, err)
		}
	}
	return r
}

// TestLogoBombsStayCheap: eight parallel uploads of a 130 KB PNG declaring 4096×4096 in
// 16-bit RGBA (128 MiB decoded; such uploads once took a server from 226 MB to 1 GB) are each
// refused with image_too_large, and the whole process allocates less than 64 MiB meanwhile:
// less than one such decode. Not parallel, so that no other test's allocations count.
func TestLogoBombsStayCheap(t *testing.T) {
	testenv.EnginesInTurn(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		store := env.Store(t, owner.actor, org.ID, "Main")
		bomb := testenv.PNG(t, 4096, 4096, 16, testenv.PNGRGBA, true)
		if len(bomb) > 200<<10 {
			t.Fatalf("the bomb is %d bytes", len(bomb))
		}
		const bound = 64 << 20
		type answer struct {
			status int
			code   string
			err    error
		}
		answers := make([]answer, 8)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		for i := range answers {
			path := "/v1/organizations/" + org.ID + "/logo"
			if i%2 == 1 {
				path = "/v1/stores/" + store.ID + "/logo"
			}
			wg.Go(func() {
				a := &answers[i]
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, env.url+path, bytes.NewReader(bomb))
				if err != nil {
					a.err = err
					return
				}
				req.Header.Set("Content-Type", "image/png")
				req.Header.Set("Authorization", "Bearer "+owner.token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					a.err = err
					return
				}
				defer res.Body.Close()
				var p problem
				body, err := io.ReadAll(res.Body)
				if err == nil && res.StatusCode >= 400 {
					err = json.Unmarshal(body, &p)
				}
				a.status, a.code, a.err = res.StatusCode, p.Code, err
			})
		}
		wg.Wait()
		runtime.ReadMemStats(&after)
		for i, a := range answers {
			if a.err != nil || a.status != http.StatusUnprocessableEntity || a.code != "image_too_large" {
				t.Errorf("upload %d: %d %q %v", i, a.status, a.code, a.err)
			}
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > bound {
			t.Errorf("the uploads allocated %d MiB, more than %d MiB", n>>20, bound>>20)
		}
		t.Logf("allocated %d KiB for 8 uploads", (after.TotalAlloc-before.TotalAlloc)>>10)

		// They count in the user's budget of uploads: two more, then 429 with Retry-After,
		// as the API description says.
		logo := raw{"image/png", pngImage(t)}
		for range 2 {
			if r := env.upload(owner.token, "/v1/stores/"+store.ID+"/logo", logo); r.status != 200 {
				t.Fatalf("an upload within the limit: %d %s", r.status, r.raw)
			}
		}
		r := env.upload(owner.token, "/v1/organizations/"+org.ID+"/logo", logo)
		if r.status != 429 || r.code() != "rate_limited" || r.header.Get("Retry-After") == "" {
			t.Fatalf("one upload too many: %d %v %s", r.status, r.header, r.raw)
		}
		var spec struct {
			Paths map[string]struct {
				Put struct {
					Responses map[string]any `json:"responses"`
				} `json:"put"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(env.call("", "GET", "/openapi.json", nil).raw, &spec); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/v1/organizations/{org}/logo", "/v1/stores/{store}/logo"} {
			if spec.Paths[path].Put.Responses["429"] == nil {
				t.Errorf("PUT %s does not document 429", path)
			}
		}
	})
}
