package sqlstore

import "context"

// MigrateTo applies the migrations up to a version, for tests of a later migration on a
// database that already holds data.
func (db *DB) MigrateTo(ctx context.Context, version int64) error { return db.migrate(ctx, version) }

// MapError is mapError, for its table test.
var MapError = mapError
