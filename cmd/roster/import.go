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
accounts of those who have none (they get a link to choose their password). Columns:

  email, name, organization role (admin or member; member when empty), store grants

Store grants are "store:role" pairs separated by ";", where store is a store ID or name and
role is admin, member, viewer, or a custom role ID or name:  "Madrid:admin; Paris:Chatter".
A first line starting with "email" is a header and is skipped.

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
	actor, err := a.CommandLineActor(ctx, *as)
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
	for start := 0; start < len(rows); start += app.MaxImportBatch {
		batch := rows[start:min(start+app.MaxImportBatch, len(rows))]
		results, err := a.ImportMembers(ctx, actor, *orgID, batch, opts)
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
	return parseImport(f)
}

// parseImport reads import rows from CSV: email, name, organization role, store grants.
func parseImport(r io.Reader) ([]app.ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var rows []app.ImportRow
	seen := map[string]int{} // normalized address → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("line %d: %v", perr.Line, perr.Err)
		}
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "email") {
			continue // header
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		row := app.ImportRow{Line: line, Email: strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))}
		if len(rec) > 4 {
			row.Problem = fmt.Sprintf("%d columns; expected email, name, organization role, store grants", len(rec))
		}
		if len(rec) > 1 {
			row.Name = strings.TrimSpace(rec[1])
		}
		if len(rec) > 2 {
			row.Role = roster.OrgRole(strings.ToLower(strings.TrimSpace(rec[2])))
		}
		if len(rec) > 3 {
			for _, pair := range strings.Split(rec[3], ";") {
				pair = strings.TrimSpace(pair)
				if pair == "" {
					continue
				}
				i := strings.LastIndexByte(pair, ':')
				if i <= 0 || i == len(pair)-1 {
					row.Problem = fmt.Sprintf("store grant %q is not store:role", pair)
					break
				}
				row.Stores = append(row.Stores, app.ImportGrant{Store: strings.TrimSpace(pair[:i]), Role: strings.TrimSpace(pair[i+1:])})
			}
		}
		if addr, err := roster.NormalizeEmail(row.Email); err == nil {
			if first, ok := seen[addr]; ok {
				row.DuplicateOf = first
			} else {
				seen[addr] = line
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errors.New("the file has no rows")
	}
	return rows, nil
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
