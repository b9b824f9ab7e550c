package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// importEnv is a database with an organization to import into, and the command line over it.
type importEnv struct {
	t     *testing.T
	env   *testenv.Env
	url   string
	owner roster.User
	org   roster.Organization
	dir   string
}

func newImportEnv(t *testing.T, e sqlstore.Engine) *importEnv {
	url := testenv.DatabaseURL(t, e)
	db, err := sqlstore.Open(testenv.Ctx, url, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(testenv.Ctx); err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock()
	env := &testenv.Env{App: app.New(db, testenv.Config(), clock, testenv.Logger(t)), DB: db, Clock: clock, Engine: e}
	ownerActor, owner := env.User(t, "Olivia")
	org := env.Org(t, ownerActor, "Acme")
	if _, err := env.App.Operator.SetStoreCredits(testenv.Ctx, roster.System(), org.ID, 10); err != nil {
		t.Fatal(err)
	}
	env.Store(t, ownerActor, org.ID, "Madrid")
	env.Store(t, ownerActor, org.ID, "Paris")
	if _, err := env.App.Roles.Create(testenv.Ctx, ownerActor, org.ID, app.RoleInput{Name: "Chatter", Permissions: []roster.Permission{roster.PermStoreRead}}); err != nil {
		t.Fatal(err)
	}
	return &importEnv{t: t, env: env, url: url, owner: owner, org: org, dir: t.TempDir()}
}

// run runs roster import members with args before the file, and returns the report's rows
// (without its header), what was printed on standard error, and the command's error.
func (ie *importEnv) run(file string, args ...string) ([][]string, string, error) {
	ie.t.Helper()
	report := filepath.Join(ie.dir, "report-"+testenv.Unique()+".csv")
	var stderr bytes.Buffer
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string {
		if k == "ROSTER_DATABASE_URL" {
			return ie.url
		}
		return ""
	}}
	all := append([]string{"import", "members", "--org", ie.org.ID, "--as", ie.owner.Email, "--report", report}, args...)
	err := m.Run(testenv.Ctx, append(all, file))
	f, ferr := os.Open(report)
	if ferr != nil {
		return nil, stderr.String(), err
	}
	defer f.Close()
	rows, rerr := csv.NewReader(f).ReadAll()
	if rerr != nil || len(rows) == 0 || rows[0][0] != "line" {
		ie.t.Fatalf("report: %v %v", rerr, rows)
	}
	return rows[1:], stderr.String(), err
}

func (ie *importEnv) file(lines []string) string {
	ie.t.Helper()
	p := filepath.Join(ie.dir, "import-"+testenv.Unique()+".csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		ie.t.Fatal(err)
	}
	return p
}

func outcomes(rows [][]string) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r[2]]++
	}
	return out
}

// TestImportTenThousand imports 10,000 people: every row is reported, a dry run writes
// nothing, and a second run does nothing new.
func TestImportTenThousand(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		ie := newImportEnv(t, e)
		n := 10_000
		if testenv.Race {
			n = 1_000 // the same paths, at a size the race detector runs in seconds
		}
		lines := []string{"email,name,role,stores"}
		for i := range n {
			role, stores := "member", ""
			switch {
			case i%100 == 0:
				role = "admin"
			case i%20 == 1:
				stores = "Madrid:member; Paris:chatter"
			case i%10 == 1:
				stores = "madrid:viewer"
			}
			lines = append(lines, fmt.Sprintf("person%05d@example.com,Person %d,%s,%s", i, i, role, stores))
		}
		lines = append(lines,
			"not an address,Nobody,member,",
			"ghost@example.com,Ghost,member,Lisbon:viewer",
			"owner-again,"+ie.owner.Email,
			ie.owner.Email+",Olivia,member,",
			"person00001@example.com,Twice,member,Madrid:viewer")
		file := ie.file(lines)
		total := n + 5

		// A dry run checks every row and writes nothing (on the first 300 rows and the odd ones).
		dry := ie.file(slices.Concat(lines[:301], lines[n+1:]))
		rows, stderr, err := ie.run(dry, "--dry-run")
		if err == nil || !strings.Contains(err.Error(), "3 of 305 rows failed") || !strings.Contains(stderr, "305 rows: 300 would_invite, 2 skipped, 3 failed.") {
			t.Fatalf("dry run: %v %q", err, stderr)
		}
		if got := outcomes(rows); len(rows) != 305 || got[app.ImportWouldInvite] != 300 || got[app.ImportSkipped] != 2 || got[app.ImportFailed] != 3 {
			t.Fatalf("dry run report: %d rows, %v", len(rows), got)
		}
		owner, err := ie.env.App.Members.CommandLineActor(testenv.Ctx, ie.owner.Email)
		if err != nil {
			t.Fatal(err)
		}
		page, err := ie.env.App.Invitations.List(testenv.Ctx, owner, ie.org.ID, app.InvitationFilter{})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("the dry run wrote: %v %d", err, len(page.Items))
		}

		t0 := time.Now()
		rows, stderr, err = ie.run(file)
		t.Logf("first run: %v", time.Since(t0))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("3 of %d rows failed", total)) {
			t.Fatalf("failed rows not reported in the exit status: %v", err)
		}
		if !strings.Contains(stderr, fmt.Sprintf("%d/%d rows (100%%)", total, total)) || !strings.Contains(stderr, fmt.Sprintf("%d rows: %d invited, 2 skipped, 3 failed.", total, n)) {
			t.Fatalf("progress and summary: %q", stderr[max(0, len(stderr)-300):])
		}
		got := outcomes(rows)
		if len(rows) != total || got[app.ImportInvited] != n || got[app.ImportFailed] != 3 || got[app.ImportSkipped] != 2 {
			t.Fatalf("first run: %d rows, %v", len(rows), got)
		}
		for i, r := range rows {
			if r[0] != fmt.Sprint(i+2) {
				t.Fatalf("row %d reported as line %s", i, r[0])
			}
		}
		why := map[string]string{}
		for _, r := range rows[n:] {
			why[r[1]] = r[3]
		}
		if why["not an address"] != roster.EInvalidEmail || why["ghost@example.com"] != roster.ENotFound || why["owner-again"] != roster.EInvalidEmail ||
			why[ie.owner.Email] != roster.EAlreadyMember || why["person00001@example.com"] != app.EDuplicateRow {
			t.Fatalf("reasons: %v", why)
		}
		countEvents := func() int {
			n := 0
			err := ie.env.DB.Read().EachAuditEvent(testenv.Ctx, roster.AuditFilter{OrgID: ie.org.ID, Action: "invitation.created"}, func(roster.AuditEvent) error { n++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if c := countEvents(); c != n {
			t.Fatalf("%d invitations audited, want %d", c, n)
		}

		// Again: everything done is skipped, nothing new is written.
		t0 = time.Now()
		rows, _, _ = ie.run(file)
		t.Logf("second run: %v", time.Since(t0))
		got = outcomes(rows)
		if len(rows) != total || got[app.ImportSkipped] != n+2 || got[app.ImportFailed] != 3 || got[app.ImportInvited] != 0 {
			t.Fatalf("second run: %v", got)
		}
		if c := countEvents(); c != n {
			t.Fatalf("second run wrote %d invitations", c-n)
		}
	})
}

