package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// refusingServer is a PostgreSQL server that answers every connection's start-up with an
// error of the given SQLSTATE, as a server refusing connections does.
func refusingServer(t *testing.T, code string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := pgproto3.NewBackend(c, c)
				if _, err := b.ReceiveStartupMessage(); err != nil {
					return
				}
				b.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: code, Message: "refused by the test server"})
				_ = b.Flush()
			}()
		}
	}()
	return ln.Addr().String()
}

// connectError is the error pgx gives when a connection cannot be opened because the server
// answered its start-up with code.
func connectError(t *testing.T, code string) error {
	t.Helper()
	_, err := pgconn.Connect(context.Background(), "postgres://roster@"+refusingServer(t, code)+"/roster?sslmode=disable")
	var ce *pgconn.ConnectError
	var pg *pgconn.PgError
	if !errors.As(err, &ce) || !errors.As(err, &pg) || pg.Code != code {
		t.Fatalf("connecting to a server refusing with %s: %v", code, err)
	}
	return err
}

// TestMapErrorUnavailable: every failure to reach or use the database's connection is
// unavailable (503 with Retry-After), whether it comes while connecting (wrapped in a
// pgconn.ConnectError) or on an open connection; other errors keep their meaning.
func TestMapErrorUnavailable(t *testing.T) {
	refused := func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		_, err = pgconn.Connect(context.Background(), "postgres://roster@"+addr+"/roster?sslmode=disable")
		return err
	}
	cases := []struct {
		name string
		err  error
		code string // "" for an error that is no roster.Error (an internal error)
	}{
		{"connect 55000 database not accepting connections", connectError(t, "55000"), roster.EUnavailable},
		{"connect 53300 too many connections", connectError(t, "53300"), roster.EUnavailable},
		{"connect 57P03 cannot connect now", connectError(t, "57P03"), roster.EUnavailable},
		{"connect 3D000 no such database", connectError(t, "3D000"), roster.EUnavailable},
		{"connect 28P01 authentication failed", connectError(t, "28P01"), roster.EUnavailable},
		{"connect refused", refused(), roster.EUnavailable},
		{"57P01 terminated by an administrator", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, roster.EUnavailable},
		{"57P03 cannot connect now", &pgconn.PgError{Severity: "FATAL", Code: "57P03"}, roster.EUnavailable},
		{"53300 too many connections", &pgconn.PgError{Severity: "FATAL", Code: "53300"}, roster.EUnavailable},
		{"55000 not accepting connections", &pgconn.PgError{Severity: "FATAL", Code: "55000"}, roster.EUnavailable},
		{"3D000 no such database", &pgconn.PgError{Severity: "FATAL", Code: "3D000"}, roster.EUnavailable},
		{"08006 connection failure", fmt.Errorf("query: %w", &pgconn.PgError{Code: "08006"}), roster.EUnavailable},
		{"57014 statement cancelled", &pgconn.PgError{Code: "57014"}, roster.EUnavailable},
		{"58030 I/O error", &pgconn.PgError{Code: "58030"}, roster.EUnavailable},
		{"connection cut", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), roster.EUnavailable},
		{"23505 unique violation", &pgconn.PgError{Code: "23505"}, roster.EConflict},
		{"42P01 undefined table", &pgconn.PgError{Code: "42P01"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlstore.MapError(tc.err)
			e := roster.AsError(err)
			switch {
			case tc.code == "" && e != nil:
				t.Fatalf("mapped to %s, want an internal error", e.Code)
			case tc.code == "":
			case e == nil || e.Code != tc.code:
				t.Fatalf("mapped to %v, want %s", err, tc.code)
			case tc.code == roster.EUnavailable && e.RetryAfter <= 0:
				t.Fatalf("unavailable without Retry-After: %+v", e)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the driver's error is lost for the logs: %v", err)
			}
		})
	}
}
