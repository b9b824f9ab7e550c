package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// ImportGrant is a store grant of an import row: a store by ID or name, a store role by ID
// (admin, member, viewer, rol_…) or by a custom role's name.
type ImportGrant struct {
	Store string
	Role  string
}

// ImportRow is one person of a bulk import or bulk invitation.
type ImportRow struct {
	Line    int // where the row comes from (the file's line, or the request's row from 1), for the report
	Email   string
	Name    string         // used when an account is created; the address's local part when empty
	Role    roster.OrgRole // admin or member; member when empty
	Stores  []ImportGrant
	Locale  string // the email's language when the address has no account yet; English when empty
	Message string // shown in the invitation email
	Problem string // set when the row could not even be read: it is reported as failed
	// DuplicateOf is the line of an earlier row of the same file with the same address: the
	// row is skipped, whichever batch the earlier one was in.
	DuplicateOf int
}

// EDuplicateRow is the code of an import row that repeats an earlier row's address.
const EDuplicateRow = "duplicate_row"

// ImportOptions choose how rows are imported.
type ImportOptions struct {
	Create bool // create the accounts of people who have none (with a set-password link) rather than invite them
	DryRun bool // check every row, write nothing
}

// Import outcomes, one per row.
const (
	ImportInvited     = "invited"      // an invitation was sent
	ImportCreated     = "created"      // an account was created in the organization; a link to choose a password was sent
	ImportSkipped     = "skipped"      // already done: a member already, or a pending invitation
	ImportFailed      = "failed"       // refused; Code and Detail say why
	ImportWouldInvite = "would_invite" // dry run
	ImportWouldCreate = "would_create" // dry run
)

// ImportOutcomes lists the outcomes in the order a summary shows them.
var ImportOutcomes = []string{ImportInvited, ImportCreated, ImportWouldInvite, ImportWouldCreate, ImportSkipped, ImportFailed}

// ImportResult is what happened to one row, and why.
type ImportResult struct {
	Line       int
	Email      string
	Outcome    string
	Code       string        // the error code of a failed or skipped row
	Detail     string        // a readable sentence saying why
	Err        *roster.Error // the whole refusal of a failed or skipped row, details included
	Invitation roster.Invitation
	UserID     string
}

// ImportDeadline bounds the transaction of one Members.Import call.
const ImportDeadline = 2 * time.Minute

// Import imports a batch of people into an organization in one transaction: each row
// is invited (Invitations.Create's rules) or, with Create, an address without an account gets
// one directly (Accounts.Create's rules); addresses that have an account are always invited, so
// that nobody joins without agreeing. Every row is answered on its own: a refused row does
// not stop the others. Rows already done (a member already, or a pending invitation) are
// skipped, which makes an import safe to run again. With DryRun everything is checked and
// nothing is written. An error for the whole batch (the database failed, the actor may not
// import) leaves nothing written.
func (a *Members) Import(ctx context.Context, actor roster.Actor, orgID string, rows []ImportRow, opts ImportOptions) ([]ImportResult, error) {
	if len(rows) == 0 {
		return nil, roster.Invalidf("rows", "give at least one person")
	}
	if len(rows) > roster.MaxImportRows {
		return nil, roster.Invalidf("rows", "at most %d rows at once", roster.MaxImportRows)
	}
	rows = markDuplicates(rows)
	// A thousand rows in one transaction take seconds, more than the database deadline that
	// ends a hung call (ImportDeadline bounds them instead).
	ctx = sqlstore.WithTimeout(ctx, ImportDeadline)
	results, err := writeValue(ctx, a.core, actor, func(t *txn) ([]ImportResult, error) {
		out := make([]ImportResult, len(rows))
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return nil, err
		}
		if !s.acc.InvitesSomewhere() {
			return nil, s.require(roster.PermOrgMembersManage)
		}
		names, err := a.importNames(t, s)
		if err != nil {
			return nil, err
		}
		// Rows already done are found for the whole batch at once: a second run costs little.
		var addrs []string
		for _, row := range rows {
			if addr, err := email(row.Email); err == nil {
				addrs = append(addrs, addr)
			}
		}
		done, err := t.AlreadyInOrganization(t.ctx, orgID, addrs, t.now)
		if err != nil {
			return nil, err
		}
		for i, row := range rows {
			if res, ok := importDone(row, done); ok {
				out[i] = res
				continue
			}
			res, err := a.importRow(t, s, names, row, opts)
			if err != nil {
				return nil, err
			}
			out[i] = res
		}
		if opts.DryRun {
			return nil, &dryRun{out}
		}
		return out, nil
	})
	var dry *dryRun
	if errors.As(err, &dry) {
		return dry.results, nil
	}
	return results, err
}

