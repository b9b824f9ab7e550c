package scim

import (
	"encoding/json"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster"
)

// patchOp is one operation of a PATCH request (RFC 7644 §3.5.2).
type patchOp struct {
	Op    string // add, replace or remove (lower case)
	Path  *filter.Path
	Raw   string // the path as sent
	Value any
}

// readPatch reads a PatchOp message: its operations, with their paths parsed.
func readPatch(body map[string]any) ([]patchOp, error) {
	if sc, ok := field(body, "schemas").([]any); ok && len(sc) > 0 {
		found := false
		for _, v := range sc {
			if s, _ := v.(string); strings.EqualFold(s, URNPatchOp) {
				found = true
			}
		}
		if !found {
			return nil, badRequest("invalidSyntax", "a PATCH request's schemas must be %s", URNPatchOp)
		}
	}
	raw, ok := field(body, "Operations").([]any)
	if !ok || len(raw) == 0 {
		return nil, badRequest("invalidSyntax", "a PATCH request needs Operations")
	}
	if len(raw) > roster.MaxSCIMPatchOps {
		return nil, badRequest("tooMany", "at most %d operations in one PATCH request", roster.MaxSCIMPatchOps)
	}
	ops := make([]patchOp, 0, len(raw))
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, badRequest("invalidSyntax", "each operation must be an object")
		}
		op, _ := field(m, "op").(string)
		o := patchOp{Op: strings.ToLower(op), Value: field(m, "value")}
		if o.Op != "add" && o.Op != "replace" && o.Op != "remove" {
			return nil, badRequest("invalidSyntax", "op must be add, replace or remove")
		}
		if p, _ := field(m, "path").(string); strings.TrimSpace(p) != "" {
			parsed, err := parsePath(p)
			if err != nil {
				return nil, err
			}
			o.Path, o.Raw = parsed, p
		} else if o.Op == "remove" {
			return nil, badRequest("noTarget", "remove needs a path")
		} else if _, ok := o.Value.(map[string]any); !ok {
			return nil, badRequest("invalidValue", "an operation without a path needs an object as its value")
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func parsePath(p string) (*filter.Path, error) {
	parsed, err := filter.ParsePath([]byte(strings.TrimSpace(p)))
	if err != nil {
		return nil, badRequest("invalidPath", "the path %q could not be parsed", p)
	}
	return &parsed, nil
}

// readOnly are the attributes a client never writes.
var readOnly = []string{"id", "meta", "groups", "schemas"}

// applyPatch applies operations to a resource held as a map (RFC 7644 §3.5.2), with the
// quirks of the identity providers in the wild: Microsoft Entra ID's path-less values whose
// keys are paths ("name.givenName") and its booleans as strings, Okta's path-less replace.
func applyPatch(res map[string]any, ops []patchOp) error {
	for _, o := range ops {
		if o.Path != nil {
			if err := applyAt(res, o.Op, o.Path, o.Value); err != nil {
				return err
			}
			continue
		}
		for k, v := range o.Value.(map[string]any) {
			if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") || strings.EqualFold(k, "meta") {
				continue // Okta repeats the id in a path-less replace of a group
			}
			if strings.EqualFold(k, URNEnterprise) {
				ext, _ := v.(map[string]any)
				for ek, ev := range ext {
					p, err := parsePath(URNEnterprise + ":" + ek)
					if err != nil {
						return err
					}
					if err := applyAt(res, o.Op, p, ev); err != nil {
						return err
					}
				}
				continue
			}
			p, err := parsePath(k)
			if err != nil {
				return err
			}
			if err := applyAt(res, o.Op, p, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// container returns the object a path's attribute lives in: the resource, or an
// extension's object (made when create is set).
func container(res map[string]any, uri string, create bool) map[string]any {
	if uri == "" || strings.EqualFold(uri, URNUser) || strings.EqualFold(uri, URNGroup) {
		return res
	}
	key := keyOf(res, uri)
	ext, ok := res[key].(map[string]any)
	if !ok && create {
		ext = map[string]any{}
		res[key] = ext
	}
	return ext
}

// keyOf returns the key under which a map holds name (ignoring case), or name.
func keyOf(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func applyAt(res map[string]any, op string, p *filter.Path, value any) error {
	ap := p.AttributePath
	for _, ro := range readOnly {
		if ap.URI() == "" && strings.EqualFold(ap.AttributeName, ro) {
			return badRequest("mutability", "%s cannot be changed", ap.AttributeName)
		}
	}
	c := container(res, ap.URI(), op != "remove")
	if c == nil {
		return nil // removing from an extension the resource does not have
	}
	name := keyOf(c, ap.AttributeName)
	if sub := ap.SubAttributeName(); sub != "" && p.ValueExpression == nil {
		inner, ok := c[name].(map[string]any)
		if !ok {
			if op == "remove" {
				return nil
			}
			inner = map[string]any{}
			c[name] = inner
		}
		return setValue(inner, op, keyOf(inner, sub), value)
	}
	if p.ValueExpression == nil {
		return setValue(c, op, name, value)
	}
	// A filtered multi-valued attribute: emails[type eq "work"].value, members[value eq "…"].
	list := asList(c[name])
	sub := p.SubAttributeName()
	var kept []any
	hit := false
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || !matches(p.ValueExpression, m) {
			kept = append(kept, el)
			continue
		}
		hit = true
		switch {
		case op == "remove" && sub == "":
			continue // the element goes
		case op == "remove":
			delete(m, keyOf(m, sub))
		case sub != "":
			m[keyOf(m, sub)] = value
		default:
			if v, ok := value.(map[string]any); ok {
				for k, x := range v {
					m[keyOf(m, k)] = x
				}
			}
		}
		kept = append(kept, m)
	}
	if !hit && op != "remove" {
		// Nothing matched: the element is made from the filter's equalities (Entra ID adds an
		// address this way).
		el := map[string]any{}
		equalities(p.ValueExpression, el)
		if sub != "" {
			el[sub] = value
		} else if v, ok := value.(map[string]any); ok {
			for k, x := range v {
				el[k] = x
			}
		}
		kept = append(kept, el)
	}
	if len(kept) == 0 {
		delete(c, name)
	} else {
		c[name] = kept
	}
	return nil
}

// equalities collects the attr eq value terms of a filter joined by and.
func equalities(e filter.Expression, into map[string]any) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			equalities(e.Left, into)
			equalities(e.Right, into)
		}
	case *filter.AttributeExpression:
		if e.Operator == filter.EQ && e.AttributePath.SubAttributeName() == "" {
			into[e.AttributePath.AttributeName] = e.CompareValue
		}
	}
}

// setValue adds, replaces or removes one attribute of an object. add appends to a
// multi-valued attribute (without repeating an element) and merges into a complex one.
func setValue(c map[string]any, op, name string, value any) error {
	switch op {
	case "remove":
		if value == nil {
			delete(c, name)
			return nil
		}
		// remove with a value (Entra ID, for group members): take those elements out.
		list := asList(c[name])
		var kept []any
		for _, el := range list {
			if !containsValue(asList(value), el) {
				kept = append(kept, el)
			}
		}
		if len(kept) == 0 {
			delete(c, name)
		} else {
			c[name] = kept
		}
		return nil
	case "add":
		if cur, ok := c[name].([]any); ok {
			for _, v := range asList(value) {
				if !containsValue(cur, v) {
					cur = append(cur, v)
				}
			}
			c[name] = cur
			return nil
		}
	}
	// add and replace merge into a complex attribute: sub-attributes not given stay.
	if cur, ok := c[name].(map[string]any); ok {
		if v, ok := value.(map[string]any); ok {
			for k, x := range v {
				cur[keyOf(cur, k)] = x
			}
			return nil
		}
	}
	if value == nil {
		delete(c, name)
		return nil
	}
	c[name] = value
	return nil
}

// containsValue reports whether list holds v: the same value sub-attribute for complex
// elements, the same JSON otherwise.
func containsValue(list []any, v any) bool {
	for _, el := range list {
		if sameElement(el, v) {
			return true
		}
	}
	return false
}

func sameElement(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		av, bv := field(am, "value"), field(bm, "value")
		if av != nil || bv != nil {
			return av == bv
		}
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
