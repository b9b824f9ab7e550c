package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// listFlag is a flag given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// clients registers and lists the applications that sign in with Roster.
func (m *Main) clients(ctx context.Context, args []string) error {
	const usage = "clients create --name NAME --redirect-uri URI [--redirect-uri URI…] [--public] [--scope S…] [--post-logout-redirect-uri URI…] [--access-ttl 5m] [--refresh-ttl 720h] [--first-party] [--signing-alg RS256] [--cors-origin O…]\n       roster clients create --name NAME --organization ORG --permission P [--permission P…] [--access-ttl 5m] [--signing-alg RS256]\n       roster clients update CLIENT_ID [any flag of create…]\n       roster clients rotate-secret CLIENT_ID\n       roster clients list\n\nRegisters an application that signs its users in with Roster (an OpenID client), or, with --organization, a machine client: a confidential server-to-server client bound to that organization that takes access tokens with the client-credentials grant and acts there with its permissions. A confidential client's secret is printed once; only its hash is kept.\nupdate changes only what its flags name (a repeated flag replaces the whole list); rotate-secret prints a new secret once, and the old one stops working.\nThe database comes from ROSTER_DATABASE_URL (default sqlite:roster.db)."
	if len(args) == 0 || !slices.Contains([]string{"create", "update", "rotate-secret", "list"}, args[0]) {
		fmt.Fprintf(m.Stderr, "Usage: roster %s\n", usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("clients create, update, rotate-secret or list")
	}
	cmd, rest, id := args[0], args[1:], ""
	if cmd == "update" || cmd == "rotate-secret" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(m.Stderr, "Usage: roster %s\n", usage)
			return fmt.Errorf("clients %s needs the client's ID first", cmd)
		}
		id, rest = rest[0], rest[1:]
	}
	fs := m.flags("clients "+cmd, usage)
	name := fs.String("name", "", "the application's name, shown to users (required)")
	public := fs.Bool("public", false, "a public client (single-page or native application): no secret, PKCE required")
	firstParty := fs.Bool("first-party", false, "an application of the instance's owner")
	accessTTL := fs.Duration("access-ttl", 0, "access and ID token lifetime, 1m to 1h (default 5m)")
	refreshTTL := fs.Duration("refresh-ttl", 0, "refresh token lifetime, 1h to 2160h (default 720h)")
	bcl := fs.String("backchannel-logout-uri", "", "where logout tokens are posted when the user signs out")
	alg := fs.String("signing-alg", "ES256", "the algorithm its ID and access tokens are signed with: ES256 or RS256")
	org := fs.String("organization", "", "makes a machine client bound to this organization (client-credentials grant)")
	var redirects, logouts, scopes, perms, origins listFlag
	fs.Var(&perms, "permission", "a machine client's permission in its organization, from the catalog (repeat; at least one)")
	fs.Var(&redirects, "redirect-uri", "a redirect URI, matched exactly (repeat for several; required)")
	fs.Var(&logouts, "post-logout-redirect-uri", "a post-logout redirect URI (repeat for several)")
	fs.Var(&origins, "cors-origin", "an origin (https://host[:port]) whose pages may call the OpenID endpoints and the switcher's /v1 reads with CORS (repeat for several)")
	fs.Var(&scopes, "scope", "an allowed scope: openid, profile, email, offline_access, organization (repeat; default all)")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if cmd == "rotate-secret" && fs.NArg()+fs.NFlag() > 0 {
		return errors.New("clients rotate-secret takes the client's ID alone")
	}
	cfg, err := bindConfig(m.flags("clients", ""), m.Getenv)()
	if err != nil {
		return err
	}
	a, _, closeDB, err := m.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	switch cmd {
	case "rotate-secret":
		secret, err := a.Clients.RotateSecret(ctx, roster.System(), id)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "client_secret: %s\n(shown once: keep it in the application's secrets; the old one no longer works)\n", secret)
		return nil
	case "update":
		c, err := a.Clients.Get(ctx, roster.System(), id)
		if err != nil {
			return err
		}
		in := app.ClientInputOf(c)
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				in.Name = *name
			case "public":
				in.Public = *public
			case "first-party":
				in.FirstParty = *firstParty
			case "access-ttl":
				in.AccessTokenTTL = *accessTTL
			case "refresh-ttl":
				in.RefreshTokenTTL = *refreshTTL
			case "backchannel-logout-uri":
				in.BackChannelLogoutURI = *bcl
			case "signing-alg":
				in.SigningAlg = *alg
			case "organization":
				in.OrgID = *org
			case "permission":
				in.Permissions = roster.Permissions(perms...)
			case "redirect-uri":
				in.RedirectURIs = redirects
			case "post-logout-redirect-uri":
				in.PostLogoutRedirectURIs = logouts
			case "cors-origin":
				in.CORSOrigins = origins
			case "scope":
				in.Scopes = scopes
			}
		})
		if c, err = a.Clients.Update(ctx, roster.System(), id, in); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s (%s) updated.\n", c.Name, c.ID)
		return nil
	}
	if cmd == "list" {
		list, err := a.Clients.List(ctx, roster.System())
		if err != nil {
			return err
		}
		for _, c := range list {
			typ := "confidential"
			switch {
			case c.Public:
				typ = "public"
			case c.Machine():
				typ = "machine:" + c.OrgID
			}
			origins := ""
			if len(c.CORSOrigins) > 0 {
				origins = "\tcors: " + strings.Join(c.CORSOrigins, " ")
			}
			fmt.Fprintf(m.Stdout, "%s\t%s\t%s\t%s%s\n", c.ID, typ, c.Name, strings.Join(c.RedirectURIs, " "), origins)
		}
		return nil
	}
	c, secret, err := a.Clients.Create(ctx, roster.System(), app.ClientInput{Name: *name, Public: *public, RedirectURIs: redirects,
		PostLogoutRedirectURIs: logouts, Scopes: scopes, AccessTokenTTL: *accessTTL, RefreshTokenTTL: *refreshTTL, FirstParty: *firstParty, BackChannelLogoutURI: *bcl, SigningAlg: *alg,
		OrgID: *org, Permissions: roster.Permissions(perms...), CORSOrigins: origins})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "client_id:     %s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(m.Stdout, "client_secret: %s\n(shown once: keep it in the application's secrets)\n", secret)
	}
	fmt.Fprintf(m.Stdout, "issuer:        %s\n", a.OIDC.Issuer())
	if c.Machine() {
		fmt.Fprintf(m.Stdout, "token:         POST %s/oidc/token grant_type=client_credentials (HTTP Basic with the id and secret)\n", a.OIDC.Issuer())
	}
	return nil
}