// dryRun rolls back the transaction of a dry run, carrying what the rows would have given.
type dryRun struct{ results []ImportResult }

func (*dryRun) Error() string { return "dry run" }

// markDuplicates returns rows where each row repeating an earlier row's address names that
// row in DuplicateOf (ParseImportCSV marks them already; rows from JSON are marked here).
func markDuplicates(rows []ImportRow) []ImportRow {
	out := slices.Clone(rows)
	seen := map[string]int{}
	for i, row := range out {
		addr, err := roster.NormalizeEmail(row.Email)
		if err != nil || row.DuplicateOf > 0 {
			continue
		}
		if first, ok := seen[addr]; ok {
			out[i].DuplicateOf = first
		} else {
			seen[addr] = row.Line
		}
	}
	return out
}

// importNames resolves the store and role names of an organization, lower-cased.
type importNames struct {
	stores map[string][]string // lower-cased name → IDs
	roles  map[string][]string // lower-cased custom role name → IDs
}

func (a *Members) importNames(t *txn, s scope) (importNames, error) {
	n := importNames{stores: map[string][]string{}, roles: map[string][]string{}}
	stores, err := t.ListStores(t.ctx, s.org.ID, "")
	if err != nil {
		return n, err
	}
	for _, st := range stores {
		k := strings.ToLower(st.Name)
		n.stores[k] = append(n.stores[k], st.ID)
	}
	roles, err := t.Roles(t.ctx, s.org.ID)
	if err != nil {
		return n, err
	}
	for _, r := range roles {
		k := strings.ToLower(r.Name)
		n.roles[k] = append(n.roles[k], r.ID)
	}
	return n, nil
}

// grants turns an import row's store grants into store and role IDs.
func (n importNames) grants(in []ImportGrant) ([]StoreGrantInput, error) {
	out := make([]StoreGrantInput, 0, len(in))
	for _, g := range in {
		store := g.Store
		if !roster.ValidID(roster.PrefixStore, store) {
			ids := n.stores[strings.ToLower(store)]
			switch len(ids) {
			case 0:
				return nil, (&roster.Error{Code: roster.ENotFound, Field: "stores", Message: "no store named " + g.Store}).With("store", g.Store)
			case 1:
				store = ids[0]
			default:
				return nil, (&roster.Error{Code: roster.EInvalid, Field: "stores", Message: "several stores are named " + g.Store + "; use the store's ID"}).With("store", g.Store)
			}
		}
		role := g.Role
		if !roster.IsBuiltinStoreRole(strings.ToLower(role)) && !roster.ValidID(roster.PrefixRole, role) {
			ids := n.roles[strings.ToLower(role)]
			switch len(ids) {
			case 0:
				return nil, (&roster.Error{Code: roster.EUnknownRole, Field: "stores", Message: "no store role named " + g.Role}).With("role", g.Role)
			case 1:
				role = ids[0]
			default:
				return nil, (&roster.Error{Code: roster.EInvalid, Field: "stores", Message: "several roles are named " + g.Role + "; use the role's ID"}).With("role", g.Role)
			}
		} else if roster.IsBuiltinStoreRole(strings.ToLower(role)) {
			role = strings.ToLower(role)
		}
		out = append(out, StoreGrantInput{StoreID: store, RoleID: role})
	}
	return out, nil
}

// importDone answers a row whose address is already a member or invited, from the batch's
// prefetch; importRow would find the same through Invitations.Create's checks, one by one.
func importDone(row ImportRow, done map[string]string) (ImportResult, bool) {
	if row.Problem != "" || row.DuplicateOf > 0 {
		return ImportResult{}, false
	}
	addr, err := email(row.Email)
	if err != nil {
		return ImportResult{}, false
	}
	var e *roster.Error
	switch done[addr] {
	case "member":
		e = roster.Errorf(roster.EAlreadyMember, "this person is already a member of the organization")
	case "invitation":
		e = roster.Errorf(roster.EInvitationPending, "this address already has a pending invitation; resend it instead")
	default:
		return ImportResult{}, false
	}
	return ImportResult{Line: row.Line, Email: addr, Outcome: ImportSkipped, Code: e.Code, Detail: e.Message, Err: e}, true
}

