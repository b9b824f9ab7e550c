package app_test

// DESIGN §3, rules 1, 2, 3, 4 and 8, each proved one step at a time and then attacked by
// concurrent requests on both engines. Rule 7 is in access_rules_test.go.

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// Rules 1 and 2: exactly one owner, who cannot be demoted, suspended or removed; ownership
// moves only by transfer from the owner to an admin; admins never change the owner.
func TestRuleOneOwner(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		tm := newTeam(t, env)
		org, o := tm.org.ID, tm.ownerU.ID
		admin, member := roster.OrgAdmin, roster.OrgMember
		suspended := roster.MembershipSuspended
		owner := roster.OrgOwner

		// Nobody demotes, suspends or removes the owner: not an admin, not the owner.
		for _, by := range []roster.Actor{tm.admin, tm.owner} {
			who := "admin"
			if by.UserID == o {
				who = "owner"
			}
			want(t, env.App.Members.ChangeRole(ctx, by, org, o, admin), roster.EOwnerProtected, who+" demotes the owner")
			want(t, env.App.Members.ChangeRole(ctx, by, org, o, member), roster.EOwnerProtected, who+" demotes the owner to member")
			want(t, env.App.Members.Suspend(ctx, by, org, o), roster.EOwnerProtected, who+" suspends the owner")
			want(t, env.App.Members.Remove(ctx, by, org, o), roster.EOwnerProtected, who+" removes the owner")
			want(t, env.App.Members.Update(ctx, by, org, o, app.MemberUpdate{Role: &admin, Status: &suspended}), roster.EOwnerProtected, who+" updates the owner")
			want(t, env.App.Members.SetStoreRole(ctx, tm.admin, tm.store.ID, o, roster.StoreRoleViewer), roster.EOwnerProtected, "admin sets the owner's store role")
		}
		want(t, env.App.Members.Leave(ctx, tm.owner, org), roster.EOwnerProtected, "owner leaves")
		// The owner's own store memberships are the owner's too: no admin removes them.
		want(t, env.App.Members.SetStoreRole(ctx, tm.owner, tm.store.ID, o, roster.StoreRoleViewer), "", "owner sets their own store role")
		want(t, env.App.Members.RemoveFromStore(ctx, tm.admin, tm.store.ID, o), roster.EOwnerProtected, "admin removes the owner from a store")
		want(t, env.App.Members.RemoveFromStore(ctx, tm.owner, tm.store.ID, o), "", "owner leaves a store")
		// Ownership is never given by a role change or when adding someone.
		want(t, env.App.Members.ChangeRole(ctx, tm.owner, org, tm.adminU.ID, owner), roster.EOwnerRequired, "promote to owner")
		want(t, env.App.Members.ChangeRole(ctx, tm.admin, org, tm.admin.UserID, owner), roster.EOwnerRequired, "admin makes themselves owner")
		outsider, outsiderU := env.User(t, "Otto")
		want(t, env.App.Members.Add(ctx, tm.owner, org, outsiderU.ID, owner, nil), roster.EOwnerRequired, "add as owner")
		// Only the owner transfers, only to an active admin of the organization, after a step-up.
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.admin, org, tm.admin.UserID, app.OwnerProof{Password: testenv.Password}), roster.EForbidden, "admin takes ownership")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.member, org, tm.member.UserID, app.OwnerProof{Password: testenv.Password}), roster.EForbidden, "member takes ownership")
		want(t, env.App.Organizations.TransferOwnership(ctx, outsider, org, outsiderU.ID, app.OwnerProof{Password: testenv.Password}), roster.ENotFound, "outsider takes ownership")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.memberU.ID, app.OwnerProof{Password: testenv.Password}), roster.ETransferTarget, "transfer to a member")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, outsiderU.ID, app.OwnerProof{Password: testenv.Password}), roster.ENotFound, "transfer to an outsider")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, "usr_nonsense", app.OwnerProof{Password: testenv.Password}), roster.ENotFound, "transfer to a malformed ID")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, o, app.OwnerProof{Password: testenv.Password}), roster.EInvalid, "transfer to oneself")
		env.Clock.Advance(app.StepUpWindow + time.Second) // the login no longer stands in for the password
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.adminU.ID, app.OwnerProof{Password: "wrong password entirely"}), roster.EInvalidCredentials, "transfer with a wrong password")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.adminU.ID, app.OwnerProof{Password: ""}), roster.EReauthRequired, "transfer without a password")
		want(t, env.App.Members.Suspend(ctx, tm.owner, org, tm.adminU.ID), "", "suspend the admin")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.adminU.ID, app.OwnerProof{Password: testenv.Password}), roster.ETransferTarget, "transfer to a suspended admin")
		want(t, env.App.Members.Reactivate(ctx, tm.owner, org, tm.adminU.ID), "", "reactivate the admin")
		// A deactivated user never becomes owner: they could not sign in to act as one.
		want(t, env.App.Members.ChangeRole(ctx, tm.owner, org, tm.memberU.ID, admin), "", "promote the member")
		if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), tm.memberU.ID); err != nil {
			t.Fatal(err)
		}
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.memberU.ID, app.OwnerProof{Password: testenv.Password}), roster.ETransferTarget, "transfer to a deactivated admin")
		if n := owners(t, env, org); n != 1 || role(t, env, org, o).Role != owner {
			t.Fatalf("after refusals: %d owners", n)
		}
		// An owner cannot be deactivated until ownership moves.
		_, err := env.App.Operator.DeactivateUser(ctx, roster.System(), o)
		want(t, err, roster.EOwnsOrganizations, "deactivate the owner")

		// The transfer: the admin becomes owner, the owner becomes admin, in one step.
		before := events(t, env, org, "organization.ownership_transferred")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.adminU.ID, app.OwnerProof{Password: testenv.Password}), "", "transfer")
		if role(t, env, org, tm.adminU.ID).Role != owner || role(t, env, org, o).Role != admin || owners(t, env, org) != 1 {
			t.Fatal("after the transfer the roles are not swapped")
		}
		if events(t, env, org, "organization.ownership_transferred") != before+1 {
			t.Fatal("the transfer is not in the audit log")
		}
		// The old owner is an admin now: rule 2 binds them.
		want(t, env.App.Members.ChangeRole(ctx, tm.owner, org, tm.adminU.ID, member), roster.EOwnerProtected, "old owner demotes the new one")
		want(t, env.App.Organizations.TransferOwnership(ctx, tm.owner, org, o, app.OwnerProof{Password: testenv.Password}), roster.EForbidden, "old owner transfers again")
		// Now the old owner can be deactivated, and the new one cannot.
		if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), o); err != nil {
			t.Fatalf("deactivate the old owner: %v", err)
		}
		_, err = env.App.Operator.DeactivateUser(ctx, roster.System(), tm.adminU.ID)
		want(t, err, roster.EOwnsOrganizations, "deactivate the new owner")
	})
}

