package webhook_test

import (
	"strconv"
	"testing"

	"github.com/rosterhq/roster/internal/testenv"
)

// receiverDir holds the npm standardwebhooks package the receiver runs (shared with the
// client's verifier test).
const receiverDir = "../client/testdata/standardwebhooks"

func lookNode(t *testing.T) string { return testenv.Node(t, receiverDir) }

func itoa(n int) string { return strconv.Itoa(n) }
