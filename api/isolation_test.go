package api_test

// The tenant-isolation matrix (SECURITY.md "Access control"): every operation of the API,
// read from the OpenAPI document, against every kind of caller, driven by one table. A new
// operation without a row fails the test: whoever adds an endpoint adds its row.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/sqlstore"
)

// The callers, in the order of every row's want.
const (
	anon        = iota // no credentials
	member             // organization member, no store
	storeMember        // organization member with the member role in the store
	storeAdmin         // organization member with the admin role in the store
	admin              // organization admin
	owner              // organization owner
	outsider           // owner of another organization
	deactivated        // organization member whose account was deactivated (their token is dead)
	operator           // instance operator, not a member of the organization
	service            // the host application's service token
	callers
)

var callerNames = [callers]string{"anonymous", "member", "store member", "store admin", "admin", "owner", "outsider", "deactivated", "operator", "service"}

// world is one organization with the same people in it: the shared one, or a fresh copy
// for a request that is expected to change it.
type world struct {
	org      roster.Organization
	store    roster.Store // active, with a logo; store member and store admin belong to it
	archived roster.Store // archived
	target   roster.User  // a member with the viewer role in the store, whom requests act on
	role     string       // a custom store role
	key      string       // an API key of the owner, for the whole organization
}

// fixture is everything the matrix needs.
type fixture struct {
	s       *server
	people  [callers]roster.User
	tokens  [callers]string
	shared  world
	other   world // the outsider's organization
	png     []byte
	loner   roster.User // belongs to no organization: whoever logs in as them learns nothing
	outbox  *testenv.Outbox
	hookURL string       // where the webhook endpoints the matrix creates deliver
	dns     *testenv.DNS // the DNS server domain verification asks
	issuer  string       // an OpenID provider's discovery document, for single sign-on rows
}

// cell is one request of the matrix: an operation by one caller in one world.
type cell struct {
	f      *fixture
	w      world
	caller int
	vars   map[string]string // path parameters
	token  string
}

// op is one row of the matrix.
type op struct {
	path  string                      // with {org}, {store}, {archived}, {user}, {session}, {token}
	body  func(c *cell) any           // nil for none
	setup func(t *testing.T, c *cell) // fills vars or the token for this cell
	fresh bool                        // success changes the organization: a fresh world for each success
	// instanceWide marks operator operations whose answers rightly span organizations.
	instanceWide bool
	// byLink marks operations whose credential is a one-time link: its holder, whoever they
	// are, sees what it is for (the organization's and stores' names).
	byLink bool
	want   [callers]int
}

