package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/queue"
	"github.com/creditkit/creditkit/internal/whop"
)

// shareTerms is the revenue share a fulfilled purchase earns the creator of
// the experience it was bought in: the configured basis points of what the
// buyer paid, rounded down to the minor unit (the owner never pays more than
// the percentage; a refund later claws back by the same rule, so a full
// refund takes back exactly the share). There is none for a sale in the
// owner's own experience, and none when it rounds to zero.
func (s *Service) shareTerms(pur ledger.Purchase, p *whop.Payment) *ledger.ShareTerms {
	bp := s.cfg.RevenueShareBasisPoints
	if bp <= 0 || pur.CompanyID == "" || pur.CompanyID == s.cfg.CompanyID {
		return nil
	}
	amount := shareOf(p.Total, bp)
	if amount <= 0 {
		return nil
	}
	return &ledger.ShareTerms{FromCompanyID: s.cfg.CompanyID, ToCompanyID: pur.CompanyID, BasisPoints: bp,
		BaseAmount: p.Total, Amount: amount, Currency: string(p.Currency)}
}

// shareOf is floor(amount × bp / 10,000) without overflow: the 128-bit
// product's high word stays below 10,000 for bp ≤ 10,000.
func shareOf(amount, bp int64) int64 {
	if amount <= 0 || bp <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(amount), uint64(bp))
	q, _ := bits.Div64(hi, lo, 10000)
	return int64(q)
}

// payRevenueShare is the revenue_share job: one transfer attempt for a
// payment's share, from the owner's company to the creator's, with the key
// derived from the payment id. The creator is paid the net share: the
// ledger fixes it (the share less the refunds recorded so far) before the
// first attempt, and every attempt sends exactly that; a share refunded in
// full first is cancelled and sends nothing. An error makes the queue try
// again later with backoff; a share Whop refuses is recorded as failed and
// discarded.
func (s *Service) payRevenueShare(ctx context.Context, j queue.Job) error {
	var args struct {
		PaymentID string `json:"payment_id"`
	}
	if err := json.Unmarshal(j.Args, &args); err != nil || args.PaymentID == "" {
		return queue.Permanent(fmt.Errorf("revenue share job %s: bad args %s", j.Key, j.Args))
	}
	sh, err := s.store.DecideShareTransfer(ctx, args.PaymentID)
	if errors.Is(err, ledger.ErrNotFound) {
		return queue.Permanent(fmt.Errorf("revenue share job %s: no share for the payment", j.Key))
	}
	if err != nil {
		return err
	}
	if sh.Status == ledger.TransferCancelled {
		s.log.InfoContext(ctx, "revenue share cancelled: refunded in full before it was paid",
			"payment_id", sh.PaymentID, "to_company_id", sh.ToCompanyID, "amount", sh.Amount)
	}
	if sh.Status != ledger.TransferPending {
		return nil
	}
	after, err := s.store.TransferShare(ctx, sh.PaymentID, func(ctx context.Context, sh ledger.RevenueShare) ledger.TransferOutcome {
		t, err := s.whop.CreateTransfer(ctx, whop.TransferParams{
			Amount: sh.TransferAmount, Currency: money.Currency(sh.Currency), OriginID: sh.FromCompanyID,
			DestinationID: sh.ToCompanyID, IdempotenceKey: sh.TransferKey, Notes: "Creditkit revenue share",
			Metadata: map[string]string{"creditkit_payment_id": sh.PaymentID, "creditkit_purchase_id": sh.PurchaseID},
		})
		return transferOutcome(t, err)
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "revenue share attempt", "payment_id", after.PaymentID, "to_company_id", after.ToCompanyID,
		"amount", after.TransferAmount, "status", string(after.Status), "attempt", after.Attempts, "error", after.LastError)
	return transferJobResult("revenue share", after.PaymentID, after.Status, after.LastError)
}

// retryPayout is the payout job: it finishes a payout the request that
// recorded it could not (Whop failing, the process dying), with the same
// key, until Whop pays or refuses. A refusal is recorded on the payout
// before the job is discarded, as for a revenue share.
func (s *Service) retryPayout(ctx context.Context, j queue.Job) error {
	var args struct {
		PayoutID string `json:"payout_id"`
	}
	if err := json.Unmarshal(j.Args, &args); err != nil || args.PayoutID == "" {
		return queue.Permanent(fmt.Errorf("payout job %s: bad args %s", j.Key, j.Args))
	}
	po, err := s.store.Payout(ctx, args.PayoutID)
	if errors.Is(err, ledger.ErrNotFound) {
		return queue.Permanent(fmt.Errorf("payout job %s: no such payout", j.Key))
	}
	if err != nil || po.Status != ledger.TransferPending {
		return err
	}
	po, err = s.attemptPayout(ctx, po)
	if err != nil {
		return err
	}
	return transferJobResult("payout", po.ID, po.Status, po.LastError)
}

// transferJobResult is what a transfer job returns after an attempt: still
// pending is retried with backoff, refused is discarded (the refusal is
// already recorded on the row), paid is done.
func transferJobResult(what, id string, status ledger.TransferStatus, lastError string) error {
	switch status {
	case ledger.TransferPending:
		return fmt.Errorf("%s %s not paid yet: %s", what, id, lastError)
	case ledger.TransferFailed:
		return queue.Permanent(fmt.Errorf("whop refused %s %s: %s", what, id, lastError))
	}
	return nil
}
