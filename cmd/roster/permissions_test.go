package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func TestParsePermissions(t *testing.T) {
	yml := "permissions:\n  - key: campaigns.create\n    area: Campaigns\n    description: Create campaigns\n    member: true\n  - key: reports.read\n    viewer: true\n"
	js := `{"permissions": [{"key": "campaigns.create", "area": "Campaigns", "description": "Create campaigns", "member": true}, {"key": "reports.read", "viewer": true}]}`
	for name, data := range map[string]string{"yaml": yml, "json": js} {
		ps, err := parsePermissions(name, []byte(data))
		if err != nil || len(ps) != 2 || ps[0].Key != "campaigns.create" || !ps[0].Member || ps[0].Area != "Campaigns" || !ps[1].Viewer || ps[1].Member {
			t.Fatalf("%s: %v %+v", name, err, ps)
		}
	}
	for name, data := range map[string]string{
		"unknown field": "permissions:\n  - key: a.b\n    memebr: true\n",
		"wrong type":    "permissions:\n  - key: a.b\n    member: perhaps\n",
		"empty":         "",
		"not a list":    "permissions: campaigns.create\n",
	} {
		if _, err := parsePermissions(name, []byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestServeAppliesPermissionsFile starts roster serve with ROSTER_PERMISSIONS_FILE: a valid
// file is registered at start; an invalid one stops the start with a clear error.
func TestServeAppliesPermissionsFile(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "roster.db")
	file := filepath.Join(dir, "permissions.yaml")
	env := map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_PERMISSIONS_FILE": file}
	getenv := func(k string) string { return env[k] }

	if err := os.WriteFile(file, []byte("permissions:\n  - key: store.nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: getenv}
	if err := m.Run(context.Background(), []string{"serve"}); err == nil || !strings.Contains(err.Error(), "ROSTER_PERMISSIONS_FILE") {
		t.Fatalf("invalid file: %v", err)
	}

	if err := os.WriteFile(file, []byte("permissions:\n  - key: campaigns.create\n    member: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	m = &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: getenv, Listener: ln, Started: started}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve"}) }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), dbURL, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ps, err := db.Read().HostPermissions(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Key != "campaigns.create" || !ps[0].Member {
		t.Fatalf("registered: %v %+v", err, ps)
	}
}