// A deactivated user who still holds a session cannot create an organization either.
func TestDeactivatedUserCreatesNoOrganization(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		u, uu := env.User(t, "Una")
		if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), uu.ID); err != nil {
			t.Fatal(err)
		}
		// u is the actor their session was before deactivation (a request in flight).
		_, err := env.App.Organizations.Create(ctx, u, app.OrganizationInput{Name: "Late"})
		want(t, err, roster.EUserDeactivated, "a deactivated user creates an organization")
		if n := env.Int(t, `SELECT COUNT(*) FROM organizations`); n != 0 {
			t.Fatalf("%d organizations", n)
		}
	})
}

// TestRuleOneOwnerUnderRace has 50 goroutines race ownership transfers, demotions,
// suspensions, removals, promotions and deactivations: whatever the interleaving, the
// organization ends, and stays at every moment, with exactly one active owner.
func TestRuleOneOwnerUnderRace(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, ownerU := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme").ID
		const n = 8
		actors := []roster.Actor{owner}
		users := []roster.User{ownerU}
		for i := range n {
			a, u := env.User(t, fmt.Sprintf("Admin%d", i))
			env.Join(t, owner, org, u, roster.OrgAdmin)
			actors, users = append(actors, a), append(users, u)
		}
		stop := make(chan struct{})
		var violations atomic.Int32
		var watch sync.WaitGroup
		watch.Go(func() {
			// One statement, so one snapshot: owners counted and their status read together.
			q := `SELECT COUNT(*) FROM org_members m JOIN users u ON u.id = m.user_id
				WHERE m.org_id = ? AND m.role = 'owner' AND m.status = 'active' AND u.status = 'active'`
			for {
				select {
				case <-stop:
					return
				default:
				}
				if env.Int(t, q, org) != 1 {
					violations.Add(1)
				}
			}
		})
		byID := map[string]roster.Actor{}
		for _, a := range actors {
			byID[a.UserID] = a
		}
		var transfers atomic.Int32
		var wg sync.WaitGroup
		for g := range 50 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 1))
				for range 6 {
					by, target := actors[r.IntN(len(actors))], users[r.IntN(len(users))]
					var err error
					switch r.IntN(7) {
					case 0, 1, 2: // the owner of the moment hands over, racing the others
						cur, oerr := env.DB.Read().Owner(ctx, org)
						if oerr != nil {
							t.Error(oerr)
							return
						}
						if err = env.App.Organizations.TransferOwnership(ctx, byID[cur.UserID], org, target.ID, app.OwnerProof{Password: testenv.Password}); err == nil {
							transfers.Add(1)
						}
					case 3:
						if err = env.App.Members.ChangeRole(ctx, by, org, target.ID, roster.OrgMember); err == nil {
							err = env.App.Members.ChangeRole(ctx, by, org, target.ID, roster.OrgAdmin)
						}
					case 4:
						if err = env.App.Members.Suspend(ctx, by, org, target.ID); err == nil {
							err = env.App.Members.Reactivate(ctx, by, org, target.ID)
						}
					case 5:
						if _, err = env.App.Operator.DeactivateUser(ctx, roster.System(), target.ID); err == nil {
							_, err = env.App.Operator.ReactivateUser(ctx, roster.System(), target.ID)
						}
					case 6:
						if target.ID == by.UserID {
							err = env.App.Members.Leave(ctx, by, org)
						} else {
							err = env.App.Members.Remove(ctx, by, org, target.ID)
						}
						if err == nil {
							cur, _ := env.DB.Read().Owner(ctx, org)
							err = env.App.Members.Add(ctx, byID[cur.UserID], org, target.ID, roster.OrgAdmin, nil)
						}
					}
					if code := testenv.Code(err); code == roster.EInternal || code == roster.EUnavailable {
						t.Errorf("unexpected error: %v", err)
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		watch.Wait()
		if v := violations.Load(); v > 0 {
			t.Fatalf("%d observations without exactly one active owner", v)
		}
		if owners(t, env, org) != 1 {
			t.Fatal("not exactly one owner at the end")
		}
		if got := events(t, env, org, "organization.ownership_transferred"); got != int(transfers.Load()) {
			t.Fatalf("%d transfers succeeded, %d audited", transfers.Load(), got)
		}
		t.Logf("%d transfers", transfers.Load())
	})
}

