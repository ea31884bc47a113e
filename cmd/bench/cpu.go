package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// quiet says how quiet the machine was while a row was measured: the load
// average when it started and ended, and the share of the machine's CPU
// that processes other than the benchmark's own (this process, the app,
// the reference server, the benchmark's Postgres) used meanwhile. The
// ratios are measured in alternating rounds so that such load weighs on
// both sides; the figures say how much of it there was.
type quiet struct {
	LoadStart float64 `json:"load1_start"`
	LoadEnd   float64 `json:"load1_end"`
	// OthersCPU is the CPU others used, as a share of all cores' time.
	OthersCPU float64 `json:"others_cpu_share"`
}

// cpuMeter reads the machine's and the benchmark's own CPU time.
type cpuMeter struct {
	pids func() []int // the benchmark's own processes, now
}

type cpuReading struct {
	at    time.Time
	load1 float64
	total int64 // busy clock ticks of the whole machine
	ours  int64 // busy clock ticks of the benchmark's processes
}

func (m cpuMeter) read() cpuReading {
	r := cpuReading{at: time.Now(), load1: loadAvg()[0], total: machineBusy()}
	for _, pid := range m.pids() {
		r.ours += processBusy(pid)
	}
	return r
}

// since is how quiet the machine was from r0 to now.
func (m cpuMeter) since(r0 cpuReading) quiet {
	r1 := m.read()
	q := quiet{LoadStart: r0.load1, LoadEnd: r1.load1}
	ticks := r1.at.Sub(r0.at).Seconds() * float64(clockTicks) * float64(numCPU())
	if ticks > 0 {
		q.OthersCPU = max(0, float64((r1.total-r0.total)-(r1.ours-r0.ours))/ticks)
	}
	return q
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTicks = 100

// loadAvg is /proc/loadavg's 1, 5 and 15 minute load averages.
func loadAvg() [3]float64 {
	var out [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		out[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return out
}

// machineBusy is the machine's busy time from /proc/stat (all but idle and
// iowait), in clock ticks.
func machineBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i := 1; i < len(f) && i <= 8; i++ {
		if i == 4 || i == 5 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return busy
}

func numCPU() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}

// processBusy is a process's user and system time, in clock ticks.
func processBusy(pid int) int64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseInt(f[13], 10, 64)
	s, _ := strconv.ParseInt(f[14], 10, 64)
	return u + s
}

// procStat is /proc/<pid>/stat split into fields (the command, which may
// hold spaces, as one).
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return nil
	}
	return append([]string{s[:i-1], s[i+1 : j]}, strings.Fields(s[j+1:])...)
}

// childrenOf lists the processes whose parent is pid (Postgres's backends
// and helpers are the postmaster's).
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	want := strconv.Itoa(pid)
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(p); len(f) > 3 && f[3] == want {
			out = append(out, p)
		}
	}
	return out
}
