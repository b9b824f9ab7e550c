package ssotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// IdP is crewjam/saml's identity provider, started for a test with its own key. It signs in
// whoever the test names (SignInAs) without asking, and learns service providers from their
// metadata URL (the entity ID in the AuthnRequest), as an administrator registering Roster would.
type IdP struct {
	IDP         *saml.IdentityProvider
	Server      *httptest.Server
	MetadataURL string

	mu       sync.Mutex
	people   map[string]*Person
	signInAs string
	audience string // when set, assertions are made for this entity ID instead (wrong audience)
	plain    bool   // when set, assertions are not encrypted even if the SP offers a key
}

// PlainAssertions makes the provider send its assertions unencrypted (many IdPs do by default).
func (p *IdP) PlainAssertions(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plain = on
}

// SignInAs chooses who the next sign-in is.
func (p *IdP) SignInAs(username string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signInAs = username
}

// WrongAudience makes the provider address its assertions to another service provider.
func (p *IdP) WrongAudience(entityID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audience = entityID
}

// StartIdP starts the identity provider with the people given.
func StartIdP(t testing.TB, persons ...*Person) *IdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &IdP{people: map[string]*Person{}}
	for _, x := range persons {
		p.people[x.Username] = x
	}
	srv := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + srv.Listener.Addr().String())
	md, sso := *base, *base
	md.Path, sso.Path = "/metadata", "/sso"
	p.IDP = &saml.IdentityProvider{Key: key, Certificate: cert, MetadataURL: md, SSOURL: sso, ServiceProviderProvider: p, SessionProvider: p}
	srv.Config.Handler = p.IDP.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	p.Server, p.MetadataURL = srv, md.String()
	return p
}

// GetServiceProvider reads a service provider's metadata at its entity ID.
func (p *IdP) GetServiceProvider(r *http.Request, id string) (*saml.EntityDescriptor, error) {
	resp, err := http.Get(id)
	if err != nil {
		return nil, os.ErrNotExist
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, os.ErrNotExist
	}
	raw, _ := io.ReadAll(resp.Body)
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(raw, &ed); err != nil {
		return nil, os.ErrNotExist
	}
	p.mu.Lock()
	if p.audience != "" {
		ed.EntityID = p.audience
	}
	if p.plain {
		for i := range ed.SPSSODescriptors {
			kds := ed.SPSSODescriptors[i].KeyDescriptors[:0]
			for _, kd := range ed.SPSSODescriptors[i].KeyDescriptors {
				if kd.Use != "encryption" && kd.Use != "" {
					kds = append(kds, kd)
				}
			}
			ed.SPSSODescriptors[i].KeyDescriptors = kds
		}
	}
	p.mu.Unlock()
	return &ed, nil
}

// GetSession signs in the person SignInAs named.
func (p *IdP) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	p.mu.Lock()
	x := p.people[p.signInAs]
	p.mu.Unlock()
	if x == nil {
		http.Error(w, "nobody to sign in", http.StatusForbidden)
		return nil
	}
	return &saml.Session{ID: x.ID + "-" + rand.Text(), CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: rand.Text(),
		NameID: x.ID, UserName: x.Username, UserEmail: x.Email, UserCommonName: x.Name, Groups: x.Groups}
}
