package ledger

import (
	"context"
	"fmt"
)

// Money leaves through Whop one way, for payouts and revenue shares alike:
//
//	(a) one transaction records the transfer's intent, its idempotency key
//	    and its job (CreatePayout; Settle, for a share);
//	(b) Whop is called with that key while no transaction is open;
//	(c) one short transaction records the outcome (RecordTransfer).
//
// A crash between (b) and (c) leaves the row pending; its job retries with
// the same key and Whop answers with the transfer it already made. Transfer
// is the view of either row that the protocol needs.

// TransferKind says which row a Transfer is.
type TransferKind string

// The two kinds of money out.
const (
	TransferOfPayout       TransferKind = JobPayout
	TransferOfRevenueShare TransferKind = JobRevenueShare
)

// Transfer is a payout or a revenue share as the transfer protocol sees it.
type Transfer struct {
	Kind TransferKind
	// ID is the payout's id, or the payment id whose share this is.
	ID  string
	Key string // Whop's idempotence key, derived from ID
	// Amount is what the transfer carries: a payout's amount, a share's
	// decided net (0 for a cancelled share).
	Amount        int64
	Currency      string
	OriginID      string // a payout's ledger account; the owner's company for a share
	DestinationID string // the recipient user; the creator's company for a share
	Notes         string // a payout's notes for the recipient; empty for a share
	PurchaseID    string // the purchase a share comes from; empty for a payout
	Status        TransferStatus
	TransferID    string
	Attempts      int
	LastError     string
}

// TransferJob is the arguments of a job that moves one payout or share.
type TransferJob interface {
	JobArgs
	// TransferRef names the row the job moves.
	TransferRef() (TransferKind, string)
}

// TransferRef names the payout.
func (a PayoutJob) TransferRef() (TransferKind, string) { return TransferOfPayout, a.PayoutID }

// TransferRef names the payment whose share it is.
func (a RevenueShareJob) TransferRef() (TransferKind, string) {
	return TransferOfRevenueShare, a.PaymentID
}

// PayoutTransfer is a payout's Transfer.
func PayoutTransfer(p Payout) Transfer {
	return Transfer{Kind: TransferOfPayout, ID: p.ID, Key: p.TransferKey, Amount: p.Amount, Currency: p.Currency,
		OriginID: p.LedgerAccountID, DestinationID: p.RecipientID, Notes: p.Notes, Status: p.Status,
		TransferID: p.TransferID, Attempts: p.Attempts, LastError: p.LastError}
}

// ShareTransfer is a revenue share's Transfer.
func ShareTransfer(r RevenueShare) Transfer {
	return Transfer{Kind: TransferOfRevenueShare, ID: r.PaymentID, Key: r.TransferKey, Amount: r.TransferAmount,
		Currency: r.Currency, OriginID: r.FromCompanyID, DestinationID: r.ToCompanyID, PurchaseID: r.PurchaseID,
		Status: r.Status, TransferID: r.TransferID, Attempts: r.Attempts, LastError: r.LastError}
}

// PrepareTransfer returns a transfer ready to send: a payout as it is; a
// share with its amount decided (DecideShareTransfer), or cancelled if
// refunds took all of it. Only a pending transfer is to be sent.
func (s *Store) PrepareTransfer(ctx context.Context, kind TransferKind, id string) (Transfer, error) {
	switch kind {
	case TransferOfPayout:
		p, err := s.Payout(ctx, id)
		return PayoutTransfer(p), err
	case TransferOfRevenueShare:
		r, err := s.DecideShareTransfer(ctx, id)
		return ShareTransfer(r), err
	}
	return Transfer{}, fmt.Errorf("ledger: unknown transfer kind %q", kind)
}

// RecordTransfer stores one attempt's outcome (step c) and returns the
// transfer as it is afterwards; a transfer already finished by another
// attempt is returned unchanged.
func (s *Store) RecordTransfer(ctx context.Context, kind TransferKind, id string, o TransferOutcome) (Transfer, error) {
	switch kind {
	case TransferOfPayout:
		p, err := s.RecordPayoutAttempt(ctx, id, o)
		return PayoutTransfer(p), err
	case TransferOfRevenueShare:
		r, err := s.RecordShareAttempt(ctx, id, o)
		return ShareTransfer(r), err
	}
	return Transfer{}, fmt.Errorf("ledger: unknown transfer kind %q", kind)
}
