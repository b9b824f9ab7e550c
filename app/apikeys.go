package app

import (
	"context"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// APIKeys is an organization's API keys: create, clone, list, revoke, and their request log.
type APIKeys struct{ *core }

// An API key reads rk_<ULID of its ID>_<secret>: the ID part finds the key by primary key,
// the secret (256 random bits) proves it; only the SHA-256 of the whole key is stored.

// newAPIKeySecret mints the secret of a key with the given ID, and the hash to store.
func newAPIKeySecret(id string) (plain, hash string) {
	plain = token.PrefixAPIKey + strings.TrimPrefix(id, roster.PrefixAPIKey+"_") + "_" + token.Random()
	return plain, token.Hash(plain)
}

// parseAPIKey returns the ID of the key a secret claims to be, if it is well formed.
func parseAPIKey(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, token.PrefixAPIKey)
	if !ok || len(rest) <= ulid.EncodedSize || rest[ulid.EncodedSize] != '_' {
		return "", false
	}
	id := roster.PrefixAPIKey + "_" + rest[:ulid.EncodedSize]
	if !roster.ValidID(roster.PrefixAPIKey, id) || !token.WellFormed("", rest[ulid.EncodedSize+1:]) {
		return "", false
	}
	return id, true
}

// authenticateAPIKey returns the actor of an API key: its owner, bounded by the key. A key
// stops working at once when it is revoked or expires, when its owner is removed from the
// organization (the key goes with the membership), suspended there, or deactivated.
func (a *Auth) authenticateAPIKey(ctx context.Context, actor roster.Actor, secret string, unauth error) (roster.Actor, error) {
	id, ok := parseAPIKey(secret)
	if !ok {
		return actor, unauth
	}
	src, err := a.source(ctx, 0) // from the access index when it may answer
	if err != nil {
		return actor, err
	}
	k, err := src.apiKey(ctx, id, secret, func(hash string) bool { return token.Equal(hash, token.Hash(secret)) })
	if roster.ErrorCode(err) == roster.ENotFound {
		return actor, unauth
	}
	if err != nil {
		return actor, err
	}
	switch k.Status(a.clock.Now()) {
	case roster.APIKeyRevoked:
		return actor, roster.Errorf(roster.EUnauthenticated, "this API key has been revoked")
	case roster.APIKeyExpired:
		return actor, roster.Errorf(roster.EUnauthenticated, "this API key has expired")
	}
	u, err := src.user(ctx, k.UserID)
	if err != nil {
		return actor, err
	}
	m, err := src.access(ctx, k.OrgID, k.UserID)
	if err != nil {
		return actor, err
	}
	if !m.IsMember() {
		return actor, unauth
	}
	if u.Status != roster.UserActive || m.Status != roster.MembershipActive {
		return actor, roster.Errorf(roster.EUnauthenticated, "the owner of this API key no longer has access")
	}
	actor.Kind, actor.UserID, actor.APIKeyID, actor.APIKeyOrgID = roster.ActorAPIKey, k.UserID, k.ID, k.OrgID
	return actor, nil
}

// keyAccess narrows the owner's access to what a key carries: the permissions of its
// organization role, and its store role's permissions in its store (or in every store the
// owner reaches). A key never holds more than its owner, nor more than its role.
func (a *core) keyAccess(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, owner roster.Access, k roster.APIKey) (roster.Access, error) {
	grant := roster.StoreGrant{RoleID: k.RoleID, Perms: roster.PermSet{}}
	role, err := a.resolver(ctx, c, cat, k.OrgID).role(k.RoleID)
	switch {
	case err == nil:
		grant.RoleName, grant.Perms = role.Name, roster.NewPermSet(role.Permissions...)
	case roster.ErrorCode(err) != roster.EUnknownRole: // a role deleted under a race grants nothing
		return roster.Access{}, err
	}
	acc := owner.Restrict(roster.OrgRolePermissions(k.OrgRole), grant, k.StoreID)
	if acc.Role.Rank() > k.OrgRole.Rank() {
		acc.Role = k.OrgRole // the key acts as an admin or a member, never as the owner
	}
	return acc, nil
}

