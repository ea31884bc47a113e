package billing

import (
	"fmt"
	"testing"
)

func TestSeenSetKeepsTwoGenerations(t *testing.T) {
	s := newSeenSet(3)
	for i := 0; i < 3; i++ {
		s.add(fmt.Sprint("msg_", i))
	}
	s.add("msg_3") // the first generation (0-2) becomes the previous one
	for i := 0; i < 4; i++ {
		if !s.has(fmt.Sprint("msg_", i)) {
			t.Errorf("msg_%d forgotten too early", i)
		}
	}
	s.add("msg_4")
	s.add("msg_5")
	s.add("msg_6") // 3-5 become previous; 0-2 are dropped
	for i, want := range []bool{false, false, false, true, true, true, true} {
		if got := s.has(fmt.Sprint("msg_", i)); got != want {
			t.Errorf("has(msg_%d) = %t, want %t", i, got, want)
		}
	}
	if s.has("msg_never") {
		t.Error("an unseen id is reported seen")
	}
}
