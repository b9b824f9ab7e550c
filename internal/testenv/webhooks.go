package testenv

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// receiverScript is a webhook receiver that verifies every delivery with the official
// Standard Webhooks library (npm standardwebhooks), once with each secret it was given, and
// reports each on stdout. It answers 400 to a delivery that does not verify with every
// secret, else the status in the URL's status parameter (200 by default).
const receiverScript = `
const http = require("http");
const { Webhook } = require("standardwebhooks");
const fs = require("fs");
const server = http.createServer((req, res) => {
  const secrets = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  let body = "";
  req.setEncoding("utf8");
  req.on("data", c => body += c);
  req.on("end", () => {
    const verified = secrets.map(s => {
      try { new Webhook(s).verify(body, req.headers); return true; } catch (e) { return false; }
    });
    const status = verified.every(Boolean) ? Number(new URL(req.url, "http://x").searchParams.get("status") || 200) : 400;
    process.stdout.write(JSON.stringify({ id: req.headers["webhook-id"], body, verified, status }) + "\n");
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(verified.every(Boolean) ? "verified" : "bad signature");
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n"));
`

// Receiver is a webhook receiver run by Node with the npm standardwebhooks verifier.
type Receiver struct {
	Port    int
	lines   chan []byte
	secrets string // the file the receiver reads its secrets from at each delivery
}

// SetSecrets sets the secrets the receiver verifies with from the next delivery on.
func (r *Receiver) SetSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	b, _ := json.Marshal(append([]string{}, secrets...))
	if err := os.WriteFile(r.secrets, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Received is what the receiver reports of one delivery.
type Received struct {
	ID       string // the webhook-id header
	Body     string
	Verified []bool // per secret given to the receiver
	Status   int    // what it answered
}

// WebhookReceiver starts a receiver on 127.0.0.1 that verifies with each of the secrets
// (SetSecrets changes them).
func WebhookReceiver(t testing.TB, secrets ...string) *Receiver {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "client", "testdata", "standardwebhooks")
	node := Node(t, dir)
	r := &Receiver{lines: make(chan []byte, 100), secrets: filepath.Join(t.TempDir(), "secrets.json")}
	r.SetSecrets(t, secrets...)
	cmd := exec.Command(node, "-e", receiverScript, r.secrets)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		defer close(r.lines)
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			r.lines <- append([]byte(nil), s.Bytes()...)
		}
	}()
	var ready struct{ Port int }
	if err := json.Unmarshal(r.line(t), &ready); err != nil || ready.Port == 0 {
		t.Fatalf("the webhook receiver did not start: %v", err)
	}
	r.Port = ready.Port
	return r
}

// URL is the receiver's address under a host name (one the test allows and resolves to 127.0.0.1).
func (r *Receiver) URL(host string) string {
	return "http://" + host + ":" + strconv.Itoa(r.Port) + "/hooks"
}

// Next returns the next delivery the receiver reported; the delivery has already been
// answered when this returns.
func (r *Receiver) Next(t testing.TB) Received {
	t.Helper()
	var got Received
	if err := json.Unmarshal(r.line(t), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// Pending reports whether the receiver reported a delivery not read yet.
func (r *Receiver) Pending() int { return len(r.lines) }

func (r *Receiver) line(t testing.TB) []byte {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatal("the webhook receiver exited")
		}
		return l
	case <-time.After(10 * time.Second): // an external process: a deadline, not a sleep
		t.Fatal("the webhook receiver reported nothing in 10 s")
	}
	return nil
}
