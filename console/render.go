package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames lists every page template. Each is parsed with the layout at start-up; one
// missing fails New, and so the tests.
var pageNames = []string{
	"error", "login", "signup", "forgot", "reset", "setup", "notice", "link", "accept",
	"home", "org_new", "org_details", "org_stores", "org_members", "org_audit", "org_transfer", "org_delete", "org_invitations", "org_policy",
	"org_roles", "org_keys", "org_usage", "org_webhooks", "org_webhook", "org_domains", "org_sso", "sso_continue", "org_scim", "org_setup_links",
	"store", "account", "account_confirm", "operator_orgs", "operator_users", "operator_mailbox",
	"oidc_choose", "operator_clients", "operator_client", "operator_keys", "login_mfa",
}

// views are what the console's pages are made of: every language's texts and the templates.
type views struct {
	cat   catalogs
	pages *template.Template // every page, by name (parsePages)
}

// loadViews reads the embedded catalogs and parses the templates. It returns views even when
// it fails, so that texts fall back to their keys and render reports the error (a 500 and a
// log line; a build that passed the tests never gets there).
func loadViews() (*views, error) {
	cat, err := loadCatalogs()
	if err != nil {
		return &views{}, err
	}
	pages, err := parsePages(cat)
	if err != nil {
		return &views{cat: cat}, err
	}
	return &views{cat: cat, pages: pages}, nil
}

// cat returns the console's texts, read on first use.
func (s *Server) cat() catalogs {
	vs, _ := s.views()
	return vs.cat
}

// parsePages parses the console's templates into one set: the shared partials once, and for
// each page its blocks under the page's name — "org_members/content", "org_members/dialog" —
// and the layout as "org_members", calling them. A set per page (the layout and partials
// cloned forty times, each copy escaped on its own) held 10 MB of the idle server's heap.
func parsePages(cat catalogs) (*template.Template, error) {
	fm := funcs(cat)
	set, err := template.New("partials.html").Funcs(fm).ParseFS(templateFS, "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	layout, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		if err := addPage(set, fm, name, string(layout)); err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
	}
	return set, nil
}

// pageBlocks are the blocks of a page that the layout calls; a page may leave out the dialog.
var pageBlocks = []string{"content", "dialog"}

// addPage adds a page's templates to set: its blocks under name+"/"+block, any other template
// it defines under its own name, and the layout, its calls of the blocks renamed, under name.
func addPage(set *template.Template, fm template.FuncMap, name, layout string) error {
	src, err := templateFS.ReadFile("templates/" + name + ".html")
	if err != nil {
		return err
	}
	page, err := template.New(name + ".html").Funcs(fm).Parse(string(src))
	if err != nil {
		return err
	}
	lay, err := template.New(name).Funcs(fm).Parse(layout)
	if err != nil {
		return err
	}
	if page.Lookup("content") == nil {
		return fmt.Errorf("no content block")
	}
	if set.Lookup(name) != nil {
		return fmt.Errorf("a template of the partials has the page's name")
	}
	for _, t := range page.Templates() {
		if t.Tree == nil || t.Name() == page.Name() {
			continue
		}
		own := t.Name()
		if slices.Contains(pageBlocks, own) {
			own = name + "/" + own
		} else if set.Lookup(own) != nil {
			return fmt.Errorf("template %q is defined twice", own)
		}
		if _, err := set.AddParseTree(own, t.Tree); err != nil {
			return err
		}
	}
	for _, block := range pageBlocks {
		if set.Lookup(name+"/"+block) == nil { // the layout's default ({{block}})
			if _, err := set.AddParseTree(name+"/"+block, lay.Lookup(block).Tree); err != nil {
				return err
			}
		}
	}
	tree := lay.Lookup(name).Tree
	renameCalls(tree.Root, func(called string) string {
		if slices.Contains(pageBlocks, called) {
			return name + "/" + called
		}
		return called
	})
	_, err = set.AddParseTree(name, tree)
	return err
}