// Rule 3: store memberships exist only alongside an organization membership; removal takes
// them all, in one transaction.
func TestRuleStoreMembershipsFollowTheOrganization(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		tm := newTeam(t, env)
		second := env.Store(t, tm.owner, tm.org.ID, "Second")
		want(t, env.App.Members.SetStoreRole(ctx, tm.owner, second.ID, tm.storeMemU.ID, roster.StoreRoleViewer), "", "second store role")
		if n := env.Int(t, `SELECT COUNT(*) FROM store_members WHERE user_id = ?`, tm.storeMemU.ID); n != 2 {
			t.Fatalf("%d store memberships", n)
		}

		// No store role for someone outside the organization, nor in another organization's store.
		outsider, outsiderU := env.User(t, "Otto")
		want(t, env.App.Members.SetStoreRole(ctx, tm.owner, tm.store.ID, outsiderU.ID, roster.StoreRoleMember), roster.ENotFound, "store role for an outsider")
		other := env.Org(t, outsider, "Other")
		otherStore := env.Store(t, outsider, other.ID, "Theirs")
		want(t, env.App.Members.Add(ctx, tm.owner, tm.org.ID, outsiderU.ID, roster.OrgMember,
			[]app.StoreGrantInput{{StoreID: otherStore.ID, RoleID: roster.StoreRoleMember}}), roster.ENotFound, "grant in another organization's store")
		if n := env.Int(t, `SELECT COUNT(*) FROM org_members WHERE user_id = ?`, outsiderU.ID); n != 1 {
			t.Fatal("a refused AddMember left a membership behind")
		}
		// The database refuses it too, whatever the application does.
		err := env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
			return tx.PutStoreMember(ctx, roster.StoreMembership{StoreID: tm.store.ID, OrgID: tm.org.ID, UserID: outsiderU.ID, RoleID: "member",
				CreatedAt: env.Clock.Now(), UpdatedAt: env.Clock.Now()})
		})
		want(t, err, roster.ENotMember, "store membership without organization membership, in the store")
		err = env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
			return tx.PutStoreMember(ctx, roster.StoreMembership{StoreID: otherStore.ID, OrgID: tm.org.ID, UserID: tm.storeMemU.ID, RoleID: "member",
				CreatedAt: env.Clock.Now(), UpdatedAt: env.Clock.Now()})
		})
		want(t, err, roster.ENotMember, "store membership in a store of another organization")

		// Removal takes every store membership, and says so in the audit log.
		want(t, env.App.Members.Remove(ctx, tm.admin, tm.org.ID, tm.storeMemU.ID), "", "remove")
		if n := env.Int(t, `SELECT COUNT(*) FROM store_members WHERE user_id = ?`, tm.storeMemU.ID); n != 0 {
			t.Fatalf("%d store memberships survive the removal", n)
		}
		p, err := env.App.Audit.List(ctx, tm.owner, tm.org.ID, app.AuditFilter{Action: "member.removed"})
		if err != nil || len(p.Items) != 1 || len(p.Items[0].Before["stores"].([]any)) != 2 {
			t.Fatalf("removal audit: %v %+v", err, p.Items)
		}
		// Leaving does the same.
		want(t, env.App.Members.SetStoreRole(ctx, tm.owner, tm.store.ID, tm.memberU.ID, roster.StoreRoleViewer), "", "store role")
		want(t, env.App.Members.Leave(ctx, tm.member, tm.org.ID), "", "leave")
		if n := env.Int(t, `SELECT COUNT(*) FROM store_members WHERE user_id = ?`, tm.memberU.ID); n != 0 {
			t.Fatal("store memberships survive leaving")
		}
	})
}

