package app_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

var anon = roster.Anonymous("198.51.100.7", "test")

// inviteFixture is an organization with two stores, its owner and a mailbox.
type inviteFixture struct {
	env    *testenv.Env
	box    *testenv.Outbox
	owner  roster.Actor
	ownerU roster.User
	org    roster.Organization
	a, b   roster.Store
}

func newInviteFixture(t *testing.T, e sqlstore.Engine, configure ...func(*app.Config)) *inviteFixture {
	env := testenv.NewEnv(t, e, configure...)
	f := &inviteFixture{env: env, box: env.Outbox(t)}
	f.owner, f.ownerU = env.User(t, "Olivia")
	f.org = env.Org(t, f.owner, "Acme")
	f.a = env.Store(t, f.owner, f.org.ID, "Shop A")
	f.b = env.Store(t, f.owner, f.org.ID, "Shop B")
	return f
}

func (f *inviteFixture) invite(t *testing.T, addr string, stores ...app.StoreGrantInput) roster.Invitation {
	t.Helper()
	inv, err := f.env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: addr, Stores: stores})
	if err != nil {
		t.Fatalf("invite %s: %v", addr, err)
	}
	return inv
}

// link delivers the outbox and returns the token of the newest invitation email to addr.
func (f *inviteFixture) link(t *testing.T, addr string) string {
	t.Helper()
	tok := testenv.Token(f.box.Last(t, addr, "invitation"))
	if tok == "" {
		t.Fatal("no link in the invitation email")
	}
	return tok
}

func TestInvitationLifecycle(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		inv := f.invite(t, "Marc@Acme.com", app.StoreGrantInput{StoreID: f.a.ID, RoleID: roster.StoreRoleAdmin},
			app.StoreGrantInput{StoreID: f.b.ID, RoleID: roster.StoreRoleViewer})
		if inv.Email != "marc@acme.com" || inv.Status != roster.InvitationPending || !inv.ExpiresAt.Equal(f.env.Clock.Now().Add(7*24*time.Hour)) {
			t.Fatalf("invitation %+v", inv)
		}
		msg := f.box.Last(t, "marc@acme.com", "invitation")
		for _, want := range []string{"Olivia", "Acme", "Shop A (Admin)", "Shop B (Viewer)", "29 November 2026", "https://roster.example/invitations/accept?token=rl_"} {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("invitation email lacks %q:\n%s", want, msg.Text)
			}
		}
		tok := testenv.Token(msg)
		p, err := f.env.App.Invitations.Lookup(ctx, tok)
		if err != nil || p.OrgName != "Acme" || p.InviterName != "Olivia" || p.MaskedEmail != "m•••c@acme.com" || p.Status != roster.InvitationPending || len(p.Stores) != 2 {
			t.Fatalf("lookup: %v %+v", err, p)
		}
		res, err := f.env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: tok, Name: "Marc", Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		if res.Session == nil || !res.User.Verified() || res.User.Email != "marc@acme.com" {
			t.Fatalf("accept: %+v", res)
		}
		member, err := f.env.App.Auth.Authenticate(ctx, res.Session.Token, "198.51.100.7", "test")
		if err != nil {
			t.Fatal(err)
		}
		affs, err := f.env.App.Accounts.Organizations(ctx, member)
		if err != nil || len(affs) != 1 || affs[0].Organization.ID != f.org.ID || len(affs[0].Stores) != 2 {
			t.Fatalf("selector after accepting: %v %+v", err, affs)
		}
		if n := f.box.Count(t, f.ownerU.Email, "invitation_accepted"); n != 0 {
			t.Fatalf("the owner's address is not verified: no notice expected, got %d", n)
		}
		if p, _ := f.env.App.Invitations.Lookup(ctx, tok); p.Status != roster.InvitationAccepted {
			t.Fatalf("lookup after accepting: %s", p.Status)
		}
		if _, err := f.env.App.Invitations.Accept(ctx, member, app.AcceptInput{Token: tok}); testenv.Code(err) != roster.EInvitationNotPending {
			t.Fatalf("second accept: %v", err)
		}
		list, err := f.env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Status: roster.InvitationAccepted})
		if err != nil || len(list.Items) != 1 || list.Items[0].AcceptedBy != res.User.ID {
			t.Fatalf("accepted list: %v %+v", err, list)
		}
	})
}

