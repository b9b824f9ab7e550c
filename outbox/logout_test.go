package outbox_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/smtptest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// logoutReceiver is an application's back-channel logout endpoint: it answers the statuses
// it is given, in turn (then 200), and keeps every logout token it was posted.
type logoutReceiver struct {
	mu       sync.Mutex
	statuses []int
	tokens   []string
	srv      *httptest.Server
}

func newLogoutReceiver(t *testing.T, statuses ...int) *logoutReceiver {
	r := &logoutReceiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.tokens = append(r.tokens, req.PostFormValue("logout_token"))
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *logoutReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokens...)
}

// logoutFixture is a member signed in at an application that registered a back-channel
// logout URI: a live token of theirs at that client.
type logoutFixture struct {
	*fixture
	member roster.User
	client roster.OIDCClient
	rcv    *logoutReceiver
}

func newLogoutFixture(t *testing.T, e sqlstore.Engine, statuses ...int) *logoutFixture {
	t.Helper()
	f := &logoutFixture{fixture: newFixture(t, e, smtptest.Options{}, encryptionKey), rcv: newLogoutReceiver(t, statuses...)}
	_, f.member = f.env.User(t, "Ann")
	f.env.Join(t, f.owner, f.org.ID, f.member, roster.OrgMember)
	cl, _, err := f.env.App.Clients.Create(ctx, roster.System(), app.ClientInput{Name: "Shop floor", FirstParty: true,
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}, BackChannelLogoutURI: f.rcv.srv.URL + "/logout"})
	if err != nil {
		t.Fatal(err)
	}
	f.client = cl
	now := f.env.Clock.Now()
	if err := f.env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
		return tx.CreateOIDCToken(ctx, sqlstore.OIDCToken{ID: roster.NewID(roster.PrefixToken), Kind: "access", FamilyID: "fam", ClientID: cl.ID,
			UserID: f.member.ID, OrgID: f.org.ID, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, "")
	}); err != nil {
		t.Fatal(err)
	}
	f.env.Clock.Advance(time.Second)
	return f
}