// apiKeyActorAccess computes what an API key actor holds in an organization: nothing outside
// the key's own organization, and nothing once the key stops working.
func (a *core) apiKeyActorAccess(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, actor roster.Actor, orgID string) (roster.Access, error) {
	none := roster.NewAccess(orgID, "", "", "", nil, cat)
	if orgID != actor.APIKeyOrgID {
		return none, nil
	}
	k, _, err := c.APIKeyByID(ctx, actor.APIKeyID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return none, nil
	}
	if err != nil {
		return roster.Access{}, err
	}
	if k.OrgID != orgID || k.UserID != actor.UserID || k.Status(a.clock.Now()) != roster.APIKeyActive {
		return none, nil
	}
	owner, err := a.userAccess(ctx, c, cat, orgID, k.UserID)
	if err != nil {
		return roster.Access{}, err
	}
	return a.keyAccess(ctx, c, cat, owner, k)
}

// APIKeyInput is an API key as created. The key belongs to its creator and acts as them,
// bounded by its scope.
type APIKeyInput struct {
	Name      string
	StoreID   string         // "" for every store the creator reaches
	RoleID    string         // the store role: admin, member, viewer or a custom role ID
	OrgRole   roster.OrgRole // admin or member (the default)
	ExpiresAt *time.Time     // nil for a key that does not expire
	Proof     OwnerProof     // the creator's step-up proof (stepup.go), unless given in the session in the last 10 minutes
}

// CreatedAPIKey is a new API key with its secret, shown once.
type CreatedAPIKey struct {
	Key    roster.APIKey
	Secret string
}

// maxKeyLifetime bounds how far in the future a key may expire.
const maxKeyLifetime = 10 * 366 * 24 * time.Hour

// requireManageKeys refuses an actor who may not manage API keys of that scope.
func (s scope) requireManageKeys(storeID string) error {
	if s.acc.MayManageAPIKeys(storeID) {
		return nil
	}
	if storeID == "" {
		return s.require(roster.PermOrgAPIKeysManage)
	}
	return s.requireStore(storeID, roster.PermStoreAPIKeysManage)
}

// canSeeKey reports whether an actor sees (and may revoke) a key: organization-wide key
// managers, the store's key managers for a store key, and the key's owner (self: the
// signed-in user's ID, "" for an API key, which holds its permissions and nothing of its
// owner's own rights).
func canSeeKey(acc roster.Access, k roster.APIKey, self string) bool {
	return acc.MayManageAPIKeys(k.StoreID) || (self != "" && k.UserID == self)
}

// self returns the user whose own things an actor reaches as theirs: a signed-in user;
// never an API key.
func self(actor roster.Actor) string {
	if actor.Kind == roster.ActorUser {
		return actor.UserID
	}
	return ""
}

// keyScope is what a key carries, validated in a transaction.
type keyScope struct {
	storeID string
	role    roster.Role
	orgRole roster.OrgRole
}

// perms returns the organization and store permissions a key scope carries.
func (k keyScope) perms() (org, store []roster.Permission) {
	return roster.OrgRolePermissions(k.orgRole).Sorted(), k.role.Permissions
}

// missingFor returns what acc lacks of a key scope: the no-escalation test.
func (k keyScope) missingFor(acc roster.Access) []roster.Permission {
	org, store := k.perms()
	missing := append(acc.Holds(org), acc.HoldsInStore(k.storeID, store)...)
	return missing
}

