package mail

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
)

//go:embed locales/*.json
var localeFiles embed.FS

//go:embed layout/email.html layout/email.txt
var layoutFiles embed.FS

// Templates lists every email Roster sends. Each exists in every locale; NewRenderer
// refuses to start otherwise.
var Templates = []string{
	"invitation", "set_password", "password_reset", "verify_email", "change_email", "email_changed",
	"invitation_accepted", "invitation_undeliverable", "signup_attempt", "password_changed",
	"ownership_transferred_from", "ownership_transferred_to", "access_removed", "api_key_created", "webhook_disabled",
	"passkey_added", "passkey_removed", "passkey_cloned", "two_factor_enabled", "two_factor_disabled",
	"recovery_codes_regenerated", "two_factor_reset", "two_factor_reset_by_operator", "second_factor_failures",
}

// DefaultLocale is the language of last resort.
const DefaultLocale = "en"

// catalogFile is the shape of locales/LANG.json.
type catalogFile struct {
	Common struct {
		Greeting          string            `json:"greeting"`
		GreetingAnonymous string            `json:"greeting_anonymous"`
		LinkFallback      string            `json:"link_fallback"`
		Footer            string            `json:"footer"`
		Date              string            `json:"date"`
		Months            []string          `json:"months"`
		OrgRoles          map[string]string `json:"org_roles"`
		StoreRoles        map[string]string `json:"store_roles"`
	} `json:"common"`
	Templates map[string]struct {
		Subject    string   `json:"subject"`
		Heading    string   `json:"heading"`
		Greeting   string   `json:"greeting"` // "anonymous": the recipient may have no account, and no name
		Paragraphs []string `json:"paragraphs"`
		Button     string   `json:"button"`
		After      []string `json:"after"`
	} `json:"templates"`
}

// snippets are one email in one language, parsed.
type snippets struct {
	subject, heading, greeting, button *texttemplate.Template
	paragraphs, after                  []*texttemplate.Template
}

type locale struct {
	common    catalogFile
	greeting  *texttemplate.Template
	anonymous *texttemplate.Template // the greeting without a name
	footer    *texttemplate.Template
	fallback  string
	templates map[string]snippets
}

// Renderer renders the outbox's emails, in HTML and plain text, in the recipient's language.
type Renderer struct {
	product   string
	templates func() (*templates, error) // parsed on the first email (parseTemplates)
}

// templates are every email's snippets in every locale, and the layouts around them.
type templates struct {
	locales map[string]*locale
	html    *htmltemplate.Template
	text    *texttemplate.Template
}

// NewRenderer returns the renderer of the outbox's emails; product names the service in the
// emails ("Roster" when empty). The templates are parsed when the first email is rendered,
// so a node that sends none never holds them. They are embedded in the binary, and the tests
// render every template in every locale, so a missing or broken one stops the tests rather
// than an email.
func NewRenderer(product string) (*Renderer, error) {
	if product == "" {
		product = "Roster"
	}
	if strings.ContainsAny(product, "\r\n") {
		return nil, errors.New("mail: the product name has a line break")
	}
	return &Renderer{product: product, templates: sync.OnceValues(parseTemplates)}, nil
}

// parseTemplates parses the layouts and every locale's snippets, and fails if a template is
// missing from a locale or broken.
func parseTemplates() (*templates, error) {
	ts := &templates{locales: map[string]*locale{}}
	var err error
	if ts.html, err = htmltemplate.ParseFS(layoutFiles, "layout/email.html"); err != nil {
		return nil, err
	}
	if ts.text, err = texttemplate.ParseFS(layoutFiles, "layout/email.txt"); err != nil {
		return nil, err
	}
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		lang := strings.TrimSuffix(path.Base(f), ".json")
		b, err := localeFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		loc, err := parseLocale(lang, b)
		if err != nil {
			return nil, fmt.Errorf("mail: locale %s: %w", lang, err)
		}
		ts.locales[lang] = loc
	}
	if ts.locales[DefaultLocale] == nil {
		return nil, fmt.Errorf("mail: no %s locale", DefaultLocale)
	}
	return ts, nil
}

// Locales returns the languages the renderer speaks, sorted (none if its templates are broken).
func (r *Renderer) Locales() []string {
	ts, err := r.templates()
	if err != nil {
		return nil
	}
	return slices.Sorted(maps.Keys(ts.locales))
}

func parseLocale(lang string, b []byte) (*locale, error) {
	var c catalogFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if len(c.Common.Months) != 12 || c.Common.Date == "" || c.Common.LinkFallback == "" {
		return nil, errors.New("common: months, date and link_fallback are required")
	}
	loc := &locale{common: c, fallback: c.Common.LinkFallback, templates: map[string]snippets{}}
	// The locale's snippets are one set sharing its functions and lookup tables; a template
	// each, holding copies of them, made the renderer 747 KB instead of 379 KB.
	set := texttemplate.New(lang).Funcs(loc.funcs())
	parse := func(name, s string) (*texttemplate.Template, error) {
		return set.New(name).Parse(s)
	}
	var err error
	if loc.greeting, err = parse("greeting", c.Common.Greeting); err != nil {
		return nil, err
	}
	if loc.anonymous, err = parse("greeting_anonymous", c.Common.GreetingAnonymous); err != nil {
		return nil, err
	}
	if loc.footer, err = parse("footer", c.Common.Footer); err != nil {
		return nil, err
	}
	for _, name := range Templates {
		t, ok := c.Templates[name]
		if !ok || t.Subject == "" || t.Heading == "" || len(t.Paragraphs) == 0 {
			return nil, fmt.Errorf("template %s is missing or lacks a subject, heading or paragraph", name)
		}
		var s snippets
		if s.subject, err = parse(name+".subject", t.Subject); err != nil {
			return nil, err
		}
		if s.heading, err = parse(name+".heading", t.Heading); err != nil {
			return nil, err
		}
		if s.button, err = parse(name+".button", t.Button); err != nil {
			return nil, err
		}
		if t.Greeting == "anonymous" {
			s.greeting = loc.anonymous
		}
		for i, p := range t.Paragraphs {
			pt, err := parse(name+".paragraph"+strconv.Itoa(i), p)
			if err != nil {
				return nil, err
			}
			s.paragraphs = append(s.paragraphs, pt)
		}
		for i, p := range t.After {
			pt, err := parse(name+".after"+strconv.Itoa(i), p)
			if err != nil {
				return nil, err
			}
			s.after = append(s.after, pt)
		}
		loc.templates[name] = s
	}
	for name := range c.Templates {
		if !slices.Contains(Templates, name) {
			return nil, fmt.Errorf("unknown template %s", name)
		}
	}
	return loc, nil
}

