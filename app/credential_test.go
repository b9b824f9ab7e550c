package app_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestParallelGuessesCannotOutrunTheLock sends 200 wrong passwords for one account at once,
// from 8 addresses, through every path that checks an account's password: the login, the
// step-up of a signed-in session (here a password change) and the acceptance of an
// invitation for an address that has an account. Each attempt is counted before its
// password is verified, so no more passwords are verified than the lock allows: the first
// five, the fifth of which starts a lock (the clock stands still). The rest wait.
func TestParallelGuessesCannotOutrunTheLock(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		const guesses, allowed = 200, 5
		paths := map[string]func(t *testing.T) func(ip string) error{
			"login": func(t *testing.T) func(string) error {
				_, u := env.User(t, "Olivia")
				return func(ip string) error {
					_, err := env.App.Auth.Login(ctx, roster.Anonymous(ip, "t"), app.LoginInput{Email: u.Email, Password: "not the password at all"})
					return err
				}
			},
			"step-up": func(t *testing.T) func(string) error {
				actor, _ := env.User(t, "Marc")
				return func(ip string) error {
					a := actor
					a.IP = ip
					return env.App.Accounts.ChangePassword(ctx, a, "not the password at all", "a brand new long passphrase")
				}
			},
			"invitation": func(t *testing.T) func(string) error {
				_, u := env.User(t, "Ana")
				f.invite(t, u.Email)
				tok := f.link(t, u.Email)
				return func(ip string) error {
					_, err := env.App.Invitations.Accept(ctx, roster.Anonymous(ip, "t"), app.AcceptInput{Token: tok, Password: "not the password at all"})
					return err
				}
			},
		}
		for _, name := range []string{"login", "step-up", "invitation"} {
			guess := paths[name](t)
			verified := app.CountVerifications(env.App)
			codes := make([]string, guesses)
			var wg sync.WaitGroup
			for i := range guesses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = testenv.Code(guess(fmt.Sprintf("198.51.100.%d", 10+i%8)))
				}()
			}
			wg.Wait()
			count := map[string]int{}
			for _, c := range codes {
				count[c]++
			}
			if n := verified.Load(); n > allowed {
				t.Errorf("%s: %d passwords verified for %d guesses; the lock allows %d", name, n, guesses, allowed)
			}
			// The rest are refused: by the lock (rate_limited), or, the flood being larger than
			// the attempts let in at once, as unavailable before any work.
			if count[roster.EInvalidCredentials] != allowed || count[roster.ERateLimited]+count[roster.EUnavailable] != guesses-allowed {
				t.Errorf("%s: answers %v, want %d invalid_credentials and the rest rate_limited or unavailable", name, count, allowed)
			}
		}
	})
}