// checkKeyScope validates a key's store, role and organization role in the organization.
func (a *APIKeys) checkKeyScope(t *txn, s scope, storeID, roleID string, orgRole roster.OrgRole) (keyScope, error) {
	ks := keyScope{storeID: storeID, orgRole: orgRole}
	if ks.orgRole == "" {
		ks.orgRole = roster.OrgMember
	}
	if !roster.ValidAPIKeyOrgRole(ks.orgRole) {
		return ks, roster.Invalidf("organization_role", "an API key's organization role is admin or member")
	}
	if storeID != "" {
		if !roster.ValidID(roster.PrefixStore, storeID) {
			return ks, (&roster.Error{Code: roster.ENotFound, Field: "store_id", Message: "store not found"}).With("store_id", storeID)
		}
		st, err := t.Store(t.ctx, storeID)
		if err != nil || st.OrgID != s.org.ID {
			if err != nil && roster.ErrorCode(err) != roster.ENotFound {
				return ks, err
			}
			return ks, (&roster.Error{Code: roster.ENotFound, Field: "store_id", Message: "store not found"}).With("store_id", storeID)
		}
		if st.Status != roster.StoreActive {
			return ks, (&roster.Error{Code: roster.EStoreArchived, Field: "store_id", Message: "the store is archived"}).With("store_id", storeID)
		}
	}
	role, err := a.resolver(t.ctx, &t.Conn, s.cat, s.org.ID).role(roleID)
	if err != nil {
		return ks, err
	}
	ks.role = role
	return ks, nil
}

func keyMap(k roster.APIKey) map[string]any {
	m := map[string]any{"name": k.Name, "owner": k.UserID, "store_id": k.StoreID, "role_id": k.RoleID, "organization_role": string(k.OrgRole)}
	if k.ExpiresAt != nil {
		m["expires_at"] = k.ExpiresAt.Format(time.RFC3339)
	}
	return m
}

// keyExpiry checks an optional expiry time.
func keyExpiry(exp *time.Time, now time.Time) (*time.Time, error) {
	if exp == nil || exp.IsZero() {
		return nil, nil
	}
	e := exp.UTC().Truncate(time.Microsecond)
	if !e.After(now) {
		return nil, roster.Invalidf("expires_at", "the expiry must be in the future")
	}
	if e.Sub(now) > maxKeyLifetime {
		return nil, roster.Invalidf("expires_at", "an API key expires within 10 years")
	}
	return &e, nil
}

