package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// testEncryptionKey is a ROSTER_ENCRYPTION_KEY for tests that serve over https.
const testEncryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// TestEncryptionKeyRules: an https instance refuses to start without ROSTER_ENCRYPTION_KEY,
// a malformed key is refused without echoing it, and keys rotate needs the key.
func TestEncryptionKeyRules(t *testing.T) {
	db := "sqlite:" + t.TempDir() + "/r.db"
	run := func(env map[string]string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		env["ROSTER_DATABASE_URL"] = db
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
		err := m.Run(context.Background(), args)
		return out.String(), err
	}
	if _, err := run(map[string]string{"ROSTER_BASE_URL": "https://roster.example"}, "serve"); err == nil || !strings.Contains(err.Error(), "ROSTER_ENCRYPTION_KEY is required") {
		t.Fatalf("https without a key: %v", err)
	}
	if _, err := run(map[string]string{"ROSTER_ENCRYPTION_KEY": "c2hvcnQtc2VjcmV0"}, "serve"); err == nil || !strings.Contains(err.Error(), "32 bytes") || strings.Contains(err.Error(), "c2hvcnQtc2VjcmV0") {
		t.Fatalf("short key: %v", err)
	}
	if _, err := run(map[string]string{}, "keys", "rotate"); err == nil || !strings.Contains(err.Error(), "ROSTER_ENCRYPTION_KEY") {
		t.Fatalf("rotate without a key: %v", err)
	}
	key := map[string]string{"ROSTER_ENCRYPTION_KEY": testEncryptionKey}
	if out, err := run(key, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if _, err := run(map[string]string{"ROSTER_ENCRYPTION_KEY": testEncryptionKey, "ROSTER_ENCRYPTION_KEY_PREVIOUS": "c2hvcnQtc2VjcmV0"}, "migrate"); err == nil ||
		!strings.Contains(err.Error(), "ROSTER_ENCRYPTION_KEY_PREVIOUS") || !strings.Contains(err.Error(), "32 bytes") || strings.Contains(err.Error(), "c2hvcnQtc2VjcmV0") {
		t.Fatalf("a short previous key: %v", err)
	}
	if out, err := run(map[string]string{"ROSTER_ENCRYPTION_KEY": testEncryptionKey, "ROSTER_ENCRYPTION_KEY_PREVIOUS": " " + testEncryptionKey + ", "}, "migrate"); err != nil {
		t.Fatalf("a previous key: %v %s", err, out)
	}
	out, err := run(key, "keys", "rotate")
	if err != nil || !strings.Contains(out, "new signing key") {
		t.Fatalf("rotate: %v %q", err, out)
	}
	// A new encryption key, the old one kept as previous: keys reseal moves the signing key to
	// the new one, after which the old key is not needed; a key that opens nothing says so.
	const newKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
	out, err = run(map[string]string{"ROSTER_ENCRYPTION_KEY": newKey, "ROSTER_ENCRYPTION_KEY_PREVIOUS": testEncryptionKey}, "keys", "reseal")
	if err != nil || !regexp.MustCompile(`^[1-9]\d* secrets sealed again under the current key, 0 already were\n$`).MatchString(out) {
		t.Fatalf("reseal: %v %q", err, out)
	}
	out, err = run(map[string]string{"ROSTER_ENCRYPTION_KEY": newKey}, "keys", "reseal")
	if err != nil || !regexp.MustCompile(`^0 secrets sealed again under the current key, [1-9]\d* already were\n$`).MatchString(out) {
		t.Fatalf("reseal again, with the new key alone: %v %q", err, out)
	}
	out, err = run(key, "keys", "reseal")
	if err != nil || !strings.Contains(out, "open with none of the configured keys") {
		t.Fatalf("reseal with a key that sealed nothing: %v %q", err, out)
	}
	out, err = run(map[string]string{}, "clients", "create", "--name", "Shop", "--redirect-uri", "https://shop.example/cb", "--scope", "openid", "--scope", "organization", "--cors-origin", "https://shop.example")
	if err != nil || !strings.Contains(out, "client_id:     cli_") || !strings.Contains(out, "client_secret: rcs_") {
		t.Fatalf("clients create: %v %q", err, out)
	}
	if _, err := run(map[string]string{}, "clients", "create", "--name", "Bad", "--redirect-uri", "http://shop.example/cb"); err == nil {
		t.Fatal("an http redirect URI off loopback was accepted")
	}
	// A machine client: --organization and --permission reach app's checks.
	if _, err := run(map[string]string{}, "clients", "create", "--name", "Sync", "--organization", "org_01J00000000000000000000000", "--permission", "org.read"); err == nil || !strings.Contains(err.Error(), "organization not found") {
		t.Fatalf("a machine client of an unknown organization: %v", err)
	}
	if _, err := run(map[string]string{}, "clients", "create", "--name", "Sync", "--organization", "org_01J00000000000000000000000"); err == nil || !strings.Contains(err.Error(), "permissions") {
		t.Fatalf("a machine client without permissions: %v", err)
	}
	if _, err := run(map[string]string{}, "clients", "create", "--name", "Bad", "--redirect-uri", "https://shop.example/cb", "--cors-origin", "https://shop.example/app"); err == nil {
		t.Fatal("a CORS origin with a path was accepted")
	}
	out, err = run(map[string]string{}, "clients", "list")
	if err != nil || !strings.Contains(out, "Shop") || !strings.Contains(out, "cors: https://shop.example") || strings.Contains(out, "rcs_") {
		t.Fatalf("clients list: %v %q", err, out)
	}

	// update changes what its flags name and keeps the rest; rotate-secret prints a new secret.
	id := regexp.MustCompile(`cli_[0-9a-z]{26}`).FindString(out)
	if out, err := run(map[string]string{}, "clients", "update", id, "--name", "Shop 2", "--redirect-uri", "https://shop.example/cb2"); err != nil || !strings.Contains(out, "Shop 2 ("+id+") updated") {
		t.Fatalf("clients update: %v %q", err, out)
	}
	out, err = run(map[string]string{}, "clients", "list")
	if err != nil || !strings.Contains(out, "Shop 2\thttps://shop.example/cb2\tcors: https://shop.example") {
		t.Fatalf("after the update: %v %q", err, out)
	}
	if _, err := run(map[string]string{}, "clients", "update", id, "--redirect-uri", "https://*.shop.example/cb"); err == nil {
		t.Fatal("a wildcard redirect URI was accepted on update")
	}
	if _, err := run(map[string]string{}, "clients", "update", "--name", "x"); err == nil || !strings.Contains(err.Error(), "client's ID") {
		t.Fatalf("update without an ID: %v", err)
	}
	if _, err := run(map[string]string{}, "clients", "update", "cli_01J00000000000000000000000", "--name", "x"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("update of an unknown client: %v", err)
	}
	if out, err := run(map[string]string{}, "clients", "rotate-secret", id); err != nil || !strings.Contains(out, "client_secret: rcs_") {
		t.Fatalf("rotate-secret: %v %q", err, out)
	}
}
