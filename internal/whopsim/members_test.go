package whopsim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

func TestAddMemberGetsCustomerAccess(t *testing.T) {
	env := whopsimtest.Start(t, whopsimtest.Config{})
	exp := env.Seed.Creator.ExperienceID
	u, err := env.Sim.AddMember("dana", exp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, "user_") || u.Username != "dana" || u.Email != "dana@example.com" || u.CreatedAt.IsZero() {
		t.Fatalf("user = %+v", u)
	}
	c := whop.New(env.Seed.App.APIKey, whop.WithBaseURL(env.APIBase))
	ctx := context.Background()
	a, err := c.CheckAccess(ctx, u.ID, exp)
	if err != nil || !a.HasAccess || a.Level != whop.AccessCustomer {
		t.Fatalf("access to the experience = %+v, %v", a, err)
	}
	a, err = c.CheckAccess(ctx, u.ID, env.Seed.Owner.ExperienceID)
	if err != nil || a.HasAccess {
		t.Fatalf("access to another experience = %+v, %v", a, err)
	}
	got, err := c.GetUser(ctx, "dana")
	if err != nil || got.ID != u.ID {
		t.Fatalf("user by username = %+v, %v", got, err)
	}
	if _, err := env.Sim.AddMember("dana", exp); err == nil {
		t.Fatal("a taken username was accepted")
	}
	if _, err := env.Sim.AddMember("erin", "exp_nope"); err == nil {
		t.Fatal("an unknown experience was accepted")
	}
}
