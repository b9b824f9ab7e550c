package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Pages of webhook endpoints — an organization's (owners and admins, /orgs/{org}/webhooks) or
// the instance's (operators, /operator/webhooks: they receive every organization's events):
// the list (with the pop-ups to add one and to show its secret once), and an endpoint's page
// (edit, rotate the secret, delete, send a test event, the delivery log with redelivery,
// replay). The same handlers and templates serve both; the organization's ID is "" for the
// instance's endpoints, as in app.

// hooksPage is the data of the webhooks tab and of an endpoint's page.
type hooksPage struct {
	Base       string // the list's address: /orgs/{org}/webhooks or /operator/webhooks
	Hooks      []hookRow
	Hook       *roster.WebhookEndpoint // the endpoint of the page or of a pop-up
	Secret     string                  // a new secret, shown once
	Deliveries []roster.WebhookDelivery
	Types      []roster.EventType // the event catalog, for the filter
	Checked    map[string]bool    // the event types ticked in the form
	Enabled    bool               // the form's "enabled" switch
	TestType   string             // the type of a test event: it is in no feed, so it cannot be redelivered
	Now        time.Time
}

// hookRow is an endpoint in the list, with the outcome of its latest delivery.
type hookRow struct {
	roster.WebhookEndpoint
	Last *roster.WebhookDelivery
}

// overlapChoices are the overlaps offered when a secret is rotated, in seconds: how long the
// previous secret keeps signing.
var overlapChoices = []int{0, 3600, 86400, 7 * 86400}

// typeGroup is one area of the event catalog ("member.", "store." …), for the filter.
type typeGroup struct {
	Area  string
	Types []roster.EventType
}

// TypeGroups groups the event catalog by area, in the catalog's order.
func (hp *hooksPage) TypeGroups() []typeGroup {
	var out []typeGroup
	for _, et := range hp.Types {
		area, _, _ := strings.Cut(et.Type, ".")
		area += "."
		if len(out) == 0 || out[len(out)-1].Area != area {
			out = append(out, typeGroup{Area: area})
		}
		out[len(out)-1].Types = append(out[len(out)-1].Types, et)
	}
	return out
}

// Overlaps lists the overlaps offered, for the rotation pop-up.
func (hp *hooksPage) Overlaps() []int { return overlapChoices }

// webhooksPath is the address of the webhooks list: the organization's tab, or the
// operator's.
func webhooksPath(r *http.Request) string {
	if org := r.PathValue("org"); org != "" {
		return "/orgs/" + org + "/webhooks"
	}
	return "/operator/webhooks"
}

// hooksView starts a webhooks page: in the organization's tabs, or, for the instance's
// endpoints, in the operator's (an orgPage without an organization).
func (s *Server) hooksView(w http.ResponseWriter, r *http.Request, rq *request) (*view, *orgPage, error) {
	if r.PathValue("org") != "" {
		return s.orgPage(w, r, rq, "webhooks")
	}
	v := s.view(w, r, rq, "operator.webhooks_title")
	p := &orgPage{Tab: "webhooks"}
	v.D = p
	return v, p, nil
}

// orgWebhooks shows the webhooks tab, with the pop-up to add an endpoint when the path asks
// for it.
func (s *Server) orgWebhooks(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.hooksView(w, r, rq)
	if err != nil {
		return err
	}
	return s.renderWebhooks(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	hp, err := s.loadWebhooks(r, rq, p)
	if err != nil {
		return err
	}
	if strings.HasSuffix(r.URL.Path, "/webhooks/new") {
		p.Dialog = "new_webhook"
		hp.fillForm(r, nil)
	}
	s.render(w, r, status, "org_webhooks", v)
	return nil
}

// loadWebhooks fills the webhooks tab: the endpoints (the app refuses those who may not
// manage them) and the latest delivery of each.
func (s *Server) loadWebhooks(r *http.Request, rq *request, p *orgPage) (*hooksPage, error) {
	hp := &hooksPage{Base: webhooksPath(r), Types: roster.EventTypes, Now: s.app.Now()}
	p.Hooks = hp
	list, err := s.app.Webhooks.List(r.Context(), rq.id.actor, p.Org.ID)
	if err != nil {
		return nil, err
	}
	last, err := s.app.Webhooks.LastDeliveries(r.Context(), rq.id.actor, p.Org.ID)
	if err != nil {
		return nil, err
	}
	for _, h := range list {
		row := hookRow{WebhookEndpoint: h}
		if d, ok := last[h.ID]; ok {
			row.Last = &d
		}
		hp.Hooks = append(hp.Hooks, row)
	}
	return hp, nil
}

// fillForm sets what the endpoint form shows ticked: what was posted, else the endpoint's
// own settings, else a new endpoint's (every type, enabled).
func (hp *hooksPage) fillForm(r *http.Request, h *roster.WebhookEndpoint) {
	hp.Checked = map[string]bool{}
	switch {
	case r.Method == http.MethodPost && r.PostForm.Has("url"):
		for _, t := range r.PostForm["event_types"] {
			hp.Checked[t] = true
		}
		hp.Enabled = r.PostForm.Get("enabled") != ""
	case h != nil:
		for _, t := range h.EventTypes {
			hp.Checked[t] = true
		}
		hp.Enabled = h.Enabled
	default:
		hp.Enabled = true
	}
}

// webhookInput reads the endpoint form.
func webhookInput(r *http.Request) app.WebhookInput {
	return app.WebhookInput{URL: strings.TrimSpace(r.PostFormValue("url")), Description: r.PostFormValue("description"),
		EventTypes: r.PostForm["event_types"], Enabled: r.PostFormValue("enabled") != ""}
}

// webhookCreate adds an endpoint and shows its secret once, in a pop-up over the tab; a
// refusal shows the form again with what was submitted.
func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	created, err := s.app.Webhooks.Create(r.Context(), rq.id.actor, r.PathValue("org"), webhookInput(r))
	v, p, perr := s.hooksView(w, r, rq)
	if perr != nil {
		return perr
	}
	if err != nil {
		return s.renderWebhooks(w, r, rq, v, p, s.setError(r, v, err))
	}
	hp, err := s.loadWebhooks(r, rq, p)
	if err != nil {
		return err
	}
	hp.Hook, hp.Secret, p.Dialog = &created.Endpoint, created.Secret, "webhook_secret"
	s.render(w, r, http.StatusOK, "org_webhooks", v)
	return nil
}

