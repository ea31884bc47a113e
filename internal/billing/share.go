package billing

import (
	"math/bits"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
)

// shareTerms is the revenue share a fulfilment by payment p earns the
// creator of the experience it was bought in: the configured basis points
// of what the buyer paid, rounded down to the minor unit (the owner never
// pays more than the percentage; a refund later claws back by the same
// rule, so a full refund takes back exactly the share). There is none when
// it rounds to zero, and the ledger records none for a sale in the owner's
// own company (the share goes to the purchase's company, which the ledger
// reads under the purchase's lock).
func (s *core) shareTerms(p *whop.Payment) *ledger.ShareTerms {
	bp := s.cfg.RevenueShareBasisPoints
	if bp <= 0 {
		return nil
	}
	amount := shareOf(p.Total, bp)
	if amount <= 0 {
		return nil
	}
	return &ledger.ShareTerms{FromCompanyID: s.cfg.CompanyID, BasisPoints: bp, Amount: amount}
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