// deliverLogouts runs the worker's logout round until it claims nothing, and returns how many
// logouts it claimed.
func (f *logoutFixture) deliverLogouts(t *testing.T) int {
	t.Helper()
	total := 0
	for {
		n, err := f.w.DeliverLogouts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func encryptionKey(c *app.Config) {
	c.EncryptionKey = make([]byte, app.EncryptionKeySize)
	_, _ = rand.Read(c.EncryptionKey)
}

// suspend ends the member's access: the change that queues their logout.
func (f *logoutFixture) suspend() error {
	suspended := roster.MembershipSuspended
	return f.env.App.Members.Update(ctx, f.owner, f.org.ID, f.member.ID, app.MemberUpdate{Status: &suspended})
}

func (f *logoutFixture) logouts(t *testing.T, status string) int {
	t.Helper()
	return f.env.Int(t, `SELECT COUNT(*) FROM outbox WHERE kind = ? AND status = ?`, app.KindBackChannelLogout, status)
}

// verify checks a logout token with go-oidc against the published keys, as the application
// would at the time at, and returns its jti and iat.
func (f *logoutFixture) verify(t *testing.T, raw string, at time.Time) (jti string, iat int64) {
	t.Helper()
	jwks, err := f.env.App.SigningKeys.Public(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []crypto.PublicKey
	for _, k := range jwks {
		keys = append(keys, k.Key)
	}
	v := gooidc.NewVerifier(f.env.App.OIDC.Issuer(), &gooidc.StaticKeySet{PublicKeys: keys},
		&gooidc.Config{ClientID: f.client.ID, SupportedSigningAlgs: []string{gooidc.ES256}, Now: func() time.Time { return at }})
	tok, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	var claims struct {
		JTI    string         `json:"jti"`
		IAT    int64          `json:"iat"`
		Nonce  *string        `json:"nonce"`
		Events map[string]any `json:"events"`
	}
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if tok.Subject != f.member.ID || claims.Nonce != nil || claims.JTI == "" ||
		claims.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Fatalf("logout token claims: sub %s %+v", tok.Subject, claims)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || jws.Signatures[0].Header.ExtraHeaders["typ"] != "logout+jwt" {
		t.Fatalf("logout token header: %v %+v", err, jws)
	}
	return claims.JTI, claims.IAT
}

// TestBackChannelLogoutIsRetried: an application whose logout endpoint fails twice receives
// the logout on the third attempt, after the backoff, and is sent nothing more. Each attempt
// carries a token signed then, with the same jti; the last one verifies when it arrives.
func TestBackChannelLogoutIsRetried(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newLogoutFixture(t, e, http.StatusInternalServerError, http.StatusServiceUnavailable)
		if err := f.suspend(); err != nil {
			t.Fatal(err)
		}
		if n := f.logouts(t, "pending"); n != 1 {
			t.Fatalf("%d logouts queued with the suspension, want 1", n)
		}
		for attempt := 1; attempt <= 3; attempt++ {
			if n := f.deliverLogouts(t); n != 1 {
				t.Fatalf("attempt %d: claimed %d", attempt, n)
			}
			if got := len(f.rcv.received()); got != attempt {
				t.Fatalf("attempt %d: the receiver got %d posts", attempt, got)
			}
			if attempt < 3 {
				if n := f.deliverLogouts(t); n != 0 {
					t.Fatalf("retried before the backoff: %d", n)
				}
				f.env.Clock.Advance(app.Backoff(attempt))
			}
		}
		if sent, pending := f.logouts(t, "sent"), f.logouts(t, "pending"); sent != 1 || pending != 0 {
			t.Fatalf("after the success: %d sent, %d pending", sent, pending)
		}
		f.env.Clock.Advance(24 * time.Hour)
		f.deliverLogouts(t)
		tokens := f.rcv.received()
		if len(tokens) != 3 {
			t.Fatalf("the receiver got %d posts, want exactly 3", len(tokens))
		}
		// Each verifies at the time it was posted, with the same jti and its own iat.
		at := f.env.Clock.Now().Add(-24 * time.Hour)
		jti, iat := f.verify(t, tokens[2], at)
		for i := 1; i >= 0; i-- {
			at = at.Add(-app.Backoff(i + 1))
			j, earlier := f.verify(t, tokens[i], at)
			if j != jti || earlier >= iat {
				t.Fatalf("attempt %d: jti %q iat %d, the last attempt's %q %d", i+1, j, earlier, jti, iat)
			}
			iat = earlier
		}
	})
}

// TestBackChannelLogoutSurvivesACrash: the logout is written with the change that ends access,
// so a process that stops right after the commit, or dies once it has claimed the logout,
// loses nothing: the row is there and a worker delivers it.
func TestBackChannelLogoutSurvivesACrash(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newLogoutFixture(t, e)
		if err := f.suspend(); err != nil {
			t.Fatal(err)
		}
		if n := f.logouts(t, "pending"); n != 1 { // committed with the suspension, nothing sent yet
			t.Fatalf("%d logouts in the outbox after the commit, want 1", n)
		}
		claimed, err := f.env.App.Outbox.ClaimLogouts(ctx, 10) // a worker claims, then is killed
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		if n := f.deliverLogouts(t); n != 0 {
			t.Fatalf("a leased logout was claimed again: %d", n)
		}
		f.env.Clock.Advance(app.OutboxLease + time.Second) // the restarted process's worker
		if n := f.deliverLogouts(t); n != 1 {
			t.Fatalf("after the lease ran out: %d delivered", n)
		}
		if tokens := f.rcv.received(); len(tokens) != 1 {
			t.Fatalf("the receiver got %d posts", len(tokens))
		} else {
			f.verify(t, tokens[0], f.env.Clock.Now())
		}
	})
}

