package app_test

import (
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// domainEnv is an env whose domain verification asks a local DNS server the test controls.
func domainEnv(t *testing.T, e sqlstore.Engine) (*testenv.Env, *testenv.DNS) {
	dns := testenv.DNSServer(t)
	env := testenv.NewEnv(t, e, func(c *app.Config) { c.DNSResolver = dns.Addr; c.DomainRecheck = 24 * time.Hour })
	return env, dns
}

// TestDomainVerification adds a domain (normalized from IDNA and case), fails to verify it
// without a record and with a wrong token, verifies it with the right one, refuses a second
// organization's claim of it, and lapses it after two re-checks that miss the record.
func TestDomainVerification(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, dns := domainEnv(t, e)
		tm := newTeam(t, env)

		d, err := env.App.Domains.Add(ctx, tm.admin, tm.org.ID, " Bücher.Example. ")
		want(t, err, "", "add domain")
		if d.Domain != "xn--bcher-kva.example" || d.Status != roster.DomainPending || d.JoinPolicy != roster.JoinOff || len(d.Token) < 26 {
			t.Fatalf("added %+v", d)
		}
		if d.RecordName() != "_roster-verification.xn--bcher-kva.example" || d.RecordValue() != "roster-verification="+d.Token {
			t.Fatalf("record %s = %s", d.RecordName(), d.RecordValue())
		}
		_, err = env.App.Domains.Add(ctx, tm.owner, tm.org.ID, "BÜCHER.example")
		want(t, err, roster.EConflict, "the same domain twice")
		for _, bad := range []string{"gmail.com", "eu.mailinator.com", "co.uk", "com", "not a domain", "a@b.example", ""} {
			_, err := env.App.Domains.Add(ctx, tm.owner, tm.org.ID, bad)
			if c := testenv.Code(err); c != roster.EInvalid && c != roster.EFreeEmailBlocked {
				t.Errorf("AddDomain(%q): %v", bad, err)
			}
		}
		_, err = env.App.Domains.Add(ctx, tm.owner, tm.org.ID, "gmail.com")
		want(t, err, roster.EFreeEmailBlocked, "a free provider")

		_, err = env.App.Domains.Verify(ctx, tm.admin, tm.org.ID, d.ID)
		want(t, err, roster.EDomainNotVerified, "verify without a record")
		dns.SetTXT(d.RecordName(), "roster-verification=WRONGTOKEN", "v=spf1 -all")
		_, err = env.App.Domains.Verify(ctx, tm.admin, tm.org.ID, d.ID)
		want(t, err, roster.EDomainNotVerified, "verify with a wrong token")
		if got, _ := env.App.Domains.Get(ctx, tm.admin, tm.org.ID, d.ID); got.Status != roster.DomainPending {
			t.Fatalf("after failed verifications: %s", got.Status)
		}
		dns.SetTXT(d.RecordName(), "v=spf1 -all", d.RecordValue())
		d, err = env.App.Domains.Verify(ctx, tm.admin, tm.org.ID, d.ID)
		want(t, err, "", "verify with the record")
		if d.Status != roster.DomainVerified || !d.VerifiedAt.Equal(env.Clock.Now()) {
			t.Fatalf("verified %+v", d)
		}
		if n := events(t, env, tm.org.ID, "domain.verified"); n != 1 {
			t.Fatalf("%d domain.verified audit entries", n)
		}

		// Another organization may claim the domain, but never verify it, even with its own record.
		otherOwner, _ := env.User(t, "Rival")
		other := env.Org(t, otherOwner, "Rival")
		od, err := env.App.Domains.Add(ctx, otherOwner, other.ID, "bücher.example")
		want(t, err, "", "another organization adds the domain")
		dns.SetTXT(od.RecordName(), d.RecordValue(), od.RecordValue())
		_, err = env.App.Domains.Verify(ctx, otherOwner, other.ID, od.ID)
		want(t, err, roster.EDomainClaimed, "another organization verifies the domain")

		// Re-checks: not due before a day; one miss is tolerated, the second lapses the domain.
		n, err := env.App.Domains.Recheck(ctx)
		if got, _ := env.App.Domains.Get(ctx, tm.admin, tm.org.ID, d.ID); err != nil || n != 0 || !got.CheckedAt.Equal(d.CheckedAt) {
			t.Fatalf("early re-check: %d, %v, %+v", n, err, got)
		}
		env.Clock.Advance(25 * time.Hour)
		if n, err := env.App.Domains.Recheck(ctx); err != nil || n != 0 {
			t.Fatalf("re-check with the record: %d, %v", n, err)
		}
		// A failing DNS server says nothing of the record: twice, and the domain stays.
		dns.Fail(d.RecordName(), true)
		for range roster.DomainLapseAfter {
			env.Clock.Advance(25 * time.Hour)
			if n, err := env.App.Domains.Recheck(ctx); err != nil || n != 0 {
				t.Fatalf("re-check with a failing server: %d, %v", n, err)
			}
		}
		if got, _ := env.App.Domains.Get(ctx, tm.admin, tm.org.ID, d.ID); got.Status != roster.DomainVerified || got.Failures != 0 ||
			!got.CheckedAt.Equal(env.Clock.Now()) {
			t.Fatalf("after failed lookups: %+v", got)
		}
		dns.Fail(d.RecordName(), false)
		dns.SetTXT(d.RecordName())
		env.Clock.Advance(25 * time.Hour)
		if n, err := env.App.Domains.Recheck(ctx); err != nil || n != 0 {
			t.Fatalf("first miss: %d, %v", n, err)
		}
		if got, _ := env.App.Domains.Get(ctx, tm.admin, tm.org.ID, d.ID); got.Status != roster.DomainVerified || got.Failures != 1 {
			t.Fatalf("after one miss: %+v", got)
		}
		if n, err := env.App.Domains.Recheck(ctx); err != nil || n != 0 {
			t.Fatalf("a re-check before the next is due: %d, %v", n, err)
		}
		env.Clock.Advance(25 * time.Hour)
		if n, err := env.App.Domains.Recheck(ctx); err != nil || n != 1 {
			t.Fatalf("second miss: %d, %v", n, err)
		}
		if got, _ := env.App.Domains.Get(ctx, tm.admin, tm.org.ID, d.ID); got.Status != roster.DomainLapsed {
			t.Fatalf("after two misses: %+v", got)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM events WHERE org_id = ? AND type = 'domain.lapsed'`, tm.org.ID); n != 1 {
			t.Fatalf("%d domain.lapsed events", n)
		}
		// Lapsed, the domain is free: the other organization verifies it with its record.
		dns.SetTXT(od.RecordName(), od.RecordValue())
		_, err = env.App.Domains.Verify(ctx, otherOwner, other.ID, od.ID)
		want(t, err, "", "the other organization verifies the lapsed domain")
		_, err = env.App.Domains.Verify(ctx, tm.owner, tm.org.ID, d.ID)
		want(t, err, roster.EDomainClaimed, "verify again after the domain went to another organization")
	})
}

// TestDomainIsolation: only owners and admins of the organization see or touch its domains;
// another organization's admin gets not_found, a member forbidden.
func TestDomainIsolation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, dns := domainEnv(t, e)
		tm := newTeam(t, env)
		d, err := env.App.Domains.Add(ctx, tm.owner, tm.org.ID, "acme.example")
		want(t, err, "", "add")
		dns.SetTXT(d.RecordName(), d.RecordValue())

		outsider, _ := env.User(t, "Eve")
		evil := env.Org(t, outsider, "Evil")
		for who, c := range map[string]struct {
			actor roster.Actor
			code  string
		}{"outsider": {outsider, roster.ENotFound}, "member": {tm.member, roster.EForbidden}} {
			_, err := env.App.Domains.List(ctx, c.actor, tm.org.ID)
			want(t, err, c.code, who+" lists")
			_, err = env.App.Domains.Get(ctx, c.actor, tm.org.ID, d.ID)
			want(t, err, c.code, who+" reads")
			_, err = env.App.Domains.Add(ctx, c.actor, tm.org.ID, "other.example")
			want(t, err, c.code, who+" adds")
			_, err = env.App.Domains.Verify(ctx, c.actor, tm.org.ID, d.ID)
			want(t, err, c.code, who+" verifies")
			_, err = env.App.Domains.SetJoin(ctx, c.actor, tm.org.ID, d.ID, roster.JoinAutomatic, roster.OrgMember)
			want(t, err, c.code, who+" sets the join policy")
			want(t, env.App.Domains.Remove(ctx, c.actor, tm.org.ID, d.ID), c.code, who+" removes")
		}
		// Through the outsider's own organization, the domain's ID is not theirs.
		_, err = env.App.Domains.Get(ctx, outsider, evil.ID, d.ID)
		want(t, err, roster.ENotFound, "read through another organization")
		_, err = env.App.Domains.Verify(ctx, outsider, evil.ID, d.ID)
		want(t, err, roster.ENotFound, "verify through another organization")
		want(t, env.App.Domains.Remove(ctx, outsider, evil.ID, d.ID), roster.ENotFound, "remove through another organization")
		if got, _ := env.App.Domains.Get(ctx, tm.owner, tm.org.ID, d.ID); got.Status != roster.DomainPending {
			t.Fatalf("the domain changed: %+v", got)
		}
		want(t, env.App.Domains.Remove(ctx, tm.admin, tm.org.ID, d.ID), "", "admin removes")
	})
}

// TestDomainJoinAndInvitations: with join policy automatic, a person who verifies an address at
// the domain becomes a member with the domain's role; off, nothing happens; invitations
// restricted to verified domains refuse other addresses.
func TestDomainJoinAndInvitations(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, dns := domainEnv(t, e)
		box := env.Outbox(t)
		tm := newTeam(t, env)
		d, err := env.App.Domains.Add(ctx, tm.admin, tm.org.ID, "acme.example")
		want(t, err, "", "add")
		_, err = env.App.Domains.SetJoin(ctx, tm.admin, tm.org.ID, d.ID, roster.JoinAutomatic, roster.OrgMember)
		want(t, err, roster.EConflict, "automatic join on a pending domain")
		dns.SetTXT(d.RecordName(), d.RecordValue())
		_, err = env.App.Domains.Verify(ctx, tm.admin, tm.org.ID, d.ID)
		want(t, err, "", "verify")
		_, err = env.App.Domains.SetJoin(ctx, tm.admin, tm.org.ID, d.ID, roster.JoinAutomatic, roster.OrgOwner)
		want(t, err, roster.EInvalid, "automatic join as owner")

		signUp := func(addr string) roster.User {
			t.Helper()
			want(t, env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: addr, Name: "Joiner", Password: testenv.Password}), "", "sign up")
			norm, err := roster.NormalizeEmail(addr)
			want(t, err, "", "normalize")
			u, err := env.App.Accounts.VerifyEmail(ctx, anon, testenv.Token(box.Last(t, norm, "verify_email")))
			want(t, err, "", "verify email")
			return u
		}
		members := func(u roster.User) int {
			return env.Int(t, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND user_id = ?`, tm.org.ID, u.ID)
		}
		if u := signUp("early@acme.example"); members(u) != 0 {
			t.Fatal("joined while the join policy was off")
		}
		d, err = env.App.Domains.SetJoin(ctx, tm.admin, tm.org.ID, d.ID, roster.JoinAutomatic, "")
		want(t, err, "", "automatic join")
		if d.JoinRole != roster.OrgMember {
			t.Fatalf("default role %s", d.JoinRole)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM events WHERE org_id = ? AND type = 'domain.updated'`, tm.org.ID); n != 1 {
			t.Fatalf("%d domain.updated events", n)
		}
		u := signUp("Jane@ACME.example")
		if env.Int(t, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND user_id = ? AND role = 'member' AND status = 'active'`, tm.org.ID, u.ID) != 1 {
			t.Fatal("the new member did not join")
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = 'member.added' AND actor_id = ? AND after_json LIKE '%"via":"domain"%'`, tm.org.ID, u.ID); n != 1 {
			t.Fatalf("%d member.added audit entries via domain", n)
		}
		if u := signUp("someone@sub.acme.example"); members(u) != 0 {
			t.Fatal("a subdomain joined")
		}

		// Invitations restricted to verified domains.
		_, err = env.App.Organizations.SetPolicy(ctx, tm.owner, tm.org.ID, roster.Policy{VerifiedDomainsOnly: true}, app.OwnerProof{Password: testenv.Password})
		want(t, err, "", "set policy")
		_, err = env.App.Invitations.Create(ctx, tm.admin, tm.org.ID, app.InvitationInput{Email: "contractor@elsewhere.example"})
		want(t, err, roster.EEmailDomainNotVerified, "invite outside the verified domains")
		_, err = env.App.Invitations.Create(ctx, tm.admin, tm.org.ID, app.InvitationInput{Email: "new.hire@acme.example"})
		want(t, err, "", "invite at a verified domain")
	})
}

// TestDomainJoinRequests: with join policy suggest, a person with a proven address at the
// domain sees the organization, asks to join once, and an admin approves (they join with the
// domain's role) or declines; nobody else sees or answers the requests.
func TestDomainJoinRequests(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, dns := domainEnv(t, e)
		box := env.Outbox(t)
		tm := newTeam(t, env)
		d, err := env.App.Domains.Add(ctx, tm.admin, tm.org.ID, "acme.example")
		want(t, err, "", "add")
		dns.SetTXT(d.RecordName(), d.RecordValue())
		_, err = env.App.Domains.Verify(ctx, tm.admin, tm.org.ID, d.ID)
		want(t, err, "", "verify")
		_, err = env.App.Domains.SetJoin(ctx, tm.admin, tm.org.ID, d.ID, roster.JoinSuggest, roster.OrgMember)
		want(t, err, "", "suggest")

		person := func(local string) (roster.Actor, roster.User) {
			t.Helper()
			addr := local + "@acme.example"
			want(t, env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: addr, Name: local, Password: testenv.Password}), "", "sign up")
			actor, _ := env.Login(t, addr)
			if s, err := env.App.Domains.JoinSuggestions(ctx, actor); err != nil || len(s) != 0 {
				t.Fatalf("suggestions before the address is proven: %v, %v", s, err)
			}
			_, err := env.App.Domains.RequestToJoin(ctx, actor, tm.org.ID)
			want(t, err, roster.EForbidden, "ask before the address is proven")
			u, err := env.App.Accounts.VerifyEmail(ctx, anon, testenv.Token(box.Last(t, addr, "verify_email")))
			want(t, err, "", "verify email")
			return actor, u
		}
		jo, joU := person("jo")
		s, err := env.App.Domains.JoinSuggestions(ctx, jo)
		if err != nil || len(s) != 1 || s[0].OrgID != tm.org.ID || s[0].OrgName != "Acme" || s[0].RequestID != "" {
			t.Fatalf("suggestions: %+v, %v", s, err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM org_members WHERE user_id = ?`, joU.ID); n != 0 {
			t.Fatal("suggest joined without asking")
		}
		req, err := env.App.Domains.RequestToJoin(ctx, jo, tm.org.ID)
		want(t, err, "", "ask to join")
		_, err = env.App.Domains.RequestToJoin(ctx, jo, tm.org.ID)
		want(t, err, roster.EConflict, "ask twice")
		if s, _ := env.App.Domains.JoinSuggestions(ctx, jo); len(s) != 1 || s[0].RequestID != req.ID {
			t.Fatalf("suggestions after asking: %+v", s)
		}
		// Another organization's ID, or one that suggests nothing, is not found.
		outsider, _ := env.User(t, "Eve")
		evil := env.Org(t, outsider, "Evil")
		_, err = env.App.Domains.RequestToJoin(ctx, jo, evil.ID)
		want(t, err, roster.ENotFound, "ask to join an organization that suggests nothing")

		_, err = env.App.Domains.JoinRequests(ctx, outsider, tm.org.ID)
		want(t, err, roster.ENotFound, "an outsider lists the requests")
		_, err = env.App.Domains.JoinRequests(ctx, tm.member, tm.org.ID)
		want(t, err, roster.EForbidden, "a member lists the requests")
		want(t, env.App.Domains.AnswerJoinRequest(ctx, outsider, evil.ID, req.ID, true), roster.ENotFound, "approve through another organization")
		want(t, env.App.Domains.AnswerJoinRequest(ctx, tm.member, tm.org.ID, req.ID, true), roster.EForbidden, "a member approves")
		list, err := env.App.Domains.JoinRequests(ctx, tm.admin, tm.org.ID)
		if err != nil || len(list) != 1 || list[0].User.Email != "jo@acme.example" || list[0].Domain != "acme.example" {
			t.Fatalf("requests: %+v, %v", list, err)
		}
		want(t, env.App.Domains.AnswerJoinRequest(ctx, tm.admin, tm.org.ID, req.ID, true), "", "approve")
		if env.Int(t, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND user_id = ? AND role = 'member'`, tm.org.ID, joU.ID) != 1 {
			t.Fatal("the approved person is not a member")
		}
		if s, _ := env.App.Domains.JoinSuggestions(ctx, jo); len(s) != 0 {
			t.Fatalf("a member is still offered to join: %+v", s)
		}
		want(t, env.App.Domains.AnswerJoinRequest(ctx, tm.admin, tm.org.ID, req.ID, true), roster.ENotFound, "approve twice")

		al, alU := person("al")
		req, err = env.App.Domains.RequestToJoin(ctx, al, tm.org.ID)
		want(t, err, "", "ask to join")
		want(t, env.App.Domains.AnswerJoinRequest(ctx, tm.owner, tm.org.ID, req.ID, false), "", "decline")
		if n := env.Int(t, `SELECT COUNT(*) FROM org_members WHERE user_id = ?`, alU.ID); n != 0 {
			t.Fatal("a declined person joined")
		}
		if n := events(t, env, tm.org.ID, "join_request.declined") + events(t, env, tm.org.ID, "join_request.approved"); n != 2 {
			t.Fatalf("%d answers audited", n)
		}
	})
}
