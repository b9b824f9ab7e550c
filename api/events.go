package api

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Event is an event as host applications receive it (roster.EventPayload).
type Event = roster.EventPayload

func eventJSON(e roster.Event) Event { return e.Payload() }

type eventsInput struct {
	OrgPath
	After string `query:"after" maxLength:"40" pattern:"^[0-9]+$" doc:"The cursor: the sequence number of the last event read (0 or none for the first)"`
	Limit int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type eventsOutput struct {
	Body struct {
		Events []Event `json:"events"`
		Cursor int64   `json:"cursor" doc:"Pass it as after to read the next events; unchanged when there are none yet"`
	}
}

func (s *Server) registerEvents() {
	register(s.api, op("list-events", http.MethodGet, "/v1/organizations/{org}/events", "Read the event feed", "Events"),
		func(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
			var after int64
			if in.After != "" {
				n, err := strconv.ParseInt(in.After, 10, 64)
				if err != nil {
					return nil, s.fail(ctx, roster.Invalidf("after", "invalid cursor"))
				}
				after = n
			}
			p, err := s.app.Events(ctx, actor(ctx), in.Org, after, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &eventsOutput{}
			out.Body.Events, out.Body.Cursor = mapSlice(p.Events, eventJSON), p.Cursor
			return out, nil
		}, withDescription("The organization's events after a cursor, oldest first, resumable from any cursor within the audit "+
			"retention. Readable by those who read the whole audit log (owner and admins). The event types are the "+
			"document's webhooks."))
}

// documentEvents lists the event catalog in the OpenAPI document's webhooks section, each
// type with the Event body it carries.
func documentEvents(doc *huma.OpenAPI) {
	schema := doc.Components.Schemas.Schema(reflect.TypeFor[Event](), true, "EventPayload")
	if doc.Webhooks == nil {
		doc.Webhooks = map[string]*huma.PathItem{}
	}
	types := append(slices.Clone(roster.EventTypes), roster.EventType{Type: app.WebhookTestEvent,
		Description: "A test event, sent to one endpoint on request (send-test-event); never in the feed. Subject: the endpoint."})
	for _, et := range types {
		doc.Webhooks[et.Type] = &huma.PathItem{Post: &huma.Operation{
			OperationID: "event-" + et.Type,
			Summary:     et.Type,
			Description: et.Description,
			Tags:        []string{"Events"},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}},
			Responses:   map[string]*huma.Response{"2XX": {Description: "Received"}},
		}}
	}
}