func TestInvitationRules(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		_, mu := env.User(t, "Marc")
		env.Join(t, f.owner, f.org.ID, mu, roster.OrgMember)
		if _, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: mu.Email}); testenv.Code(err) != roster.EAlreadyMember {
			t.Fatalf("existing member: %v", err)
		}
		inv := f.invite(t, "ana@acme.com")
		_, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: "ANA@acme.com"})
		if e := roster.AsError(err); e == nil || e.Code != roster.EInvitationPending || e.Details["invitation_id"] != inv.ID {
			t.Fatalf("second invitation: %v", err)
		}
		if _, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: "x@acme.com", Role: roster.OrgOwner}); testenv.Code(err) != roster.EOwnerRequired {
			t.Fatalf("invite as owner: %v", err)
		}
		if _, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: "x@acme.com",
			Stores: []app.StoreGrantInput{{StoreID: f.a.ID, RoleID: "nope"}}}); testenv.Code(err) != roster.EUnknownRole {
			t.Fatalf("unknown role: %v", err)
		}

		// A store admin (organization role member, admin of Shop A) invites into Shop A only,
		// with the organization role member only.
		sa, sau := env.User(t, "Sam")
		env.Join(t, f.owner, f.org.ID, sau, roster.OrgMember, app.StoreGrantInput{StoreID: f.a.ID, RoleID: roster.StoreRoleAdmin})
		if _, err := env.App.Invitations.Create(ctx, sa, f.org.ID, app.InvitationInput{Email: "s1@acme.com",
			Stores: []app.StoreGrantInput{{StoreID: f.a.ID, RoleID: roster.StoreRoleMember}}}); err != nil {
			t.Fatalf("store admin into their store: %v", err)
		}
		if _, err := env.App.Invitations.Create(ctx, sa, f.org.ID, app.InvitationInput{Email: "s2@acme.com",
			Stores: []app.StoreGrantInput{{StoreID: f.b.ID, RoleID: roster.StoreRoleMember}}}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("store admin into another store: %v", err)
		}
		if _, err := env.App.Invitations.Create(ctx, sa, f.org.ID, app.InvitationInput{Email: "s3@acme.com", Role: roster.OrgAdmin,
			Stores: []app.StoreGrantInput{{StoreID: f.a.ID, RoleID: roster.StoreRoleMember}}}); testenv.Code(err) != roster.ERoleEscalation {
			t.Fatalf("store admin invites an admin: %v", err)
		}
		if _, err := env.App.Invitations.Create(ctx, sa, f.org.ID, app.InvitationInput{Email: "s4@acme.com"}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("store admin without stores: %v", err)
		}
		member, _ := env.Login(t, mu.Email)
		if _, err := env.App.Invitations.Create(ctx, member, f.org.ID, app.InvitationInput{Email: "m1@acme.com"}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("member invites: %v", err)
		}
		outsider, _ := env.User(t, "Eve")
		if _, err := env.App.Invitations.Create(ctx, outsider, f.org.ID, app.InvitationInput{Email: "e1@acme.com"}); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("outsider invites: %v", err)
		}
		if err := env.App.Invitations.Cancel(ctx, outsider, inv.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("outsider cancels: %v", err)
		}
		if _, err := env.App.Invitations.List(ctx, member, f.org.ID, app.InvitationFilter{}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("member lists invitations: %v", err)
		}
		// Policy.
		if _, err := env.App.Organizations.SetPolicy(ctx, f.owner, f.org.ID, roster.Policy{AllowedDomains: []string{"ACME.com."}, BlockFreeProviders: true}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		for addr, code := range map[string]string{"x@gmail.com": roster.EEmailDomainNotAllowed, "x@sub.acme.com": roster.EEmailDomainNotAllowed, "y@acme.com": ""} {
			if _, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: addr}); testenv.Code(err) != code {
				t.Errorf("invite %s under policy: %v, want %q", addr, err, code)
			}
		}
		if _, err := env.App.Organizations.SetPolicy(ctx, f.owner, f.org.ID, roster.Policy{BlockFreeProviders: true}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: "x@Gmail.com"}); testenv.Code(err) != roster.EFreeEmailBlocked {
			t.Fatalf("free provider: %v", err)
		}
	})
}

