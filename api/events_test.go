package api_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestEventFeed reads an organization's events over HTTP in payload version 1, page by page
// with the cursor, and checks that the OpenAPI document lists the catalog in its webhooks.
func TestEventFeed(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		env.Store(t, owner.actor, org.ID, "Shop")
		base := "/v1/organizations/" + org.ID + "/events"

		var page struct {
			Events []struct {
				ID             string `json:"id"`
				Type           string `json:"type"`
				Version        int    `json:"version"`
				OrganizationID string `json:"organization_id"`
				Sequence       int64  `json:"sequence"`
				Actor          struct{ Type, ID string }
				Subject        struct{ Type, ID string }
				Data           struct{ After map[string]any }
			} `json:"events"`
			Cursor int64 `json:"cursor"`
		}
		read := func(after int64) {
			t.Helper()
			if err := json.Unmarshal(env.must(200, owner.token, "GET", base+"?limit=1&after="+strconv.FormatInt(after, 10), nil).raw, &page); err != nil {
				t.Fatal(err)
			}
		}
		read(0)
		if len(page.Events) != 1 || page.Cursor != 1 {
			t.Fatalf("first page %+v", page)
		}
		if ev := page.Events[0]; ev.Type != "organization.created" || ev.Version != 1 || ev.OrganizationID != org.ID || ev.Sequence != 1 ||
			ev.Actor.Type != "user" || ev.Actor.ID != owner.user.ID || ev.Subject.Type != "organization" || ev.Subject.ID != org.ID {
			t.Errorf("first event %+v", ev)
		}
		read(1)
		if len(page.Events) != 1 || page.Events[0].Type != "store.created" || page.Cursor != 2 || page.Events[0].Data.After["name"] != "Shop" {
			t.Fatalf("second page %+v", page)
		}
		read(2)
		if len(page.Events) != 0 || page.Cursor != 2 {
			t.Fatalf("past the end %+v", page)
		}
		r := env.refused(422, "invalid", owner.token, "GET", base+"?after=-1", nil)
		var problem struct{ Errors []struct{ Location string } }
		if err := json.Unmarshal(r.raw, &problem); err != nil || len(problem.Errors) != 1 || problem.Errors[0].Location != "query.after" {
			t.Errorf("negative cursor: %s", r.raw)
		}

		var doc struct {
			OpenAPI  string `json:"openapi"`
			Webhooks map[string]struct {
				Post struct {
					RequestBody struct {
						Content map[string]struct {
							Schema struct {
								Ref string `json:"$ref"`
							}
						}
					} `json:"requestBody"`
				}
			}
		}
		if err := json.Unmarshal(env.must(200, "", "GET", "/openapi.json", nil).raw, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Webhooks) != len(roster.EventTypes)+1 || doc.Webhooks["webhook.test"].Post.RequestBody.Content["application/json"].Schema.Ref == "" {
			t.Errorf("%d webhooks in the OpenAPI document, %d event types and webhook.test", len(doc.Webhooks), len(roster.EventTypes))
		}
		for _, et := range roster.EventTypes {
			if ref := doc.Webhooks[et.Type].Post.RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/EventPayload" {
				t.Errorf("webhook %s: body schema %q", et.Type, ref)
			}
		}
	})
}

// TestReadmeListsTheEvents: the README's catalog shows every event type.
func TestReadmeListsTheEvents(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, et := range roster.EventTypes {
		if !strings.Contains(string(b), "| `"+et.Type+"` |") {
			t.Errorf("README: no row for %s in the event catalog", et.Type)
		}
	}
}