// Create mints an API key owned by the actor (owner and admins for any scope; store
// admins for keys limited to their stores), after a step-up (keyStepUp). Nobody
// mints a key carrying a permission they do not hold. The secret is returned once; only its
// hash is kept. The owner is told by email.
func (a *APIKeys) Create(ctx context.Context, actor roster.Actor, orgID string, in APIKeyInput) (CreatedAPIKey, error) {
	name, err := text("name", in.Name, true, roster.MaxNameLength)
	if err != nil {
		return CreatedAPIKey{}, err
	}
	if err := requireUser(actor); err != nil {
		return CreatedAPIKey{}, err
	}
	if err := a.keyStepUp(ctx, actor, orgID, in.StoreID, in.Proof); err != nil {
		return CreatedAPIKey{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (CreatedAPIKey, error) {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		if err := s.requireManageKeys(in.StoreID); err != nil {
			return CreatedAPIKey{}, err
		}
		ks, err := a.checkKeyScope(t, s, in.StoreID, in.RoleID, in.OrgRole)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		if missing := ks.missingFor(s.acc); len(missing) > 0 {
			return CreatedAPIKey{}, escalation(missing)
		}
		exp, err := keyExpiry(in.ExpiresAt, t.now)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		return a.mintKey(t, s, roster.APIKey{OrgID: orgID, UserID: actor.UserID, StoreID: ks.storeID, RoleID: ks.role.ID, OrgRole: ks.orgRole,
			Name: name, ExpiresAt: exp}, "api_key.created", nil)
	})
}

// keyStepUp checks, before the transaction, that the actor may manage keys of the scope and
// then that they step up (stepup.go): a key outlives the session that makes it, so a session
// alone (stolen, or left open) must not be enough to mint one.
func (a *APIKeys) keyStepUp(ctx context.Context, actor roster.Actor, orgID, storeID string, proof OwnerProof) error {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil {
		err = s.requireManageKeys(storeID)
	}
	if err != nil {
		return a.refused(ctx, actor, err)
	}
	return a.requireStepUp(ctx, actor, proof)
}

// mintKey stores a new key with a fresh secret, records it in the audit log and tells its
// owner by email (api_key_created): a key acts as them, so none is made in their name unseen.
func (a *APIKeys) mintKey(t *txn, s scope, k roster.APIKey, action string, extra map[string]any) (CreatedAPIKey, error) {
	k.ID, k.CreatedBy, k.CreatedAt = roster.NewID(roster.PrefixAPIKey), t.actor.UserID, t.now
	plain, hash := newAPIKeySecret(k.ID)
	if err := t.CreateAPIKey(t.ctx, k, hash); err != nil {
		return CreatedAPIKey{}, err
	}
	if err := t.audit(roster.AuditEvent{OrgID: k.OrgID, StoreID: k.StoreID, Action: action, TargetType: "api_key", TargetID: k.ID,
		After: mergeMaps(keyMap(k), extra)}); err != nil {
		return CreatedAPIKey{}, err
	}
	cat, err := a.catalog(t.ctx, &t.Conn)
	if err != nil {
		return CreatedAPIKey{}, err
	}
	if k.RoleName, err = a.resolver(t.ctx, &t.Conn, cat, k.OrgID).name(k.RoleID); err != nil {
		return CreatedAPIKey{}, err
	}
	if err := a.notifyKeyCreated(t, s, k); err != nil {
		return CreatedAPIKey{}, err
	}
	return CreatedAPIKey{Key: k, Secret: plain}, nil
}

// notifyKeyCreated tells the owner of a new key that it exists, who made it, and where it works.
func (a *APIKeys) notifyKeyCreated(t *txn, s scope, k roster.APIKey) error {
	owner, err := t.User(t.ctx, k.UserID)
	if err != nil {
		return err
	}
	data := map[string]any{"org_name": s.org.Name, "key_name": k.Name, "by_other": k.CreatedBy != k.UserID}
	if k.CreatedBy != k.UserID {
		by, err := t.User(t.ctx, k.CreatedBy)
		if err != nil {
			return err
		}
		data["by_name"] = by.Name
	}
	if k.StoreID != "" {
		st, err := t.Store(t.ctx, k.StoreID)
		if err != nil {
			return err
		}
		data["store_name"] = st.Name
	}
	return t.notifyUser(owner, "api_key_created", k.OrgID, data)
}

// revokeUserKeys revokes every live API key of a user, in every organization, each audited
// as api_key.revoked with the reason, in the caller's transaction: after a password reset
// (whoever knew the old password may have minted keys) and a deactivation.
func (t *txn) revokeUserKeys(userID, reason string) (int, error) {
	keys, err := t.RevokeUserAPIKeys(t.ctx, userID, t.now)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := t.audit(roster.AuditEvent{OrgID: k.OrgID, StoreID: k.StoreID, Action: "api_key.revoked", TargetType: "api_key", TargetID: k.ID,
			Before: keyMap(k), After: map[string]any{"reason": reason}}); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// CloneInput makes a copy of a key for another member.
type CloneInput struct {
	UserID    string     // the member who will own the copy
	Name      string     // "" keeps the original's name
	ExpiresAt *time.Time // nil keeps the original's expiry
	Proof     OwnerProof // the actor's step-up proof, as for APIKeys.Create
}

// Clone makes a new key with the same scope as an existing one (store, store role and
// organization role), owned by another member of the organization, with a new secret shown
// once. The actor must manage keys of that scope and hold every permission of it, and so must
// the new owner: a key never holds more than its owner. When the new owner loses access, the
// copy stops working.
func (a *APIKeys) Clone(ctx context.Context, actor roster.Actor, orgID, keyID string, in CloneInput) (CreatedAPIKey, error) {
	if err := requireUser(actor); err != nil {
		return CreatedAPIKey{}, err
	}
	src, err := a.Get(ctx, actor, orgID, keyID)
	if err != nil {
		return CreatedAPIKey{}, err
	}
	name := src.Name
	if in.Name != "" {
		if name, err = text("name", in.Name, true, roster.MaxNameLength); err != nil {
			return CreatedAPIKey{}, err
		}
	}
	if err := a.keyStepUp(ctx, actor, orgID, src.StoreID, in.Proof); err != nil {
		return CreatedAPIKey{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (CreatedAPIKey, error) {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		src, err := t.APIKey(t.ctx, orgID, keyID)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		if err := s.requireManageKeys(src.StoreID); err != nil {
			return CreatedAPIKey{}, err
		}
		if src.RevokedAt != nil {
			return CreatedAPIKey{}, roster.Errorf(roster.EConflict, "this API key is revoked; create a new one instead")
		}
		ks, err := a.checkKeyScope(t, s, src.StoreID, src.RoleID, src.OrgRole)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		if missing := ks.missingFor(s.acc); len(missing) > 0 {
			return CreatedAPIKey{}, escalation(missing)
		}
		m, err := a.member(t, orgID, in.UserID)
		if err != nil {
			return CreatedAPIKey{}, (&roster.Error{Code: roster.ENotFound, Field: "user_id", Message: "no such member in this organization"}).With("user_id", in.UserID)
		}
		if m.Status != roster.MembershipActive {
			return CreatedAPIKey{}, &roster.Error{Code: roster.EMembershipSuspended, Field: "user_id", Message: "this member is suspended"}
		}
		owner, err := a.userAccess(t.ctx, &t.Conn, s.cat, orgID, m.UserID)
		if err != nil {
			return CreatedAPIKey{}, err
		}
		if missing := ks.missingFor(owner); len(missing) > 0 {
			e := escalation(missing).(*roster.Error)
			e.Field, e.Message = "user_id", "the new owner does not hold every permission of this key"
			return CreatedAPIKey{}, e
		}
		exp := src.ExpiresAt
		if in.ExpiresAt != nil {
			exp = in.ExpiresAt
		}
		if exp, err = keyExpiry(exp, t.now); err != nil {
			return CreatedAPIKey{}, err
		}
		return a.mintKey(t, s, roster.APIKey{OrgID: orgID, UserID: m.UserID, StoreID: src.StoreID, RoleID: src.RoleID, OrgRole: src.OrgRole,
			Name: name, ExpiresAt: exp}, "api_key.cloned", map[string]any{"source": src.ID})
	})
}

// APIKeys lists the keys an actor sees in an organization, newest first: every key for owner
// and admins, the keys of the stores they manage for store admins, and one's own keys.
func (a *APIKeys) List(ctx context.Context, actor roster.Actor, orgID, cursor string, limit int) (Page[roster.APIKey], error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err != nil {
		return Page[roster.APIKey]{}, err
	}
	if cursor != "" && !roster.ValidID(roster.PrefixAPIKey, cursor) {
		return Page[roster.APIKey]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	limit = pageLimit(limit)
	f := sqlstore.APIKeyFilter{OrgID: orgID, Cursor: cursor, Limit: limit + 1}
	if !s.acc.Can(roster.PermOrgAPIKeysManage) {
		v := &sqlstore.APIKeyVisibility{OwnerID: self(actor)}
		for _, id := range s.acc.StoreIDs() {
			if s.acc.CanInStore(id, roster.PermStoreAPIKeysManage) {
				v.StoreIDs = append(v.StoreIDs, id)
			}
		}
		f.Visible = v
	}
	keys, err := c.ListAPIKeys(ctx, f)
	if err != nil {
		return Page[roster.APIKey]{}, err
	}
	res := a.resolver(ctx, c, s.cat, orgID)
	for i := range keys {
		if keys[i].RoleName, err = res.name(keys[i].RoleID); err != nil {
			return Page[roster.APIKey]{}, err
		}
	}
	return page(keys, limit, func(k roster.APIKey) string { return k.ID }), nil
}

// APIKey returns one key the actor sees.
func (a *APIKeys) Get(ctx context.Context, actor roster.Actor, orgID, keyID string) (roster.APIKey, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err != nil {
		return roster.APIKey{}, err
	}
	return a.visibleKey(ctx, c, s, actor, keyID)
}

// visibleKey reads a key of the scope's organization that the actor sees; others do not exist.
func (a *APIKeys) visibleKey(ctx context.Context, c *sqlstore.Conn, s scope, actor roster.Actor, keyID string) (roster.APIKey, error) {
	if !roster.ValidID(roster.PrefixAPIKey, keyID) {
		return roster.APIKey{}, roster.NotFound("API key")
	}
	k, err := c.APIKey(ctx, s.org.ID, keyID)
	if err != nil {
		return roster.APIKey{}, err
	}
	if !canSeeKey(s.acc, k, self(actor)) {
		return roster.APIKey{}, roster.NotFound("API key")
	}
	k.RoleName, err = a.resolver(ctx, c, s.cat, s.org.ID).name(k.RoleID)
	return k, err
}

// Revoke stops a key at once (those who see it: its managers and its owner). The key
// stays listed, revoked, with its request log.
func (a *APIKeys) Revoke(ctx context.Context, actor roster.Actor, orgID, keyID string) error {
	return a.write(ctx, actor, func(t *txn) error {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return err
		}
		k, err := a.visibleKey(t.ctx, &t.Conn, s, actor, keyID)
		if err != nil {
			return err
		}
		if err := t.RevokeAPIKey(t.ctx, orgID, keyID, t.now); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, StoreID: k.StoreID, Action: "api_key.revoked", TargetType: "api_key", TargetID: k.ID, Before: keyMap(k)})
	})
}

// Requests reads a key's request log, newest first, a page at a time (those who see the key).
func (a *APIKeys) Requests(ctx context.Context, actor roster.Actor, orgID, keyID, cursor string, limit int) (Page[roster.APIKeyRequest], error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err != nil {
		return Page[roster.APIKeyRequest]{}, err
	}
	k, err := a.visibleKey(ctx, c, s, actor, keyID)
	if err != nil {
		return Page[roster.APIKeyRequest]{}, err
	}
	if cursor != "" && !roster.ValidID(roster.PrefixAPIKeyRequest, cursor) {
		return Page[roster.APIKeyRequest]{}, roster.Invalidf("cursor", "invalid cursor")
	}
	limit = pageLimit(limit)
	reqs, err := c.APIKeyRequests(ctx, k.ID, cursor, limit+1)
	if err != nil {
		return Page[roster.APIKeyRequest]{}, err
	}
	return page(reqs, limit, func(r roster.APIKeyRequest) string { return r.ID }), nil
}

// RecordRequest adds a request made with an API key to the key's log and the
// organization's usage, and marks the key used. The REST API calls it once the answer is
// written; other actors are ignored. The path must come without its query string.
func (a *APIKeys) RecordRequest(ctx context.Context, actor roster.Actor, method, path string, status int) error {
	if actor.Kind != roster.ActorAPIKey || actor.APIKeyID == "" {
		return nil
	}
	r := roster.APIKeyRequest{ID: roster.NewID(roster.PrefixAPIKeyRequest), KeyID: actor.APIKeyID, OrgID: actor.APIKeyOrgID,
		Method: truncate(method, 16), Path: truncate(path, 500), Status: status, IP: truncate(actor.IP, 64)}
	return a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		r := r // each attempt stamps its own copy
		r.At = a.clock.Now()
		return tx.RecordAPIKeyRequest(ctx, r)
	})
}