func TestInvitationExpiryResendAndCancel(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		inv := f.invite(t, "marc@acme.com")
		old := f.link(t, "marc@acme.com")
		env.Clock.Advance(7*24*time.Hour + time.Second)
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: old, Name: "Marc", Password: testenv.Password}); testenv.Code(err) != roster.EInvitationExpired {
			t.Fatalf("accept after 7 days and 1 second: %v", err)
		}
		if p, _ := env.App.Invitations.Lookup(ctx, old); p.Status != roster.InvitationExpired {
			t.Fatalf("lookup of an expired invitation: %s", p.Status)
		}
		if list, _ := env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Status: roster.InvitationExpired}); len(list.Items) != 1 {
			t.Fatalf("expired filter: %+v", list)
		}
		// Resend: a new link, the old one dead at once, the expiry restarted.
		re, err := env.App.Invitations.Resend(ctx, f.owner, inv.ID)
		if err != nil || !re.ExpiresAt.Equal(env.Clock.Now().Add(7*24*time.Hour)) || re.SendCount != 2 {
			t.Fatalf("resend: %v %+v", err, re)
		}
		if _, err := env.App.Invitations.Lookup(ctx, old); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("old link after resend: %v", err)
		}
		if _, err := env.App.Invitations.Resend(ctx, f.owner, inv.ID); testenv.Code(err) != roster.ERateLimited {
			t.Fatalf("immediate second resend: %v", err)
		}
		second := f.link(t, "marc@acme.com")
		if second == old {
			t.Fatal("resend reused the link")
		}
		env.Clock.Advance(2 * time.Minute)
		if _, err := env.App.Invitations.Resend(ctx, f.owner, inv.ID); err != nil {
			t.Fatal(err)
		}
		third := f.link(t, "marc@acme.com")
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: second, Name: "Marc", Password: testenv.Password}); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("accept with a replaced link: %v", err)
		}
		// Cancel: the live link dies at once.
		if err := env.App.Invitations.Cancel(ctx, f.owner, inv.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: third, Name: "Marc", Password: testenv.Password}); testenv.Code(err) != roster.EInvitationNotPending {
			t.Fatalf("accept a cancelled invitation: %v", err)
		}
		if err := env.App.Invitations.Decline(ctx, anon, third); testenv.Code(err) != roster.EInvitationNotPending {
			t.Fatalf("decline a cancelled invitation: %v", err)
		}
		if err := env.App.Invitations.Cancel(ctx, f.owner, inv.ID); testenv.Code(err) != roster.EInvitationNotPending {
			t.Fatalf("cancel twice: %v", err)
		}
		// Cancelled before the email goes out: nothing is sent.
		before := f.box.Count(t, "ana@acme.com", "invitation")
		inv2 := f.invite(t, "ana@acme.com")
		if err := env.App.Invitations.Cancel(ctx, f.owner, inv2.ID); err != nil {
			t.Fatal(err)
		}
		if n := f.box.Count(t, "ana@acme.com", "invitation"); n != before {
			t.Fatalf("a cancelled invitation's email went out")
		}
		// Decline.
		f.invite(t, "leo@acme.com")
		if err := env.App.Invitations.Decline(ctx, anon, f.link(t, "leo@acme.com")); err != nil {
			t.Fatal(err)
		}
		if list, _ := env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Status: roster.InvitationDeclined}); len(list.Items) != 1 {
			t.Fatalf("declined: %+v", list)
		}
	})
}

func TestConcurrentAcceptsGiveOneMembership(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		marc, mu := env.User(t, "Marc")
		f.invite(t, mu.Email, app.StoreGrantInput{StoreID: f.a.ID, RoleID: roster.StoreRoleMember})
		tok := f.link(t, mu.Email)
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = env.App.Invitations.Accept(ctx, marc, app.AcceptInput{Token: tok}) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch testenv.Code(err) {
			case "":
				ok++
			case roster.EInvitationNotPending:
			default:
				t.Errorf("concurrent accept: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d accepts succeeded, want 1", ok)
		}
		members, err := env.App.Members.List(ctx, f.owner, f.org.ID, app.MemberFilter{})
		if err != nil || len(members.Items) != 2 {
			t.Fatalf("members: %v %d", err, len(members.Items))
		}

		// New accounts racing through one link: one account, one membership. A loser that
		// finds the account made proves the password against it, and counts as a sign-in
		// attempt: the fifth at once locks the address for a second (lockFor), so a loser may
		// also be refused as rate_limited — how many depends on the machine's speed.
		f.invite(t, "new@acme.com")
		tok = f.link(t, "new@acme.com")
		for i := range 10 {
			wg.Go(func() {
				_, errs[i] = env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: tok, Name: "New", Password: testenv.Password})
			})
		}
		wg.Wait()
		ok = 0
		for _, err := range errs[:10] {
			if err == nil {
				ok++
			} else if c := testenv.Code(err); c != roster.EInvitationNotPending && c != roster.EInvalidCredentials && c != roster.ERateLimited {
				t.Errorf("concurrent sign-up accept: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d sign-up accepts succeeded, want 1", ok)
		}
	})
}