// renameCalls renames the templates that the {{template}} actions under n call.
func renameCalls(n parse.Node, rename func(string) string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				renameCalls(c, rename)
			}
		}
	case *parse.TemplateNode:
		n.Name = rename(n.Name)
	case *parse.IfNode:
		renameCalls(n.List, rename)
		renameCalls(n.ElseList, rename)
	case *parse.RangeNode:
		renameCalls(n.List, rename)
		renameCalls(n.ElseList, rename)
	case *parse.WithNode:
		renameCalls(n.List, rename)
		renameCalls(n.ElseList, rename)
	}
}

// view is what every page template receives.
type view struct {
	L        string // the locale
	Title    string // catalog key of the page title
	CSRF     string // the form token of the active identity
	Path     string
	Query    url.Values
	Me       *roster.User
	Accounts []account // other identities signed in in this browser
	Orgs     []roster.Affiliation
	Org      *roster.Affiliation // the active organization in the selector
	Store    *roster.StoreAccess // the active store in the selector
	Flash    string              // a success message, translated
	Error    string              // an error message, translated
	Field    string              // the form field at fault (the first, when there are several)
	Fields   map[string]string   // every form field at fault → what to say next to it, translated
	ErrInfo  map[string]any      // the error's machine-readable facts (the pending invitation to resend…)
	Form     url.Values          // the values posted, to fill the form again
	PageURL  string              // after a post: the page's own address, for the address bar (see pageURL)
	D        any                 // the page's own data
	StepUp   *app.StepUpState    // what a dangerous action's form asks for (stepup.go); nil on other pages
	Portal   *app.SetupPortal    // on the pages of a setup link: the organization it sets up (setuplinks.go)

	access map[string]roster.Access // organization ID → the user's access there
}

// account is another identity signed in in this browser, as the user menu lists it.
type account struct {
	ID, Name, Email string
}

// dialogPage is page data that may open a pop-up over the page.
type dialogPage interface{ dialogName() string }

// Bad reports whether a form field is at fault: marked aria-invalid, its message beside it.
func (v *view) Bad(field string) bool {
	_, ok := v.Fields[field]
	return ok || (field != "" && field == v.Field)
}

// FieldText is what to say next to a field at fault, "" for a field that is not.
func (v *view) FieldText(field string) string { return v.Fields[field] }

// Here is the page's own address, its query with it but without a notice (ok=): where a form
// of the layout that comes back to the page (the verification banner, the language) returns.
// A page whose query says what it shows (a sign-in's chooser, filters) is nothing without it.
// A page rendered in answer to a post is the page the form was on (PageURL).
func (v *view) Here() string {
	if v.PageURL != "" {
		return v.PageURL
	}
	q := url.Values{}
	for k, vs := range v.Query {
		if k != "ok" {
			q[k] = vs
		}
	}
	return (&url.URL{Path: v.Path, RawQuery: q.Encode()}).String()
}

// InDialog reports whether a pop-up is open: messages then show inside it.
func (v *view) InDialog() bool {
	d, ok := v.D.(dialogPage)
	return ok && d.dialogName() != ""
}

// view prepares the common part of a page: who is signed in, the selector and messages.
func (s *Server) view(w http.ResponseWriter, r *http.Request, rq *request, title string) *view {
	v := &view{L: rq.loc, Title: title, Path: r.URL.Path, Query: r.URL.Query(), Form: url.Values{}}
	if r.Method == http.MethodPost {
		v.Form, v.PageURL = r.PostForm, pageURL(r)
	}
	if f := r.URL.Query().Get("ok"); f != "" && s.cat().has("flash."+f) {
		v.Flash = s.cat().text(rq.loc, "flash."+f)
	}
	if rq.link != nil { // the pages of a setup link: its organization alone, whoever is signed in
		v.Portal, v.CSRF = &rq.link.portal, formToken(rq.link.token)
		return v
	}
	if rq.id == nil {
		return v
	}
	u := rq.id.user
	v.Me, v.CSRF = &u, formToken(rq.id.token)
	v.Accounts = accounts(rq.others)
	ws, err := s.workspace(r, rq)
	if err != nil {
		return v
	}
	v.Orgs, v.access = ws.Orgs, ws.Access
	v.Org, v.Store = pick(ws.Orgs, ws.Selection)
	return v
}