// TestRuleStoreMembershipsUnderRace races additions, store grants and removals of the same
// people: no store membership is ever left without its organization membership.
func TestRuleStoreMembershipsUnderRace(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.ContendedEnv(t, e)
		tm := newTeam(t, env)
		stores := []roster.Store{tm.store, env.Store(t, tm.owner, tm.org.ID, "B"), env.Store(t, tm.owner, tm.org.ID, "C")}
		var people []roster.User
		for i := range 5 {
			_, u := env.User(t, fmt.Sprintf("P%d", i))
			people = append(people, u)
		}
		orphans := `SELECT COUNT(*) FROM store_members sm LEFT JOIN org_members m ON m.org_id = sm.org_id AND m.user_id = sm.user_id
			WHERE m.user_id IS NULL`
		var wg sync.WaitGroup
		for g := range 50 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 3))
				for range 8 {
					u, st := people[r.IntN(len(people))], stores[r.IntN(len(stores))]
					by := []roster.Actor{tm.owner, tm.admin}[r.IntN(2)]
					var err error
					switch r.IntN(4) {
					case 0:
						err = env.App.Members.Add(ctx, by, tm.org.ID, u.ID, roster.OrgMember, []app.StoreGrantInput{{StoreID: st.ID, RoleID: roster.StoreRoleMember}})
					case 1:
						err = env.App.Members.SetStoreRole(ctx, by, st.ID, u.ID, roster.StoreRoleViewer)
					case 2:
						err = env.App.Members.Remove(ctx, by, tm.org.ID, u.ID)
					case 3:
						err = env.App.Members.RemoveFromStore(ctx, by, st.ID, u.ID)
					}
					if code := testenv.Code(err); code == roster.EInternal || code == roster.EUnavailable {
						t.Errorf("unexpected error: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if n := env.Int(t, orphans); n != 0 {
			t.Fatalf("%d store memberships without an organization membership", n)
		}
	})
}