func TestAcceptIdentity(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		_, mu := env.User(t, "Marc")
		other, _ := env.User(t, "Eve")
		f.invite(t, mu.Email)
		tok := f.link(t, mu.Email)
		if _, err := env.App.Invitations.Accept(ctx, other, app.AcceptInput{Token: tok}); testenv.Code(err) != roster.EInvitationMismatch {
			t.Fatalf("another account accepts: %v", err)
		}
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: tok, Password: "wrong password for sure"}); testenv.Code(err) != roster.EInvalidCredentials {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: "rl_nope"}); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("malformed token: %v", err)
		}
		res, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: tok, Password: testenv.Password})
		if err != nil || res.Session == nil || res.User.ID != mu.ID {
			t.Fatalf("log in while accepting: %v %+v", err, res)
		}
	})
}

func TestInviteOnlySignupThroughInvitation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := testenv.NewEnvOn(t, f.env, func(c *app.Config) { c.Signup = app.SignupInviteOnly })
		box := env.Outbox(t)
		if err := env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: "x@acme.com", Name: "X", Password: testenv.Password}); testenv.Code(err) != roster.ESignupClosed {
			t.Fatalf("open sign-up in invite-only mode: %v", err)
		}
		if _, err := env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: "x@acme.com"}); err != nil {
			t.Fatal(err)
		}
		tok := testenv.Token(box.Last(t, "x@acme.com", "invitation"))
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: tok, Name: "X", Password: testenv.Password}); err != nil {
			t.Fatalf("sign-up through an invitation in invite-only mode: %v", err)
		}
	})
}

func TestBulkInvitations(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		rows, err := app.ParseImportCSV(strings.NewReader("email,role,stores,locale,message\n" +
			"a@acme.com,member," + f.a.ID + ":member;Shop B:viewer,fr,Bienvenue\n" +
			"not an address,member,\n" +
			"b@acme.com,admin,\n" +
			"A@acme.com,member,\n" +
			"c@acme.com,member,sto_nope:member\n" +
			"d@acme.com,member," + f.a.ID + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.env.App.Members.Import(ctx, f.owner, f.org.ID, rows, app.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"", roster.EInvalidEmail, "", app.EDuplicateRow, roster.ENotFound, roster.EInvalid}
		for i, r := range res {
			if r.Code != want[i] || (r.Code == "") != (r.Outcome == app.ImportInvited) || (r.Err == nil) != (r.Code == "") {
				t.Errorf("row %d: %+v, want %q", i, r, want[i])
			}
		}
		if len(res[0].Invitation.Stores) != 2 || res[0].Invitation.Locale != "fr" || res[0].Invitation.Message != "Bienvenue" || res[2].Invitation.Role != roster.OrgAdmin {
			t.Fatalf("rows: %+v", res)
		}
		if n := f.box.Count(t, "a@acme.com", "invitation") + f.box.Count(t, "b@acme.com", "invitation"); n != 2 {
			t.Fatalf("%d emails, want 2", n)
		}
		many := make([]app.ImportRow, roster.MaxImportRows+1)
		if _, err := f.env.App.Members.Import(ctx, f.owner, f.org.ID, many, app.ImportOptions{}); testenv.Code(err) != roster.EInvalid {
			t.Fatalf("too many rows: %v", err)
		}
		// Rows given as JSON (without a line from a file) find their duplicates too.
		res, err = f.env.App.Members.Import(ctx, f.owner, f.org.ID, []app.ImportRow{{Line: 1, Email: "e@acme.com"}, {Line: 2, Email: "E@acme.com"}}, app.ImportOptions{})
		if err != nil || res[0].Outcome != app.ImportInvited || res[1].Code != app.EDuplicateRow {
			t.Fatalf("duplicates in one request: %v %+v", err, res)
		}
	})
}