// rows: the one table. Columns: anonymous, member, store member, store admin, admin, owner,
// outsider, deactivated, operator, service.
var rows = map[string]op{
	// Authentication: public, except that a dead token is refused before anything else.
	"signup": {path: "/v1/auth/signup", body: func(c *cell) any {
		return map[string]string{"email": "new." + testenv.Unique() + "@example.com", "name": "New", "password": testenv.Password}
	}, want: [callers]int{202, 202, 202, 202, 202, 202, 202, 401, 202, 202}},
	"login": {path: "/v1/auth/login", body: func(c *cell) any {
		return map[string]string{"email": c.f.loner.Email, "password": testenv.Password}
	}, want: [callers]int{200, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	// A login's second step proves nothing without a live mfa_token, whoever calls.
	"login-mfa": {path: "/v1/auth/login/mfa", body: func(c *cell) any {
		return map[string]string{"mfa_token": "rmfa_" + strings.Repeat("A", 43), "code": "123456"}
	}, want: [callers]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	"logout": {path: "/v1/auth/logout", setup: freshSession, want: [callers]int{401, 204, 204, 204, 204, 204, 204, 401, 204, 422}},
	"set-password": {path: "/v1/auth/password-reset/confirm", setup: setPasswordLink, body: func(c *cell) any {
		return map[string]string{"token": c.vars["link"], "password": "a brand new passphrase"}
	}, want: [callers]int{200, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	"setup": {path: "/v1/setup", body: func(c *cell) any {
		return map[string]string{"token": "rl_" + strings.Repeat("A", 43), "email": "op@example.com", "name": "Op", "password": testenv.Password}
	}, want: [callers]int{422, 422, 422, 422, 422, 422, 422, 401, 422, 422}},

	// The caller's own account: any signed-in user; a service token is not a user.
	"get-me":    {path: "/v1/me", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"update-me": {path: "/v1/me", body: func(*cell) any { return map[string]string{"locale": "fr"} }, want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"change-password": {path: "/v1/me/password", body: func(*cell) any {
		return map[string]string{"current_password": testenv.Password, "new_password": testenv.Password}
	}, want: [callers]int{401, 204, 204, 204, 204, 204, 204, 401, 204, 403}},
	"list-sessions":         {path: "/v1/me/sessions", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"revoke-other-sessions": {path: "/v1/me/sessions", want: [callers]int{401, 204, 204, 204, 204, 204, 204, 401, 204, 403}},
	// The session in the path is the owner's: only the owner ends it; to anyone else it does not exist.
	"revoke-session":   {path: "/v1/me/sessions/{session}", setup: ownerSession, want: [callers]int{401, 404, 404, 404, 404, 204, 404, 401, 404, 403}},
	"my-organizations": {path: "/v1/me/organizations", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},

	// The caller's own second factors. Nobody here has one: removing one is a conflict for
	// everyone; a passkey in the path that is not the caller's does not exist.
	"list-factors": {path: "/v1/me/factors", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"begin-totp": {path: "/v1/me/factors/totp", body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"confirm-totp": {path: "/v1/me/factors/totp/confirm", setup: pendingTOTP, body: func(*cell) any { return map[string]string{"code": "000000"} },
		want: [callers]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 403}},
	"remove-totp": {path: "/v1/me/factors/totp", body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 409, 409, 409, 409, 409, 409, 401, 409, 403}},
	"regenerate-recovery-codes": {path: "/v1/me/factors/recovery-codes", body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 409, 409, 409, 409, 409, 409, 401, 409, 403}},
	"begin-passkey-registration": {path: "/v1/me/factors/passkeys/options", body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"add-passkey": {path: "/v1/me/factors/passkeys", body: func(*cell) any { return map[string]any{"credential": map[string]string{"id": "x"}} },
		want: [callers]int{401, 422, 422, 422, 422, 422, 422, 401, 422, 403}},
	"rename-passkey": {path: "/v1/me/factors/passkeys/{passkey}", setup: strangePasskey, body: func(*cell) any { return map[string]string{"name": "Mine"} },
		want: [callers]int{401, 404, 404, 404, 404, 404, 404, 401, 404, 403}},
	"remove-passkey": {path: "/v1/me/factors/passkeys/{passkey}", setup: strangePasskey, body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 409, 409, 409, 409, 409, 409, 401, 409, 403}},
	// Step-up: any signed-in person, for their own session; nobody here has a passkey.
	"get-step-up": {path: "/v1/me/step-up", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"step-up": {path: "/v1/me/step-up", body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 204, 204, 204, 204, 204, 204, 401, 204, 403}},
	"step-up-passkey-options": {path: "/v1/me/step-up/passkey-options", want: [callers]int{401, 409, 409, 409, 409, 409, 409, 401, 409, 403}},
	// Passkey sign-in: public; an answer proves nothing without a live request.
	"login-passkey-options": {path: "/v1/auth/passkey/options", want: [callers]int{200, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	"login-passkey": {path: "/v1/auth/passkey", body: func(*cell) any { return map[string]any{"credential": map[string]string{"id": "x"}} },
		want: [callers]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	"login-mfa-passkey-options": {path: "/v1/auth/login/mfa/passkey-options", body: func(c *cell) any {
		return map[string]string{"mfa_token": "rmfa_" + strings.Repeat("A", 43)}
	}, want: [callers]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},

	// Organizations.
	"create-organization": {path: "/v1/organizations", body: func(*cell) any { return map[string]string{"name": "Another"} }, want: [callers]int{401, 201, 201, 201, 201, 201, 201, 401, 201, 403}},
	"list-organizations":  {path: "/v1/organizations", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"get-organization":    {path: "/v1/organizations/{org}", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},
	"update-organization": {path: "/v1/organizations/{org}", fresh: true, body: func(*cell) any {
		return map[string]any{"name": "Renamed", "details": map[string]string{"city": "Lyon"}}
	},
		want: [callers]int{401, 403, 403, 403, 403, 200, 404, 401, 404, 404}},
	// Owner-only actions that take a password refuse a service token before any lookup.
	"delete-organization": {path: "/v1/organizations/{org}", fresh: true, body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 403, 403, 403, 403, 204, 404, 401, 404, 403}},
	"transfer-ownership": {path: "/v1/organizations/{org}/transfer-ownership", fresh: true, body: func(c *cell) any {
		return map[string]string{"user_id": c.f.people[admin].ID, "password": testenv.Password}
	}, want: [callers]int{401, 403, 403, 403, 403, 204, 404, 401, 404, 403}},
	"set-organization-logo": {path: "/v1/organizations/{org}/logo", fresh: true, body: func(c *cell) any { return raw{"image/png", c.f.png} },
		want: [callers]int{401, 403, 403, 403, 403, 200, 404, 401, 404, 404}},
	"get-organization-logo": {path: "/v1/organizations/{org}/logo", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},

	// Stores. A member without a store does not know it exists; the store's own member may not manage it.
	"create-store": {path: "/v1/organizations/{org}/stores", fresh: true, body: func(*cell) any { return map[string]string{"name": "New shop"} },
		want: [callers]int{401, 403, 403, 403, 403, 201, 404, 401, 404, 404}},
	"list-stores": {path: "/v1/organizations/{org}/stores", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},
	"get-store":   {path: "/v1/stores/{store}", want: [callers]int{401, 404, 200, 200, 200, 200, 404, 401, 404, 404}},
	"update-store": {path: "/v1/stores/{store}", fresh: true, body: func(*cell) any { return map[string]string{"name": "Renamed shop"} },
		want: [callers]int{401, 404, 403, 200, 200, 200, 404, 401, 404, 404}},
	"archive-store": {path: "/v1/stores/{store}/archive", fresh: true, want: [callers]int{401, 404, 403, 403, 200, 200, 404, 401, 404, 404}},
	// The archived store is in no one's store membership: only owner and admins see it.
	"unarchive-store": {path: "/v1/stores/{archived}/unarchive", fresh: true, want: [callers]int{401, 404, 404, 404, 200, 200, 404, 401, 404, 404}},
	"delete-store":    {path: "/v1/stores/{archived}", fresh: true, want: [callers]int{401, 404, 404, 404, 204, 204, 404, 401, 404, 404}},
	"set-store-logo": {path: "/v1/stores/{store}/logo", fresh: true, body: func(c *cell) any { return raw{"image/png", c.f.png} },
		want: [callers]int{401, 404, 403, 200, 200, 200, 404, 401, 404, 404}},
	"get-store-logo": {path: "/v1/stores/{store}/logo", want: [callers]int{401, 404, 200, 200, 200, 200, 404, 401, 404, 404}},

	// Members.
	"list-members": {path: "/v1/organizations/{org}/members", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"get-member":   {path: "/v1/organizations/{org}/members/{user}", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"update-member": {path: "/v1/organizations/{org}/members/{user}", fresh: true, body: func(*cell) any { return map[string]string{"role": "admin"} },
		want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"remove-member":      {path: "/v1/organizations/{org}/members/{user}", fresh: true, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	"list-store-members": {path: "/v1/stores/{store}/members", want: [callers]int{401, 404, 200, 200, 200, 200, 404, 401, 404, 404}},
	"set-store-role": {path: "/v1/stores/{store}/members/{user}", fresh: true, body: func(*cell) any { return map[string]string{"role_id": "member"} },
		want: [callers]int{401, 404, 403, 204, 204, 204, 404, 401, 404, 404}},
	"remove-store-member": {path: "/v1/stores/{store}/members/{user}", fresh: true, want: [callers]int{401, 404, 403, 204, 204, 204, 404, 401, 404, 404}},

	// The check API: the host application (and operators), nobody else.
	"check": {path: "/v1/check", body: func(c *cell) any {
		return map[string]string{"user_id": c.w.target.ID, "permission": "store.read", "store_id": c.w.store.ID}
	}, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 200}},
	"check-batch": {path: "/v1/check/batch", body: func(c *cell) any {
		return map[string]any{"checks": []map[string]string{{"user_id": c.w.target.ID, "permission": "org.read", "organization_id": c.w.org.ID}}}
	}, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 200}},
	"user-stores": {path: "/v1/users/{user}/stores?permission=store.read", want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 200}},

	// Operators only.
	"admin-list-organizations":  {path: "/v1/admin/organizations", instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-update-organization": {path: "/v1/admin/organizations/{org}", fresh: true, instanceWide: true, body: func(*cell) any { return map[string]int{"store_credits": 7} }, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-list-users":          {path: "/v1/admin/users", instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-deactivate-user":     {path: "/v1/admin/users/{user}/deactivate", setup: newUser(false), instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-reactivate-user":     {path: "/v1/admin/users/{user}/reactivate", setup: newUser(true), instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-reset-user-factors":  {path: "/v1/admin/users/{user}/factors", setup: newUser(false), instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-create-service-token": {path: "/v1/admin/service-tokens", instanceWide: true, body: func(*cell) any { return map[string]string{"name": "host"} },
		want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 201, 403}},
	"admin-list-service-tokens":  {path: "/v1/admin/service-tokens", instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"admin-revoke-service-token": {path: "/v1/admin/service-tokens/{id}", setup: newServiceToken, instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 204, 403}},
	// Sign in with Roster: applications are the operator's (clients.go).
	"create-client": {path: "/v1/clients", instanceWide: true, body: func(*cell) any {
		return map[string]any{"name": "App", "redirect_uris": []string{"https://app.example/cb"}}
	}, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 201, 403}},
	"list-clients":  {path: "/v1/clients", instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"get-client":    {path: "/v1/clients/{id}", setup: newClient, instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"delete-client": {path: "/v1/clients/{id}", setup: newClient, instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 204, 403}},
	"update-client": {path: "/v1/clients/{id}", setup: newClient, instanceWide: true, body: func(*cell) any {
		return map[string]any{"name": "App renamed", "redirect_uris": []string{"https://app.example/cb"}}
	}, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"rotate-client-secret": {path: "/v1/clients/{id}/secret", setup: newClient, instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	// Webhook endpoints: owner and admins (org.webhooks.manage); the instance's, operators.
	"create-webhook":          {path: "/v1/organizations/{org}/webhooks", body: func(c *cell) any { return map[string]any{"url": c.vars["hook"], "enabled": false} }, want: [callers]int{401, 403, 403, 403, 201, 201, 404, 401, 404, 404}},
	"list-webhooks":           {path: "/v1/organizations/{org}/webhooks", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"get-webhook":             {path: "/v1/organizations/{org}/webhooks/{id}", setup: newOrgWebhook, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"update-webhook":          {path: "/v1/organizations/{org}/webhooks/{id}", setup: newOrgWebhook, body: func(c *cell) any { return map[string]any{"url": c.vars["hook"], "enabled": false} }, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"delete-webhook":          {path: "/v1/organizations/{org}/webhooks/{id}", setup: newOrgWebhook, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	"rotate-webhook-secret":   {path: "/v1/organizations/{org}/webhooks/{id}/rotate-secret", setup: newOrgWebhook, body: func(*cell) any { return map[string]int{"overlap_seconds": 60} }, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"list-webhook-deliveries": {path: "/v1/organizations/{org}/webhooks/{id}/deliveries", setup: newOrgWebhook, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"redeliver-webhook":       {path: "/v1/organizations/{org}/webhooks/{id}/redeliver", setup: newOrgWebhook, body: func(c *cell) any { return map[string]string{"event_id": c.vars["event"]} }, want: [callers]int{401, 403, 403, 403, 202, 202, 404, 401, 404, 404}},
	"replay-webhook":          {path: "/v1/organizations/{org}/webhooks/{id}/replay", setup: newOrgWebhook, body: func(*cell) any { return map[string]string{"since": "2000-01-01T00:00:00Z"} }, want: [callers]int{401, 403, 403, 403, 202, 202, 404, 401, 404, 404}},
	"test-webhook":            {path: "/v1/organizations/{org}/webhooks/{id}/test", setup: newOrgWebhook, want: [callers]int{401, 403, 403, 403, 202, 202, 404, 401, 404, 404}},
	// Email domains: owner and admins (org.domains.manage).
	"add-domain": {path: "/v1/organizations/{org}/domains", body: func(*cell) any {
		return map[string]string{"domain": "d" + strings.ToLower(testenv.Unique()) + ".example"}
	}, want: [callers]int{401, 403, 403, 403, 201, 201, 404, 401, 404, 404}},
	"list-domains":    {path: "/v1/organizations/{org}/domains", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"get-domain":      {path: "/v1/organizations/{org}/domains/{id}", setup: newDomain, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"verify-domain":   {path: "/v1/organizations/{org}/domains/{id}/verify", setup: newDomain, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"set-domain-join": {path: "/v1/organizations/{org}/domains/{id}/join", setup: newDomain, body: func(*cell) any { return map[string]string{"join_policy": "off"} }, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"remove-domain":   {path: "/v1/organizations/{org}/domains/{id}", setup: newDomain, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	// SCIM directories: owner and admins; the directory's own token works at /scim/v2 only.
	"create-scim-directory": {path: "/v1/organizations/{org}/scim", body: func(*cell) any { return map[string]string{"name": "Okta"} }, want: [callers]int{401, 403, 403, 403, 201, 201, 404, 401, 404, 404}},
	"list-scim-directories": {path: "/v1/organizations/{org}/scim", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"get-scim-directory":    {path: "/v1/organizations/{org}/scim/{id}", setup: newDirectory, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"rotate-scim-token":     {path: "/v1/organizations/{org}/scim/{id}/rotate", setup: newDirectory, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"delete-scim-directory": {path: "/v1/organizations/{org}/scim/{id}", setup: newDirectory, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	// Setup links: the owner alone, as a person, after a step-up.
	"create-setup-link": {path: "/v1/organizations/{org}/setup-links", fresh: true, body: func(*cell) any { return map[string]string{"password": testenv.Password} },
		want: [callers]int{401, 403, 403, 403, 403, 201, 404, 401, 404, 404}},
	"list-setup-links":  {path: "/v1/organizations/{org}/setup-links", want: [callers]int{401, 403, 403, 403, 403, 200, 404, 401, 404, 404}},
	"revoke-setup-link": {path: "/v1/organizations/{org}/setup-links/{id}", setup: newSetupLink, want: [callers]int{401, 403, 403, 403, 403, 204, 404, 401, 404, 404}},
	"list-scim-groups":  {path: "/v1/organizations/{org}/scim/{id}/groups", setup: newDirectory, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"map-scim-group": {path: "/v1/organizations/{org}/scim/{id}/groups/{group}", setup: newDirectoryGroup, body: func(*cell) any { return map[string]string{"org_role": "member"} },
		want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	// Single sign-on: owner and admins (org.sso.manage).
	"get-sso":    {path: "/v1/organizations/{org}/sso", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"put-sso":    {path: "/v1/organizations/{org}/sso", body: ssoBody, want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"delete-sso": {path: "/v1/organizations/{org}/sso", setup: newSSO, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	"set-domain-require-sso": {path: "/v1/organizations/{org}/sso/domains/{id}", setup: newRequiredSSODomain, body: func(*cell) any { return map[string]bool{"require_sso": true} },
		want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	// Requests to join through a domain: a user with a proven address asks (the matrix's people
	// have not proven theirs: 403, about themselves alone); owner and admins answer.
	"list-join-suggestions": {path: "/v1/me/join-suggestions", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 403}},
	"request-to-join": {path: "/v1/me/join-requests", body: func(c *cell) any { return map[string]string{"organization_id": c.w.org.ID} },
		want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 403, 403}},
	"list-join-requests":               {path: "/v1/organizations/{org}/join-requests", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"approve-join-request":             {path: "/v1/organizations/{org}/join-requests/{id}/approve", fresh: true, setup: newJoinRequest, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	"decline-join-request":             {path: "/v1/organizations/{org}/join-requests/{id}/decline", setup: newJoinRequest, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	"create-instance-webhook":          {path: "/v1/webhooks", instanceWide: true, body: func(c *cell) any { return map[string]any{"url": c.vars["hook"], "enabled": false} }, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 201, 403}},
	"list-instance-webhooks":           {path: "/v1/webhooks", instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"get-instance-webhook":             {path: "/v1/webhooks/{id}", instanceWide: true, setup: newInstanceWebhook, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"update-instance-webhook":          {path: "/v1/webhooks/{id}", instanceWide: true, setup: newInstanceWebhook, body: func(c *cell) any { return map[string]any{"url": c.vars["hook"], "enabled": false} }, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"delete-instance-webhook":          {path: "/v1/webhooks/{id}", instanceWide: true, setup: newInstanceWebhook, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 204, 403}},
	"rotate-instance-webhook-secret":   {path: "/v1/webhooks/{id}/rotate-secret", instanceWide: true, setup: newInstanceWebhook, body: func(*cell) any { return map[string]int{"overlap_seconds": 60} }, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"list-instance-webhook-deliveries": {path: "/v1/webhooks/{id}/deliveries", instanceWide: true, setup: newInstanceWebhook, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},
	"redeliver-instance-webhook":       {path: "/v1/webhooks/{id}/redeliver", instanceWide: true, setup: newInstanceWebhook, body: func(c *cell) any { return map[string]string{"event_id": c.vars["event"]} }, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 202, 403}},
	"replay-instance-webhook":          {path: "/v1/webhooks/{id}/replay", instanceWide: true, setup: newInstanceWebhook, body: func(*cell) any { return map[string]string{"since": "2000-01-01T00:00:00Z"} }, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 202, 403}},
	"test-instance-webhook":            {path: "/v1/webhooks/{id}/test", instanceWide: true, setup: newInstanceWebhook, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 202, 403}},

	// The audit log: everyone in the organization reads it (members their own actions only).
	"list-audit-events": {path: "/v1/organizations/{org}/audit-events", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},
	// The event feed: those who read the whole audit log (owner and admins).
	"list-events": {path: "/v1/organizations/{org}/events", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},

	// Invitations (issue 3). A store admin invites with the role member into the stores they
	// administer, and manages those invitations.
	"create-invitation": {path: "/v1/organizations/{org}/invitations", body: inviteBody, want: [callers]int{401, 403, 403, 201, 201, 201, 404, 401, 404, 404}},
	// Bulk asks what one invitation asks (roster.Access.InvitesSomewhere): whoever may invite
	// nobody is refused outright; a store admin gets 200 with each row answered.
	"bulk-invite": {path: "/v1/organizations/{org}/invitations/bulk", body: func(c *cell) any {
		return map[string]any{"invitations": []any{inviteBody(c)}}
	}, want: [callers]int{401, 403, 403, 200, 200, 200, 404, 401, 404, 404}},
	"list-invitations":       {path: "/v1/organizations/{org}/invitations", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"list-store-invitations": {path: "/v1/stores/{store}/invitations", want: [callers]int{401, 404, 403, 200, 200, 200, 404, 401, 404, 404}},
	"get-invitation":         {path: "/v1/invitations/{id}", setup: newInvitation(false), want: [callers]int{401, 403, 403, 200, 200, 200, 404, 401, 404, 404}},
	"resend-invitation":      {path: "/v1/invitations/{id}/resend", setup: newInvitation(false), want: [callers]int{401, 403, 403, 200, 200, 200, 404, 401, 404, 404}},
	"cancel-invitation":      {path: "/v1/invitations/{id}", setup: newInvitation(false), want: [callers]int{401, 403, 403, 204, 204, 204, 404, 401, 404, 404}},
	// Through the link: whoever holds it; a signed-in user must own the invited address.
	"lookup-invitation": {path: "/v1/invitations/lookup?token={link}", setup: newInvitation(true), byLink: true, want: [callers]int{200, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	"accept-invitation": {path: "/v1/invitations/accept", setup: newInvitation(true), body: func(c *cell) any {
		return map[string]string{"token": c.vars["link"], "name": "Invitee", "password": testenv.Password}
	}, want: [callers]int{200, 403, 403, 403, 403, 403, 403, 401, 403, 200}},
	"decline-invitation": {path: "/v1/invitations/decline", setup: newInvitation(true), body: func(c *cell) any { return map[string]string{"token": c.vars["link"]} },
		want: [callers]int{204, 204, 204, 204, 204, 204, 204, 401, 204, 204}},

	// Policy: settings readers read it, the owner changes it.
	"get-policy": {path: "/v1/organizations/{org}/policy", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	// A change of policy is a step-up, as deleting the organization is: for people only.
	"set-policy": {path: "/v1/organizations/{org}/policy", fresh: true, body: func(*cell) any { return map[string]any{"block_free_providers": true} },
		want: [callers]int{401, 403, 403, 403, 403, 200, 404, 401, 404, 403}},

	// Accounts (issue 3): direct creation and resets by those who manage members.
	"create-user": {path: "/v1/organizations/{org}/users", body: func(*cell) any {
		return map[string]string{"email": "direct." + testenv.Unique() + "@example.com", "name": "Direct"}
	}, want: [callers]int{401, 403, 403, 403, 201, 201, 404, 401, 404, 404}},
	"send-password-reset":  {path: "/v1/organizations/{org}/members/{user}/password-reset", want: [callers]int{401, 403, 403, 403, 202, 202, 404, 401, 404, 404}},
	"reset-member-factors": {path: "/v1/organizations/{org}/members/{user}/factors", fresh: true, want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},
	"request-password-reset": {path: "/v1/auth/password-reset", setup: pastResetLimit, body: func(c *cell) any { return map[string]string{"email": "nobody." + testenv.Unique() + "@example.com"} },
		want: [callers]int{202, 202, 202, 202, 202, 202, 202, 401, 202, 202}},
	"verify-email": {path: "/v1/auth/verify-email", setup: verificationLink, body: func(c *cell) any { return map[string]string{"token": c.vars["link"]} },
		want: [callers]int{200, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	"confirm-email-change": {path: "/v1/auth/confirm-email", setup: emailChangeLink, body: func(c *cell) any { return map[string]string{"token": c.vars["link"]} },
		want: [callers]int{200, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	"resend-verification": {path: "/v1/me/verify-email", want: [callers]int{401, 202, 202, 202, 202, 202, 202, 401, 202, 403}},
	"change-email": {path: "/v1/me/email", body: func(*cell) any {
		return map[string]string{"email": "changed." + testenv.Unique() + "@example.com", "password": testenv.Password}
	}, want: [callers]int{401, 202, 202, 202, 202, 202, 202, 401, 202, 403}},
	"admin-mailbox": {path: "/v1/admin/mailbox", instanceWide: true, want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 403}},

	// Custom roles (issue 5): owner and admins define them.
	// Store admins read them too: they give store roles.
	"list-roles":        {path: "/v1/organizations/{org}/roles", want: [callers]int{401, 403, 403, 200, 200, 200, 404, 401, 404, 404}},
	"get-role":          {path: "/v1/organizations/{org}/roles/{role}", want: [callers]int{401, 403, 403, 200, 200, 200, 404, 401, 404, 404}},
	"list-role-holders": {path: "/v1/organizations/{org}/roles/{role}/holders", want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"create-role": {path: "/v1/organizations/{org}/roles", body: func(*cell) any {
		return map[string]any{"name": "Chatter " + testenv.Unique(), "permissions": []string{"store.read"}}
	}, want: [callers]int{401, 403, 403, 403, 201, 201, 404, 401, 404, 404}},
	"update-role": {path: "/v1/organizations/{org}/roles/{role}", body: func(*cell) any { return map[string]string{"description": "Reads"} },
		want: [callers]int{401, 403, 403, 403, 200, 200, 404, 401, 404, 404}},
	"delete-role": {path: "/v1/organizations/{org}/roles/{role}", setup: func(t *testing.T, c *cell) { c.vars["role"] = c.f.newRole(t, c.w) },
		want: [callers]int{401, 403, 403, 403, 204, 204, 404, 401, 404, 404}},

	// API keys (issue 5): owner and admins for the organization, store admins in their stores;
	// the key in the path is the owner's, for the whole organization.
	"list-api-keys": {path: "/v1/organizations/{org}/api-keys", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},
	"create-api-key": {path: "/v1/organizations/{org}/api-keys", body: func(c *cell) any {
		return map[string]string{"name": "Key", "store_id": c.w.store.ID, "role_id": "viewer", "password": testenv.Password}
	}, want: [callers]int{401, 403, 403, 201, 201, 201, 404, 401, 404, 403}},
	"get-api-key":           {path: "/v1/organizations/{org}/api-keys/{key}", want: [callers]int{401, 404, 404, 404, 200, 200, 404, 401, 404, 404}},
	"list-api-key-requests": {path: "/v1/organizations/{org}/api-keys/{key}/requests", want: [callers]int{401, 404, 404, 404, 200, 200, 404, 401, 404, 404}},
	// The key revoked is one of the store: its store admin revokes it too.
	"revoke-api-key": {path: "/v1/organizations/{org}/api-keys/{key}", setup: newAPIKey, want: [callers]int{401, 404, 404, 204, 204, 204, 404, 401, 404, 404}},
	// The copy goes to someone who reaches every store, as the original does (else role_escalation).
	"clone-api-key": {path: "/v1/organizations/{org}/api-keys/{key}/clone", body: func(c *cell) any {
		to := c.f.people[admin].ID
		if c.caller == admin {
			to = c.f.people[owner].ID
		}
		return map[string]string{"user_id": to, "password": testenv.Password}
	}, want: [callers]int{401, 404, 404, 404, 201, 201, 404, 401, 404, 403}},

	// The permission catalog: anyone signed in reads it; the host application writes it.
	"list-permissions": {path: "/v1/permissions", want: [callers]int{401, 200, 200, 200, 200, 200, 200, 401, 200, 200}},
	"put-permission": {path: "/v1/permissions/{key}", setup: newPermissionKey(false), body: func(*cell) any { return map[string]string{"description": "Create campaigns"} },
		want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 201, 201}},
	"delete-permission": {path: "/v1/permissions/{key}", setup: newPermissionKey(true), want: [callers]int{401, 403, 403, 403, 403, 403, 403, 401, 200, 200}},

	// Usage and the audit export: every member (the export with the listing's visibility).
	"get-usage":           {path: "/v1/organizations/{org}/usage", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},
	"export-audit-events": {path: "/v1/organizations/{org}/audit-events/export", want: [callers]int{401, 200, 200, 200, 200, 200, 404, 401, 404, 404}},
}

// newAPIKey gives the owner a new key for the world's store, to revoke.
func newAPIKey(t *testing.T, c *cell) {
	k, err := c.f.s.env.App.APIKeys.Create(ctx, c.f.actor(t, owner), c.w.org.ID, app.APIKeyInput{Name: "Doomed", StoreID: c.w.store.ID,
		RoleID: roster.StoreRoleViewer, Proof: app.OwnerProof{Password: testenv.Password}})
	if err != nil {
		t.Fatal(err)
	}
	c.vars["key"] = k.Key.ID
}

// newPermissionKey picks a new host permission key, registered already when exists.
func newPermissionKey(exists bool) func(t *testing.T, c *cell) {
	return func(t *testing.T, c *cell) {
		key := "campaigns.x" + testenv.Unique()
		if exists {
			if _, _, err := c.f.s.env.App.Roles.PutPermission(ctx, roster.System(), app.PermissionInput{Key: roster.Permission(key)}); err != nil {
				t.Fatal(err)
			}
		}
		c.vars["key"] = key
	}
}

// inviteBody invites a new address with the role member into the world's store.
func inviteBody(c *cell) any {
	return map[string]any{"email": "invitee." + testenv.Unique() + "@example.com", "role": "member",
		"stores": []map[string]string{{"store_id": c.w.store.ID, "role_id": "member"}}}
}

// newInvitation has the owner invite a new address into the world's store; with link, the
// email goes out and its token is kept.
func newInvitation(link bool) func(t *testing.T, c *cell) {
	return func(t *testing.T, c *cell) {
		env := c.f.s.env
		addr := "invitee." + testenv.Unique() + "@example.com"
		inv, err := env.App.Invitations.Create(ctx, c.f.actor(t, owner), c.w.org.ID, app.InvitationInput{Email: addr, Role: roster.OrgMember,
			Stores: []app.StoreGrantInput{{StoreID: c.w.store.ID, RoleID: roster.StoreRoleMember}}})
		if err != nil {
			t.Fatal(err)
		}
		c.vars["id"] = inv.ID
		if link {
			c.vars["link"] = testenv.Token(c.f.outbox.Last(t, addr, "invitation"))
		}
		env.Clock.Advance(2 * time.Minute) // past the spacing of resends
	}
}

// pastResetLimit moves the clock past the per-IP limit on reset requests (every test
// request comes from 127.0.0.1).
func pastResetLimit(t *testing.T, c *cell) { c.f.s.env.Clock.Advance(time.Minute) }

// verificationLink signs up a new account and keeps the token of its verification email.
func verificationLink(t *testing.T, c *cell) {
	env := c.f.s.env
	addr := "verify." + testenv.Unique() + "@example.com"
	if err := env.App.Auth.Signup(ctx, roster.Anonymous("192.0.2.1", "t"), app.SignupInput{Email: addr, Name: "Vera", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	c.vars["link"] = testenv.Token(c.f.outbox.Last(t, addr, "verify_email"))
}

// emailChangeLink has a new account ask to change its address and keeps the confirmation token.
func emailChangeLink(t *testing.T, c *cell) {
	env := c.f.s.env
	a, _ := env.User(t, "Changer")
	next := "next." + testenv.Unique() + "@example.com"
	if err := env.App.Accounts.RequestEmailChange(ctx, a, next, testenv.Password); err != nil {
		t.Fatal(err)
	}
	c.vars["link"] = testenv.Token(c.f.outbox.Last(t, next, "change_email"))
}

// freshSession logs the caller in again, so that ending the session spares the fixture's.
func freshSession(t *testing.T, c *cell) {
	if c.caller == anon || c.caller == deactivated || c.caller == service {
		return
	}
	res, err := c.f.s.env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.1", "t"), app.LoginInput{Email: c.f.people[c.caller].Email, Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	c.token = res.Token
}

// ownerSession opens a second session of the owner, whose ID goes in the path.
func ownerSession(t *testing.T, c *cell) {
	res, err := c.f.s.env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.1", "t"), app.LoginInput{Email: c.f.people[owner].Email, Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	c.vars["session"] = res.Session.ID
}

// strangePasskey names a passkey that is nobody's.
func strangePasskey(_ *testing.T, c *cell) { c.vars["passkey"] = roster.NewID(roster.PrefixPasskey) }

// pendingTOTP begins setting up an authenticator app for the caller, when a person.
func pendingTOTP(t *testing.T, c *cell) {
	if c.token == "" {
		return
	}
	actor, err := c.f.s.env.App.Auth.Authenticate(ctx, c.token, "192.0.2.1", "t")
	if err != nil || actor.Kind != roster.ActorUser {
		return
	}
	if _, err := c.f.s.env.App.MFA.BeginTOTP(ctx, actor, testenv.Password); err != nil {
		t.Fatal(err)
	}
}

// setPasswordLink makes a one-time set-password link for a new user.
func setPasswordLink(t *testing.T, c *cell) {
	_, link, err := c.f.s.env.App.Operator.CreateOperator(ctx, roster.System(), "direct."+testenv.Unique()+"@example.com", "Direct")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	c.vars["link"] = u.Query().Get("token")
}

// newUser makes a user for an operator to act on, deactivated or not.
func newUser(deactivate bool) func(t *testing.T, c *cell) {
	return func(t *testing.T, c *cell) {
		env := c.f.s.env
		_, u := env.User(t, "Subject")
		if deactivate {
			if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), u.ID); err != nil {
				t.Fatal(err)
			}
		}
		c.vars["user"] = u.ID
	}
}

func newServiceToken(t *testing.T, c *cell) {
	st, err := c.f.s.env.App.Operator.CreateServiceToken(ctx, roster.System(), "doomed")
	if err != nil {
		t.Fatal(err)
	}
	c.vars["id"] = st.ID
}

// newOrgWebhook makes an endpoint in the cell's organization, and names one of its events.
func newOrgWebhook(t *testing.T, c *cell) {
	newWebhook(t, c, c.w.org.ID)
}

func newInstanceWebhook(t *testing.T, c *cell) { newWebhook(t, c, "") }

// newDirectory creates a SCIM directory in the organization.
func newDirectory(t *testing.T, c *cell) {
	d, err := c.f.s.env.App.Directories.Create(ctx, c.f.actor(t, owner), c.w.org.ID, "Okta")
	if err != nil {
		t.Fatal(err)
	}
	c.vars["id"], c.vars["scim_token"] = d.Directory.ID, d.Token
}

// newSetupLink makes a setup link of the organization, as its owner.
func newSetupLink(t *testing.T, c *cell) {
	l, err := c.f.s.env.App.SetupLinks.Create(ctx, c.f.actor(t, owner), c.w.org.ID, app.OwnerProof{Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	c.vars["id"] = l.Link.ID
}

// newDirectoryGroup creates a SCIM directory and a group it pushed.
func newDirectoryGroup(t *testing.T, c *cell) {
	newDirectory(t, c)
	a := c.f.s.env.App
	dir, err := a.Directories.Authenticate(ctx, roster.Anonymous("192.0.2.9", "test"), c.vars["scim_token"])
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.SCIM.CreateGroup(ctx, dir, app.SCIMGroupInput{DisplayName: "Team"})
	if err != nil {
		t.Fatal(err)
	}
	c.vars["group"] = g.Group.ID
}

func ssoBody(c *cell) any {
	return map[string]any{"protocol": "oidc", "enabled": true, "issuer": c.f.issuer, "client_id": "roster"}
}

// newSSO gives the organization an enabled single sign-on.
func newSSO(t *testing.T, c *cell) {
	if _, err := c.f.s.env.App.SSO.Configure(ctx, c.f.actor(t, owner), c.w.org.ID, app.SSOInput{Protocol: roster.SSOOIDC, Enabled: true,
		Issuer: c.f.issuer, ClientID: "roster", JIT: true, DefaultRole: roster.OrgMember}); err != nil {
		t.Fatal(err)
	}
}

// newRequiredSSODomain gives the organization an enabled single sign-on and a verified domain.
func newRequiredSSODomain(t *testing.T, c *cell) {
	newSSO(t, c)
	d, err := c.f.s.env.App.Domains.Verify(ctx, c.f.actor(t, owner), c.w.org.ID, addDomain(t, c).ID)
	if err != nil {
		t.Fatal(err)
	}
	c.vars["id"] = d.ID
}

// newDomain adds a domain to the organization, its TXT record published.
func newDomain(t *testing.T, c *cell) { c.vars["id"] = addDomain(t, c).ID }

func addDomain(t *testing.T, c *cell) roster.Domain {
	d, err := c.f.s.env.App.Domains.Add(ctx, c.f.actor(t, owner), c.w.org.ID, "d"+strings.ToLower(testenv.Unique())+".example")
	if err != nil {
		t.Fatal(err)
	}
	c.f.dns.SetTXT(d.RecordName(), d.RecordValue())
	return d
}

// newJoinRequest makes a verified domain of the organization suggest joining, and a person
// with a proven address there ask to.
func newJoinRequest(t *testing.T, c *cell) {
	a, by := c.f.s.env.App, c.f.actor(t, owner)
	d, err := a.Domains.Verify(ctx, by, c.w.org.ID, addDomain(t, c).ID)
	if err == nil {
		_, err = a.Domains.SetJoin(ctx, by, c.w.org.ID, d.ID, roster.JoinSuggest, roster.OrgMember)
	}
	addr := "asker@" + d.Domain
	if err == nil {
		err = a.Auth.Signup(ctx, roster.Anonymous("192.0.2.9", "t"), app.SignupInput{Email: addr, Name: "Asker", Password: testenv.Password})
	}
	if err == nil {
		_, err = a.Accounts.VerifyEmail(ctx, roster.Anonymous("192.0.2.9", "t"), testenv.Token(c.f.outbox.Last(t, addr, "verify_email")))
	}
	if err != nil {
		t.Fatal(err)
	}
	asker, _ := c.f.s.env.Login(t, addr)
	r, err := a.Domains.RequestToJoin(ctx, asker, c.w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.vars["id"] = r.ID
}

func newWebhook(t *testing.T, c *cell, orgID string) {
	by := roster.System()
	by.Operator = true
	if orgID != "" {
		by = c.f.actor(t, owner)
	}
	w, err := c.f.s.env.App.Webhooks.Create(ctx, by, orgID, app.WebhookInput{URL: c.vars["hook"]})
	if err != nil {
		t.Fatal(err)
	}
	events, err := c.f.s.env.App.Audit.Events(ctx, c.f.actor(t, owner), c.w.org.ID, 0, 1)
	if err != nil || len(events.Events) == 0 {
		t.Fatalf("events: %v", err)
	}
	c.vars["id"], c.vars["event"] = w.Endpoint.ID, events.Events[0].ID
}

func newClient(t *testing.T, c *cell) {
	cl, _, err := c.f.s.env.App.Clients.Create(ctx, roster.System(), app.ClientInput{Name: "doomed", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	c.vars["id"] = cl.ID
}

// newWorld builds an organization owned by the fixture's owner, with the fixture's people in
// their roles.
func (f *fixture) newWorld(t testing.TB) world {
	t.Helper()
	env := f.s.env
	ownerActor := f.actor(t, owner)
	w := world{org: env.Org(t, ownerActor, "Acme "+testenv.Unique())}
	w.store = env.Store(t, ownerActor, w.org.ID, "Shop "+testenv.Unique())
	w.archived = env.Store(t, ownerActor, w.org.ID, "Old shop "+testenv.Unique())
	if _, err := env.App.Stores.Archive(ctx, ownerActor, w.archived.ID); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute) // worlds a minute apart: within the owner's limit of logo uploads
	if _, err := env.App.Organizations.SetLogo(ctx, ownerActor, w.org.ID, f.png); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Stores.SetLogo(ctx, ownerActor, w.store.ID, f.png); err != nil {
		t.Fatal(err)
	}
	env.Join(t, ownerActor, w.org.ID, f.people[admin], roster.OrgAdmin)
	env.Join(t, ownerActor, w.org.ID, f.people[member], roster.OrgMember)
	env.Join(t, ownerActor, w.org.ID, f.people[storeMember], roster.OrgMember, app.StoreGrantInput{StoreID: w.store.ID, RoleID: roster.StoreRoleMember})
	env.Join(t, ownerActor, w.org.ID, f.people[storeAdmin], roster.OrgMember, app.StoreGrantInput{StoreID: w.store.ID, RoleID: roster.StoreRoleAdmin})
	env.Join(t, ownerActor, w.org.ID, f.people[deactivated], roster.OrgMember, app.StoreGrantInput{StoreID: w.store.ID, RoleID: roster.StoreRoleAdmin})
	_, w.target = env.User(t, "Target")
	env.Join(t, ownerActor, w.org.ID, w.target, roster.OrgMember, app.StoreGrantInput{StoreID: w.store.ID, RoleID: roster.StoreRoleViewer})
	w.role = f.newRole(t, w)
	key, err := env.App.APIKeys.Create(ctx, ownerActor, w.org.ID, app.APIKeyInput{Name: "Owner's key", RoleID: roster.StoreRoleViewer, Proof: app.OwnerProof{Password: testenv.Password}})
	if err != nil {
		t.Fatal(err)
	}
	w.key = key.Key.ID
	return w
}

// newRole defines a custom role in a world.
func (f *fixture) newRole(t testing.TB, w world) string {
	t.Helper()
	r, err := f.s.env.App.Roles.Create(ctx, f.actor(t, owner), w.org.ID, app.RoleInput{Name: "Reader " + testenv.Unique(), Permissions: []roster.Permission{roster.PermStoreRead}})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// cell returns a request of the matrix by a caller in a world, with the world's IDs as its
// path parameters.
func (f *fixture) cell(w world, caller int) *cell {
	return &cell{f: f, w: w, caller: caller, token: f.tokens[caller],
		vars: map[string]string{"org": w.org.ID, "store": w.store.ID, "archived": w.archived.ID, "user": w.target.ID, "role": w.role, "key": w.key, "hook": f.hookURL}}
}

// actor returns the app actor of one of the fixture's people (for building worlds).
func (f *fixture) actor(t testing.TB, caller int) roster.Actor {
	t.Helper()
	a, err := f.s.env.App.Auth.Authenticate(ctx, f.tokens[caller], "192.0.2.1", "t")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newFixture(t testing.TB, e sqlstore.Engine) *fixture {
	t.Helper()
	// Webhook endpoints the matrix creates are disabled (the matrix is about access; an enabled
	// one would receive every later event) and point at a local receiver that answers at once.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(receiver.Close)
	dns := testenv.DNSServer(t)
	f := &fixture{dns: dns, s: newServer(t, e, func(c *app.Config) {
		c.DNSResolver = dns.Addr
		c.EncryptionKey = make([]byte, app.EncryptionKeySize)
		c.WebhookAllowedHosts = []string{"hooks.test"}
		c.SSOAllowedHosts = []string{"127.0.0.1"} // the discovery document below
		c.WebhookLookup = func(context.Context, string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
	})}
	// A discovery document is all that configuring single sign-on reads (the sign-in itself is
	// tested against a real provider in internal/ssotest).
	disco := httptest.NewUnstartedServer(nil)
	f.issuer = "http://" + disco.Listener.Addr().String()
	disco.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + f.issuer + `","authorization_endpoint":"` + f.issuer + `/auth","token_endpoint":"` + f.issuer +
			`/token","jwks_uri":"` + f.issuer + `/keys","id_token_signing_alg_values_supported":["RS256"]}`))
	})
	disco.Start()
	t.Cleanup(disco.Close)
	f.hookURL = "http://hooks.test:" + receiver.URL[strings.LastIndex(receiver.URL, ":")+1:] + "/hooks"
	f.png = pngImage(t)
	env := f.s.env
	f.outbox = env.Outbox(t)
	env.App.Outbox.SetMailbox(mail.NewMailbox(100, nil))
	for c := member; c < callers; c++ {
		if c == service {
			continue
		}
		_, u := env.User(t, strings.ReplaceAll(callerNames[c], " ", ""))
		res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.1", "t"), app.LoginInput{Email: u.Email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		f.people[c], f.tokens[c] = u, res.Token
	}
	if _, _, err := env.App.Operator.CreateOperator(ctx, roster.System(), f.people[operator].Email, ""); err != nil {
		t.Fatal(err)
	}
	svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens[service] = svc.Secret
	_, f.loner = env.User(t, "Loner")
	f.shared = f.newWorld(t)
	// The outsider owns another organization, with a store and a member of its own.
	out := f.actor(t, outsider)
	f.other.org = env.Org(t, out, "Globex "+testenv.Unique())
	f.other.store = env.Store(t, out, f.other.org.ID, "Globex shop "+testenv.Unique())
	_, f.other.target = env.User(t, "GlobexStaff")
	env.Join(t, out, f.other.org.ID, f.other.target, roster.OrgAdmin, app.StoreGrantInput{StoreID: f.other.store.ID, RoleID: roster.StoreRoleAdmin})
	// The deactivated member's token dies with their account.
	if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), f.people[deactivated].ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// foreign returns what a caller must never see: the other organization's names and IDs,
// or, for the outsider, ours.
func (f *fixture) foreign(caller int, w world) []string {
	if caller == outsider {
		return []string{w.org.ID, w.org.Name, w.store.ID, w.store.Name, w.archived.ID, w.archived.Name, w.target.Email, w.target.ID,
			f.people[owner].Email, f.people[admin].Email, f.people[member].Email}
	}
	return []string{f.other.org.ID, f.other.org.Name, f.other.store.ID, f.other.store.Name, f.other.target.Email, f.other.target.ID,
		f.people[outsider].Email}
}

var pathVar = regexp.MustCompile(`\{[a-z]+\}`)

func TestIsolationMatrix(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		ops := f.s.operations(t)
		for _, id := range sortedKeys(ops) {
			if _, ok := rows[id]; !ok {
				t.Errorf("operation %s (%s %s) has no row in the isolation matrix: add one to rows", id, ops[id][0], ops[id][1])
			}
		}
		for _, id := range sortedKeys(rows) {
			if _, ok := ops[id]; !ok {
				t.Errorf("row %s names no operation of the API", id)
			}
		}
		for _, id := range sortedKeys(rows) {
			row, spec := rows[id], ops[id]
			if spec[0] == "" {
				continue
			}
			if want := strings.ReplaceAll(strings.SplitN(row.path, "?", 2)[0], "{archived}", "{store}"); want != spec[1] {
				t.Errorf("%s: row path %s, API path %s", id, want, spec[1])
				continue
			}
			for caller := range callers {
				w := f.shared
				if row.fresh && row.want[caller] < 300 {
					w = f.newWorld(t)
				}
				c := f.cell(w, caller)
				if row.setup != nil {
					row.setup(t, c)
				}
				path := pathVar.ReplaceAllStringFunc(row.path, func(v string) string { return c.vars[v[1:len(v)-1]] })
				var body any
				if row.body != nil {
					body = row.body(c)
				}
				r := f.s.do(t, spec[0], path, c.token, body)
				if r.status != row.want[caller] {
					t.Errorf("%s %s as %s: %d, want %d: %s", spec[0], path, callerNames[caller], r.status, row.want[caller], r.body)
					continue
				}
				if r.status >= 400 {
					var p problem
					if r.header.Get("Content-Type") != "application/problem+json" || jsonInto(r.body, &p) != nil || p.Code == "" || p.Status != r.status {
						t.Errorf("%s as %s: not a problem with a code: %s %s", id, callerNames[caller], r.header.Get("Content-Type"), r.body)
					}
				}
				if row.instanceWide && caller == operator || row.byLink {
					continue
				}
				for _, s := range f.foreign(caller, w) {
					if strings.Contains(string(r.body), s) {
						t.Errorf("%s as %s: the answer carries another organization's %q: %s", id, callerNames[caller], s, r.body)
					}
				}
			}
		}
		t.Logf("%d operations × %d callers", len(rows), callers)
	})
}

// TestOutsiderUsesForeignIDs: a member of one organization who puts another organization's
// IDs in their requests learns nothing — 404 every time, and nothing changes.
func TestOutsiderUsesForeignIDs(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		env := f.s.env
		tok := f.tokens[outsider] // owner of the other organization
		ours, theirs := f.shared, f.other
		before := env.RowCounts(t)
		for _, req := range []struct {
			method, path string
			body         any
		}{
			// Their own store's team, someone of ours as the member.
			{"PUT", "/v1/stores/" + theirs.store.ID + "/members/" + ours.target.ID, map[string]string{"role_id": "admin"}},
			{"DELETE", "/v1/stores/" + theirs.store.ID + "/members/" + ours.target.ID, nil},
			// Their organization, our member.
			{"GET", "/v1/organizations/" + theirs.org.ID + "/members/" + ours.target.ID, nil},
			{"PATCH", "/v1/organizations/" + theirs.org.ID + "/members/" + ours.target.ID, map[string]string{"role": "member"}},
			{"DELETE", "/v1/organizations/" + theirs.org.ID + "/members/" + f.people[owner].ID, nil},
			// Ownership of their organization to someone of ours.
			{"POST", "/v1/organizations/" + theirs.org.ID + "/transfer-ownership", map[string]string{"user_id": f.people[admin].ID, "password": testenv.Password}},
			// Our store through their organization's audit filter.
			{"GET", "/v1/organizations/" + theirs.org.ID + "/audit-events?store_id=" + ours.store.ID, nil},
			{"GET", "/v1/organizations/" + theirs.org.ID + "/audit-events?target_id=" + ours.target.ID, nil},
			// Our session.
			{"DELETE", "/v1/me/sessions/" + sessionOf(t, f, owner), nil},
		} {
			r := f.s.do(t, req.method, req.path, tok, req.body)
			if r.status >= 200 && r.status < 300 && req.method == "GET" {
				// Listing their own audit log with our IDs as filters: allowed, but empty.
				var out struct {
					Events []map[string]any `json:"events"`
				}
				r.json(t, &out)
				if len(out.Events) != 0 {
					t.Errorf("%s %s: %d events", req.method, req.path, len(out.Events))
				}
				continue
			}
			if r.status != 404 && r.status != 409 {
				t.Errorf("%s %s: %d, want 404: %s", req.method, req.path, r.status, r.body)
			}
			for _, s := range f.foreign(outsider, ours) {
				if strings.Contains(string(r.body), s) {
					t.Errorf("%s %s: the answer carries %q", req.method, req.path, s)
				}
			}
		}
		after := env.RowCounts(t)
		delete(after, "audit_events") // refusals are audited
		delete(before, "audit_events")
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("foreign IDs changed rows:\n%v\n%v", before, after)
		}
	})
}

func sessionOf(t testing.TB, f *fixture, caller int) string {
	t.Helper()
	a := f.actor(t, caller)
	return a.SessionID
}
