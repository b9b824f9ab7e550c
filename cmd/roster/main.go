// Command roster runs Roster: the server (serve), its migrations, and the operator's tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // --help printed the usage: a success, as with the flag package's own
		}
		fmt.Fprintln(os.Stderr, "roster:", err)
		os.Exit(2)
	}
}

// Main is the program, with its outside world made explicit so that tests can run it.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	// Listener, when set, is used by serve instead of listening on the configured address.
	Listener net.Listener
	// Started, when set, receives the base URL once serve answers requests.
	Started chan<- string
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "start Roster: REST API, web console and background workers", (*Main).serve},
		{"migrate", "apply database migrations and exit", (*Main).migrate},
		{"admin", "operator tools: create-operator, set-credits, deactivate-user, reactivate-user, reset-factors, token", (*Main).admin},
		{"clients", "Sign in with Roster: clients create --name N --redirect-uri URI, clients list", (*Main).clients},
		{"keys", "keys rotate (a new signing key at once), keys reseal (secrets onto a new encryption key)", (*Main).keys},
		{"backup", "write a consistent copy of the SQLite database", (*Main).backup},
		{"import", "bulk import of members from CSV: import members --org ORG --as EMAIL FILE.csv", (*Main).importMembers},
		{"version", "print the version", func(m *Main, _ context.Context, _ []string) error {
			fmt.Fprintln(m.Stdout, "roster", Version)
			return nil
		}},
	}
}

// Run runs the command line args.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage()
		if len(args) == 0 {
			return errors.New("a command is needed")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(m, ctx, args[1:])
		}
	}
	m.usage()
	return fmt.Errorf("unknown command %q", args[0])
}

func (m *Main) usage() {
	fmt.Fprintln(m.Stderr, "Usage: roster <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(m.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(m.Stderr, "\nRun roster <command> --help for the flags of a command.")
}

// flags returns a flag set for a subcommand, printing its usage on --help.
func (m *Main) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("roster "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: roster %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}