func TestInvitationListPages(t *testing.T) {
	f := newInviteFixture(t, sqlstore.SQLite)
	for _, addr := range []string{"a@acme.com", "b@acme.com", "c@acme.com"} {
		f.invite(t, addr)
	}
	p1, err := f.env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Limit: 2, Status: roster.InvitationPending})
	if err != nil || len(p1.Items) != 2 || p1.Next == "" || p1.Items[0].Email != "c@acme.com" {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	p2, err := f.env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Limit: 2, Cursor: p1.Next})
	if err != nil || len(p2.Items) != 1 || p2.Next != "" || p2.Items[0].Email != "a@acme.com" {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
	if q, _ := f.env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Query: "B@"}); len(q.Items) != 1 {
		t.Fatalf("search: %+v", q)
	}
	if _, err := f.env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Status: "lost"}); testenv.Code(err) != roster.EInvalid {
		t.Fatalf("bad status: %v", err)
	}
}

// BenchmarkAcceptInvitation measures accepting an invitation by a signed-in user: the
// lookup of the link, the locked transaction that answers it, the membership with a store
// role and the inviter's notice.
func BenchmarkAcceptInvitation(b *testing.B) {
	engines(b, func(b *testing.B, e sqlstore.Engine) {
		env := testenv.NewEnv(b, e)
		box := env.Outbox(b)
		owner, _ := env.User(b, "Olivia")
		org := env.Org(b, owner, "Acme")
		st := env.Store(b, owner, org.ID, "Shop")
		type invitee struct {
			actor roster.Actor
			token string
		}
		invitees := make([]invitee, b.N)
		for i := range invitees {
			actor, u := env.User(b, "user")
			if _, err := env.App.Invitations.Create(ctx, owner, org.ID, app.InvitationInput{Email: u.Email,
				Stores: []app.StoreGrantInput{{StoreID: st.ID, RoleID: roster.StoreRoleMember}}}); err != nil {
				b.Fatal(err)
			}
			invitees[i] = invitee{actor, testenv.Token(box.Last(b, u.Email, "invitation"))}
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := env.App.Invitations.Accept(ctx, invitees[i].actor, app.AcceptInput{Token: invitees[i].token}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestInvitationsOfADepartedMember: when a member is removed or leaves, the invitations they
// sent and that are still pending are revoked in the same transaction — a link already
// delivered answers invitation_not_pending, a message not yet sent never goes out — and the
// audit log says why. Invitations of others stay pending.
func TestInvitationsOfADepartedMember(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		adam, adamU := env.User(t, "Adam")
		env.Join(t, f.owner, f.org.ID, adamU, roster.OrgAdmin)
		lea, leaU := env.User(t, "Lea")
		env.Join(t, f.owner, f.org.ID, leaU, roster.OrgAdmin)
		inviteAs := func(actor roster.Actor, addr string) roster.Invitation {
			t.Helper()
			inv, err := env.App.Invitations.Create(ctx, actor, f.org.ID, app.InvitationInput{Email: addr})
			if err != nil {
				t.Fatalf("invite %s: %v", addr, err)
			}
			return inv
		}
		inviteAs(adam, "pia@acme.com")
		sent := f.link(t, "pia@acme.com")
		inviteAs(adam, "rui@acme.com") // still in the outbox
		inviteAs(lea, "sol@acme.com")
		kept := f.invite(t, "own@acme.com")

		if err := env.App.Members.Remove(ctx, f.owner, f.org.ID, adamU.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.App.Members.Leave(ctx, lea, f.org.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: sent, Name: "Pia", Password: testenv.Password}); testenv.Code(err) != roster.EInvitationNotPending {
			t.Fatalf("accept an invitation of a removed admin: %v", err)
		}
		f.box.Deliver(t)
		if n := f.box.Count(t, "rui@acme.com", "invitation"); n != 0 {
			t.Fatalf("%d invitation emails to rui after the inviter was removed", n)
		}
		revoked, err := env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Status: roster.InvitationRevoked})
		if err != nil || len(revoked.Items) != 3 {
			t.Fatalf("revoked invitations: %d %v", len(revoked.Items), err)
		}
		pending, err := env.App.Invitations.List(ctx, f.owner, f.org.ID, app.InvitationFilter{Status: roster.InvitationPending})
		if err != nil || len(pending.Items) != 1 || pending.Items[0].ID != kept.ID {
			t.Fatalf("pending invitations: %+v %v", pending.Items, err)
		}
		events, err := env.App.Audit.List(ctx, f.owner, f.org.ID, app.AuditFilter{Action: "invitation.revoked"})
		if err != nil || len(events.Items) != 3 {
			t.Fatalf("audit: %d events %v", len(events.Items), err)
		}
		for _, ev := range events.Items {
			if ev.After["reason"] != "inviter_left" {
				t.Errorf("audit event %s: after %v", ev.ID, ev.After)
			}
		}
	})
}

// TestInvitationExpiresToTheMicrosecond: an invitation answers until the instant before it
// expires and never from that instant on, whoever answers and however: the expiry is in the
// statement that answers it, not only in the check before.
func TestInvitationExpiresToTheMicrosecond(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env
		early := f.invite(t, "early@acme.com")
		earlyTok := f.link(t, "early@acme.com")
		late := f.invite(t, "late@acme.com")
		lateTok := f.link(t, "late@acme.com")
		declined := f.invite(t, "declined@acme.com")
		declinedTok := f.link(t, "declined@acme.com")
		if !early.ExpiresAt.Equal(late.ExpiresAt) || !early.ExpiresAt.Equal(declined.ExpiresAt) {
			t.Fatal("the fixture's invitations expire at different times")
		}
		env.Clock.Advance(early.ExpiresAt.Sub(env.Clock.Now()) - time.Microsecond)
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: earlyTok, Name: "Early", Password: testenv.Password}); err != nil {
			t.Fatalf("accepted the instant before it expires: %v", err)
		}
		env.Clock.Advance(time.Microsecond)
		if _, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: lateTok, Name: "Late", Password: testenv.Password}); testenv.Code(err) != roster.EInvitationExpired {
			t.Fatalf("accepted at the instant it expires: %v", err)
		}
		if err := env.App.Invitations.Decline(ctx, anon, declinedTok); testenv.Code(err) != roster.EInvitationExpired {
			t.Fatalf("declined at the instant it expires: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM users WHERE email = ?`, "late@acme.com"); n != 0 {
			t.Fatal("an account was created through an expired invitation")
		}

		// Expiry between the check and the transaction: the check still sees it pending, the
		// statement that answers it must refuse.
		racer := f.invite(t, "racer@acme.com")
		racerTok := f.link(t, "racer@acme.com")
		env.Clock.Advance(racer.ExpiresAt.Sub(env.Clock.Now()) - time.Microsecond)
		env.Clock.Tick(time.Microsecond)
		_, err := env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: racerTok, Name: "Racer", Password: testenv.Password})
		env.Clock.Tick(0)
		if c := testenv.Code(err); c != roster.EInvitationExpired {
			t.Fatalf("accepted across its expiry: %v", err)
		}
	})
}

