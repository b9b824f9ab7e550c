package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/password"
)

// ceiling is the bare net/http server that the benchmark measures Roster against: it decodes
// the same requests and answers them from the dataset in memory, with answers of the same
// shapes. No database, no authentication, no logging: what this machine's HTTP and JSON cost,
// measured in the same run as Roster.
type ceiling struct {
	m      *model
	userOf map[string]int32
	storeO map[string]int32
}

type ceilingStore struct {
	ID     string `json:"id"`
	OrgID  string `json:"organization_id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Role   string `json:"effective_role"`
}

type ceilingMember struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"user"`
	Role     string    `json:"role"`
	Status   string    `json:"status"`
	JoinedAt time.Time `json:"joined_at"`
}

func serveCeiling(m *model, ln net.Listener) error {
	c := &ceiling{m: m, userOf: map[string]int32{}, storeO: map[string]int32{}}
	for i, id := range m.users {
		c.userOf[id] = int32(i)
	}
	for i, s := range m.stores {
		c.storeO[s.id] = int32(i)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/check", func(w http.ResponseWriter, r *http.Request) {
		var q checkBody
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, c.answer(q))
	})
	mux.HandleFunc("POST /v1/check/batch", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Checks []checkBody `json:"checks"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out struct {
			Results []checkAnswer `json:"results"`
		}
		for _, q := range in.Checks {
			out.Results = append(out.Results, c.answer(q))
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /v1/users/{user}/stores", func(w http.ResponseWriter, r *http.Request) {
		u, ok := c.userOf[r.PathValue("user")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		p := roster.Permission(r.URL.Query().Get("permission"))
		out := struct {
			Stores []ceilingStore `json:"stores"`
		}{Stores: []ceilingStore{}}
		for _, o := range m.userOrgs[u] {
			for _, s := range m.orgs[o].stores {
				if m.allowed(u, p, s) {
					out.Stores = append(out.Stores, ceilingStore{ID: m.stores[s].id, OrgID: m.orgs[o].id, Name: "Store", Status: "active", Role: "member"})
				}
			}
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /v1/me/organizations", func(w http.ResponseWriter, r *http.Request) {
		type aff struct {
			Organization struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"organization"`
			Role   string         `json:"role"`
			Stores []ceilingStore `json:"stores"`
		}
		u := m.selectorUser
		var out struct {
			Organizations []aff `json:"organizations"`
		}
		for _, o := range m.userOrgs[u] {
			a := aff{Role: string(m.members[[2]int32{o, u}])}
			a.Organization.ID, a.Organization.Name = m.orgs[o].id, "Organization"
			for _, s := range m.userStores[u] {
				if m.stores[s].org == o {
					a.Stores = append(a.Stores, ceilingStore{ID: m.stores[s].id, OrgID: m.orgs[o].id, Name: "Store", Status: "active", Role: "member"})
				}
			}
			out.Organizations = append(out.Organizations, a)
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /v1/organizations/{org}/members", func(w http.ResponseWriter, r *http.Request) {
		start := 0
		if r.URL.Query().Get("cursor") != "" {
			start = min(len(m.users)-50, 50*999)
		}
		var out struct {
			Members    []ceilingMember `json:"members"`
			NextCursor string          `json:"next_cursor"`
		}
		for u := start; u < start+50 && u < len(m.users); u++ {
			var mem ceilingMember
			mem.User.ID, mem.User.Email, mem.User.Name = m.users[u], userEmail(int32(u)), "User"
			mem.Role, mem.Status, mem.JoinedAt = "member", "active", epoch
			out.Members = append(out.Members, mem)
		}
		out.NextCursor = "next"
		writeJSON(w, out)
	})
	// A login verifies the same argon2id hash as Roster, through the same bounded hasher: the
	// hash is the cost of a login, so the ratio shows what Roster adds to it.
	hasher := password.NewHasher(password.Default, app.DefaultConfig().HashConcurrency)
	hash, err := hasher.Hash(context.Background(), benchPassword)
	if err != nil {
		return err
	}
	mux.HandleFunc("POST /v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok, _, err := hasher.Verify(r.Context(), in.Password, hash)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if !ok {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]string{"token": "ceiling"})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func (c *ceiling) answer(q checkBody) checkAnswer {
	u, okU := c.userOf[q.UserID]
	s, okS := c.storeO[q.StoreID]
	if !okU || !okS {
		return checkAnswer{Reason: "not_member"}
	}
	if c.m.allowed(u, roster.Permission(q.Permission), s) {
		return checkAnswer{Allowed: true, Reason: "store_role"}
	}
	return checkAnswer{Reason: "permission_missing"}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
