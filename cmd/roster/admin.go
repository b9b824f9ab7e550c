package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// adminCommands are the operator's tools, run against the database directly.
var adminCommands = []struct {
	name, usage string
	run         func(m *Main, ctx context.Context, open opener, args []string) error
}{
	{"create-operator", "admin create-operator --email EMAIL [--name NAME]\n\nMakes a user operator. A new address gets an account and a one-time link, printed here, to choose its password.",
		func(m *Main, ctx context.Context, open opener, args []string) error {
			fs := m.flags("admin create-operator", "admin create-operator --email EMAIL [--name NAME]")
			addr := fs.String("email", "", "the operator's email address (required)")
			name := fs.String("name", "", "their name, for a new account")
			if err := fs.Parse(args); err != nil {
				return err
			}
			if *addr == "" {
				fs.Usage()
				return errors.New("--email is required")
			}
			a, err := open()
			if err != nil {
				return err
			}
			u, link, err := a.Operator.CreateOperator(ctx, roster.System(), *addr, *name)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s (%s) is an operator.\n", u.Email, u.ID)
			if link != "" {
				fmt.Fprintf(m.Stdout, "Open this one-time link within 24 hours to choose the password:\n%s\n", link)
			}
			return nil
		}},
	{"set-credits", "admin set-credits --org ORG_ID --credits N\n\nSets how many active stores an organization may have.",
		func(m *Main, ctx context.Context, open opener, args []string) error {
			fs := m.flags("admin set-credits", "admin set-credits --org ORG_ID --credits N")
			org := fs.String("org", "", "organization ID (required)")
			credits := fs.Int("credits", -1, "store credits (required)")
			if err := fs.Parse(args); err != nil {
				return err
			}
			if *org == "" || *credits < 0 {
				fs.Usage()
				return errors.New("--org and --credits are required")
			}
			a, err := open()
			if err != nil {
				return err
			}
			o, err := a.Operator.SetStoreCredits(ctx, roster.System(), *org, *credits)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%s (%s) now has %d store credits.\n", o.Name, o.ID, o.StoreCredits)
			return nil
		}},
	{"deactivate-user", "admin deactivate-user --user USER_ID_OR_EMAIL\n\nStops a user from signing in; their sessions end at once.",
		func(m *Main, ctx context.Context, open opener, args []string) error {
			return m.setUserStatus(ctx, open, args, "deactivate-user", (*app.Operator).DeactivateUser, "deactivated")
		}},
	{"reactivate-user", "admin reactivate-user --user USER_ID_OR_EMAIL\n\nLets a deactivated user sign in again.",
		func(m *Main, ctx context.Context, open opener, args []string) error {
			return m.setUserStatus(ctx, open, args, "reactivate-user", (*app.Operator).ReactivateUser, "active again")
		}},
	{"reset-factors", "admin reset-factors --user USER_ID_OR_EMAIL\n\nRemoves a user's authenticator app, recovery codes and passkeys, for someone who lost them: they sign in\nwith their password and set up a second factor again. They are emailed.",
		func(m *Main, ctx context.Context, open opener, args []string) error {
			return m.setUserStatus(ctx, open, args, "reset-factors", (*app.Operator).ResetFactors, "without second factors now")
		}},
	{"token", "admin token create --name NAME\n\nCreates a service token for the host application's calls to the check API. It is shown once.",
		func(m *Main, ctx context.Context, open opener, args []string) error {
			if len(args) == 0 || args[0] != "create" {
				fmt.Fprintln(m.Stderr, "Usage: roster admin token create --name NAME")
				if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
					return nil
				}
				return errors.New("unknown token command; use: roster admin token create --name NAME")
			}
			fs := m.flags("admin token create", "admin token create --name NAME")
			name := fs.String("name", "", "what the token is for, such as the host application's name (required)")
			if err := fs.Parse(args[1:]); err != nil {
				return err
			}
			if *name == "" {
				fs.Usage()
				return errors.New("--name is required")
			}
			a, err := open()
			if err != nil {
				return err
			}
			t, err := a.Operator.CreateServiceToken(ctx, roster.System(), *name)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Service token %s created. Copy it now: it is not shown again.\n%s\n", t.ID, t.Secret)
			return nil
		}},
}

// opener opens the database and the app on first call. Commands check their flags first, so
// a mistyped command creates no database file.
type opener func() (*app.App, error)

func (m *Main) setUserStatus(ctx context.Context, open opener, args []string, name string, do func(*app.Operator, context.Context, roster.Actor, string) (roster.User, error), what string) error {
	fs := m.flags("admin "+name, "admin "+name+" --user USER_ID_OR_EMAIL")
	user := fs.String("user", "", "user ID or email address (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" {
		fs.Usage()
		return errors.New("--user is required")
	}
	a, err := open()
	if err != nil {
		return err
	}
	u, err := do(a.Operator, ctx, roster.System(), *user)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s (%s) is %s.\n", u.Email, u.ID, what)
	return nil
}

func (m *Main) admin(ctx context.Context, args []string) error {
	usage := func() {
		fmt.Fprintln(m.Stderr, "Usage: roster admin <command> [flags]\n\nCommands:")
		for _, c := range adminCommands {
			fmt.Fprintf(m.Stderr, "  roster %s\n", firstLine(c.usage))
		}
		fmt.Fprintln(m.Stderr, "\nThe database comes from ROSTER_DATABASE_URL (default sqlite:roster.db).")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return errors.New("an admin command is needed")
		}
		return nil
	}
	for _, c := range adminCommands {
		if c.name != args[0] {
			continue
		}
		for _, a := range args[1:] {
			if a == "-h" || a == "--help" {
				fmt.Fprintf(m.Stderr, "Usage: roster %s\n", c.usage)
				return nil
			}
		}
		cfg, err := bindConfig(m.flags("admin", ""), m.Getenv)()
		if err != nil {
			return err
		}
		var a *app.App
		closeDB := func() {}
		defer func() { closeDB() }()
		return c.run(m, ctx, func() (*app.App, error) {
			if a == nil {
				var closer func()
				if a, _, closer, err = m.openApp(ctx, cfg); err != nil {
					return nil, err
				}
				closeDB = closer
			}
			return a, nil
		}, args[1:])
	}
	usage()
	return fmt.Errorf("unknown admin command %q", args[0])
}

func (m *Main) backup(ctx context.Context, args []string) error {
	fs := m.flags("backup", "backup --to PATH [--database-url sqlite:PATH]\n\nWrites a consistent copy of the SQLite database, safe while Roster runs. For PostgreSQL use pg_dump.")
	to := fs.String("to", "", "where to write the copy (required; must not exist)")
	load := bindConfig(fs, m.Getenv, "database-url")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		fs.Usage()
		return errors.New("--to is required")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	db, err := cfg.openDB(ctx, cfg.logger(m.Stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Backup written to %s.\n", *to)
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
