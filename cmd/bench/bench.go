package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

// ingestPrepared is how many deliveries each side of the ingest gets ready:
// more than either can take in its warm-up and measured time. 25,000 was
// enough on a machine that took 900 a second; one of the same kind took
// 2,845 and ran out, so the count follows the time at 8,000 a second.
func ingestPrepared(o options) int {
	return int((o.duration + warmUp).Seconds() * 8000)
}

var errExhausted = errors.New("no prepared delivery left: raise ingestPrepared")

// benchmark runs every measured path and writes the report.
func benchmark(ctx context.Context, o options, stdout io.Writer) error {
	rep := &report{Started: time.Now().UTC(), Machine: machine(), LoadAtStart: loadAvg(), Rounds: o.rounds,
		SecondsPerSide: o.duration.Seconds()}
	s, err := startStack(ctx, o.log)
	if s != nil {
		defer s.close()
	}
	if err != nil {
		return err
	}
	if s.ref, err = startRefServer(ctx, s.dbURL); err != nil {
		return err
	}
	seed := s.sim.Seed()
	exp, creator, owner, secret := seed.Creator.ExperienceID, seed.Creator.ID, seed.Owner.ID, seed.App.WebhookSecret
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}, Timeout: 30 * time.Second}

	users, err := addMembers(s, exp, 66)
	if err != nil {
		return err
	}
	members, appSpender, refSpender := users[:64], users[64], users[65]
	logf(o, "page data: members' histories")
	if rep.PageData.Purchases, err = seedHistory(ctx, s.pool, exp, creator, members); err != nil {
		return err
	}

	if o.paths["ingest"] || o.paths["repeats"] {
		if err := benchIngest(ctx, s, o, rep, httpc, members, exp, creator, owner, secret); err != nil {
			return err
		}
	}
	if err := quiesce(ctx, s.pool); err != nil {
		return err
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT created_at) FROM purchases`).
		Scan(&rep.PageData.AllPurchases, &rep.PageData.DistinctTimes); err != nil {
		return err
	}
	rep.PageData.Members, rep.PageData.HeavyMembers, rep.PageData.HeavyPurchases = len(members), heavyMembers, heavyPurchases
	if o.paths["page"] {
		if err := benchPage(ctx, s, o, rep, httpc, exp, members); err != nil {
			return err
		}
	}
	if o.paths["spend"] {
		if err := quiesce(ctx, s.pool); err != nil {
			return err
		}
		if err := benchSpend(ctx, s, o, rep, httpc, exp, appSpender, refSpender); err != nil {
			return err
		}
	}
	if o.paths["startup"] {
		if err := benchStartup(ctx, s, o, rep); err != nil {
			return err
		}
	}
	rep.Profiles = s.profiles
	rep.LoadAtEnd = loadAvg()
	return rep.write(o.out, stdout)
}

// benchIngest measures fresh deliveries against the floor (and, for the
// ingest row, a bare receiver against the floor), then repeats of them
// against the no-op POST. The purchases prepared and never paid are
// dropped at the end, so the page is measured on the members' histories
// and the ingest's sales alone, whatever the machine's speed.
func benchIngest(ctx context.Context, s *stack, o options, rep *report, httpc *http.Client, members []string, exp, creator, owner, secret string) (err error) {
	logf(o, "webhook ingest: preparing deliveries")
	defer func() {
		if err == nil {
			err = dropUnsold(ctx, s.pool)
		}
	}()
	prepared := ingestPrepared(o)
	appDel, err := pendingPurchases(ctx, s.pool, "app", prepared, members, exp, creator, owner)
	if err != nil {
		return err
	}
	// For the ingest row the floor runs twice, beside the app and beside
	// the bare receiver, taking its deliveries in turn.
	floorRuns, bareDel := 1, []delivery(nil)
	if o.paths["ingest"] {
		floorRuns = 2
		if bareDel, err = pendingPurchases(ctx, s.pool, "bare", prepared, members, exp, creator, owner); err != nil {
			return err
		}
	}
	refDel, err := pendingPurchases(ctx, s.pool, "ref", floorRuns*prepared, members, exp, creator, owner)
	if err != nil {
		return err
	}
	if err := quiesce(ctx, s.pool); err != nil {
		return err
	}
	logf(o, "webhook ingest: measuring")
	var na, nr, nb counter
	appIngest := eachPrepared(ctx, &na, appDel, func(ctx context.Context, d delivery) error {
		return postDelivery(ctx, httpc, s.appURL()+"/api/webhook", secret, d, `"outcome":"credited 100`)
	})
	refIngest := eachPrepared(ctx, &nr, refDel, func(ctx context.Context, d delivery) error {
		return floorIngest(ctx, s.pool, owner, d)
	})
	bareIngest := eachPrepared(ctx, &nb, bareDel, func(ctx context.Context, d delivery) error {
		return postDelivery(ctx, httpc, bareURL(s.ref.url, owner, d), secret, d, `"outcome":"credited 100`)
	})
	m := s.meter()
	var a, r sample
	profiled(ctx, s, o, "webhook ingest", 2*(o.duration+warmUp), func() {
		a, r = interleaved(o.rounds, o.duration, true, s.metered(s.appPID, appIngest), s.metered(noServer, refIngest))
	})
	// Running out is the bench's shortfall, not a side's: say so rather
	// than count every refused call as a delivery answered. (A call past
	// the end still takes a number, so a counter past its list ran out.)
	ranOut := func() error {
		if int(na.n.Load()) > len(appDel) || int(nr.n.Load()) > len(refDel) || int(nb.n.Load()) > len(bareDel) {
			return errExhausted
		}
		return nil
	}
	if err := ranOut(); err != nil {
		return err
	}
	app, ref := a.result(), r.result()
	ingest := row{Path: "webhook ingest", Load: "fresh signed payment.succeeded, 32 concurrent", App: app, Ref: ref,
		RefName: "the same rows by one SQL statement (floor)", Target: 0.8, NoErrors: true, Quiet: s.quietSince(m)}
	var bare row
	if o.paths["ingest"] {
		// The same floor beside a bare receiver: how much of the target
		// the HTTP hop alone takes, with no code of the app's.
		if err := quiesce(ctx, s.pool); err != nil {
			return err
		}
		logf(o, "webhook ingest: a bare receiver against the floor")
		m = s.meter()
		b, r2 := interleaved(o.rounds, o.duration, true, s.metered(s.refPID, bareIngest), s.metered(noServer, refIngest))
		bare = row{Path: "ingest, bare receiver", Load: "the same signed POSTs, 32 concurrent, to a chi handler that runs the floor's statement",
			App: b.result(), Ref: r2.result(), RefName: "the same rows by one SQL statement (floor)", NoErrors: true,
			ReferenceFor: "webhook ingest", Quiet: s.quietSince(m)}
		if err := ranOut(); err != nil {
			return err
		}
	}
	if o.paths["ingest"] {
		rep.add(ingest)
		rep.add(bare)
	}
	// Every delivery sent (the warm-up's too) was answered with its rows,
	// on every side; an error anywhere shows here as a shortfall.
	for tag, n := range map[string]*counter{"app": &na, "ref": &nr, "bare": &nb} {
		if err := checkIngestRows(ctx, s.pool, tag, int(n.n.Load())); err != nil {
			return err
		}
	}

	if !o.paths["repeats"] {
		return nil
	}
	if err := quiesce(ctx, s.pool); err != nil {
		return err
	}
	logf(o, "webhook repeats: measuring")
	done := appDel[:min(int(na.n.Load()), len(appDel))]
	if len(done) == 0 {
		return fmt.Errorf("webhook ingest answered nothing: %s", app.FirstError)
	}
	var n counter
	appRepeat := func(d time.Duration) sample {
		return closedLoop(ctx, 32, d, &n, func(ctx context.Context, _, i int) error {
			return postDelivery(ctx, httpc, s.appURL()+"/api/webhook", secret, done[i%len(done)], `"outcome":"duplicate"`)
		})
	}
	noop := func(d time.Duration) sample {
		return closedLoop(ctx, 32, d, &n, func(ctx context.Context, _, i int) error {
			return postDelivery(ctx, httpc, s.ref.url+"/noop", secret, done[i%len(done)], `"outcome":"duplicate"`)
		})
	}
	m = s.meter()
	profiled(ctx, s, o, "webhook repeats", 2*(o.duration+warmUp), func() {
		a, r = interleaved(o.rounds, o.duration, true, s.metered(s.appPID, appRepeat), s.metered(s.refPID, noop))
	})
	rep.add(row{Path: "webhook repeats", Load: "the same deliveries again, 32 concurrent", App: a.result(), Ref: r.result(),
		RefName: "a no-op HTTP POST of the same signed request (floor)", Target: 0.8, NoErrors: true, Quiet: s.quietSince(m)})
	return nil
}