// importRow imports one row inside the batch's transaction. Refusals become the row's
// result and leave nothing behind: an invitation is refused before anything is written, and
// an account is created in a savepoint that a refusal rolls back. An error returned ends the
// whole batch, with nothing written: the database failed, or a statement failed outside a
// savepoint (which spoils a PostgreSQL transaction).
func (a *Members) importRow(t *txn, s scope, names importNames, row ImportRow, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{Line: row.Line, Email: row.Email}
	undone := false // whether the row's writes were rolled back to its savepoint
	fail := func(err error) (ImportResult, error) {
		var d *denial
		if errors.As(err, &d) {
			err = d.err
		}
		e := roster.AsError(err)
		if e == nil || e.Code == roster.EUnavailable || e.Code == roster.EInternal || (e.Details["constraint"] != nil && !undone) {
			return res, err
		}
		res.Outcome, res.Code, res.Detail, res.Err = ImportFailed, e.Code, e.Message, e
		if e.Code == roster.EAlreadyMember || e.Code == roster.EInvitationPending {
			res.Outcome = ImportSkipped
		}
		return res, nil
	}
	if row.Problem != "" {
		return fail(roster.Invalidf("row", "%s", row.Problem))
	}
	if row.DuplicateOf > 0 {
		e := (&roster.Error{Code: EDuplicateRow, Message: fmt.Sprintf("the same address as line %d", row.DuplicateOf)}).With("line", row.DuplicateOf)
		res.Outcome, res.Code, res.Detail, res.Err = ImportSkipped, e.Code, e.Message, e
		return res, nil
	}
	grants, err := names.grants(row.Stores)
	if err != nil {
		return fail(err)
	}
	addr, err := email(row.Email)
	if err != nil {
		return fail(err)
	}
	res.Email = addr
	if opts.Create {
		_, _, err := t.UserByEmail(t.ctx, addr)
		switch roster.ErrorCode(err) {
		case roster.ENotFound:
			name := row.Name
			if name == "" {
				name = addr[:strings.LastIndexByte(addr, '@')]
			}
			if err := t.Savepoint(t.ctx, "import_row"); err != nil {
				return res, err
			}
			u, err := a.createUser(t, s, NewUserInput{Email: addr, Name: name, Locale: row.Locale, Role: row.Role, Stores: grants})
			if err != nil {
				if rerr := t.RollbackTo(t.ctx, "import_row"); rerr != nil {
					return res, rerr
				}
				undone = true
				return fail(err)
			}
			if err := t.Release(t.ctx, "import_row"); err != nil {
				return res, err
			}
			res.Outcome, res.UserID = ImportCreated, u.ID
			if opts.DryRun {
				res.Outcome = ImportWouldCreate
			}
			return res, nil
		case "":
		default:
			return res, err
		}
	}
	inv, err := a.invite(t, s, InvitationInput{Email: addr, Role: row.Role, Stores: grants, Locale: row.Locale, Message: row.Message})
	if err != nil {
		return fail(err)
	}
	res.Outcome, res.Invitation = ImportInvited, inv
	if opts.DryRun {
		res.Outcome = ImportWouldInvite
	}
	return res, nil
}

// CommandLineActor returns the actor Roster's command line acts as when it does what a person
// would (a bulk import): an active user, found by ID or address, audited as themselves.
func (a *Members) CommandLineActor(ctx context.Context, idOrEmail string) (roster.Actor, error) {
	c := a.read()
	var u roster.User
	var err error
	if roster.ValidID(roster.PrefixUser, idOrEmail) {
		u, err = c.User(ctx, idOrEmail)
	} else {
		addr, aerr := email(idOrEmail)
		if aerr != nil {
			return roster.Actor{}, aerr
		}
		u, _, err = c.UserByEmail(ctx, addr)
	}
	if err != nil {
		return roster.Actor{}, err
	}
	if u.Status != roster.UserActive {
		return roster.Actor{}, roster.Errorf(roster.EUserDeactivated, "this account is deactivated")
	}
	return roster.Actor{Kind: roster.ActorUser, UserID: u.ID, Operator: u.Operator, UserAgent: "roster command line"}, nil
}