// Rule 4: active stores never exceed the credits; archived stores use none.
func TestRuleStoreCredits(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.DefaultStoreCredits = 2 })
		tm := newTeam(t, env) // one store
		second := env.Store(t, tm.owner, tm.org.ID, "Second")
		_, err := env.App.Stores.Create(ctx, tm.owner, tm.org.ID, app.StoreInput{Name: "Third"})
		want(t, err, roster.ENoStoreCredits, "third store with two credits")
		if e := roster.AsError(err); e.Details["store_credits"] != 2 {
			t.Errorf("details: %v", e.Details)
		}
		_, err = env.App.Stores.Create(ctx, tm.admin, tm.org.ID, app.StoreInput{Name: "Third"})
		want(t, err, roster.EForbidden, "admins do not create stores")
		if _, err := env.App.Stores.Archive(ctx, tm.admin, second.ID); err != nil {
			t.Fatal(err)
		}
		third := env.Store(t, tm.owner, tm.org.ID, "Third") // the archived store freed a credit
		_, err = env.App.Stores.Unarchive(ctx, tm.admin, second.ID)
		want(t, err, roster.ENoStoreCredits, "unarchive without a credit")
		_, err = env.App.Operator.SetStoreCredits(ctx, roster.System(), tm.org.ID, 1)
		want(t, err, roster.EConflict, "credits below the active stores")
		if _, err := env.App.Operator.SetStoreCredits(ctx, roster.System(), tm.org.ID, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Stores.Unarchive(ctx, tm.admin, second.ID); err != nil {
			t.Fatalf("unarchive with a free credit: %v", err)
		}
		_, err = env.App.Stores.Unarchive(ctx, tm.admin, third.ID)
		want(t, err, roster.EStoreNotArchived, "unarchive an active store")
		if n := env.Int(t, `SELECT COUNT(*) FROM stores WHERE org_id = ? AND status = 'active'`, tm.org.ID); n != 3 {
			t.Fatalf("%d active stores", n)
		}
	})
}

// TestRuleStoreCreditsUnderRace races store creations, archives, unarchives and credit
// changes: at no moment are there more active stores than credits, and every store created
// or moved is audited exactly once.
func TestRuleStoreCreditsUnderRace(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.DefaultStoreCredits = 3 })
		tm := newTeam(t, env)
		org := tm.org.ID
		var mu sync.Mutex
		stores := []string{tm.store.ID}
		stop := make(chan struct{})
		var over atomic.Int32
		var watch sync.WaitGroup
		watch.Go(func() {
			q := `SELECT (SELECT COUNT(*) FROM stores s WHERE s.org_id = o.id AND s.status = 'active') - o.store_credits FROM organizations o WHERE o.id = ?`
			for {
				select {
				case <-stop:
					return
				default:
				}
				if env.Int(t, q, org) > 0 {
					over.Add(1)
				}
			}
		})
		var created, archived, unarchived atomic.Int32
		var wg sync.WaitGroup
		// 16 writers queue on the organization's row: enough to race, few enough that the
		// last in line meets the 5 s database deadline on a loaded machine.
		for g := range 16 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 4))
				for range 12 {
					mu.Lock()
					st := stores[r.IntN(len(stores))]
					mu.Unlock()
					var err error
					switch r.IntN(5) {
					case 0, 1:
						var s roster.Store
						if s, err = env.App.Stores.Create(ctx, tm.owner, org, app.StoreInput{Name: fmt.Sprintf("S%d", g)}); err == nil {
							created.Add(1)
							mu.Lock()
							stores = append(stores, s.ID)
							mu.Unlock()
						}
					case 2:
						if _, err = env.App.Stores.Archive(ctx, tm.admin, st); err == nil {
							archived.Add(1)
						}
					case 3:
						if _, err = env.App.Stores.Unarchive(ctx, tm.owner, st); err == nil {
							unarchived.Add(1)
						}
					case 4:
						_, err = env.App.Operator.SetStoreCredits(ctx, roster.System(), org, 1+r.IntN(4))
					}
					switch testenv.Code(err) {
					case "", roster.ENoStoreCredits, roster.EConflict, roster.EStoreArchived, roster.EStoreNotArchived:
					default:
						t.Errorf("unexpected error: %v", err)
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		watch.Wait()
		if n := over.Load(); n > 0 {
			t.Fatalf("%d observations of more active stores than credits", n)
		}
		for action, n := range map[string]*atomic.Int32{"store.created": &created, "store.archived": &archived, "store.unarchived": &unarchived} {
			if got := events(t, env, org, action); got != int(n.Load())+map[bool]int{true: 1}[action == "store.created"] {
				t.Errorf("%s: %d succeeded, %d audited", action, n.Load(), got)
			}
		}
		t.Logf("created %d, archived %d, unarchived %d", created.Load(), archived.Load(), unarchived.Load())
	})
}

