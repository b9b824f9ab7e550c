package app

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
)

// ImportColumns are the columns of the one CSV format of bulk imports and bulk invitations,
// named by a header row in any order; only email is required.
var ImportColumns = []string{"email", "name", "role", "stores", "locale", "message"}

// ParseImportCSV reads the people of a bulk import or invitation from CSV: a header row
// naming the columns (ImportColumns), then one person a row. role is the organization role
// (admin or member; member when empty). stores holds "store:role" pairs separated by ";",
// where store is a store's ID or name and role a store role's ID or name, split at the last
// ":" ("Madrid:admin; Paris:Chatter"). The REST API's upload and the command line read files
// with it, and Members.Import answers each row.
//
// A row that cannot be read as a person is kept with its Problem, to be answered like the
// others; a row repeating an earlier row's address names that row in DuplicateOf. Only a file
// that cannot be read at all (no header, an unknown column, malformed CSV) is an error.
func ParseImportCSV(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, roster.Invalidf("file", "the CSV is empty: give a header row (%s) and one row per person", strings.Join(ImportColumns, ", "))
	}
	if err != nil {
		return nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(ImportColumns, h) {
			return nil, roster.Invalidf("file", "unknown CSV column %q: the first row names the columns, among %s", truncate(h, 40), strings.Join(ImportColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, roster.Invalidf("file", "the CSV column %q appears twice", h)
		}
		col[h] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, roster.Invalidf("file", "the CSV needs an email column")
	}
	var rows []ImportRow
	seen := map[string]int{} // normalized address → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // blank line
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := ImportRow{Line: line, Email: get("email"), Name: get("name"), Role: roster.OrgRole(strings.ToLower(get("role"))),
			Locale: get("locale"), Message: get("message")}
		if len(rec) > len(header) {
			row.Problem = fmt.Sprintf("%d fields; the header names %d columns", len(rec), len(header))
		}
		for _, pair := range strings.Split(get("stores"), ";") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			i := strings.LastIndexByte(pair, ':')
			if i <= 0 || i == len(pair)-1 {
				row.Problem = fmt.Sprintf("store grant %q is not store:role", truncate(pair, 80))
				break
			}
			row.Stores = append(row.Stores, ImportGrant{Store: strings.TrimSpace(pair[:i]), Role: strings.TrimSpace(pair[i+1:])})
		}
		if addr, err := roster.NormalizeEmail(row.Email); err == nil {
			if first, ok := seen[addr]; ok {
				row.DuplicateOf = first
			} else {
				seen[addr] = line
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, roster.Invalidf("file", "the CSV has no rows after its header")
	}
	return rows, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return (&roster.Error{Code: roster.EInvalid, Field: "file", Message: fmt.Sprintf("malformed CSV on line %d: %v", pe.Line, pe.Err)}).With("line", pe.Line)
	}
	return roster.Invalidf("file", "malformed CSV")
}
