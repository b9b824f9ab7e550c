package app_test

import (
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestEventsFollowAudit checks that every audited change in the catalog becomes an event with
// the audit entry's ID, in the same transaction, numbered 1, 2, 3… per organization in commit
// order, even when changes of one organization commit concurrently; that audit-only actions
// make none; and that only those who read the whole audit log read the feed.
func TestEventsFollowAudit(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		tm := newTeam(t, env)
		other := newTeam(t, env)

		// Concurrent changes in one organization: the numbers stay gapless and unique.
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := env.App.Stores.Update(testenv.Ctx, tm.owner, tm.store.ID, app.StoreInput{Name: "Shop " + testenv.Unique()}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// A refused change is audited (access.denied) but is no event, and rolls back nothing else.
		want(t, env.App.Members.Remove(testenv.Ctx, tm.member, tm.org.ID, tm.adminU.ID), roster.EForbidden, "member removes admin")
		want(t, env.App.Members.ChangeRole(testenv.Ctx, tm.owner, tm.org.ID, tm.memberU.ID, roster.OrgAdmin), "", "change role")
		want(t, env.App.Members.Remove(testenv.Ctx, tm.owner, tm.org.ID, tm.storeMemU.ID), "", "remove member")

		var all []roster.Event
		var cursor int64
		for {
			p, err := env.App.Audit.Events(testenv.Ctx, tm.admin, tm.org.ID, cursor, 5)
			want(t, err, "", "read events")
			if len(p.Events) == 0 {
				if p.Cursor != cursor {
					t.Fatalf("empty page moved the cursor from %d to %d", cursor, p.Cursor)
				}
				break
			}
			all, cursor = append(all, p.Events...), p.Cursor
		}
		count := map[string]int{}
		for i, ev := range all {
			if ev.Seq != int64(i+1) {
				t.Fatalf("event %d has number %d, want %d", i, ev.Seq, i+1)
			}
			if ev.OrgID != tm.org.ID || ev.Version != roster.EventVersion || !roster.EventTypeKnown(ev.Type) {
				t.Fatalf("event %+v", ev)
			}
			if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE id = ? AND org_id = ?`, ev.ID, tm.org.ID); n != 1 {
				t.Fatalf("event %s (%s) has no audit entry", ev.ID, ev.Type)
			}
			count[ev.Type]++
		}
		for typ, n := range map[string]int{"organization.created": 1, "store.created": 1, "store.updated": 8, "member.added": 3,
			"member.role_changed": 1, "member.removed": 1} {
			if count[typ] != n {
				t.Errorf("%d %s events, want %d (all: %v)", count[typ], typ, n, count)
			}
		}
		// Every audit entry of the organization whose action is in the catalog has its event.
		audited := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action NOT IN ('access.denied')`, tm.org.ID)
		if len(all) != audited {
			t.Errorf("%d events for %d audited changes", len(all), audited)
		}
		if removed := all[len(all)-1]; removed.Type != "member.removed" || removed.SubjectID != tm.storeMemU.ID ||
			removed.After["reason"] != "removed" || removed.ActorID != tm.ownerU.ID {
			t.Errorf("last event %+v", removed)
		}

		// The other organization numbers its own events from 1.
		p, err := env.App.Audit.Events(testenv.Ctx, other.owner, other.org.ID, 0, 1)
		want(t, err, "", "other org")
		if len(p.Events) != 1 || p.Events[0].Seq != 1 || p.Events[0].Type != "organization.created" {
			t.Errorf("other organization's first event %+v", p.Events)
		}
		// Members cannot read the feed; another organization's owner does not see it.
		_, err = env.App.Audit.Events(testenv.Ctx, tm.storeMember, tm.org.ID, 0, 10)
		want(t, err, roster.ENotFound, "removed member")
		_, err = env.App.Audit.Events(testenv.Ctx, tm.member, tm.org.ID, 0, 10)
		want(t, err, "", "member promoted to admin")
		_, err = env.App.Audit.Events(testenv.Ctx, other.member, other.org.ID, 0, 10)
		want(t, err, roster.EForbidden, "member")
		_, err = env.App.Audit.Events(testenv.Ctx, other.owner, tm.org.ID, 0, 10)
		want(t, err, roster.ENotFound, "other organization's owner")
		_, err = env.App.Audit.Events(testenv.Ctx, tm.owner, tm.org.ID, -1, 10)
		want(t, err, roster.EInvalid, "negative cursor")
	})
}
