package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"golang.org/x/text/language"

	"github.com/rosterhq/roster"
)

//go:embed i18n/*.json
var catalogFS embed.FS

// catalogs holds every text of the console, per locale: locale → key → text. Texts name
// their parameters in braces, such as "{count} stores".
type catalogs map[string]map[string]string

// loadCatalogs reads the embedded catalogs of every locale Roster speaks.
func loadCatalogs() (catalogs, error) {
	c := catalogs{}
	for _, loc := range roster.Locales {
		b, err := catalogFS.ReadFile("i18n/" + loc + ".json")
		if err != nil {
			return nil, fmt.Errorf("console: catalog %s: %w", loc, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("console: catalog %s: %w", loc, err)
		}
		c[loc] = m
	}
	return c, nil
}

// has reports whether the English catalog (the reference) has a key.
func (c catalogs) has(key string) bool { _, ok := c[roster.Locales[0]][key]; return ok }

// text returns the text of key in a locale, its parameters filled from name/value pairs.
// A key missing from a locale falls back to English; the tests make sure none is missing.
func (c catalogs) text(loc, key string, args ...any) string {
	s, ok := c[loc][key]
	if !ok {
		if s, ok = c[roster.Locales[0]][key]; !ok {
			return key
		}
	}
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// plural returns the text of key.one or key.other depending on n, with {count} set to n, by
// each language's rule (CLDR): "one" is 1 in English and Spanish, 0 and 1 in French.
func (c catalogs) plural(loc, key string, n int, args ...any) string {
	form := ".other"
	if n == 1 || (n == 0 && loc == "fr") {
		form = ".one"
	}
	return c.text(loc, key+form, append([]any{"count", n}, args...)...)
}

// textOr returns the text of prefix+value when the catalog has it, else value itself: for
// words that come from data (an audit action, a host application's permission).
func (c catalogs) textOr(loc, prefix, value string) string {
	if c.has(prefix + value) {
		return c.text(loc, prefix+value)
	}
	return value
}

var (
	localeTags    = []language.Tag{language.English, language.French, language.Spanish}
	localeMatcher = language.NewMatcher(localeTags)
)

// negotiate picks the locale of a visitor from their browser's Accept-Language.
func negotiate(r *http.Request) string {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return roster.Locales[0]
	}
	_, i, conf := localeMatcher.Match(tags...)
	if conf == language.No {
		return roster.Locales[0]
	}
	base, _ := localeTags[i].Base()
	return base.String()
}

// errorText translates an error of the app for the person who caused it. Internal errors
// show only the request ID to quote; the cause is in the log.
// fieldText is what to say next to one field at fault: the error's own text when its code
// has one (an address that is not valid, a password too short), else that the value is
// missing, too long or not valid.
func (c catalogs) fieldText(loc string, fe *roster.Error) string {
	if fe.Code != roster.EInvalid && c.has("error."+fe.Code) {
		return c.errorText(loc, fe, "")
	}
	return c.text(loc, "error.field_invalid")
}

// fieldsText is the notice of a form with several fields at fault: it names them all.
func (c catalogs) fieldsText(loc string, fields []*roster.Error) string {
	names := make([]string, 0, len(fields))
	for _, fe := range fields {
		name := fe.Field
		if c.has("field." + fe.Field) {
			name = c.text(loc, "field."+fe.Field)
		}
		names = append(names, c.text(loc, "error.field_name", "field", name))
	}
	return c.text(loc, "error.invalid_fields", "fields", strings.Join(names, ", "))
}

func (c catalogs) errorText(loc string, err error, requestID string) string {
	e := roster.AsError(err)
	if e == nil || e.Code == roster.EInternal {
		return c.text(loc, "error.internal", "request_id", requestID)
	}
	args := make([]any, 0, 2*len(e.Details)+4)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := e.Details[k].(type) {
		case string, int, int64, float64:
			args = append(args, k, v)
		case []string:
			args = append(args, k, strings.Join(v, ", "))
		}
	}
	if e.RetryAfter > 0 {
		args = append(args, "seconds", roster.RetryAfterHeader(0, e.RetryAfter))
	}
	if e.Code == roster.EInvalid {
		if e.Field != "" && c.has("field."+e.Field) {
			return c.text(loc, "error.invalid_field", "field", c.text(loc, "field."+e.Field))
		}
		return c.text(loc, "error.invalid")
	}
	if e.Field != "" && c.has("error."+e.Code+"."+e.Field) { // the same refusal said of one field: the password of a step-up, not a login's
		return c.text(loc, "error."+e.Code+"."+e.Field, args...)
	}
	if c.has("error." + e.Code) {
		return c.text(loc, "error."+e.Code, args...)
	}
	return c.text(loc, "error.generic")
}
