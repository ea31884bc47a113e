package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/creditkit/creditkit/internal/ledger"
)

// TestShareAndPayoutJobsRetryUntilWhopAnswers: Whop fails every transfer
// for longer than River's default of 25 attempts; the share's and the
// payout's jobs keep retrying (1,000 attempts each) and their rows stay
// pending, not stranded by a discarded job. When Whop then refuses them for
// good, each row is marked failed and its job cancelled: it never runs again.
func TestShareAndPayoutJobsRetryUntilWhopAnswers(t *testing.T) {
	hook := &transferHook{}
	a := setup(t, withShare(1000), withTransferHook(hook))
	var refuse atomic.Bool
	hook.on = func(int, func() (*http.Response, error)) (*http.Response, error) {
		if refuse.Load() {
			return answer(http.StatusUnprocessableEntity, `{"error":{"code":"invalid_request","message":"insufficient balance"}}`), nil
		}
		return answer(http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"try later"}}`), nil
	}
	_, pay := a.buyIn(a.experience(), a.member(0), "starter")
	body := payoutBody("k-retry", "1.00")
	body["company_id"] = a.env.Seed.Creator.ID
	code, out, raw := a.payout(body)
	if code != http.StatusAccepted {
		t.Fatalf("payout while Whop fails: %d %s", code, raw)
	}
	poID := out["payout"].(map[string]any)["id"].(string)

	const rounds = 27
	for i := 1; i <= rounds; i++ {
		a.advanceJobs()
		if n := a.drain(); n != 2 {
			t.Fatalf("round %d ran %d jobs, want the share's and the payout's", i, n)
		}
	}
	sh, _ := a.store.RevenueShareByPayment(a.ctx, pay)
	po, _ := a.store.Payout(a.ctx, poID)
	if sh.Status != ledger.TransferPending || sh.Attempts != rounds || !strings.Contains(sh.LastError, "try later") ||
		po.Status != ledger.TransferPending || po.Attempts != rounds+1 || !strings.Contains(po.LastError, "try later") {
		t.Fatalf("after %d failed rounds: share %+v\npayout %+v", rounds, sh, po)
	}
	if n := a.count(`SELECT count(*) FROM river_job WHERE kind IN ('payout', 'revenue_share')
		AND state = 'retryable' AND attempt = $1 AND max_attempts = 1000 AND cardinality(errors) = $1
		AND errors[$1]->>'error' LIKE '%try later%'`, rounds); n != 2 {
		t.Fatalf("jobs still retrying = %d, want 2", n)
	}

	a.assertMetrics("while Whop fails",
		fmt.Sprintf(`creditkit_job_runs_total{kind="payout",outcome="retried"} %d`, rounds),
		fmt.Sprintf(`creditkit_job_runs_total{kind="revenue_share",outcome="retried"} %d`, rounds),
		`creditkit_jobs{kind="payout",state="retryable"} 1`,
		`creditkit_jobs{kind="revenue_share",state="retryable"} 1`,
		`creditkit_jobs{kind="revenue_share",state="discarded"} 0`)

	refuse.Store(true)
	a.advanceJobs()
	if n := a.drain(); n != 2 {
		t.Fatalf("ran %d jobs, want 2", n)
	}
	sh, _ = a.store.RevenueShareByPayment(a.ctx, pay)
	po, _ = a.store.Payout(a.ctx, poID)
	if sh.Status != ledger.TransferFailed || sh.LastError != "insufficient balance" || sh.FinishedAt.IsZero() ||
		po.Status != ledger.TransferFailed || po.LastError != "insufficient balance" || po.FinishedAt.IsZero() {
		t.Fatalf("after Whop refused: share %+v\npayout %+v", sh, po)
	}
	if n := a.count(`SELECT count(*) FROM river_job WHERE kind IN ('payout', 'revenue_share') AND state = 'cancelled'
		AND errors[cardinality(errors)]->>'error' LIKE '%whop refused%insufficient balance%'`); n != 2 {
		t.Fatalf("cancelled jobs = %d, want 2", n)
	}
	a.advanceJobs()
	if n := a.drain(); n != 0 {
		t.Fatalf("%d jobs ran after Whop refused", n)
	}
	a.assertMetrics("after Whop refused",
		`creditkit_job_runs_total{kind="payout",outcome="cancelled"} 1`,
		`creditkit_job_runs_total{kind="revenue_share",outcome="cancelled"} 1`,
		`creditkit_jobs{kind="payout",state="cancelled"} 1`,
		`creditkit_jobs{kind="payout",state="retryable"} 0`)
	// Sending the payout again answers with the refused payout and why.
	code, out, raw = a.payout(body)
	e, _ := out["error"].(map[string]any)
	got, _ := out["payout"].(map[string]any)
	if code != http.StatusUnprocessableEntity || e["code"] != "whop_refused" ||
		e["message"] != "Whop refused the payout: insufficient balance" || len(e) != 2 ||
		got["id"] != poID || got["status"] != "failed" || out["replayed"] != true {
		t.Fatalf("the refused payout sent again: %d %s", code, raw)
	}
}

// answer is a response from Whop that never reached the sandbox.
func answer(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body))}
}

// assertMetrics reads /metrics and wants every line among them.
func (a *app) assertMetrics(when string, lines ...string) {
	a.t.Helper()
	res, body := a.get("/metrics", "")
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("metrics: %d", res.StatusCode)
	}
	for _, l := range lines {
		if !strings.Contains(body, l+"\n") {
			a.t.Errorf("%s: /metrics lacks %q", when, l)
		}
	}
}