// TestImportCreate creates the accounts of new addresses directly, invites those who have an
// account, and refuses an actor who may not add members.
func TestImportCreate(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		ie := newImportEnv(t, e)
		_, known := ie.env.User(t, "Known")
		file := ie.file([]string{
			"Email,Name,Role,Stores",
			"new.person@example.com,New Person,member,Paris:viewer",
			"NoName@Example.com,,admin,",
			known.Email + ",Known,member,Madrid:Chatter",
			"bad@example.com,Bad,member,sto_01jd8x5x9q0000000000000000:viewer", // refused after the account was written: rolled back
			"role@example.com,Role,member,Madrid:nosuchrole",
			"worse@example.com,Worse,owner,",
			"cols@example.com,A,member,,extra",
		})
		rows, _, err := ie.run(file, "--create")
		if err == nil {
			t.Fatal("failed rows not reported")
		}
		want := []struct{ outcome, code string }{{app.ImportCreated, ""}, {app.ImportCreated, ""}, {app.ImportInvited, ""},
			{app.ImportFailed, roster.ENotFound}, {app.ImportFailed, roster.EUnknownRole}, {app.ImportFailed, roster.EOwnerRequired}, {app.ImportFailed, roster.EInvalid}}
		for i, w := range want {
			if rows[i][2] != w.outcome || rows[i][3] != w.code {
				t.Fatalf("row %d: %v, want %s %s", i+1, rows[i], w.outcome, w.code)
			}
		}
		owner, err := ie.env.App.Members.CommandLineActor(testenv.Ctx, ie.owner.Email)
		if err != nil {
			t.Fatal(err)
		}
		members, err := ie.env.App.Members.List(testenv.Ctx, owner, ie.org.ID, app.MemberFilter{Query: "example.com"})
		if err != nil {
			t.Fatal(err)
		}
		byEmail := map[string]roster.Member{}
		for _, m := range members.Items {
			byEmail[m.User.Email] = m
		}
		if m := byEmail["noname@example.com"]; m.Role != roster.OrgAdmin || m.User.Name != "noname" {
			t.Fatalf("created admin: %+v", m)
		}
		if _, ok := byEmail["bad@example.com"]; ok {
			t.Fatal("a refused row left an account behind")
		}
		if _, _, err := ie.env.DB.Read().UserByEmail(testenv.Ctx, "bad@example.com"); roster.ErrorCode(err) != roster.ENotFound {
			t.Fatalf("a refused row left a user: %v", err)
		}
		// The new account got a link to choose a password, never a password. (The command
		// runs on the wall clock: move the test's clock past it so the emails are due.)
		ie.env.Clock.Advance(time.Until(ie.env.Clock.Now()).Abs() + 48*time.Hour)
		box := ie.env.Outbox(t)
		if m := box.Last(t, "new.person@example.com", "set_password"); testenv.Token(m) == "" {
			t.Fatal("no set-password link")
		}
		rows, _, _ = ie.run(file, "--create")
		if got := outcomes(rows); got[app.ImportSkipped] != 3 || got[app.ImportFailed] != 4 {
			t.Fatalf("second run: %v", got)
		}

		// Someone who may not add members imports nothing; an unknown --as is refused.
		_, member := ie.env.User(t, "Plain")
		owner2, err := ie.env.App.Members.CommandLineActor(testenv.Ctx, ie.owner.Email)
		if err != nil {
			t.Fatal(err)
		}
		ie.env.Join(t, owner2, ie.org.ID, member, roster.OrgMember)
		ie.owner = member
		if _, _, err := ie.run(file); err == nil || !strings.Contains(err.Error(), "not imported") {
			t.Fatalf("a plain member imports: %v", err)
		}
		ie.owner = roster.User{Email: "nobody@example.com"}
		if _, _, err := ie.run(file); err == nil || !strings.Contains(err.Error(), "--as") {
			t.Fatalf("unknown --as: %v", err)
		}
	})
}
