package billing

import "sync"

// seenSet remembers delivery ids this process knows are recorded. A
// recorded delivery stays recorded (webhook_deliveries rows are kept
// forever), so a remembered "seen" can never be wrong, and a repeat Whop
// sends back to the replica that handled it costs no database round trip.
// A delivery this process has not seen is still checked in the database.
// Two generations bound the memory: when the current one fills, the older
// is dropped.
type seenSet struct {
	mu        sync.Mutex
	cur, prev map[string]struct{}
	limit     int
}

func newSeenSet(limit int) *seenSet {
	return &seenSet{cur: map[string]struct{}{}, prev: map[string]struct{}{}, limit: limit}
}

func (s *seenSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[id]; ok {
		return true
	}
	_, ok := s.prev[id]
	return ok
}

func (s *seenSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) >= s.limit {
		s.prev, s.cur = s.cur, make(map[string]struct{}, s.limit)
	}
	s.cur[id] = struct{}{}
}
