package scim

import (
	"encoding/json"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster"
)

// parseFilter parses a list request's filter (RFC 7644 §3.4.2.2); a malformed one is
// invalidFilter.
func parseFilter(f string) (filter.Expression, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return nil, nil
	}
	if len(f) > roster.MaxSCIMFilterLength {
		return nil, badRequest("invalidFilter", "the filter is longer than %d characters", roster.MaxSCIMFilterLength)
	}
	e, err := filter.ParseFilter([]byte(subAttributeOfValuePath(f)))
	if err != nil {
		return nil, badRequest("invalidFilter", "the filter could not be parsed: %v", err)
	}
	return e, nil
}

// matches evaluates a filter on a resource as rendered.
func matches(e filter.Expression, res map[string]any) bool {
	switch e := e.(type) {
	case nil:
		return true
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			return matches(e.Left, res) && matches(e.Right, res)
		}
		return matches(e.Left, res) || matches(e.Right, res)
	case *filter.NotExpression:
		return !matches(e.Expression, res)
	case *filter.AttributeExpression:
		return attrMatches(*e, res)
	case *filter.ValuePath:
		for _, el := range asList(lookup(res, e.AttributePath.URI(), e.AttributePath.AttributeName)) {
			if m, ok := el.(map[string]any); ok && matches(e.ValueFilter, m) {
				return true
			}
		}
	}
	return false
}

// lookup finds an attribute by name, ignoring case, inside an extension's object when uri
// names one.
func lookup(res map[string]any, uri, name string) any {
	if uri != "" && !strings.EqualFold(uri, URNUser) && !strings.EqualFold(uri, URNGroup) {
		ext, _ := field(res, uri).(map[string]any)
		return field(ext, name)
	}
	return field(res, name)
}

func field(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	case []map[string]any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = v[i]
		}
		return out
	}
	return []any{v}
}

// attrMatches compares an attribute (each value of a multi-valued one) with a value.
func attrMatches(e filter.AttributeExpression, res map[string]any) bool {
	p := e.AttributePath
	vals := asList(lookup(res, p.URI(), p.AttributeName))
	if sub := p.SubAttributeName(); sub != "" {
		var subs []any
		for _, v := range vals {
			if m, ok := v.(map[string]any); ok {
				subs = append(subs, asList(field(m, sub))...)
			}
		}
		vals = subs
	} else {
		// A complex multi-valued attribute compares by its value sub-attribute.
		for i, v := range vals {
			if m, ok := v.(map[string]any); ok {
				vals[i] = field(m, "value")
			}
		}
	}
	if e.Operator == filter.PR {
		for _, v := range vals {
			if v != nil && v != "" {
				return true
			}
		}
		return false
	}
	exact := strings.EqualFold(p.AttributeName, "id") || strings.EqualFold(p.AttributeName, "externalId") ||
		(strings.EqualFold(p.AttributeName, "members") || strings.EqualFold(p.AttributeName, "groups")) && (p.SubAttributeName() == "" || strings.EqualFold(p.SubAttributeName(), "value"))
	for _, v := range vals {
		if compare(e.Operator, v, e.CompareValue, exact) {
			return true
		}
	}
	return false
}

func compare(op filter.CompareOperator, have, want any, exact bool) bool {
	switch w := want.(type) {
	case nil:
		return (op == filter.EQ) == (have == nil)
	case bool:
		h, ok := boolOf(have)
		if !ok {
			return false
		}
		switch op {
		case filter.EQ:
			return h == w
		case filter.NE:
			return h != w
		}
		return false
	case string:
		h, ok := have.(string)
		if !ok {
			return false
		}
		if !exact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case filter.EQ:
			return h == w
		case filter.NE:
			return h != w
		case filter.CO:
			return strings.Contains(h, w)
		case filter.SW:
			return strings.HasPrefix(h, w)
		case filter.EW:
			return strings.HasSuffix(h, w)
		case filter.GT:
			return h > w
		case filter.GE:
			return h >= w
		case filter.LT:
			return h < w
		case filter.LE:
			return h <= w
		}
	case int, float64:
		h, ok := number(have)
		wf, _ := number(w)
		if !ok {
			return false
		}
		switch op {
		case filter.EQ:
			return h == wf
		case filter.NE:
			return h != wf
		case filter.GT:
			return h > wf
		case filter.GE:
			return h >= wf
		case filter.LT:
			return h < wf
		case filter.LE:
			return h <= wf
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// boolOf reads a boolean, also as the strings "true" and "false" in any case: Microsoft
// Entra ID sends "False" for active.
func boolOf(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// subAttributeOfValuePath rewrites attr[filter].sub op value, which identity providers send
// (emails[type eq "work"].value eq "…") though RFC 7644's filter grammar has no such form, as
// the valuePath it means: attr[filter and sub op value].
func subAttributeOfValuePath(f string) string {
	var out []byte
	var opens []int // where each open bracket's content starts in out
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '"':
			j := quoted(f, i)
			out = append(out, f[i:j]...)
			i = j
			continue
		case c == '[':
			out = append(out, c)
			opens = append(opens, len(out))
			i++
			continue
		case c == ']' && len(opens) > 0:
			start := opens[len(opens)-1]
			opens = opens[:len(opens)-1]
			if i+1 < len(f) && f[i+1] == '.' {
				j := i + 2
				for j < len(f) && (isAlnum(f[j]) || f[j] == '_' || f[j] == '-' || f[j] == '$') {
					j++
				}
				sub := f[i+2 : j]
				k := j
				for k < len(f) && f[k] == ' ' {
					k++
				}
				m := k
				for m < len(f) && isAlnum(f[m]) {
					m++
				}
				op := f[k:m]
				if sub != "" && op != "" {
					expr := sub + " " + op
					n := m
					if !strings.EqualFold(op, "pr") {
						for n < len(f) && f[n] == ' ' {
							n++
						}
						v := n
						if n < len(f) && f[n] == '"' {
							n = quoted(f, n)
						} else {
							for n < len(f) && f[n] != ' ' && f[n] != ')' {
								n++
							}
						}
						expr += " " + f[v:n]
					}
					inner := string(out[start:])
					if strings.Contains(strings.ToLower(inner), " or ") {
						inner = "(" + inner + ")" // the parser may refuse it; the meaning is kept
					}
					out = append(out[:start], inner+" and "+expr+"]"...)
					i = n
					continue
				}
			}
		}
		out = append(out, c)
		i++
	}
	return string(out)
}

// quoted returns the index just past the JSON string starting at f[i].
func quoted(f string, i int) int {
	for j := i + 1; j < len(f); j++ {
		switch f[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(f)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// userNameOf returns the userName a filter requires (userName eq "…", alone or joined by and),
// "" when it requires none: the members to filter are then read by that userName only.
func userNameOf(e filter.Expression) string {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			if n := userNameOf(e.Left); n != "" {
				return n
			}
			return userNameOf(e.Right)
		}
	case *filter.AttributeExpression:
		p := e.AttributePath
		if v, ok := e.CompareValue.(string); ok && e.Operator == filter.EQ && strings.EqualFold(p.AttributeName, "userName") &&
			p.SubAttribute == nil && (p.URIPrefix == nil || strings.EqualFold(p.URI(), URNUser)) {
			return v
		}
	}
	return ""
}