// Access returns the signed-in user's access in one of their organizations, for templates
// to ask its methods (Can, CanInStore) what to show.
func (v *view) Access(orgID string) roster.Access { return v.access[orgID] }

// accounts lists identities for the user menu.
func accounts(ids []identity) []account {
	out := make([]account, len(ids))
	for i, id := range ids {
		out[i] = account{ID: id.user.ID, Name: id.user.Name, Email: id.user.Email}
	}
	return out
}

// pick finds the remembered selection among the organizations and stores the user reaches
// today; without one, the first active organization and its first store.
func pick(affs []roster.Affiliation, sel app.Selection) (*roster.Affiliation, *roster.StoreAccess) {
	for i := range affs {
		a := &affs[i]
		if a.Organization.ID != sel.OrgID || a.Membership.Status != roster.MembershipActive {
			continue
		}
		for j := range a.Stores {
			if a.Stores[j].Store.ID == sel.StoreID {
				return a, &a.Stores[j]
			}
		}
		if len(a.Stores) > 0 && sel.StoreID != "" {
			return a, &a.Stores[0]
		}
		return a, nil
	}
	for i := range affs {
		a := &affs[i]
		if a.Membership.Status != roster.MembershipActive {
			continue
		}
		if len(a.Stores) > 0 {
			return a, &a.Stores[0]
		}
		return a, nil
	}
	return nil, nil
}

// setError records an error to show in place, on the form that caused it.
func (s *Server) setError(r *http.Request, v *view, err error) int {
	v.Error = s.cat().errorText(v.L, err, httpserver.RequestID(r.Context()))
	if e := roster.AsError(err); e != nil {
		v.Field, v.ErrInfo = e.Field, e.Details
		fields := roster.FieldErrors(e)
		v.Fields = make(map[string]string, len(fields))
		for _, fe := range fields {
			v.Fields[fe.Field] = s.cat().fieldText(v.L, fe)
		}
		if len(fields) > 1 {
			v.Error = s.cat().fieldsText(v.L, fields)
		}
	} else {
		s.log.ErrorContext(r.Context(), "internal error", "err", err, "path", r.URL.Path, "request_id", httpserver.RequestID(r.Context()))
	}
	return roster.HTTPStatus(roster.ErrorCode(err))
}

