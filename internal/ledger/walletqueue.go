package ledger

import (
	"context"
	"sync"
)

// walletQueue admits the spends of one wallet to Postgres walletTurns at a
// time, in the order they arrived. It is only admission: the conditional debit and the
// unique keys still decide every outcome, so a second replica (with its own
// queue) is as safe as before. What it saves is the waiting inside
// Postgres: without it, every spender of a hot wallet holds a pool
// connection and a backend that sleeps on the wallet's row lock, wakes,
// re-checks the row and sleeps again, so one busy wallet could take the
// whole pool and the CPU the lock holder needs.
type walletQueue struct {
	mu    sync.Mutex
	gates map[walletKey]*walletGate
}

// walletTurns is how many spends of one wallet may be at Postgres at once:
// the one holding the row lock, and the next, waiting for it inside
// Postgres so that it goes the moment the commit releases the lock. With
// one turn, each spend would leave the app only when the one before it had
// answered: a round trip on the lock's critical path, which cost as much as
// the waiting backends the queue spares (README, "Spend on one hot wallet").
const walletTurns = 2

type walletKey struct{ experienceID, userID string }

// walletGate is one wallet's turns: tokens that a spend holds while its
// statement runs. Go's channel queues its waiters first come, first served.
type walletGate struct {
	turn  chan struct{}
	users int // holding or waiting; the gate is dropped at zero
}

func newWalletQueue() *walletQueue {
	return &walletQueue{gates: make(map[walletKey]*walletGate)}
}

// enter waits for k's turn and returns the function that ends it. A
// context that ends while waiting leaves the queue with its error.
func (q *walletQueue) enter(ctx context.Context, k walletKey) (leave func(), err error) {
	q.mu.Lock()
	g := q.gates[k]
	if g == nil {
		g = &walletGate{turn: make(chan struct{}, walletTurns)}
		q.gates[k] = g
	}
	g.users++
	q.mu.Unlock()
	select {
	case g.turn <- struct{}{}:
		return func() {
			<-g.turn
			q.drop(k, g)
		}, nil
	case <-ctx.Done():
		q.drop(k, g)
		return nil, ctx.Err()
	}
}

func (q *walletQueue) drop(k walletKey, g *walletGate) {
	q.mu.Lock()
	if g.users--; g.users == 0 {
		delete(q.gates, k)
	}
	q.mu.Unlock()
}

// waiting reports how many spends of k hold or wait for its turn (tests).
func (q *walletQueue) waiting(k walletKey) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if g := q.gates[k]; g != nil {
		return g.users
	}
	return 0
}
