package sqlstore

import "context"

// Savepoints let one transaction try a step and undo only that step when it is refused: a
// bulk import answers each row on its own, in one transaction. On PostgreSQL, rolling back
// to a savepoint also makes the transaction usable again after a failed statement.

// Savepoint marks a point the transaction can roll back to. name must be a plain identifier.
func (tx *Tx) Savepoint(ctx context.Context, name string) error {
	_, err := tx.exec(ctx, "SAVEPOINT "+name)
	return err
}

// RollbackTo undoes what the transaction did since the savepoint, which stays set.
func (tx *Tx) RollbackTo(ctx context.Context, name string) error {
	_, err := tx.exec(ctx, "ROLLBACK TO SAVEPOINT "+name)
	return err
}

// Release forgets a savepoint, keeping what was done since.
func (tx *Tx) Release(ctx context.Context, name string) error {
	_, err := tx.exec(ctx, "RELEASE SAVEPOINT "+name)
	return err
}