// keys manages the OpenID signing keys and the secrets sealed under the encryption key.
func (m *Main) keys(ctx context.Context, args []string) error {
	const usage = "keys rotate | keys reseal\n\n" +
		"keys rotate makes a new signing key that signs from now on; the old ones stay published until the tokens they signed have expired.\n" +
		"keys reseal seals again under ROSTER_ENCRYPTION_KEY every secret that a key of ROSTER_ENCRYPTION_KEY_PREVIOUS sealed (signing keys,\n" +
		"webhook secrets, single sign-on secrets, authenticator apps), so that the previous key can be dropped. Both need ROSTER_ENCRYPTION_KEY."
	if len(args) != 1 || args[0] != "rotate" && args[0] != "reseal" {
		fmt.Fprintf(m.Stderr, "Usage: roster %s\n", usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("keys rotate | keys reseal")
	}
	cfg, err := bindConfig(m.flags("keys", ""), m.Getenv)()
	if err != nil {
		return err
	}
	if len(cfg.App.EncryptionKey) == 0 {
		return errors.New("ROSTER_ENCRYPTION_KEY is needed to seal: use the one Roster serves with")
	}
	a, _, closeDB, err := m.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	if args[0] == "reseal" {
		res, err := a.SigningKeys.Reseal(ctx, roster.System())
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%d secrets sealed again under the current key, %d already were", res.Resealed, res.Current)
		if res.Unreadable > 0 {
			fmt.Fprintf(m.Stdout, "; %d open with none of the configured keys and were left as they are (see the log)", res.Unreadable)
		}
		fmt.Fprintln(m.Stdout)
		return nil
	}
	kid, err := a.SigningKeys.Rotate(ctx, roster.System())
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "new signing key %s (and one per other algorithm in use); retired keys stay published for %s\n", kid, (app.MaxAccessTokenTTL + 10*time.Minute).String())
	return nil
}
