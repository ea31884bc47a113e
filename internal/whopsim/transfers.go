package whopsim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// TransferRequest is the body of POST /api/v1/transfers. Ids may name a
// user (user_…), a company (biz_…) or a ledger account (ldgr_…).
type TransferRequest struct {
	Amount         json.Number    `json:"amount"`
	Currency       string         `json:"currency"`
	OriginID       string         `json:"origin_id"`
	DestinationID  string         `json:"destination_id"`
	IdempotenceKey string         `json:"idempotence_key"`
	Notes          string         `json:"notes"`
	Metadata       map[string]any `json:"metadata"`
}

// checksum identifies what a transfer asks for, so a replayed
// idempotence_key can be told apart from a different request reusing it.
func (r TransferRequest) checksum() string {
	meta, _ := json.Marshal(r.Metadata) // maps marshal with sorted keys
	h := sha256.Sum256([]byte(strings.Join([]string{string(r.Amount), r.Currency, r.OriginID,
		r.DestinationID, r.Notes, string(meta)}, "\x00")))
	return hex.EncodeToString(h[:])
}

// ledgerFor finds the ledger account an id names.
func ledgerFor(st *State, id string) *LedgerAccount {
	switch {
	case strings.HasPrefix(id, "ldgr_"):
		return st.Ledgers[id]
	case st.Companies[id] != nil:
		return st.Ledgers[st.Companies[id].LedgerID]
	case st.Users[id] != nil:
		return st.Ledgers[st.Users[id].LedgerID]
	}
	return nil
}

// transferLocked moves money; replayed reports an idempotence_key replay
// that moved nothing. The origin pays the amount plus its transfer fee.
func (s *Sim) transferLocked(st *State, req TransferRequest) (t *Transfer, replayed bool, err error) {
	sum := req.checksum()
	if req.IdempotenceKey != "" {
		if id, ok := st.TransferKeys[req.IdempotenceKey]; ok {
			if prev := st.Transfers[id]; prev != nil && prev.RequestChecksum == sum {
				return prev, true, nil
			}
			return nil, false, &APIError{Status: http.StatusBadRequest, Code: "idempotency_key_mismatch",
				Message: "idempotence_key was already used for a different transfer"}
		}
	}
	origin, dest := ledgerFor(st, req.OriginID), ledgerFor(st, req.DestinationID)
	switch {
	case req.OriginID == "" || req.DestinationID == "":
		return nil, false, badRequest("origin_id and destination_id are required")
	case origin == nil:
		return nil, false, notFound("origin", req.OriginID)
	case dest == nil:
		return nil, false, notFound("destination", req.DestinationID)
	case origin.ID == dest.ID:
		return nil, false, badRequest("origin and destination are the same ledger account")
	case req.Currency == "":
		return nil, false, badRequest("currency is required for ledger transfers")
	case req.Currency != origin.Currency || req.Currency != dest.Currency:
		return nil, false, badRequest("currency %q does not match the ledger accounts (%s)", req.Currency, origin.Currency)
	}
	amount, err := parseMajor(req.Amount, req.Currency)
	if err != nil {
		return nil, false, badRequest("%v", err)
	}
	if amount <= 0 {
		return nil, false, badRequest("amount must be more than 0")
	}
	if amount > origin.Balance || origin.TransferFee > origin.Balance-amount { // amount + fee could wrap
		return nil, false, &APIError{Status: http.StatusBadRequest, Code: "insufficient_balance",
			Message: fmt.Sprintf("the origin's balance of %s does not cover %s plus the %s transfer fee",
				major(origin.Balance, origin.Currency), major(amount, req.Currency), major(origin.TransferFee, req.Currency))}
	}
	origin.Balance -= amount + origin.TransferFee
	dest.Balance += amount
	t = &Transfer{ID: s.ids.id("ctt"), OriginID: origin.OwnerID, DestinationID: dest.OwnerID,
		OriginLedger: origin.ID, DestLedger: dest.ID, Amount: amount, Fee: origin.TransferFee,
		Currency: req.Currency, Notes: req.Notes, Metadata: req.Metadata, IdempotenceKey: req.IdempotenceKey,
		RequestChecksum: sum, CreatedAt: s.clock.Now()}
	st.Transfers[t.ID] = t
	if req.IdempotenceKey != "" {
		st.TransferKeys[req.IdempotenceKey] = t.ID
	}
	return t, false, nil
}

// v1Party is the origin or destination of a transfer, or a ledger's owner.
func v1Party(st *State, id string) obj {
	if c := st.Companies[id]; c != nil {
		return obj{"typename": "Company", "id": c.ID, "route": c.Route, "title": c.Title}
	}
	if u := st.Users[id]; u != nil {
		return obj{"typename": "User", "id": u.ID, "name": u.Name, "username": u.Username}
	}
	return nil
}

func v1Transfer(st *State, t *Transfer) obj {
	return obj{"id": t.ID, "object": "transfer", "status": "succeeded", "amount": major(t.Amount, t.Currency),
		"currency": t.Currency, "created_at": iso(t.CreatedAt), "created_by_user": nil,
		"origin": v1Party(st, t.OriginID), "destination": v1Party(st, t.DestinationID),
		"origin_ledger_account_id": t.OriginLedger, "destination_ledger_account_id": t.DestLedger,
		"fee_amount": major(t.Fee, t.Currency), "notes": orNil(t.Notes), "metadata": meta(t.Metadata),
		"failed_at": nil, "failure_code": nil, "failure_reason": nil}
}

func v1Ledger(st *State, l *LedgerAccount) obj {
	balances := []any{obj{"balance": major(l.Balance, l.Currency), "currency": l.Currency,
		"pending_balance": major(l.Pending, l.Currency), "reserve_balance": major(l.Reserve, l.Currency)}}
	for _, cur := range slices.Sorted(maps.Keys(l.Others)) {
		balances = append(balances, obj{"balance": major(l.Others[cur], cur), "currency": cur,
			"pending_balance": major(0, cur), "reserve_balance": major(0, cur)})
	}
	audit, approval := any(nil), any(nil)
	if st.Companies[l.OwnerID] != nil {
		audit, approval = "approved", "approved"
	}
	return obj{"id": l.ID, "ledger_type": "primary", "owner": v1Party(st, l.OwnerID),
		"transfer_fee": major(l.TransferFee, l.Currency), "ledger_account_audit_status": audit,
		"payments_approval_status": approval, "payout_account_details": nil,
		"balances": balances}
}
