package ledger

// SpendsQueued is how many spends of the wallet are at Postgres or wait in
// the app for their turn (tests).
func (s *Store) SpendsQueued(experienceID, userID string) int {
	return s.spends.waiting(walletKey{experienceID, userID})
}

// WalletTurns is how many spends of one wallet may be at Postgres at once.
const WalletTurns = walletTurns