// render writes a page. Templates run into a buffer first, so a failure never leaves half
// a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	vs, err := s.views()
	if err == nil && vs.pages.Lookup(name) == nil {
		panic("console: no page " + name) // pageNames and the handlers disagree: a bug the tests catch
	}
	var buf bytes.Buffer
	if err == nil {
		err = vs.pages.ExecuteTemplate(&buf, name, v)
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err, "request_id", httpserver.RequestID(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodPost && v.PageURL != "" {
		w.Header().Set("HX-Push-Url", v.PageURL)
	}
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pageURL is where a page rendered in answer to a post belongs, success or failure: the
// page the form was on (htmx's HX-Current-URL, else the Referer), on this host, without a
// notice of its own (ok=). The address bar then shows it, by htmx's HX-Push-Url or by
// roster.js from <main data-page-url>, so a reload asks for that page and never posts again
// or opens the post's address (a raw logo, an accept page without its token). Without
// JavaScript the browser keeps the post's address, as browsers do.
func pageURL(r *http.Request) string {
	for _, h := range []string{r.Header.Get("HX-Current-URL"), r.Referer()} {
		u, err := url.Parse(h)
		if h == "" || err != nil || u.Host != r.Host || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
			continue
		}
		q := u.Query()
		q.Del("ok")
		u = &url.URL{Path: u.Path, RawQuery: q.Encode()}
		return u.String()
	}
	return ""
}

// funcs are the helpers templates may call.
func funcs(cat catalogs) template.FuncMap {
	return template.FuncMap{
		"t":        func(loc, key string, args ...any) string { return cat.text(loc, key, args...) },
		"tn":       func(loc, key string, n int, args ...any) string { return cat.plural(loc, key, n, args...) },
		"tk":       func(loc, prefix string, value any) string { return cat.textOr(loc, prefix, fmt.Sprint(value)) },
		"has":      func(g roster.StoreGrant, p string) bool { return g.Perms.Has(roster.Permission(p)) },
		"maxlen":   maxLength,
		"mappings": mappingsText,
		"join":     strings.Join,
		"choices":  choices,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04") + " UTC"
		},
		"day": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"initial": func(s string) string {
			for _, r := range s {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"add": func(a, b int) int { return a + b },
		"sub": func(a, b int) int { return a - b },
		"qs": func(kv ...any) string {
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if s := fmt.Sprint(kv[i+1]); s != "" {
					q.Set(fmt.Sprint(kv[i]), s)
				}
			}
			if len(q) == 0 {
				return ""
			}
			return "?" + q.Encode()
		},
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"contains": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"list":      func(s ...string) []string { return s },
		"hasPrefix": strings.HasPrefix,
		// rolename names a store role: built-in ones in the page's language, custom ones by
		// their name (given, or looked up in a list of roles).
		"rolename": func(loc, id string, from any) string {
			if roster.IsBuiltinStoreRole(id) {
				return cat.text(loc, "storerole."+id)
			}
			switch f := from.(type) {
			case string:
				if f != "" {
					return f
				}
			case []app.RoleView:
				for _, r := range f {
					if r.ID == id {
						return r.Name
					}
				}
			}
			return cat.text(loc, "storerole.custom")
		},
		"days": func(d time.Duration) int { return int(d / (24 * time.Hour)) },
		// pagerFirst links back to the first page when the listing is not on it.
		"pagerFirst": func(cursor, first string) string {
			if cursor == "" {
				return ""
			}
			return first
		},
		// pagerNext links to the page after cursor next, keeping the filters.
		"pagerNext": func(next, base string, kv ...any) string {
			if next == "" {
				return ""
			}
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if s := fmt.Sprint(kv[i+1]); s != "" {
					q.Set(fmt.Sprint(kv[i]), s)
				}
			}
			q.Set("cursor", next)
			return base + "?" + q.Encode()
		},
	}
}

// fieldLimits are the maxlength of the console's text fields, from roster's limits
// (limits.go): a field states no number of its own.
var fieldLimits = map[string]int{
	"name": roster.MaxNameLength, "role_name": roster.MaxRoleNameLength, "description": roster.MaxDescriptionLength,
	"message": roster.MaxInvitationMessage, "website": roster.MaxWebsiteLength, "email": roster.MaxEmailLength,
	"legal_name": roster.MaxLegalNameLength, "phone": roster.MaxPhoneLength, "address_line1": roster.MaxAddressLineLength,
	"address_line2": roster.MaxAddressLineLength, "city": roster.MaxCityLength, "postal_code": roster.MaxPostalCodeLength,
	"region": roster.MaxRegionLength, "time_zone": roster.MaxTimeZoneLength, "q": roster.MaxSearchLength, "id": roster.MaxIDLength,
	"url": roster.MaxURILength, "code": roster.MaxCodeLength, "domain": roster.MaxDomainLength,
	"client_id": roster.MaxSSOClientID, "client_secret": roster.MaxSSOClientSecret, "claim": roster.MaxSSOClaimLength,
	"scopes": roster.MaxSSOScopes * (roster.MaxSSOScopeLength + 1), "metadata": roster.MaxSSOMetadataBytes,
	"mappings": roster.MaxSSORoleMappings * (roster.MaxSSOGroupLength + 100),
}

// maxLength is the template function maxlen: the longest a field may be. A field without a
// limit fails the page, so that a new one cannot go unbounded unnoticed.
func maxLength(field string) (int, error) {
	if n, ok := fieldLimits[field]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("console: no limit for the field %q in fieldLimits", field)
}
