package console

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"golang.org/x/net/html"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// usedKeys returns every catalog key the console can show: the static keys of the
// templates, the keys its Go code names, and the keys made from the vocabulary's values.
func usedKeys(t *testing.T, cat catalogs) map[string]string {
	t.Helper()
	keys := map[string]string{}
	pages, err := parsePages(cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range pages.Templates() {
		if tt.Tree != nil {
			walkKeys(tt.Tree.Root, tt.Name(), keys)
		}
	}
	// Keys named in the Go code: page titles, messages, error codes of the console's own.
	_, files := parseSources(t)
	keyLike := regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)+$`)
	for fname, f := range files {
		{
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					// Success messages: the flash argument of redirect and of the helpers that call it.
					name := ""
					switch f := n.Fun.(type) {
					case *ast.Ident:
						name = f.Name
					case *ast.SelectorExpr:
						name = f.Sel.Name
					}
					if i, ok := flashArg[name]; ok && i < len(n.Args) {
						if lit, ok := n.Args[i].(*ast.BasicLit); ok {
							if s, _ := strconv.Unquote(lit.Value); s != "" {
								keys["flash."+s] = fname
							}
						}
					}
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "orgPage" && len(n.Args) == 4 {
						if lit, ok := n.Args[3].(*ast.BasicLit); ok {
							s, _ := strconv.Unquote(lit.Value)
							keys["org."+s] = fname
						}
					}
				case *ast.CompositeLit:
					// roster.Error{Code: "console_code"}: the console's own refusals.
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
								if lit, ok := kv.Value.(*ast.BasicLit); ok {
									s, _ := strconv.Unquote(lit.Value)
									keys["error."+s] = fname
								}
							}
						}
					}
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); err == nil && keyLike.MatchString(s) && !strings.HasSuffix(s, ".html") {
						keys[s] = fname
					}
				}
				return true
			})
		}
	}
	// Keys made from values of the vocabulary.
	for _, r := range []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin, roster.OrgMember} {
		keys["orgrole."+string(r)] = "roles"
	}
	for _, r := range roster.BuiltinStoreRoles {
		keys["storerole."+r] = "roles"
		keys["storerole.desc."+r] = "roles"
	}
	for _, st := range []string{roster.APIKeyActive, roster.APIKeyRevoked, roster.APIKeyExpired} {
		keys["keystatus."+st] = "API key statuses"
	}
	for _, s := range []string{"active", "suspended", "deactivated"} {
		keys["status."+s] = "statuses"
	}
	for _, s := range []roster.StoreStatus{roster.StoreActive, roster.StoreArchived} {
		keys["storestatus."+string(s)] = "statuses"
	}
	for _, k := range []roster.ActorKind{roster.ActorAnonymous, roster.ActorUser, roster.ActorAPIKey, roster.ActorService, roster.ActorSystem} {
		keys["actor."+string(k)] = "actors"
	}
	for _, p := range roster.NewCatalog(nil).All() {
		keys["perm."+string(p.Key)] = "permissions"
		keys["area."+p.Area] = "permission areas"
	}
	for _, a := range auditAreas {
		keys["audit.area."+a] = "audit areas"
	}
	for _, code := range errorCodes(t) {
		keys["error."+code] = "error.go"
	}
	for _, st := range []string{"pending", "accepted", "declined", "revoked", "expired"} {
		keys["invstatus."+st] = "invitation statuses"
		if st != "pending" {
			keys["accept.closed."+st] = "invitation statuses"
			keys["accept.closed_help."+st] = "invitation statuses"
		}
	}
	for _, f := range fieldNames {
		keys["field."+f] = "fields"
	}
	for _, a := range auditActions {
		keys["action."+a] = "audit actions"
	}
	for _, a := range webhookActions(t) {
		keys["action."+a] = "app/webhooks.go"
	}
	// The event catalog, in the webhook endpoint form and the delivery log, and the
	// overlaps a rotation offers.
	for _, et := range roster.EventTypes {
		keys["eventtype."+et.Type] = "event catalog"
		area, _, _ := strings.Cut(et.Type, ".")
		keys["audit.area."+area+"."] = "event catalog"
	}
	keys["eventtype."+app.WebhookTestEvent] = "event catalog"
	for _, o := range overlapChoices {
		keys["webhooks.overlap."+strconv.Itoa(o)] = "webhooks.go"
	}
	return keys
}

// flashArg gives, for each function that ends a change with a success message, the index
// of its message argument.
var flashArg = map[string]int{"redirect": 3, "memberAction": 3, "invitationAction": 3, "storeStatus": 4, "roleDone": 4, "webhookAction": 3}

// fieldNames are the input fields the app names in its errors.
var fieldNames = []string{"name", "email", "password", "current_password", "new_password", "locale", "website", "phone",
	"legal_name", "address_line1", "address_line2", "city", "postal_code", "region", "country", "currency", "time_zone",
	"role", "status", "stores", "store_credits", "logo", "user_id", "q", "cursor", "store_id", "action",
	"allowed_domains", "invitation_ttl", "message", "invitations", "url", "description", "event_types", "since", "overlap_seconds", "event_id"}

// auditAreas are the kinds of action the audit log filters on (org_audit.html lists them too).
var auditAreas = []string{"organization.", "store.", "member.", "store_member.", "invitation.", "role.", "api_key.", "user.", "access.", "webhook.", "domain."}

// auditActions are the actions the audit log shows in words.
var auditActions = []string{"organization.created", "organization.updated", "organization.deleted", "organization.logo_changed",
	"organization.ownership_transferred", "organization.store_credits_set", "store.created", "store.updated", "store.archived",
	"store.unarchived", "store.deleted", "store.logo_changed", "member.added", "member.removed", "member.left", "member.role_changed",
	"member.suspended", "member.reactivated", "store_member.role_set", "store_member.removed", "access.denied",
	"invitation.created", "invitation.resent", "invitation.revoked", "invitation.accepted", "invitation.declined",
	"invitation.delivery_failed", "email.delivery_failed", "organization.policy_changed", "member.password_reset_sent",
	"user.created", "role.created", "role.updated", "role.deleted", "role.permission_removed", "api_key.created",
	"api_key.cloned", "api_key.revoked", "audit.exported", "invitation.expired",
	"webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted", "webhook.disabled", "webhook.replayed", "webhook.test_sent",
	"domain.added", "domain.verified", "domain.lapsed", "domain.join_policy_changed", "domain.removed",
	"join_request.created", "join_request.approved", "join_request.declined",
	"sso.configured", "sso.removed", "sso.login_failed", "sso.identity_linked", "domain.sso_required_changed"}

// webhookActions reads the audit actions of app/webhooks.go (every "webhook.…" string but
// the test event's type), so that a new one cannot go unlabelled in the audit log.
func webhookActions(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../app/webhooks.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	action := regexp.MustCompile(`^webhook\.[a-z_]+$`)
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, _ := strconv.Unquote(lit.Value); action.MatchString(s) && s != app.WebhookTestEvent {
				out = append(out, s)
			}
		}
		return true
	})
	if len(out) < 7 {
		t.Fatalf("found only %d webhook actions in app/webhooks.go: %v", len(out), out)
	}
	return out
}

// errorCodes reads the error codes of the vocabulary from error.go.
func errorCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "E") && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						codes = append(codes, s)
					}
				}
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d error codes in error.go", len(codes))
	}
	return codes
}

// walkKeys collects the static keys of t and tn calls in a template tree.
func walkKeys(n parse.Node, where string, keys map[string]string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkKeys(c, where, keys)
		}
	case *parse.ActionNode:
		walkKeys(n.Pipe, where, keys)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkKeys(c, where, keys)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 3 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok {
				if s, ok := n.Args[2].(*parse.StringNode); ok {
					switch id.Ident {
					case "t":
						keys[s.Text] = where
					case "tn":
						keys[s.Text+".one"], keys[s.Text+".other"] = where, where
					}
				}
			}
		}
		for _, a := range n.Args {
			walkKeys(a, where, keys)
		}
	case *parse.IfNode:
		walkKeys(n.Pipe, where, keys)
		walkKeys(n.List, where, keys)
		walkKeys(n.ElseList, where, keys)
	case *parse.RangeNode:
		walkKeys(n.Pipe, where, keys)
		walkKeys(n.List, where, keys)
		walkKeys(n.ElseList, where, keys)
	case *parse.WithNode:
		walkKeys(n.Pipe, where, keys)
		walkKeys(n.List, where, keys)
		walkKeys(n.ElseList, where, keys)
	case *parse.TemplateNode:
		walkKeys(n.Pipe, where, keys)
	}
}

// TestCatalogsComplete fails when a text the console shows is missing from a language,
// or when the languages do not have the same keys.
func TestCatalogsComplete(t *testing.T) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	used := usedKeys(t, cat)
	var missing []string
	for key, where := range used {
		for _, loc := range roster.Locales {
			if s, ok := cat[loc][key]; !ok || strings.TrimSpace(s) == "" {
				missing = append(missing, loc+": "+key+" (used in "+where+")")
			}
		}
	}
	for _, loc := range roster.Locales[1:] {
		for key := range cat[roster.Locales[0]] {
			if _, ok := cat[loc][key]; !ok {
				missing = append(missing, loc+": "+key+" (in en.json)")
			}
		}
		for key := range cat[loc] {
			if _, ok := cat[roster.Locales[0]][key]; !ok {
				missing = append(missing, "en: "+key+" (in "+loc+".json)")
			}
		}
	}
	sort.Strings(missing)
	missing = compact(missing)
	if len(missing) > 0 {
		t.Errorf("%d texts missing:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	// Placeholders must be the same in every language.
	ph := regexp.MustCompile(`\{[a-z_]+\}`)
	for key, en := range cat[roster.Locales[0]] {
		want := ph.FindAllString(en, -1)
		sort.Strings(want)
		for _, loc := range roster.Locales[1:] {
			got := ph.FindAllString(cat[loc][key], -1)
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: %s has placeholders %v, English has %v", loc, key, got, want)
			}
		}
	}
	// French writes its apostrophe as one character, the typographic one, everywhere: a
	// straight one beside it reads as a slip (it did, in 32 texts).
	for key, s := range cat["fr"] {
		if strings.Contains(s, "'") {
			t.Errorf("fr: %s has a straight apostrophe: %s", key, s)
		}
	}
}

func compact(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// untranslatedOK are words shown as they are in every language: the product's name and
// the names of the languages in their own language.
var untranslatedOK = map[string]bool{"Roster": true, "R": true, "English": true, "Français": true, "Español": true}

// TestTemplatesHaveNoRawText fails when a template holds words outside of a catalog call:
// in text, or in an attribute a person reads (labels, placeholders, titles, alt texts).
func TestTemplatesHaveNoRawText(t *testing.T) {
	action := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	readable := map[string]bool{"title": true, "placeholder": true, "aria-label": true, "alt": true, "value": false}
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		src := action.ReplaceAllString(string(b), "")
		z := html.NewTokenizer(strings.NewReader(src))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			tok := z.Token()
			check := func(s, what string) {
				for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
					if !untranslatedOK[w] {
						t.Errorf("%s: untranslated %s %q", f, what, strings.TrimSpace(s))
						return
					}
				}
			}
			switch tt {
			case html.TextToken:
				if !strings.HasPrefix(strings.TrimSpace(tok.Data), "<!") {
					check(tok.Data, "text")
				}
			case html.StartTagToken, html.SelfClosingTagToken:
				for _, a := range tok.Attr {
					if readable[a.Key] {
						check(a.Val, "attribute "+a.Key)
					}
				}
			}
		}
	}
}

// TestEveryRenderedPageIsParsed fails when a template is broken or a handler renders a
// page that parsePages leaves out. The templates are parsed on the first page a node
// serves (New), so these mistakes must stop the tests: they would otherwise reach a request.
func TestEveryRenderedPageIsParsed(t *testing.T) {
	vs, err := New(nil, Options{}).views()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, n := range pageNames {
		if vs.pages.Lookup(n) == nil {
			t.Errorf("page %s is not in the parsed set", n)
		}
		known[n] = true
	}
	fset, files := parseSources(t)
	calls := 0
	for _, f := range files {
		{
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "render" && len(call.Args) == 5 {
					calls++
					lit, ok := call.Args[3].(*ast.BasicLit)
					if !ok {
						t.Errorf("%s: render with a page name that is not a constant", fset.Position(call.Pos()))
						return true
					}
					if name, _ := strconv.Unquote(lit.Value); !known[name] {
						t.Errorf("%s: page %q is not in pageNames, so never parsed", fset.Position(call.Pos()), name)
					}
				}
				return true
			})
		}
	}
	if calls < 10 {
		t.Fatalf("found only %d render calls", calls)
	}
}

// parseSources parses the console's Go files, tests excepted.
func parseSources(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	return fset, files
}

// TestPluralForms: counts read right in every language — "1 active store", never "1 active
// stores" — by each language's rule (French counts 0 as singular).
func TestPluralForms(t *testing.T) {
	cat, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loc  string
		n    int
		want string
	}{
		{"en", 1, "1 active store"}, {"en", 0, "0 active stores"}, {"en", 3, "3 active stores"},
		{"fr", 1, "1 boutique active"}, {"fr", 0, "0 boutique active"}, {"fr", 2, "2 boutiques actives"},
		{"es", 1, "1 tienda activa"}, {"es", 0, "0 tiendas activas"},
	} {
		if got := cat.plural(c.loc, "stores.active_count", c.n); got != c.want {
			t.Errorf("%s, %d: %q, want %q", c.loc, c.n, got, c.want)
		}
	}
	// Every key with plural forms has both, in every language.
	for loc, texts := range cat {
		for key := range texts {
			base, form, ok := strings.Cut(key, ".one")
			if ok && form == "" {
				if _, ok := texts[base+".other"]; !ok {
					t.Errorf("%s: %s has no .other form", loc, base)
				}
			}
		}
	}
}
