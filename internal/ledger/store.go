// Package ledger stores Creditkit's facts in Postgres: wallets and their
// append-only ledger entries, purchases, spends, webhook deliveries, disputes
// and payouts. It knows nothing of Whop, HTTP or templates: callers hand it
// plain values and get plain values back.
//
// Each exported method owns one transaction (pgx.BeginFunc) and passes it to
// unexported helpers, so a method either happens entirely or not at all.
package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the Postgres-backed store.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// ErrSchemaNotCurrent means the database's migrations lag (or lead) the binary's.
var ErrSchemaNotCurrent = errors.New("ledger: database schema is not at the embedded migration version")

// SchemaStatus reads the applied migration version through the pool, so the
// readiness probe costs one query and no extra connection.
func (s *Store) SchemaStatus(ctx context.Context) (migrations.Status, error) {
	st := migrations.Status{Latest: migrations.Latest()}
	var v int64
	err := s.pool.QueryRow(ctx, migrations.VersionQuery).Scan(&v, &st.Dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("ledger: schema version: %w", err)
	}
	st.Version = uint(v)
	return st, nil
}

// Ready reports whether the database answers and its schema is current.
func (s *Store) Ready(ctx context.Context) error {
	st, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	if !st.Current() {
		return fmt.Errorf("%w: database at %d (dirty=%t), binary wants %d", ErrSchemaNotCurrent, st.Version, st.Dirty, st.Latest)
	}
	return nil
}
