package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

const importUsage = `import members --org ORG_ID --as EMAIL [--create] [--dry-run] [--report FILE] FILE.csv

Invites the people listed in a CSV file into an organization, or with --create creates the
accounts of those who have none (they get a link to choose their password). The file is the
one format of bulk invitations (the REST API takes it too): a header row naming the columns,
in any order, among

  email (required), name, role (admin or member; member when empty), stores, locale, message

stores holds "store:role" pairs separated by ";", where store is a store ID or name and role
is admin, member, viewer, or a custom role ID or name:  "Madrid:admin; Paris:Chatter".

The import acts as --as (an owner or admin of the organization; the audit log names them) and
follows every rule of the console and the API. Each row is reported on its own (to --report,
or standard output) with what happened and why. Rows already done, because the person is a
member or has a pending invitation, are skipped, and so are rows repeating an earlier row's
address: running an import again is safe and resumes where it stopped. --dry-run checks every row and writes nothing.`

// importMembers is "roster import members".
func (m *Main) importMembers(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "members" {
		fmt.Fprintln(m.Stderr, "Usage: roster "+firstLine(importUsage))
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stderr, "\n"+importUsage[strings.Index(importUsage, "\n")+2:])
			return nil
		}
		return errors.New("unknown import command; use: roster import members …")
	}
	fs := m.flags("import members", importUsage)
	orgID := fs.String("org", "", "organization ID (required)")
	as := fs.String("as", "", "email address (or user ID) of the owner or admin the import acts as (required)")
	create := fs.Bool("create", false, "create the accounts of people who have none instead of inviting them")
	dryRun := fs.Bool("dry-run", false, "check every row and report what would happen, writing nothing")
	reportPath := fs.String("report", "", "write the per-row report (CSV) to this file instead of standard output")
	load := bindConfig(fs, m.Getenv, "database-url", "log-format", "log-level")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *orgID == "" || *as == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("--org, --as and one CSV file are required")
	}
	rows, err := readImportFile(fs.Arg(0))
	if err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	a, _, closeDB, err := m.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	actor, err := a.Members.CommandLineActor(ctx, *as)
	if err != nil {
		return fmt.Errorf("--as %s: %w", *as, err)
	}

	out := m.Stdout
	if *reportPath != "" {
		f, err := os.Create(*reportPath)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	report := csv.NewWriter(out)
	_ = report.Write([]string{"line", "email", "result", "code", "detail"})

	prog := m.progress(len(rows), *dryRun)
	counts := map[string]int{}
	opts := app.ImportOptions{Create: *create, DryRun: *dryRun}
	for start := 0; start < len(rows); start += roster.MaxImportRows {
		batch := rows[start:min(start+roster.MaxImportRows, len(rows))]
		results, err := a.Members.Import(ctx, actor, *orgID, batch, opts)
		if err != nil {
			report.Flush()
			prog.done()
			return fmt.Errorf("rows from line %d on were not imported: %w", batch[0].Line, err)
		}
		for _, r := range results {
			counts[r.Outcome]++
			_ = report.Write([]string{fmt.Sprint(r.Line), r.Email, r.Outcome, r.Code, r.Detail})
		}
		report.Flush()
		if err := report.Error(); err != nil {
			return err
		}
		prog.add(len(batch))
	}
	prog.done()
	var parts []string
	for _, o := range app.ImportOutcomes {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing to do"}
	}
	fmt.Fprintf(m.Stderr, "%d rows: %s.\n", len(rows), strings.Join(parts, ", "))
	if n := counts[app.ImportFailed]; n > 0 {
		return fmt.Errorf("%d of %d rows failed; the report says why", n, len(rows))
	}
	return nil
}

// maxImportFile bounds the size of an import file.
const maxImportFile = 64 << 20

// readImportFile reads the rows of an import CSV. Rows that cannot be read as an import row
// are kept with their problem, to be reported like the others.
func readImportFile(path string) ([]app.ImportRow, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names this file on the command line
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxImportFile {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxImportFile>>20)
	}
	return app.ParseImportCSV(f)
}

// importProgress shows how far an import is: a bar on a terminal, a line per batch elsewhere.
type importProgress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	count int
}

func (m *Main) progress(total int, dryRun bool) *importProgress {
	p := &importProgress{w: m.Stderr, total: total}
	verb := "importing"
	if dryRun {
		verb = "checking"
	}
	if f, ok := m.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(verb),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(f) }))
	}
	return p
}

func (p *importProgress) add(n int) {
	p.count += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	fmt.Fprintf(p.w, "%d/%d rows (%d%%)\n", p.count, p.total, p.count*100/p.total)
}

func (p *importProgress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