// TestBulkInvitationsAskTheRightToInvite: the bulk import asks what a single invitation asks
// (roster.Access.InvitesSomewhere) — a store viewer, who may invite nobody, is refused as a
// whole, not row by row; a store admin imports members into their store.
func TestBulkInvitationsAskTheRightToInvite(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		viewer, vu := f.env.User(t, "Vera")
		f.env.Join(t, f.owner, f.org.ID, vu, roster.OrgMember, app.StoreGrantInput{StoreID: f.a.ID, RoleID: roster.StoreRoleViewer})
		rows := []app.ImportRow{{Line: 1, Email: "new@acme.com", Stores: []app.ImportGrant{{Store: f.a.ID, Role: roster.StoreRoleMember}}}}
		if _, err := f.env.App.Members.Import(ctx, viewer, f.org.ID, rows, app.ImportOptions{}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("a store viewer imports invitations: %v, want forbidden", err)
		}
		lead, lu := f.env.User(t, "Lena")
		f.env.Join(t, f.owner, f.org.ID, lu, roster.OrgMember, app.StoreGrantInput{StoreID: f.a.ID, RoleID: roster.StoreRoleAdmin})
		res, err := f.env.App.Members.Import(ctx, lead, f.org.ID, rows, app.ImportOptions{})
		if err != nil || len(res) != 1 || res[0].Outcome != app.ImportInvited {
			t.Fatalf("a store admin imports a member into their store: %+v %v", res, err)
		}
	})
}
