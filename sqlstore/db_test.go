package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/sqlstore"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		engine sqlstore.Engine
		target string
	}{
		{"sqlite:roster.db", sqlstore.SQLite, "roster.db"},
		{"sqlite:///var/lib/roster.db", sqlstore.SQLite, "/var/lib/roster.db"},
		{"postgres://u:p@db:5432/roster?sslmode=disable", sqlstore.Postgres, "postgres://u:p@db:5432/roster?sslmode=disable"},
		{"postgresql://db/roster", sqlstore.Postgres, "postgresql://db/roster"},
	} {
		e, target, err := sqlstore.ParseURL(tc.raw)
		if err != nil || e != tc.engine || target != tc.target {
			t.Errorf("ParseURL(%q) = %s %q %v", tc.raw, e, target, err)
		}
	}
	for _, raw := range []string{"", "sqlite:", "mysql://root:hunter2@db/x", "postgres://u:hunter2%zz@db/x", "roster.db"} {
		_, _, err := sqlstore.ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", raw)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q): the error shows the password: %v", raw, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@db/x":      "postgres://u:xxxxx@db/x",
		"postgres://u:se@cret@db/x":     "postgres://u:xxxxx@db/x",
		"postgres://u:bad%zz@db/x?a=b":  "postgres://u:xxxxx@db/x?a=b",
		"postgres://u@db/x":             "postgres://u@db/x",
		"postgres://db/x":               "postgres://db/x",
		"sqlite:roster.db":              "sqlite:roster.db",
		"postgres://:onlypassword@db/x": "postgres://:xxxxx@db/x",
	} {
		if got := sqlstore.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