// funcs are what the catalog's snippets may call.
func (loc *locale) funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"date": func(v any) string { return loc.date(v) },
		"orgRole": func(v any) string {
			s := fmt.Sprint(v)
			if n, ok := loc.common.Common.OrgRoles[s]; ok {
				return n
			}
			return s
		},
		"storeRole": func(id, name any) string {
			s := fmt.Sprint(id)
			if n, ok := loc.common.Common.StoreRoles[s]; ok {
				return n
			}
			if name != nil && fmt.Sprint(name) != "" {
				return fmt.Sprint(name)
			}
			return s
		},
	}
}

// date formats an RFC 3339 time in the locale's words, in UTC.
func (loc *locale) date(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	t = t.UTC()
	return strings.NewReplacer("{day}", strconv.Itoa(t.Day()), "{month}", loc.common.Common.Months[t.Month()-1],
		"{year}", strconv.Itoa(t.Year()), "{time}", t.Format("15:04")).Replace(loc.common.Common.Date)
}

// Email is what to render: the template, the recipient's language, the template's data and
// the link the button opens ("" for none).
type Email struct {
	ID       string
	Template string
	Locale   string
	To       string
	Data     map[string]any
	Link     string
}

// page is what the layouts see.
type page struct {
	Lang, Product, Subject, Heading, Greeting, Button, LinkFallback, Footer string
	Paragraphs, After                                                       []string
	Link                                                                    string
	Logo, LogoAlt                                                           string // the organization's logo, when the email is about one that has one
}

// Render turns an email into a message: subject, plain text and HTML. Values in the data
// are escaped in the HTML. A subject or recipient with a line break is refused (it would
// forge headers), and so is an unknown template; both are permanent failures.
func (r *Renderer) Render(e Email) (Message, error) {
	ts, err := r.templates()
	if err != nil {
		return Message{}, err // not permanent: the email waits for a binary whose templates parse
	}
	loc := ts.locales[e.Locale]
	if loc == nil {
		loc, e.Locale = ts.locales[DefaultLocale], DefaultLocale
	}
	s, ok := loc.templates[e.Template]
	if !ok {
		return Message{}, Permanent(fmt.Errorf("mail: unknown template %q", e.Template))
	}
	if strings.ContainsAny(e.To, "\r\n") || !strings.Contains(e.To, "@") {
		return Message{}, Permanent(errors.New("mail: invalid recipient"))
	}
	data := make(map[string]any, len(e.Data)+1)
	maps.Copy(data, e.Data)
	data["product"] = r.product
	exec := func(t *texttemplate.Template) (string, error) {
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return "", Permanent(fmt.Errorf("mail: render %s: %w", t.Name(), err))
		}
		return strings.TrimSpace(b.String()), nil
	}
	p := page{Lang: e.Locale, Product: r.product, LinkFallback: loc.fallback, Link: e.Link}
	if logo, _ := data["org_logo_url"].(string); strings.HasPrefix(logo, "https://") || strings.HasPrefix(logo, "http://") {
		p.Logo = logo
		p.LogoAlt, _ = data["org_name"].(string)
	}
	for _, f := range []struct {
		t   *texttemplate.Template
		out *string
	}{{s.subject, &p.Subject}, {s.heading, &p.Heading}, {s.button, &p.Button}, {loc.footer, &p.Footer}} {
		if *f.out, err = exec(f.t); err != nil {
			return Message{}, err
		}
	}
	greeting := s.greeting
	if greeting == nil {
		greeting = loc.greeting
		if n, _ := data["name"].(string); n == "" {
			greeting = loc.anonymous
		}
	}
	if p.Greeting, err = exec(greeting); err != nil {
		return Message{}, err
	}
	for _, list := range []struct {
		ts  []*texttemplate.Template
		out *[]string
	}{{s.paragraphs, &p.Paragraphs}, {s.after, &p.After}} {
		for _, t := range list.ts {
			line, err := exec(t)
			if err != nil {
				return Message{}, err
			}
			if line != "" {
				*list.out = append(*list.out, line)
			}
		}
	}
	if strings.ContainsAny(p.Subject, "\r\n") {
		return Message{}, Permanent(errors.New("mail: line break in the subject"))
	}
	p.Subject = strings.Join(strings.Fields(p.Subject), " ")
	if p.Subject == "" {
		return Message{}, Permanent(errors.New("mail: invalid subject"))
	}
	var html, text bytes.Buffer
	if err := ts.html.Execute(&html, p); err != nil {
		return Message{}, Permanent(err)
	}
	if err := ts.text.Execute(&text, p); err != nil {
		return Message{}, Permanent(err)
	}
	return Message{ID: e.ID, Template: e.Template, Locale: e.Locale, To: e.To, Subject: p.Subject, Text: text.String(), HTML: html.String()}, nil
}
