package app

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
)

// ParseInvitationsCSV reads invitations from CSV, for a bulk invitation: a header row naming
// the columns (email is required; role, stores, locale and message are optional, in any
// order), then one invitation per row. stores reads "store_id:role_id" pairs separated by
// ";". At most MaxBulkInvitations rows. The rows are checked one by one by BulkInvite.
func ParseInvitationsCSV(r io.Reader) ([]InvitationInput, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, roster.Invalidf("invitations", "the CSV is empty: give a header row (email, role, stores, locale, message) and one row per invitation")
	}
	if err != nil {
		return nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains([]string{"email", "role", "stores", "locale", "message"}, h) {
			return nil, roster.Invalidf("invitations", "unknown CSV column %q: use email, role, stores, locale, message", truncate(h, 40))
		}
		if _, dup := col[h]; dup {
			return nil, roster.Invalidf("invitations", "the CSV column %q appears twice", h)
		}
		col[h] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, roster.Invalidf("invitations", "the CSV needs an email column")
	}
	var out []InvitationInput
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if len(out) == MaxBulkInvitations {
			return nil, roster.Invalidf("invitations", "at most %d invitations at once", MaxBulkInvitations)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // blank line
		}
		in := InvitationInput{Email: get("email"), Role: roster.OrgRole(strings.ToLower(get("role"))), Locale: get("locale"), Message: get("message")}
		for _, pair := range strings.Split(get("stores"), ";") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			store, role, ok := strings.Cut(pair, ":")
			if !ok {
				role = roster.StoreRoleMember
			}
			in.Stores = append(in.Stores, StoreGrantInput{StoreID: strings.TrimSpace(store), RoleID: strings.TrimSpace(role)})
		}
		out = append(out, in)
	}
	if len(out) == 0 {
		return nil, roster.Invalidf("invitations", "the CSV has no invitation rows")
	}
	return out, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return (&roster.Error{Code: roster.EInvalid, Field: "invitations", Message: "malformed CSV: " + pe.Err.Error()}).With("line", pe.Line)
	}
	return roster.Invalidf("invitations", "malformed CSV")
}
