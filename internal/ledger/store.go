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
	"fmt"
	"time"

	"github.com/creditkit/creditkit/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the Postgres-backed store.
type Store struct {
	pool *pgxpool.Pool
	jobs JobInserter // nil: facts that need a job cannot be recorded
	// spends admits one spend per wallet at a time (Spend).
	spends *walletQueue
	// now is the app's clock, for when a payment state was recorded
	// (MarkPurchase): time.Now but in tests.
	now func() time.Time
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool, opts ...StoreOption) *Store {
	s := &Store{pool: pool, spends: newWalletQueue(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ErrSchemaNotCurrent means the database's migrations lag (or lead) the
// binary's: migrations.ErrNotCurrent, which readiness checks name.
var ErrSchemaNotCurrent = migrations.ErrNotCurrent

// SchemaStatus reads the applied migration versions, the app's and River's,
// through the pool, in one round trip and with no extra connection.
func (s *Store) SchemaStatus(ctx context.Context) (migrations.Status, error) {
	st, err := migrations.ReadStatus(ctx, s.pool)
	if err != nil {
		return st, fmt.Errorf("ledger: %w", err)
	}
	return st, nil
}

// Ready reports whether the database answers and both schemas are current,
// with the versions it read.
func (s *Store) Ready(ctx context.Context) (migrations.Status, error) {
	st, err := s.SchemaStatus(ctx)
	if err != nil {
		return st, err
	}
	if !st.Current() {
		return st, fmt.Errorf("%w: database at %d (dirty=%t) and River at %d, binary wants %d and %d",
			ErrSchemaNotCurrent, st.Version, st.Dirty, st.River, st.Latest, st.RiverLatest)
	}
	return st, nil
}

// queryAll runs a query on q and collects every row with scan: the one
// shape of a list read, with what naming it in either error.
func queryAll[T any](ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, what string, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", what, err)
	}
	return out, nil
}
