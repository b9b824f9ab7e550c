package app_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestFiftyConcurrentWriters runs 50 goroutines that sign up, log in, create an organization
// and edit their profile at once, through two Roster instances on one database (two
// processes on one SQLite file, or two nodes on one PostgreSQL): no write fails, and on
// SQLite none surfaces "database is locked".
func TestFiftyConcurrentWriters(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.ContendedEnv(t, e)
		other := app.New(testenv.OpenDBWith(t, env.URL, sqlstore.Options{Timeout: testenv.ContentionTimeout}), testenv.Config(), env.Clock, testenv.Logger(t))
		apps := []*app.App{env.App, other}
		var wg sync.WaitGroup
		for g := range 50 {
			wg.Go(func() {
				a := apps[g%2]
				addr := fmt.Sprintf("writer%d.%s@example.com", g, testenv.Unique())
				fail := func(step string, err error) {
					if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
						t.Errorf("%s: the database was locked: %v", step, err)
					} else {
						t.Errorf("%s: %v", step, err)
					}
				}
				if err := a.Auth.Signup(ctx, anon, app.SignupInput{Email: addr, Name: "Writer", Password: testenv.Password}); err != nil {
					fail("sign-up", err)
					return
				}
				res, err := a.Auth.Login(ctx, anon, app.LoginInput{Email: addr, Password: testenv.Password})
				if err != nil {
					fail("login", err)
					return
				}
				actor, err := a.Auth.Authenticate(ctx, res.Token, "192.0.2.1", "test")
				if err != nil {
					fail("authenticate", err)
					return
				}
				if _, err := a.Organizations.Create(ctx, actor, app.OrganizationInput{Name: "Org " + addr}); err != nil {
					fail("create organization", err)
				}
				for i := range 5 {
					name := fmt.Sprintf("Writer %d", i)
					if _, err := a.Accounts.Update(ctx, actor, app.ProfileInput{Name: &name}); err != nil {
						fail("update profile", err)
					}
				}
			})
		}
		wg.Wait()
		if n := env.Int(t, `SELECT COUNT(*) FROM organizations`); n != 50 {
			t.Fatalf("%d organizations", n)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'user.updated'`); n != 250 {
			t.Fatalf("%d profile updates audited", n)
		}
	})
}
