package app_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

func TestParseImportCSV(t *testing.T) {
	rows, err := app.ParseImportCSV(strings.NewReader("\ufeffEmail,Name,Role,Stores\n" +
		"a@x.com , A ,Admin, Shop One:viewer ; sto_01jd8x5x9q0000000000000000:rol_01jd8x5x9q0000000000000000\n\n" +
		"b@x.com\nA@X.com,again\nc@x.com,C,member,nocolon\nd@x.com,D,member,Shop: Paris:Chatter\ne@x.com,E,member,,extra\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("rows: %+v", rows)
	}
	a := rows[0]
	if a.Line != 2 || a.Email != "a@x.com" || a.Name != "A" || a.Role != roster.OrgAdmin || len(a.Stores) != 2 ||
		a.Stores[0] != (app.ImportGrant{Store: "Shop One", Role: "viewer"}) ||
		a.Stores[1] != (app.ImportGrant{Store: "sto_01jd8x5x9q0000000000000000", Role: "rol_01jd8x5x9q0000000000000000"}) {
		t.Fatalf("first row: %+v", a)
	}
	if rows[1].Line != 4 || rows[1].Email != "b@x.com" || rows[1].Role != "" || rows[2].DuplicateOf != 2 {
		t.Fatalf("rows: %+v", rows[1:3])
	}
	if rows[3].Problem == "" { // a store grant without its role
		t.Fatalf("grant without a role: %+v", rows[3])
	}
	if g := rows[4].Stores; len(g) != 1 || g[0] != (app.ImportGrant{Store: "Shop: Paris", Role: "Chatter"}) { // split at the last colon
		t.Fatalf("grant split: %+v", rows[4])
	}
	if rows[5].Problem == "" {
		t.Fatalf("more fields than columns: %+v", rows[5])
	}
	for _, bad := range []string{
		"",                                     // empty
		"email\n",                              // no rows
		"mail\nx@y.z\n",                        // no email column
		"email,org role\nx@y.z,admin\n",        // unknown column
		"email,email\nx@y.z,x@y.z\n",           // a column twice
		"email,name\na@x.com,\"unterminated\n", // malformed
		"a@x.com,A,member,\n",                  // no header
	} {
		if _, err := app.ParseImportCSV(strings.NewReader(bad)); testenv.Code(err) != roster.EInvalid {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}
