package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/testkit/freeport"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/simctl"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
)

// TestServeFromWhopsimEnv starts the app with nothing but what `whopsim env`
// prints (and a database), then smoke-tests each thing that output wires:
// the API key and base URL (access checks behind the pages), the key set
// (the relay's user tokens), the company (the dashboard) and the webhook
// secret (a triggered delivery accepted).
func TestServeFromWhopsimEnv(t *testing.T) {
	db := pgtest.NewEmpty(t)
	port := freeport.For(t)
	app := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := whopsimtest.Start(t, whopsimtest.Config{AppURL: app,
		Options: whopsim.Options{WebhookURL: app + "/api/webhook", PaymentDelay: -1}})
	ctl := simctl.New(env.URL, nil)
	info, err := ctl.Env(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var dotenv bytes.Buffer
	if err := simctl.WriteDotenv(&dotenv, info); err != nil { // exactly what `whopsim env` prints
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": db.URL, "PORT": fmt.Sprint(port), "APP_ENV": "development"}
	lines := bufio.NewScanner(&dotenv)
	for lines.Scan() {
		if k, v, ok := strings.Cut(lines.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuf
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, &logs, &logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs.String())
		}
	}()
	waitReady(t, app+"/readyz")

	page := func(user, path string) (int, string) {
		t.Helper()
		if err := env.Sim.SelectUser(user); err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(env.RelayURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	sd := env.Seed
	if code, body := page(sd.Members[0].ID, "/experiences/"+sd.Creator.ExperienceID); code != 200 ||
		!strings.Contains(body, `data-testid="balance"`) {
		t.Errorf("alice's experience page = %d:\n%.300s\nlogs:\n%s", code, body, logs.String())
	}
	if code, _ := page(sd.NoAccess.ID, "/experiences/"+sd.Creator.ExperienceID); code != http.StatusForbidden {
		t.Errorf("nina's experience page = %d, want 403", code)
	}
	if code, _ := page(sd.Admin.ID, "/dashboard/"+sd.Creator.ID); code != 200 {
		t.Errorf("casey's dashboard = %d, want 200", code)
	}

	res, err := ctl.Trigger(context.Background(), whopsim.TriggerRequest{Event: "payment.succeeded", User: "@alice"})
	if err != nil {
		t.Fatal(err)
	}
	atts, _, err := ctl.Deliveries(context.Background(), simctl.DeliveryQuery{EventID: res.Events[0].ID, Wait: 20 * time.Second})
	if err != nil || len(atts) == 0 || atts[0].Status != 200 || atts[0].Outcome != whopsim.OutcomeDelivered {
		t.Errorf("the app's answer to a triggered delivery: %+v, %v\nlogs:\n%s", atts, err, logs.String())
	}
}
