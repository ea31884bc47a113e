package whop

import (
	"context"
	"fmt"

	"github.com/creditkit/creditkit/internal/money"
)

// LedgerAccount is a company's or user's balance at Whop.
type LedgerAccount struct {
	ID         string // "ldgr_…"
	OwnerID    string // the "biz_…" or "user_…" it belongs to
	LedgerType string // "primary" or "pool"
	Balances   []Balance
	// TransferFee is Whop's fee for a transfer out of this account, in minor
	// units of TransferFeeCurrency. Whop sends a bare number without a
	// currency; it is read as USD when the account holds USD or nothing,
	// else in the currency of the first balance.
	TransferFee         int64
	TransferFeeCurrency money.Currency
}

// Balance is one currency's balance, in minor units.
type Balance struct {
	Currency       money.Currency
	Balance        int64
	PendingBalance int64
	ReserveBalance int64
}

// Balance returns the balance held in currency c, if the account has one.
func (a *LedgerAccount) Balance(c money.Currency) (Balance, bool) {
	for _, b := range a.Balances {
		if b.Currency == c {
			return b, true
		}
	}
	return Balance{}, false
}

type wireLedgerAccount struct {
	ID         flexString `json:"id"`
	Owner      link       `json:"owner"`
	LedgerType flexString `json:"ledger_type"`
	Balances   []struct {
		Currency       flexString `json:"currency"`
		Balance        decNum     `json:"balance"`
		PendingBalance decNum     `json:"pending_balance"`
		ReserveBalance decNum     `json:"reserve_balance"`
	} `json:"balances"`
	TransferFee decNum `json:"transfer_fee"`
}

// GetLedgerAccount retrieves a ledger account by its own id ("ldgr_…") or by
// its owner's ("biz_…", "user_…").
func (c *Client) GetLedgerAccount(ctx context.Context, id string) (*LedgerAccount, error) {
	var w wireLedgerAccount
	if err := c.getV1(ctx, "ledger account id", "/ledger_accounts/", id, &w); err != nil {
		return nil, err
	}
	return w.normalize()
}

func (w *wireLedgerAccount) normalize() (*LedgerAccount, error) {
	a := &LedgerAccount{
		ID:         string(w.ID),
		OwnerID:    w.Owner.ID,
		LedgerType: string(w.LedgerType),
		Balances:   make([]Balance, 0, len(w.Balances)),
	}
	for _, wb := range w.Balances {
		cur, err := money.ParseCurrency(string(wb.Currency))
		if err != nil {
			return nil, fmt.Errorf("whop: decode ledger account %s: %w", a.ID, err)
		}
		b := Balance{Currency: cur}
		for _, f := range []struct {
			dst *int64
			src decNum
		}{{&b.Balance, wb.Balance}, {&b.PendingBalance, wb.PendingBalance}, {&b.ReserveBalance, wb.ReserveBalance}} {
			if *f.dst, err = f.src.minorUnbounded(cur); err != nil {
				return nil, fmt.Errorf("whop: decode ledger account %s balance: %w", a.ID, err)
			}
		}
		a.Balances = append(a.Balances, b)
	}
	a.TransferFeeCurrency = money.USD
	if _, hasUSD := a.Balance(money.USD); !hasUSD && len(a.Balances) > 0 {
		a.TransferFeeCurrency = a.Balances[0].Currency
	}
	fee, err := w.TransferFee.minor(a.TransferFeeCurrency)
	if err != nil {
		return nil, fmt.Errorf("whop: decode ledger account %s transfer fee: %w", a.ID, err)
	}
	a.TransferFee = fee
	return a, nil
}
