package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

func newPayout(id, key string) ledger.NewPayout {
	return ledger.NewPayout{
		ID: id, CompanyID: "biz_1", RequestedBy: "user_admin", RecipientInput: "@alice", RecipientID: "user_alice",
		Username: "alice", LedgerAccountID: "ldgr_1", Amount: 1250, Fee: 25, Currency: "usd", Notes: "thanks",
		IdempotencyKey: key, RetryAt: time.Now().Add(time.Minute),
	}
}

// job returns the one River job of a kind whose arguments contain args.
func (b *bundle) job(t *testing.T, kind, args string) (state, gotArgs string, due time.Time) {
	t.Helper()
	if err := b.db.Pool.QueryRow(b.ctx, `SELECT state::text, args::text, scheduled_at FROM river_job
		WHERE kind = $1 AND args @> $2::jsonb`, kind, args).Scan(&state, &gotArgs, &due); err != nil {
		t.Fatalf("%s job %s: %v", kind, args, err)
	}
	return state, gotArgs, due
}

func TestCreatePayoutRecordsEveryFieldWithItsJobAndReplaysByKey(t *testing.T) {
	b := setup(t)
	n := newPayout("po_1", "key-1")
	p, created, err := b.store.CreatePayout(b.ctx, n)
	if err != nil || !created {
		t.Fatalf("create: created=%t err=%v", created, err)
	}
	want := ledger.Payout{
		ID: "po_1", CompanyID: "biz_1", RequestedBy: "user_admin", RecipientInput: "@alice", RecipientID: "user_alice",
		RecipientUsername: "alice", LedgerAccountID: "ldgr_1", Amount: 1250, Currency: "usd", Fee: 25, Notes: "thanks",
		IdempotencyKey: "key-1", TransferKey: "creditkit:payout:po_1", Status: ledger.TransferPending,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p != want || p.CreatedAt.IsZero() {
		t.Fatalf("payout = %+v\nwant %+v", p, want)
	}
	state, args, due := b.job(t, ledger.JobPayout, `{"payout_id": "po_1"}`)
	if state != "scheduled" || args != `{"payout_id": "po_1"}` || due.Sub(n.RetryAt).Abs() > time.Millisecond {
		t.Fatalf("job = %s %s %v, want a payout job scheduled for %v", state, args, due, n.RetryAt)
	}

	// The same key, even for another amount, writes nothing and returns the first.
	again := newPayout("po_2", "key-1")
	again.Amount = 99
	p2, created, err := b.store.CreatePayout(b.ctx, again)
	if err != nil || created || p2 != p {
		t.Fatalf("same key: created=%t err=%v payout=%+v", created, err, p2)
	}
	if _, err := b.store.Payout(b.ctx, "po_2"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("replayed key wrote po_2: %v", err)
	}
	var jobs int
	b.db.Pool.QueryRow(b.ctx, `SELECT count(*) FROM river_job`).Scan(&jobs)
	if jobs != 1 {
		t.Fatalf("jobs = %d, want 1", jobs)
	}
	// Another company may use the same key.
	other := newPayout("po_3", "key-1")
	other.CompanyID = "biz_2"
	if _, created, err := b.store.CreatePayout(b.ctx, other); err != nil || !created {
		t.Fatalf("other company, same key: created=%t err=%v", created, err)
	}
	list, err := b.store.Payouts(b.ctx, "biz_1", 10)
	if err != nil || len(list) != 1 || list[0] != p {
		t.Fatalf("payouts of biz_1 = %+v, %v", list, err)
	}
}

func TestPayoutAttemptsFinishOnceAndHistoryIsFinal(t *testing.T) {
	b := setup(t)
	b.store.CreatePayout(b.ctx, newPayout("po_1", "key-1"))

	p, err := b.store.RecordPayoutAttempt(b.ctx, "po_1", ledger.TransferOutcome{Status: ledger.TransferPending, Error: "whop: 503"})
	if err != nil || p.Status != ledger.TransferPending || p.Attempts != 1 || p.LastError != "whop: 503" ||
		p.TransferID != "" || p.ChargedFee != 0 || !p.FinishedAt.IsZero() {
		t.Fatalf("after a failed attempt: %+v, %v", p, err)
	}
	p, err = b.store.RecordPayoutAttempt(b.ctx, "po_1", ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: "ctt_1", ChargedFee: 25})
	if err != nil || p.Status != ledger.TransferPaid || p.Attempts != 2 || p.LastError != "" || p.TransferID != "ctt_1" ||
		p.ChargedFee != 25 || p.FinishedAt.IsZero() {
		t.Fatalf("after the paying attempt: %+v, %v", p, err)
	}
	// A late attempt (the queue's, racing the request's) changes nothing.
	late, err := b.store.RecordPayoutAttempt(b.ctx, "po_1", ledger.TransferOutcome{Status: ledger.TransferFailed, Error: "late"})
	if err != nil || late != p {
		t.Fatalf("late attempt: %+v, %v", late, err)
	}
	for _, sql := range []string{
		`UPDATE payouts SET amount = 1 WHERE id = 'po_1'`,
		`UPDATE payouts SET status = 'failed', transfer_id = NULL, charged_fee = NULL WHERE id = 'po_1'`,
		`DELETE FROM payouts WHERE id = 'po_1'`,
		`TRUNCATE payouts`,
	} {
		if _, err := b.db.Pool.Exec(b.ctx, sql); err == nil || !strings.Contains(err.Error(), "money history") && !strings.Contains(err.Error(), "final") {
			t.Errorf("%s: err = %v, want refused", sql, err)
		}
	}
	// A pending payout may record attempts but never change its amounts.
	b.store.CreatePayout(b.ctx, newPayout("po_2", "key-2"))
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE payouts SET fee = 0 WHERE id = 'po_2'`); err == nil || !strings.Contains(err.Error(), "only status") {
		t.Errorf("changing a pending payout's fee: err = %v", err)
	}
	if _, err := b.db.Pool.Exec(b.ctx, `UPDATE payouts SET transfer_key = 'other' WHERE id = 'po_2'`); err == nil {
		t.Error("a transfer key not derived from the id was accepted")
	}
	failed, err := b.store.RecordPayoutAttempt(b.ctx, "po_2", ledger.TransferOutcome{Status: ledger.TransferFailed, Error: "insufficient balance"})
	if err != nil || failed.Status != ledger.TransferFailed || failed.LastError != "insufficient balance" || failed.FinishedAt.IsZero() {
		t.Fatalf("failed payout: %+v, %v", failed, err)
	}
}
