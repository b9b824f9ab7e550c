package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestHelperServe is not a test: TestCrashUnderWriteLoad runs the test binary again with
// ROSTER_HELPER_SERVE set, and this function is then a "roster serve" process to kill.
func TestHelperServe(t *testing.T) {
	if os.Getenv("ROSTER_HELPER_SERVE") == "" {
		t.Skip("a helper process for TestCrashUnderWriteLoad")
	}
	started := make(chan string, 1)
	go func() { fmt.Println("URL", <-started) }()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Started: started}
	if err := m.Run(context.Background(), []string{"serve"}); err != nil {
		t.Fatal(err)
	}
}

// TestCrashUnderWriteLoad kills a SQLite-backed Roster with SIGKILL while eight clients
// create organizations as fast as they can, then opens the database: it passes SQLite's
// integrity check, and every organization whose creation was answered 201 is there.
func TestCrashUnderWriteLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts and kills a process")
	}
	path := filepath.Join(t.TempDir(), "roster.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "ROSTER_HELPER_SERVE=1", "ROSTER_DATABASE_URL=sqlite:"+path, "ROSTER_LISTEN=127.0.0.1:0", "ROSTER_LOG_LEVEL=error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if u, ok := strings.CutPrefix(s.Text(), "URL "); ok {
				urls <- u
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(2 * time.Minute):
		t.Fatal("the helper did not start")
	}

	tok, _, _ := signupAndLogin(t, base, "Writer")
	var mu sync.Mutex
	var acked []string
	var count atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("Org %d-%d", g, i)
				var org struct {
					ID string `json:"id"`
				}
				s, err := tryCall(base+"/v1/organizations", tok, map[string]string{"name": name}, &org)
				if err != nil {
					return // the server is gone
				}
				if s == 201 {
					mu.Lock()
					acked = append(acked, org.ID)
					mu.Unlock()
					count.Add(1)
				}
			}
		})
	}
	deadline := time.Now().Add(time.Minute)
	for count.Load() < 150 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the load, not synchronizing
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no checkpoint
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	wg.Wait()

	db := testenv.SQL(t, sqlstore.SQLite, "sqlite:"+path)
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	mu.Lock()
	defer mu.Unlock()
	missing := 0
	for _, id := range acked {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM organizations WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing++
		}
	}
	if missing > 0 || len(acked) == 0 {
		t.Fatalf("%d of %d acknowledged organizations are missing", missing, len(acked))
	}
	// Every acknowledged creation also kept its owner and its audit event.
	var bad int
	if err := db.QueryRow(`SELECT COUNT(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = o.id AND m.role = 'owner')
		OR NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = o.id AND e.action = 'organization.created')`).Scan(&bad); err != nil || bad != 0 {
		t.Fatalf("%d organizations without owner or audit event (%v)", bad, err)
	}
	t.Logf("%d acknowledged creations survived the kill", len(acked))

	// Roster starts again on the file as it was left.
	in := startServe(t, map[string]string{"ROSTER_DATABASE_URL": "sqlite:" + path, "ROSTER_LOG_LEVEL": "error"})
	if s := call(t, "GET", in.url+"/v1/organizations/"+acked[0], tok, nil, nil); s != 200 {
		t.Fatalf("after restart: %d", s)
	}
}