// Rule 8: every change writes its audit event in its own transaction, and a change that fails
// writes none (and changes nothing).
func TestRuleAuditInTheSameTransaction(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.DefaultStoreCredits = 1 })
		tm := newTeam(t, env)
		org := tm.org.ID
		_, extraU := env.User(t, "Extra")
		archivedStore := func() string {
			if _, err := env.App.Operator.SetStoreCredits(ctx, roster.System(), org, 2); err != nil {
				t.Fatal(err)
			}
			s := env.Store(t, tm.owner, org, "Temp")
			if _, err := env.App.Stores.Archive(ctx, tm.owner, s.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := env.App.Operator.SetStoreCredits(ctx, roster.System(), org, 1); err != nil {
				t.Fatal(err)
			}
			return s.ID
		}
		admin, member := roster.OrgAdmin, roster.OrgMember
		for _, tc := range []struct {
			action string
			do     func() error
		}{
			{"organization.updated", func() error {
				_, err := env.App.Organizations.Update(ctx, tm.owner, org, app.OrganizationInput{Name: "Acme 2"})
				return err
			}},
			{"store.updated", func() error {
				_, err := env.App.Stores.Update(ctx, tm.admin, tm.store.ID, app.StoreInput{Name: "Shop 2"})
				return err
			}},
			{"store.archived", func() error { _, err := env.App.Stores.Archive(ctx, tm.admin, tm.store.ID); return err }},
			{"store.unarchived", func() error { _, err := env.App.Stores.Unarchive(ctx, tm.admin, tm.store.ID); return err }},
			{"store.deleted", func() error { return env.App.Stores.Delete(ctx, tm.admin, archivedStore()) }},
			{"member.added", func() error { return env.App.Members.Add(ctx, tm.admin, org, extraU.ID, roster.OrgMember, nil) }},
			{"member.role_changed", func() error { return env.App.Members.ChangeRole(ctx, tm.admin, org, extraU.ID, admin) }},
			{"member.suspended", func() error { return env.App.Members.Suspend(ctx, tm.admin, org, extraU.ID) }},
			{"member.reactivated", func() error { return env.App.Members.Reactivate(ctx, tm.admin, org, extraU.ID) }},
			{"store_member.role_set", func() error {
				return env.App.Members.SetStoreRole(ctx, tm.admin, tm.store.ID, extraU.ID, roster.StoreRoleViewer)
			}},
			{"store_member.removed", func() error { return env.App.Members.RemoveFromStore(ctx, tm.admin, tm.store.ID, extraU.ID) }},
			{"member.removed", func() error { return env.App.Members.Remove(ctx, tm.admin, org, extraU.ID) }},
			{"member.left", func() error { return env.App.Members.Leave(ctx, tm.storeMember, org) }},
			{"organization.store_credits_set", func() error { _, err := env.App.Operator.SetStoreCredits(ctx, roster.System(), org, 5); return err }},
			{"organization.ownership_transferred", func() error {
				return env.App.Organizations.TransferOwnership(ctx, tm.owner, org, tm.adminU.ID, app.OwnerProof{Password: testenv.Password})
			}},
		} {
			before := events(t, env, org, tc.action)
			total := allEvents(t, env)
			if err := tc.do(); err != nil {
				t.Fatalf("%s: %v", tc.action, err)
			}
			if got := events(t, env, org, tc.action); got != before+1 {
				t.Errorf("%s: %d new events", tc.action, got-before)
			}
			if tc.action != "store.deleted" && allEvents(t, env) != total+1 {
				t.Errorf("%s: %d events in all", tc.action, allEvents(t, env)-total)
			}
		}
		// Instance-level changes are audited too.
		for _, tc := range []struct {
			action string
			do     func() error
		}{
			{"user.updated", func() error {
				n := "Mia M."
				_, err := env.App.Accounts.Update(ctx, tm.member, app.ProfileInput{Name: &n})
				return err
			}},
			{"user.deactivated", func() error { _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), extraU.ID); return err }},
			{"user.reactivated", func() error { _, err := env.App.Operator.ReactivateUser(ctx, roster.System(), extraU.ID); return err }},
			{"service_token.created", func() error { _, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host"); return err }},
			{"organization.created", func() error {
				_, err := env.App.Organizations.Create(ctx, tm.member, app.OrganizationInput{Name: "Mine"})
				return err
			}},
		} {
			before := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = ?`, tc.action)
			if err := tc.do(); err != nil {
				t.Fatalf("%s: %v", tc.action, err)
			}
			if got := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = ?`, tc.action); got != before+1 {
				t.Errorf("%s: %d new events", tc.action, got-before)
			}
		}

		// Failures write nothing: the change and its event roll back together. Here the role
		// change is made and audited inside the transaction before the self-suspension is
		// refused.
		newOwner := tm.admin // since the transfer above
		_, aU := env.User(t, "Ada")
		env.Join(t, newOwner, org, aU, roster.OrgAdmin)
		a, _ := env.Login(t, aU.Email)
		if _, err := env.App.Operator.SetStoreCredits(ctx, roster.System(), org, 1); err != nil {
			t.Fatal(err)
		}
		rows := env.RowCounts(t)
		suspended := roster.MembershipSuspended
		want(t, env.App.Members.Update(ctx, a, org, aU.ID, app.MemberUpdate{Role: &member, Status: &suspended}), roster.EConflict, "demote and suspend oneself")
		if role(t, env, org, aU.ID).Role != roster.OrgAdmin {
			t.Fatal("the role change of a failed update was kept")
		}
		_, err := env.App.Stores.Create(ctx, newOwner, org, app.StoreInput{Name: "Over"})
		want(t, err, roster.ENoStoreCredits, "store over the credits")
		if after := env.RowCounts(t); fmt.Sprint(after) != fmt.Sprint(rows) {
			t.Fatalf("failed changes wrote rows:\nbefore %v\nafter  %v", rows, after)
		}
		// A refusal for lack of permission writes exactly one access.denied event and nothing else.
		_, err = env.App.Stores.Create(ctx, tm.member, org, app.StoreInput{Name: "Nope"})
		want(t, err, roster.EForbidden, "a member creates a store")
		after := env.RowCounts(t)
		if after["audit_events"] != rows["audit_events"]+1 || after["stores"] != rows["stores"] {
			t.Fatalf("refusal: before %v after %v", rows, after)
		}
		if events(t, env, org, "access.denied") < 1 {
			t.Fatal("no access.denied event")
		}
	})
}

// TestDeleteOrganizationAsksThePassword: 10 minutes after the login, deleting an organization
// asks for the password again, as ownership transfer does; nothing is deleted, and a missing
// password does not count as a failed guess.
func TestDeleteOrganizationAsksThePassword(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olive")
		org := env.Org(t, owner, "Doomed")
		env.Clock.Advance(app.StepUpWindow + time.Second)
		for range 6 {
			want(t, env.App.Organizations.Delete(ctx, owner, org.ID, app.OwnerProof{Password: ""}), roster.EReauthRequired, "delete without a password")
		}
		if _, err := env.App.Organizations.Get(ctx, owner, org.ID); err != nil {
			t.Fatalf("the organization is gone: %v", err)
		}
		want(t, env.App.Organizations.Delete(ctx, owner, org.ID, app.OwnerProof{Password: "wrong password entirely"}), roster.EInvalidCredentials, "delete with a wrong password")
		want(t, env.App.Organizations.Delete(ctx, owner, org.ID, app.OwnerProof{Password: testenv.Password}), "", "delete with the password") // not locked by the empty tries
	})
}
