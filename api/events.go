package api

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
)

// Event is an event as host applications receive it, in the feed and as a webhook body:
// payload version 1 (roster.EventVersion; README, "Events").
type Event struct {
	ID             string       `json:"id" doc:"The event's ID, also its audit entry's"`
	Type           string       `json:"type" doc:"The event type (README, Events)"`
	Version        int          `json:"version" doc:"The payload version"`
	Timestamp      time.Time    `json:"timestamp"`
	OrganizationID string       `json:"organization_id,omitempty" doc:"Absent for an instance-level event"`
	StoreID        string       `json:"store_id,omitempty"`
	Sequence       int64        `json:"sequence" doc:"The event's number in its organization: 1, 2, 3… in commit order"`
	Actor          EventRef     `json:"actor" doc:"Who made the change: type is user, api_key, service_token, operator, system or anonymous"`
	Subject        EventRef     `json:"subject" doc:"What changed"`
	Data           EventChanges `json:"data"`
}

// EventRef names an actor or a subject.
type EventRef struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

// EventChanges holds the values before and after the change; never a secret.
type EventChanges struct {
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"`
}

func eventJSON(e roster.Event) Event {
	return Event{ID: e.ID, Type: e.Type, Version: e.Version, Timestamp: e.CreatedAt.UTC(), OrganizationID: e.OrgID,
		StoreID: e.StoreID, Sequence: e.Seq, Actor: EventRef{Type: string(e.ActorKind), ID: e.ActorID},
		Subject: EventRef{Type: e.SubjectType, ID: e.SubjectID}, Data: EventChanges{Before: e.Before, After: e.After}}
}

type eventsInput struct {
	OrgPath
	After int64 `query:"after" minimum:"0" doc:"The cursor: the sequence number of the last event read (0 for the first)"`
	Limit int   `query:"limit" minimum:"1" maximum:"200" default:"50"`
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
			p, err := s.app.Events(ctx, actor(ctx), in.Org, in.After, in.Limit)
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
	schema := doc.Components.Schemas.Schema(reflect.TypeFor[Event](), true, "Event")
	if doc.Webhooks == nil {
		doc.Webhooks = map[string]*huma.PathItem{}
	}
	for _, et := range roster.EventTypes {
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
