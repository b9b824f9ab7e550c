package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/webhook"
)

// fakeDNS resolves test names; everything else does not exist.
func fakeDNS(names map[string][]string) webhook.LookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range names[host] {
			out = append(out, netip.MustParseAddr(a))
		}
		if len(out) == 0 {
			return nil, errors.New("no such host")
		}
		return out, nil
	}
}

// TestDeliveriesVerifyWithStandardWebhooks: deliveries verify with the official Standard
// Webhooks library (npm standardwebhooks), which shares no code with ours.
func TestDeliveriesVerifyWithStandardWebhooks(t *testing.T) {
	oldSecret, newSecret, otherSecret := webhook.NewSecret(), webhook.NewSecret(), webhook.NewSecret()
	recv := testenv.WebhookReceiver(t, oldSecret, newSecret)
	// The receiver runs on loopback: reachable only because the operator allows its name.
	c := webhook.New(webhook.Options{AllowedHosts: []string{"Receiver.Internal"},
		Lookup: fakeDNS(map[string][]string{"receiver.internal": {"127.0.0.1"}})})
	target := recv.URL("receiver.internal")
	if err := c.CheckURL(context.Background(), target); err != nil {
		t.Fatalf("allowed receiver refused: %v", err)
	}
	body := []byte(`{"id":"evt_1","type":"member.added","data":{"after":{"name":"Zoë"}}}`)
	deliver := func(id string, secrets ...string) (webhook.Result, testenv.Received) {
		t.Helper()
		h, err := webhook.Sign(id, time.Now(), body, secrets...)
		if err != nil {
			t.Fatal(err)
		}
		res := c.Post(context.Background(), target, h, body)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res, recv.Next(t)
	}
	// During a rotation's overlap both signatures are sent: a receiver knowing either verifies.
	res, r := deliver("evt_1", oldSecret, newSecret)
	if !res.OK() || res.Status != 200 || res.Response != "verified" || r.ID != "evt_1" || r.Body != string(body) ||
		!r.Verified[0] || !r.Verified[1] || res.Latency <= 0 {
		t.Errorf("rotation overlap: %+v %+v", res, r)
	}
	// After it, only the new secret signs: receivers still on the old one refuse.
	if res, r := deliver("evt_2", newSecret); res.OK() || res.Status != 400 || r.Verified[0] || !r.Verified[1] {
		t.Errorf("new secret only: %+v %+v", res, r)
	}
	if res, r := deliver("evt_3", otherSecret); res.OK() || r.Verified[0] || r.Verified[1] {
		t.Errorf("another secret: %+v %+v", res, r)
	}
}

func TestSignRefusesBadSecrets(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_!!!", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		if _, err := webhook.Sign("evt_1", time.Now(), nil, s); err == nil {
			t.Errorf("secret %q accepted", s)
		}
	}
	if _, err := webhook.Sign("evt_1", time.Now(), nil); err == nil {
		t.Error("no secret accepted")
	}
	if a, b := webhook.NewSecret(), webhook.NewSecret(); a == b || !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+44 {
		t.Errorf("secrets %q %q", a, b)
	}
}