// TestRolledBackChangeSendsNoLogout: a change of access whose transaction rolls back (here at
// commit, after the logout was queued in it) queues nothing; a retried transaction queues the
// logout once.
func TestRolledBackChangeSendsNoLogout(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newLogoutFixture(t, e)
		f.env.DB.FailNextCommits(5) // every attempt of the transaction rolls back
		if err := f.suspend(); err == nil {
			t.Fatal("the suspension committed")
		}
		f.env.DB.FailNextCommits(0)
		if n := f.env.Int(t, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, app.KindBackChannelLogout); n != 0 {
			t.Fatalf("%d logouts written by a rolled-back change", n)
		}
		f.deliverLogouts(t)
		if got := len(f.rcv.received()); got != 0 {
			t.Fatalf("a rolled-back change sent %d logouts", got)
		}
		m, err := f.env.App.Members.Get(ctx, f.owner, f.org.ID, f.member.ID)
		if err != nil || m.Membership.Status != roster.MembershipActive {
			t.Fatalf("member after the rollback: %v %+v", err, m)
		}
		f.env.DB.FailNextCommits(1) // rolled back once, then committed
		if err := f.suspend(); err != nil {
			t.Fatal(err)
		}
		if n := f.env.Int(t, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, app.KindBackChannelLogout); n != 1 {
			t.Fatalf("%d logouts after a retried transaction, want 1", n)
		}
		f.deliverLogouts(t)
		if got := len(f.rcv.received()); got != 1 {
			t.Fatalf("the receiver got %d posts, want 1", got)
		}
	})
}

// TestBackChannelLogoutGivesUp: a receiver that answers 410 Gone is not tried again, and one
// that keeps failing is given up after about a day; the audit log records both.
func TestBackChannelLogoutGivesUp(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newLogoutFixture(t, e, http.StatusGone)
		if err := f.suspend(); err != nil {
			t.Fatal(err)
		}
		f.deliverLogouts(t)
		if n := f.logouts(t, "failed"); n != 1 {
			t.Fatalf("after 410 Gone: %d failed", n)
		}
		f.env.Clock.Advance(time.Hour)
		f.rcv.mu.Lock()
		f.rcv.statuses = []int{}
		for range app.OutboxMaxAttempts + 1 {
			f.rcv.statuses = append(f.rcv.statuses, http.StatusBadGateway)
		}
		f.rcv.mu.Unlock()
		reactivated := roster.MembershipActive
		if err := f.env.App.Members.Update(ctx, f.owner, f.org.ID, f.member.ID, app.MemberUpdate{Status: &reactivated}); err != nil {
			t.Fatal(err)
		}
		f.env.Clock.Advance(time.Second)
		now := f.env.Clock.Now()
		if err := f.env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
			return tx.CreateOIDCToken(ctx, sqlstore.OIDCToken{ID: roster.NewID(roster.PrefixToken), Kind: "access", FamilyID: "fam2", ClientID: f.client.ID,
				UserID: f.member.ID, OrgID: f.org.ID, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}, "")
		}); err != nil {
			t.Fatal(err)
		}
		f.env.Clock.Advance(time.Second)
		if err := f.env.App.Members.Remove(ctx, f.owner, f.org.ID, f.member.ID); err != nil {
			t.Fatal(err)
		}
		start := f.env.Clock.Now()
		for attempt := 1; attempt <= app.OutboxMaxAttempts; attempt++ {
			if n := f.deliverLogouts(t); n != 1 {
				t.Fatalf("attempt %d: claimed %d", attempt, n)
			}
			f.env.Clock.Advance(app.Backoff(attempt))
		}
		if elapsed := f.env.Clock.Now().Sub(start); elapsed < 20*time.Hour || elapsed > 36*time.Hour {
			t.Fatalf("gave up after %v, want about a day", elapsed)
		}
		if n := f.logouts(t, "failed"); n != 2 {
			t.Fatalf("%d failed logouts, want 2", n)
		}
		if n := f.deliverLogouts(t); n != 0 {
			t.Fatalf("a failed logout was tried again: %d", n)
		}
		if n := f.env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'oidc.backchannel_logout_failed' AND target_id = ?`, f.client.ID); n != 2 {
			t.Fatalf("%d failures in the audit log, want 2", n)
		}
	})
}
