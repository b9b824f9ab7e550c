package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/sqlstore"
)

// Event is an event as host applications receive it (roster.EventPayload).
type Event = roster.EventPayload

func eventJSON(e roster.Event) Event { return e.Payload() }

type eventsInput struct {
	OrgPath
	After       string `query:"after" maxLength:"40" pattern:"^[0-9]+$" doc:"The cursor: the sequence number of the last event read (0 or none for the first)"`
	Limit       int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Wait        string `query:"wait" maxLength:"10" pattern:"^[0-9]+(ms|s|m)?$" doc:"Long polling: when no event follows the cursor, wait up to this long (30s, 1m; at most 60s) for one before answering the empty page"`
	LastEventID string `header:"Last-Event-ID" maxLength:"40" doc:"The cursor, as an EventSource sends it when it reconnects; after wins when both are given"`
}

type eventsOutput struct {
	Body struct {
		Events []Event `json:"events"`
		Cursor int64   `json:"cursor" doc:"Pass it as after to read the next events; unchanged when there are none yet"`
	}
}

// eventCursor reads the cursor of a feed request: the after parameter, else Last-Event-ID.
func eventCursor(after, lastEventID string) (int64, error) {
	c := after
	if c == "" {
		c = strings.TrimSpace(lastEventID)
	}
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, roster.Invalidf("after", "invalid cursor")
	}
	return n, nil
}

// eventWait reads the wait parameter: a Go duration (30s, 1m) or a number of seconds.
func eventWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, roster.Invalidf("wait", "give a duration such as 30s")
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > app.MaxEventWait {
		return 0, roster.Invalidf("wait", "wait at most %d seconds", int(app.MaxEventWait/time.Second))
	}
	return d, nil
}

func (s *Server) registerEvents() {
	register(s.api, op("list-events", http.MethodGet, "/v1/organizations/{org}/events", "Read the event feed", "Events"),
		func(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
			after, err := eventCursor(in.After, in.LastEventID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			wait, err := eventWait(in.Wait)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			p, err := s.app.Audit.WaitEvents(ctx, actor(ctx), in.Org, after, in.Limit, wait)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &eventsOutput{}
			out.Body.Events, out.Body.Cursor = mapSlice(p.Events, eventJSON), p.Cursor
			return out, nil
		}, withDescription("The organization's events after a cursor, oldest first, resumable from any cursor within the audit "+
			"retention. Readable by those who read the whole audit log (owner and admins). The event types are the "+
			"document's webhooks.\n\n"+
			"**Long polling**: with wait (e.g. 30s), an empty answer waits until an event is committed or the time is up.\n\n"+
			"**Server-Sent Events**: with Accept: text/event-stream the answer is a stream that stays open; each event is a "+
			"message whose event: is its type, data: its JSON and id: its cursor (its sequence number), so an EventSource that "+
			"reconnects resumes with Last-Event-ID. A comment line every 15 s keeps the connection alive. When the caller loses "+
			"the right to read the feed, an error message (data: the problem) ends the stream."),
		s.withEventStream)
	// The stream's media type beside the JSON page, for the OpenAPI document.
	if pi := s.api.OpenAPI().Paths["/v1/organizations/{org}/events"]; pi != nil && pi.Get != nil {
		if r := pi.Get.Responses["200"]; r != nil && r.Content != nil {
			r.Content["text/event-stream"] = &huma.MediaType{Schema: &huma.Schema{Type: "string",
				Description: "Server-Sent Events: per event, id: <sequence>, event: <type>, data: <Event JSON>"}}
		}
	}
}

// eventStreamKeepalive is how often a quiet stream sends a comment line, so that proxies
// and clients see the connection alive.
const eventStreamKeepalive = 15 * time.Second

// withEventStream answers the feed as Server-Sent Events when the caller accepts them.
func (s *Server) withEventStream(o *huma.Operation) {
	o.Middlewares = append(o.Middlewares, func(hctx huma.Context, next func(huma.Context)) {
		_, rw := humago.Unwrap(hctx)
		rc := http.NewResponseController(rw)
		if !acceptsEventStream(hctx.Header("Accept")) {
			// A long poll outlives the server's read timeout, which would otherwise cancel
			// the request's context when it passes.
			_ = rc.SetReadDeadline(time.Now().Add(app.MaxEventWait + 30*time.Second))
			next(hctx)
			return
		}
		s.streamEvents(hctx)
	})
}

func acceptsEventStream(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
			return true
		}
	}
	return false
}

// streamEvents writes the feed after the cursor as Server-Sent Events, then every event as
// it is committed, until the client goes or loses the right to read the feed.
func (s *Server) streamEvents(hctx huma.Context) {
	ctx := hctx.Context()
	caller := actor(ctx)
	orgID := hctx.Param("org")
	after, err := eventCursor(hctx.Query("after"), hctx.Header("Last-Event-ID"))
	if err != nil {
		s.writeErr(hctx, err)
		return
	}
	const limit = 200
	woken := s.app.Outbox.Wake(sqlstore.WakeEvent)
	p, err := s.app.Audit.Events(ctx, caller, orgID, after, limit)
	if err != nil { // not yet streaming: an ordinary problem answer
		s.writeErr(hctx, err)
		return
	}
	hctx.SetHeader("Content-Type", "text/event-stream")
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	hctx.SetStatus(http.StatusOK)
	_, rw := humago.Unwrap(hctx)
	w := hctx.BodyWriter()
	rc := http.NewResponseController(rw)
	// The server's read and write timeouts are for ordinary requests: past the read timeout,
	// net/http would cancel the request's context, and the write timeout would cut the stream.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	keepalive := time.NewTicker(eventStreamKeepalive)
	defer keepalive.Stop()
	var buf bytes.Buffer
	buf.WriteString("retry: 2000\n\n") // an EventSource reconnects 2 s after losing the stream; the headers go out at once
	for {
		for _, ev := range p.Events {
			data, err := json.Marshal(eventJSON(ev))
			if err != nil {
				return
			}
			fmt.Fprintf(&buf, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Type, data)
		}
		if buf.Len() > 0 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			buf.Reset()
		}
		if err := rc.Flush(); err != nil {
			return
		}
		after = p.Cursor
		if len(p.Events) < limit {
			for waiting := true; waiting; {
				select {
				case <-ctx.Done():
					return
				case <-woken:
					waiting = false
				case <-keepalive.C:
					if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil {
						return
					}
					if err := rc.Flush(); err != nil {
						return
					}
				}
			}
		}
		woken = s.app.Outbox.Wake(sqlstore.WakeEvent)
		if p, err = s.app.Audit.Events(ctx, caller, orgID, after, limit); err != nil {
			if ctx.Err() == nil {
				prob, _ := json.Marshal(s.fail(ctx, err))
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", prob)
				_ = rc.Flush()
			}
			return
		}
	}
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