// TestRefusedAddresses: no delivery reaches the network Roster runs in, whatever the URL says
// and whatever its name resolves to, at check time and at delivery time.
func TestRefusedAddresses(t *testing.T) {
	var hits atomic.Int64
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer local.Close()
	port := local.URL[strings.LastIndex(local.URL, ":")+1:]
	rebinds := atomic.Int64{}
	dns := fakeDNS(map[string][]string{
		"loopback.example": {"127.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"private.example":  {"10.1.2.3"},
		"mixed.example":    {"93.184.215.14", "127.0.0.1"},
		"mapped.example":   {"::ffff:127.0.0.1"},
		"public.example":   {"93.184.215.14"},
	})
	c := webhook.New(webhook.Options{Lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "rebind.example" { // public when checked, loopback when delivered
			if rebinds.Add(1) == 1 {
				return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return dns(ctx, host)
	}})
	ctx := context.Background()
	for _, u := range []string{"https://loopback.example/", "https://metadata.example/latest/meta-data/", "https://private.example/",
		"https://mixed.example/", "https://mapped.example/", "https://127.0.0.1/", "https://[::1]/", "https://[::ffff:169.254.169.254]/",
		"https://10.0.0.1/", "https://192.168.1.1/", "https://100.64.0.1/", "https://0.0.0.0/", "https://[fd00:ec2::254]/",
		"https://nowhere.example/"} {
		err := c.CheckURL(ctx, u)
		if roster.ErrorCode(err) != roster.EInvalid || fieldOf(err) != "url" {
			t.Errorf("CheckURL(%s) = %v, want invalid url", u, err)
		}
		res := c.Post(ctx, u, nil, nil)
		if res.OK() || (u != "https://nowhere.example/" && !errors.Is(res.Err, webhook.ErrRefusedAddress)) {
			t.Errorf("Post(%s) = %+v, want ErrRefusedAddress", u, res)
		}
	}
	for _, u := range []string{"http://public.example/", "public.example/x", "ftp://public.example/", "https://user:pw@public.example/",
		"https://public.example/#x", "https:///x", "::"} {
		if err := c.CheckURL(ctx, u); roster.ErrorCode(err) != roster.EInvalid || fieldOf(err) != "url" {
			t.Errorf("CheckURL(%s) = %v, want invalid url", u, err)
		}
	}
	if err := c.CheckURL(ctx, "https://public.example/hooks?x=1"); err != nil {
		t.Errorf("public URL: %v", err)
	}
	// Checked once as public, the name now resolves to loopback: the delivery is refused as it dials.
	if err := c.CheckURL(ctx, "https://rebind.example/"); err != nil {
		t.Fatalf("rebind check: %v", err)
	}
	if res := c.Post(ctx, "http://rebind.example:"+port+"/", nil, nil); !errors.Is(res.Err, webhook.ErrRefusedAddress) {
		t.Errorf("rebound delivery: %+v", res)
	}
	for _, u := range []string{"http://loopback.example:" + port + "/", "http://metadata.example:" + port + "/", "http://127.0.0.1:" + port + "/"} {
		if res := c.Post(ctx, u, nil, nil); !errors.Is(res.Err, webhook.ErrRefusedAddress) {
			t.Errorf("Post(%s) = %+v, want ErrRefusedAddress", u, res)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the local server was reached %d times", n)
	}
}

// TestNoRedirectsAndCappedResponse: a redirect is an answer, not followed; the response kept
// is at most ResponseCap bytes.
func TestNoRedirectsAndCappedResponse(t *testing.T) {
	var followed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/target", http.StatusFound)
		case "/target":
			followed.Add(1)
		case "/big":
			_, _ = io.WriteString(w, strings.Repeat("é", 4000))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := webhook.New(webhook.Options{AllowedHosts: []string{u.Hostname()}})
	if res := c.Post(context.Background(), srv.URL+"/redirect", nil, nil); res.OK() || res.Status != http.StatusFound || followed.Load() != 0 {
		t.Errorf("redirect: %+v, followed %d", res, followed.Load())
	}
	res := c.Post(context.Background(), srv.URL+"/big", nil, nil)
	if !res.OK() || len(res.Response) > webhook.ResponseCap || len(res.Response) < webhook.ResponseCap-2 || !strings.HasPrefix(res.Response, "éé") {
		t.Errorf("big response: status %d, %d bytes kept", res.Status, len(res.Response))
	}
}

func TestRefused(t *testing.T) {
	for a, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.0.0.1": true, "172.16.0.1": true, "192.168.0.1": true, "169.254.169.254": true,
		"fe80::1": true, "fc00::1": true, "::ffff:10.0.0.1": true, "0.0.0.0": true, "::": true, "224.0.0.1": true,
		"100.64.0.1": true, "198.18.0.1": true, "255.255.255.255": true, "64:ff9b::7f00:1": true,
		"93.184.215.14": false, "2606:2800:220:1::1": false, "8.8.8.8": false, "::ffff:8.8.8.8": false,
	} {
		if got := webhook.Refused(netip.MustParseAddr(a)); got != want {
			t.Errorf("Refused(%s) = %v, want %v", a, got, want)
		}
	}
}

func fieldOf(err error) string {
	var e *roster.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
