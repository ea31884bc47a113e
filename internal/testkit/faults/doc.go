// Package faults holds Creditkit's fault tests: real `creditkit serve`
// processes (two replicas on one database, or four behind PgBouncer with
// reports on a streaming standby) driven by the Whop sandbox while the
// tests inject what production does to an app — storms of duplicated,
// shuffled deliveries, a replica killed with SIGKILL, Postgres stopped for
// longer than Whop's webhook retry window, a failing Whop API, the read
// replica killed — and then audit the books the way a bank would.
//
// The tests carry the build tag "faults", so `go test ./...` (make test)
// skips them; run them with `make test-faults`. They need the machine's
// Postgres server binaries (pg_basebackup among them) and PgBouncer: each
// run makes its own throwaway clusters, so stopping Postgres never touches
// the machine's server. Everything listens on 127.0.0.1 only.
package faults