// orgWebhook shows an endpoint's page, with the pop-up to rotate its secret or to confirm
// its deletion when the path asks for one.
func (s *Server) orgWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.hooksView(w, r, rq)
	if err != nil {
		return err
	}
	return s.renderWebhook(w, r, rq, v, p, http.StatusOK, "")
}

// renderWebhook renders an endpoint's page; secret, when set, is its new secret, shown once.
func (s *Server) renderWebhook(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int, secret string) error {
	hp := &hooksPage{Base: webhooksPath(r), Types: roster.EventTypes, TestType: app.WebhookTestEvent, Now: s.app.Now(), Secret: secret}
	p.Hooks = hp
	h, err := s.app.Webhooks.Get(r.Context(), rq.id.actor, p.Org.ID, r.PathValue("hook"))
	if err != nil {
		return err
	}
	hp.Hook = &h
	if hp.Deliveries, err = s.app.Webhooks.Deliveries(r.Context(), rq.id.actor, p.Org.ID, h.ID, 50); err != nil {
		return err
	}
	hp.fillForm(r, &h)
	switch {
	case secret != "":
		p.Dialog = "webhook_secret"
	case strings.HasSuffix(r.URL.Path, "/rotate"):
		p.Dialog = "rotate_webhook"
	case strings.HasSuffix(r.URL.Path, "/delete"):
		p.Dialog = "delete_webhook"
	}
	s.render(w, r, status, "org_webhook", v)
	return nil
}

// webhookAction runs one change on an endpoint and goes to back with a notice, or shows the
// endpoint's page again with the app's refusal (in the pop-up the form was in, if any).
func (s *Server) webhookAction(w http.ResponseWriter, r *http.Request, rq *request, flash, back string, do func() error) error {
	if err := do(); err != nil {
		v, p, perr := s.hooksView(w, r, rq)
		if perr != nil {
			return perr
		}
		return s.renderWebhook(w, r, rq, v, p, s.setError(r, v, err), "")
	}
	redirect(w, r, back, flash)
	return nil
}

// hookPath is the address of the endpoint's page.
func hookPath(r *http.Request) string { return webhooksPath(r) + "/" + r.PathValue("hook") }

func (s *Server) webhookUpdate(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.webhookAction(w, r, rq, "webhook_saved", hookPath(r), func() error {
		_, err := s.app.Webhooks.Update(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("hook"), webhookInput(r))
		return err
	})
}

func (s *Server) webhookDelete(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.webhookAction(w, r, rq, "webhook_deleted", webhooksPath(r), func() error {
		return s.app.Webhooks.Delete(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("hook"))
	})
}

func (s *Server) webhookTest(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.webhookAction(w, r, rq, "webhook_test_sent", hookPath(r), func() error {
		_, err := s.app.Webhooks.SendTestEvent(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("hook"))
		return err
	})
}

func (s *Server) webhookRedeliver(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.webhookAction(w, r, rq, "webhook_redelivered", hookPath(r), func() error {
		return s.app.Webhooks.Redeliver(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("hook"), r.PostFormValue("event_id"))
	})
}

func (s *Server) webhookReplay(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.webhookAction(w, r, rq, "webhook_replayed", hookPath(r), func() error {
		since, err := replaySince(r.PostFormValue("since"))
		if err != nil {
			return err
		}
		_, err = s.app.Webhooks.Replay(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("hook"), since)
		return err
	})
}

// replaySince reads the replay form's date and time (a datetime-local field, in UTC as the
// console shows times).
func replaySince(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, roster.Invalidf("since", "give a date and time")
}

// webhookRotate gives the endpoint a new secret and shows it once in a pop-up; the previous
// one keeps signing for the overlap chosen.
func (s *Server) webhookRotate(w http.ResponseWriter, r *http.Request, rq *request) error {
	var secret string
	overlap, err := strconv.ParseInt(r.PostFormValue("overlap_seconds"), 10, 32)
	if err != nil {
		err = roster.Invalidf("overlap_seconds", "choose an overlap")
	} else {
		secret, err = s.app.Webhooks.RotateSecret(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("hook"), time.Duration(overlap)*time.Second)
	}
	v, p, perr := s.hooksView(w, r, rq)
	if perr != nil {
		return perr
	}
	status := http.StatusOK
	if err != nil {
		status = s.setError(r, v, err)
	}
	return s.renderWebhook(w, r, rq, v, p, status, secret)
}
