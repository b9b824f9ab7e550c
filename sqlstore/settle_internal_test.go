package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// TestSettleAfterTheCallerLeft: a connection error met once the caller has gone away (pgx
// closes the connection to cancel the statement, and the next use of it says "bad
// connection") is the caller's cancellation, not logged as an outage; the same error with the
// caller still there, or after the database's own deadline, is an outage, logged once.
func TestSettleAfterTheCallerLeft(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     func() context.Context
		outage  bool
		message string
	}{
		{"caller gone", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, false, "cancelled"},
		{"caller there", context.Background, true, "unavailable"},
		{"database's deadline passed", func() context.Context {
			ctx, cancel := context.WithTimeoutCause(context.Background(), time.Nanosecond, errTimedOut)
			t.Cleanup(cancel)
			<-ctx.Done()
			return ctx
		}, true, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			db := &DB{engine: Postgres, log: slog.New(slog.NewTextHandler(&logs, nil))}
			for _, driverErr := range []error{driver.ErrBadConn, fmt.Errorf("unexpected EOF: %w", io.ErrUnexpectedEOF)} {
				// As a transaction's statement hands it over: mapped already (Conn.settle without
				// a DB), then settled by InTx.
				err := db.settle(tc.ctx(), mapError(driverErr))
				if roster.ErrorCode(err) != roster.EUnavailable || isOutage(err) != tc.outage || !strings.Contains(err.Error(), tc.message) {
					t.Errorf("%v: %v (outage %v), want unavailable, outage %v, %q", driverErr, err, isOutage(err), tc.outage, tc.message)
				}
				// As a statement outside a transaction hands it over: as the driver said it.
				if err := db.settle(tc.ctx(), driverErr); isOutage(err) != tc.outage {
					t.Errorf("%v settled unmapped: %v (outage %v)", driverErr, err, isOutage(err))
				}
			}
			if logged := strings.Count(logs.String(), "database unavailable"); logged != map[bool]int{true: 1, false: 0}[tc.outage] {
				t.Errorf("logged %d outages:\n%s", logged, logs.String())
			}
		})
	}
}
