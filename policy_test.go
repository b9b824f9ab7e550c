package roster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/freemail"
)

func TestPolicyCheck(t *testing.T) {
	acme, err := roster.Policy{AllowedDomains: []string{"Acme.COM.", "eu.acme.com", "bücher.de"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(acme.AllowedDomains, ",") != "acme.com,eu.acme.com,xn--bcher-kva.de" || acme.InvitationTTL != roster.DefaultInvitationTTL {
		t.Fatalf("normalized: %+v", acme)
	}
	noFree := roster.Policy{BlockFreeProviders: true}
	both := roster.Policy{AllowedDomains: []string{"gmail.com"}, BlockFreeProviders: true}
	cases := []struct {
		policy roster.Policy
		email  string
		want   string
	}{
		{roster.Policy{}, "a@gmail.com", ""},
		{acme, "a@acme.com", ""},
		{acme, "a@eu.acme.com", ""},
		{acme, "a@us.acme.com", roster.EEmailDomainNotAllowed}, // subdomains only when listed
		{acme, "a@acme.com.evil.io", roster.EEmailDomainNotAllowed},
		{acme, "a@notacme.com", roster.EEmailDomainNotAllowed},
		{acme, "a@xn--bcher-kva.de", ""},
		{noFree, "a@gmail.com", roster.EFreeEmailBlocked},
		{noFree, "a@hotmail.com", roster.EFreeEmailBlocked},
		{noFree, "a@mailinator.com", roster.EFreeEmailBlocked},
		{noFree, "a@acme.com", ""},
		{both, "a@gmail.com", roster.EFreeEmailBlocked}, // both rules hold
	}
	for _, c := range cases {
		if got := roster.ErrorCode(c.policy.Check(c.email, freemail.IsFree)); got != c.want {
			t.Errorf("%v / %s: %q, want %q", c.policy, c.email, got, c.want)
		}
	}
	for _, ttl := range []time.Duration{time.Minute, 31 * 24 * time.Hour} {
		if _, err := (roster.Policy{InvitationTTL: ttl}).Normalize(); roster.ErrorCode(err) != roster.EInvalid {
			t.Errorf("TTL %v accepted", ttl)
		}
	}
	if _, err := (roster.Policy{AllowedDomains: []string{"localhost"}}).Normalize(); err == nil {
		t.Error("single-label domain accepted")
	}
}

func TestInvitationEffectiveStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	inv := roster.Invitation{Status: roster.InvitationPending, ExpiresAt: now.Add(time.Second)}
	if inv.Effective(now) != roster.InvitationPending || inv.Effective(now.Add(time.Second)) != roster.InvitationExpired {
		t.Fatal("expiry")
	}
	inv.Status = roster.InvitationAccepted
	if inv.Effective(now.Add(time.Hour)) != roster.InvitationAccepted {
		t.Fatal("an accepted invitation does not expire")
	}
}

// FuzzPolicyCheck: whatever the address, a policy with an allow-list admits only its own
// domains, exactly.
func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"a@acme.com", "A@ACME.COM.", "a@sub.acme.com", "a@acme.com.evil", "a@xn--acme-.com", "a@ａｃｍｅ.com"} {
		f.Add(s)
	}
	p := roster.Policy{AllowedDomains: []string{"acme.com"}, BlockFreeProviders: true}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := roster.NormalizeEmail(s)
		if err != nil {
			return
		}
		if p.Check(addr, freemail.IsFree) == nil && roster.EmailDomain(addr) != "acme.com" {
			t.Fatalf("%q (normalized %q) passed a policy for acme.com", s, addr)
		}
	})
}