// eachPrepared is a closed loop of 32 taking the prepared deliveries in
// order, each once, counted in n; past the list's end a call fails with
// errExhausted (and still takes a number, which is how running out shows).
func eachPrepared(ctx context.Context, n *counter, dels []delivery, send func(context.Context, delivery) error) func(time.Duration) sample {
	return func(d time.Duration) sample {
		return closedLoop(ctx, 32, d, n, func(ctx context.Context, _, i int) error {
			if i >= len(dels) {
				return errExhausted
			}
			return send(ctx, dels[i])
		})
	}
}

func addMembers(s *stack, exp string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		u, err := s.sim.AddMember(fmt.Sprintf("bench%03d", i), exp)
		if err != nil {
			return nil, err
		}
		out[i] = u.ID
	}
	return out, nil
}

// benchStartup restarts the app five times on the migrated database, as a
// replica with the default configuration (WORKERS unset: River's workers
// start too), and takes the median time from exec to a 200 from /readyz.
func benchStartup(ctx context.Context, s *stack, o options, rep *report) error {
	logf(o, "start-up: measuring")
	s.workers = ""
	var times []time.Duration
	for i := 0; i < 5; i++ {
		s.stopApp()
		d, err := s.startApp(ctx)
		if err != nil {
			return err
		}
		times = append(times, d)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	rep.Startup = startup{MedianMS: ms(times[2]), MinMS: ms(times[0]), MaxMS: ms(times[4]), TargetMS: 100}
	return nil
}
