package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/riverqueue/river"
)

// Payouts and revenue shares leave the same way (ledger.Transfer): the
// intent, its key and its job are recorded in one transaction; then
// sendTransfer calls Whop with that key while no transaction is open, and
// records the outcome in one short transaction. A crash in between leaves
// the row pending, and the job's retry sends the same key again: Whop
// answers with the transfer it already made, and nothing is paid twice.

// recordTimeout bounds step (c). It runs even when the caller's context has
// ended (an admin closing the page, a job timing out, shutdown): Whop may
// have paid, and the row must say so.
const recordTimeout = 10 * time.Second

// sendTransfer makes one attempt at a pending transfer and records it.
func (s *core) sendTransfer(ctx context.Context, t ledger.Transfer) (ledger.Transfer, error) {
	// (b) No transaction is open here: every ledger call above and below
	// owns and ends its own, so a slow or hanging Whop holds no connection
	// and no lock, only this goroutine.
	res, err := s.whop.CreateTransfer(ctx, transferParams(t))
	out := transferOutcome(res, err)
	// (c) One short transaction records what came of it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	after, err := s.store.RecordTransfer(rctx, t.Kind, t.ID, out)
	if err != nil {
		return t, err
	}
	s.log.InfoContext(ctx, "transfer attempt", "kind", string(t.Kind), "id", t.ID, "amount", t.Amount,
		"to", t.DestinationID, "status", string(after.Status), "attempt", after.Attempts, "error", out.Error)
	return after, nil
}

// transferParams is what Whop is asked to do for t.
func transferParams(t ledger.Transfer) whop.TransferParams {
	p := whop.TransferParams{Amount: t.Amount, Currency: money.Currency(t.Currency), OriginID: t.OriginID,
		DestinationID: t.DestinationID, IdempotenceKey: t.Key, Notes: t.Notes}
	switch t.Kind {
	case ledger.TransferOfPayout:
		p.Metadata = map[string]string{"creditkit_payout_id": t.ID}
	case ledger.TransferOfRevenueShare:
		p.Notes = "Creditkit revenue share"
		p.Metadata = map[string]string{"creditkit_payment_id": t.ID, "creditkit_purchase_id": t.PurchaseID}
	}
	return p
}

// transferOutcome classifies a transfer attempt. Whop refusing the request
// (400, 404, 422: a bad recipient, the balance gone, a reused key) is final;
// anything else (timeouts, 409 in flight, 429, 5xx, a missing answer) may
// succeed when retried with the same key.
func transferOutcome(t *whop.Transfer, err error) ledger.TransferOutcome {
	var apiErr *whop.APIError
	switch {
	case err == nil && t != nil && t.ID != "":
		return ledger.TransferOutcome{Status: ledger.TransferPaid, TransferID: t.ID, ChargedFee: t.FeeAmount}
	case err == nil:
		return ledger.TransferOutcome{Status: ledger.TransferPending, Error: "Whop answered without a transfer id"}
	case errors.Is(err, whop.ErrInvalidArgument):
		return ledger.TransferOutcome{Status: ledger.TransferFailed, Error: err.Error()}
	case errors.As(err, &apiErr) && (errors.Is(err, whop.ErrBadRequest) || errors.Is(err, whop.ErrNotFound)):
		reason := apiErr.Message
		if reason == "" {
			reason = apiErr.Error()
		}
		return ledger.TransferOutcome{Status: ledger.TransferFailed, Error: reason}
	}
	return ledger.TransferOutcome{Status: ledger.TransferPending, Error: err.Error()}
}

// transferWorker is the one job skeleton for money out: the payout job (the
// safety net behind a payout request) and the revenue-share job alike.
type transferWorker[A ledger.TransferJob] struct {
	river.WorkerDefaults[A]
	s *core
}

// Work makes one attempt. A transfer still pending afterwards is an error,
// so River retries it with backoff; one Whop refused is recorded as failed
// and its job cancelled; a share refunded in full before it was decided is
// cancelled in the ledger and sends nothing.
func (w *transferWorker[A]) Work(ctx context.Context, job *river.Job[A]) error {
	kind, id := job.Args.TransferRef()
	if id == "" {
		return river.JobCancel(fmt.Errorf("%s job %d: no id in its arguments", kind, job.ID))
	}
	t, err := w.s.store.PrepareTransfer(ctx, kind, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("%s job %d: no %s %s", kind, job.ID, kind, id))
	}
	if err != nil {
		return err
	}
	if t.Status == ledger.TransferCancelled {
		w.s.log.InfoContext(ctx, "revenue share cancelled: refunded in full before it was paid",
			"payment_id", t.ID, "to_company_id", t.DestinationID)
	}
	if t.Status != ledger.TransferPending {
		return nil
	}
	after, err := w.s.sendTransfer(ctx, t)
	if err != nil {
		return err
	}
	switch after.Status {
	case ledger.TransferPending:
		return fmt.Errorf("%s %s not paid yet: %s", kind, id, after.LastError)
	case ledger.TransferFailed:
		return river.JobCancel(fmt.Errorf("whop refused %s %s: %s", kind, id, after.LastError))
	}
	return nil
}

// Timeout bounds one attempt; the Whop client's own timeout and retries
// fit inside it.
func (w *transferWorker[A]) Timeout(*river.Job[A]) time.Duration { return TransferJobTimeout }
