package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
)

// The ports `make dev` listens on, all on loopback only: nothing it runs is
// meant for the network. Each can be moved with a flag or a variable, so a
// second checkout (or another program on 3000) does not stand in the way:
//
//	make dev APP_PORT=3100 SANDBOX_PORT=8103 RELAY_PORT=8104
//	go run ./cmd/devstack -app-port 3100 -sandbox-port 8103 -relay-port 8104
//
// A flag wins over the variable, which wins over the default.

// devPort is one port make dev needs.
type devPort struct {
	role string // what listens there, for messages
	flag string // the devstack flag
	env  string // the variable (make passes `make dev NAME=…` to devstack's environment)
	def  int
	port int
}

// devPorts are make dev's three ports, and PgBouncer's when make dev puts
// one in front of Postgres (POOLER=1).
type devPorts struct {
	app, sandbox, relay devPort
	pooler              devPort
	withPooler          bool
}

func (p *devPorts) all() []*devPort {
	all := []*devPort{&p.app, &p.sandbox, &p.relay}
	if p.withPooler {
		all = append(all, &p.pooler)
	}
	return all
}

func defaultPorts() devPorts {
	return devPorts{
		app:     devPort{role: "the app", flag: "app-port", env: "APP_PORT", def: 3000},
		sandbox: devPort{role: "the sandbox's page and API", flag: "sandbox-port", env: "SANDBOX_PORT", def: 8003},
		relay:   devPort{role: "the sandbox's relay to the app", flag: "relay-port", env: "RELAY_PORT", def: 8004},
		pooler:  devPort{role: "PgBouncer in front of the project-local Postgres", flag: "pooler-port", env: "POOLER_PORT", def: devPoolerPort},
	}
}

// parsePorts reads the ports from args (flags) and getenv (variables).
func parsePorts(args []string, getenv func(string) string, stderr io.Writer) (devPorts, error) {
	p := defaultPorts()
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pooler := fs.Bool("pooler", false, "run the app through PgBouncer in transaction mode in front of the project-local Postgres (or $POOLER=1)")
	flags := map[*devPort]*int{}
	every := []*devPort{&p.app, &p.sandbox, &p.relay, &p.pooler}
	for _, d := range every {
		flags[d] = fs.Int(d.flag, 0, fmt.Sprintf("port of %s on 127.0.0.1 (or $%s; default %d)", d.role, d.env, d.def))
	}
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	if fs.NArg() > 0 {
		return p, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch v := getenv("POOLER"); v {
	case "", "0", "false", "no":
		p.withPooler = *pooler
	case "1", "true", "yes":
		p.withPooler = true
	default:
		return p, fmt.Errorf("POOLER=%q: want 1 to run the app through PgBouncer, or 0", v)
	}
	seen := map[int]string{}
	for _, d := range every {
		d.port = d.def
		if v := getenv(d.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return p, fmt.Errorf("%s=%q: want a port number from 1 to 65535", d.env, v)
			}
			d.port = n
		}
		if n := *flags[d]; n != 0 {
			if n < 1 || n > 65535 {
				return p, fmt.Errorf("-%s %d: want a port number from 1 to 65535", d.flag, n)
			}
			d.port = n
		}
		if d == &p.pooler && !p.withPooler {
			continue // not started, so in nobody's way
		}
		if other, dup := seen[d.port]; dup {
			return p, fmt.Errorf("%s and %s are both given port %d: give each its own", other, d.role, d.port)
		}
		seen[d.port] = d.role
	}
	return p, nil
}

// PortInUseError is a port make dev needs that another program holds.
type PortInUseError struct {
	Port devPort
	Err  error
}

func (e *PortInUseError) Error() string {
	d, next := e.Port, e.Port.port+100
	return fmt.Sprintf("port %d is already in use on 127.0.0.1 (%s listens there; is another `make dev` running?). "+
		"Stop what uses it, or pick another port: make dev %s=%d (or go run ./cmd/devstack -%s %d)",
		d.port, d.role, d.env, next, d.flag, next)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// checkFree makes sure each port can be listened on before anything
// starts, and otherwise names the port, what it is for and how to move it.
func (p *devPorts) checkFree() error {
	for _, d := range p.all() {
		ln, err := net.Listen("tcp", d.addr())
		if err != nil {
			return &PortInUseError{Port: *d, Err: err}
		}
		ln.Close()
	}
	return nil
}

// addr is where it listens: loopback only.
func (d devPort) addr() string { return "127.0.0.1:" + strconv.Itoa(d.port) }

// url is how a browser on this machine reaches it.
func (d devPort) url() string { return "http://localhost:" + strconv.Itoa(d.port) }
