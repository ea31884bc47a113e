package whop

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/creditkit/creditkit/internal/money"
)

// TransferParams moves money between ledger accounts: a payout from the
// app's company to a user or another company. Amount is in minor units.
type TransferParams struct {
	Amount   int64
	Currency money.Currency
	// OriginID and DestinationID are "biz_…", "user_…" or "ldgr_…" ids.
	OriginID      string
	DestinationID string
	// IdempotenceKey is required: Whop replays the first transfer for a
	// repeated key instead of paying twice. Derive it from your payout row.
	IdempotenceKey string
	Notes          string // shown to the recipient; Whop allows 50 characters
	Metadata       map[string]string
}

// Transfer is a completed transfer. Amounts are minor units of Currency.
type Transfer struct {
	ID                         string
	Amount                     int64
	Currency                   money.Currency
	FeeAmount                  int64
	CreatedAt                  time.Time
	OriginID                   string
	DestinationID              string
	OriginLedgerAccountID      string
	DestinationLedgerAccountID string
	Notes                      string
	Metadata                   map[string]string
}

type wireTransferRequest struct {
	Amount         json.Number       `json:"amount"`
	Currency       string            `json:"currency"`
	OriginID       string            `json:"origin_id"`
	DestinationID  string            `json:"destination_id"`
	IdempotenceKey string            `json:"idempotence_key"`
	Notes          string            `json:"notes,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

type wireTransfer struct {
	ID                         flexString `json:"id"`
	Amount                     decNum     `json:"amount"`
	Currency                   flexString `json:"currency"`
	FeeAmount                  decNum     `json:"fee_amount"`
	CreatedAt                  flexTime   `json:"created_at"`
	Origin                     link       `json:"origin"`
	OriginID                   flexString `json:"origin_id"`
	Destination                link       `json:"destination"`
	DestinationID              flexString `json:"destination_id"`
	OriginLedgerAccountID      flexString `json:"origin_ledger_account_id"`
	DestinationLedgerAccountID flexString `json:"destination_ledger_account_id"`
	Notes                      flexString `json:"notes"`
	Metadata                   metadata   `json:"metadata"`
}

// CreateTransfer sends a transfer. The key travels both as the body's
// idempotence_key (Whop's transfer-level dedupe) and as the Idempotency-Key
// header (the API-wide replay), which also makes the call safe to retry.
func (c *Client) CreateTransfer(ctx context.Context, p TransferParams) (*Transfer, error) {
	switch {
	case p.Amount <= 0:
		return nil, fmt.Errorf("%w: transfer amount must be positive", ErrInvalidArgument)
	case p.Currency == "":
		return nil, fmt.Errorf("%w: transfer needs a currency", ErrInvalidArgument)
	case p.OriginID == "" || p.DestinationID == "":
		return nil, fmt.Errorf("%w: transfer needs origin and destination", ErrInvalidArgument)
	case p.IdempotenceKey == "":
		return nil, fmt.Errorf("%w: transfer needs an idempotence key", ErrInvalidArgument)
	}
	body := wireTransferRequest{
		Amount:         json.Number(money.FormatMajor(p.Amount, p.Currency)),
		Currency:       string(p.Currency),
		OriginID:       p.OriginID,
		DestinationID:  p.DestinationID,
		IdempotenceKey: p.IdempotenceKey,
		Notes:          p.Notes,
		Metadata:       p.Metadata,
	}
	var w wireTransfer
	req := request{method: http.MethodPost, url: c.v1("/transfers"), body: body, idempotencyKey: p.IdempotenceKey}
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return w.normalize(p.Currency)
}

func (w *wireTransfer) normalize(fallback money.Currency) (*Transfer, error) {
	cur := fallback
	if w.Currency != "" {
		c, err := money.ParseCurrency(string(w.Currency))
		if err != nil {
			return nil, fmt.Errorf("whop: decode transfer: %w", err)
		}
		cur = c
	}
	amount, err := w.Amount.minor(cur)
	if err != nil {
		return nil, fmt.Errorf("whop: decode transfer amount: %w", err)
	}
	fee, err := w.FeeAmount.minor(cur)
	if err != nil {
		return nil, fmt.Errorf("whop: decode transfer fee: %w", err)
	}
	return &Transfer{
		ID:                         string(w.ID),
		Amount:                     amount,
		Currency:                   cur,
		FeeAmount:                  fee,
		CreatedAt:                  time.Time(w.CreatedAt),
		OriginID:                   cmp.Or(w.Origin.ID, string(w.OriginID)),
		DestinationID:              cmp.Or(w.Destination.ID, string(w.DestinationID)),
		OriginLedgerAccountID:      string(w.OriginLedgerAccountID),
		DestinationLedgerAccountID: string(w.DestinationLedgerAccountID),
		Notes:                      string(w.Notes),
		Metadata:                   w.Metadata,
	}, nil
}
