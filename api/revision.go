package api

import (
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster/app"
)

// revisionContext gives the response of a write its Roster-Revision header: the access
// revision its changes reached, which a host may pass as at_least_revision to a check.
type revisionContext struct {
	humaContext
	app *app.App
}

type humaContext = huma.Context // embedded under its own name: huma.Context has a Context method

// RevisionHeader is the response header of writes that carries the access revision.
const RevisionHeader = "Roster-Revision"

func (c revisionContext) SetStatus(code int) {
	if rev := c.app.Access.WrittenRevision(c.Context()); rev > 0 {
		c.SetHeader(RevisionHeader, strconv.FormatInt(rev, 10))
	}
	c.humaContext.SetStatus(code)
}

// documentRevision declares the Roster-Revision header on the successful answers of every
// operation that may write.
func documentRevision(doc *huma.OpenAPI) {
	h := &huma.Param{Description: "The access revision this request's writes reached; pass it as at_least_revision " +
		"to a check to ask for an answer at least that fresh", Schema: &huma.Schema{Type: huma.TypeInteger, Format: "int64"}}
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil || !writes(op) {
				continue
			}
			for status, r := range op.Responses {
				if len(status) == 3 && status[0] == '2' {
					if r.Headers == nil {
						r.Headers = map[string]*huma.Param{}
					}
					r.Headers[RevisionHeader] = h
				}
			}
		}
	}
}
