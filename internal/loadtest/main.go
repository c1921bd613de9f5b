// Command loadtest measures the capture endpoint against its ceiling. In
// one run, with one lean HTTP/1.1 client, it loads
//
//	(a) a handler that only decodes the JSON body (the ceiling),
//	(b) the real capture endpoint over SQLite with full durability, each
//	    lead from a new visitor (new email and phone), as most traffic is,
//	(c) the same endpoint with returning visitors, whose leads match an
//	    existing contact,
//	(d) the capture endpoint of one server on PostgreSQL, new visitors,
//	(e) three servers on one PostgreSQL database, the connections spread
//	    over them, new visitors,
//	(f) the naive baseline on the same PostgreSQL: pgbench with as many
//	    clients, each transaction one single-row INSERT of a lead-sized
//	    row,
//	(g) pgbench again, each transaction the rows a new visitor's capture
//	    writes into leadwire's tables, without its reads and locks,
//
// each in a server process of its own, and prints for each requests/s,
// p50, p99 and max latency, the server's, the client's and the whole
// machine's CPU time per request and the ratios to the ceiling. The targets take turns in short
// rounds, so that a change in what else the machine runs weighs on all of
// them alike; the spread of the ratio over the rounds shows how much it
// did.
//
//	go run ./internal/loadtest [-c 64] [-d 10s] [-rounds 5] [-cpuprofile capture.pprof] [-postgres URL] [-only bf]
//
// -only runs some of the targets, named by their letters; the ceiling (a)
// always runs, as every ratio needs it.
//
// The PostgreSQL targets run in a schema of their own on the database
// -postgres names (LEADWIRE_TEST_POSTGRES, else the one on
// 127.0.0.1:5432), dropped at the end; -postgres "" leaves them out.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Each target is loaded warmUp before its first measured round (connections
// open, caches fill, the returning visitors are all sent once) and settle
// before each later one.
const (
	warmUp = time.Second
	settle = 250 * time.Millisecond
)

// Targets the capture endpoint should reach on every machine.
const (
	targetRatio    = 0.40 // new-visitor requests/s over the ceiling's
	targetP99Ratio = 2.0  // capture p99 over the ceiling's p99
)

func main() {
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 10*time.Second, "measuring time for each target, over all rounds")
	rounds := flag.Int("rounds", 5, "rounds the measuring time of each target is split into")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the capture server under new visitors (b), else of (d), else of the first server of (e), to this file")
	pgURL := flag.String("postgres", defaultPostgres(), "the PostgreSQL server of targets (d) to (f); empty leaves them out")
	only := flag.String("only", "abcdefg", "the targets to run, by letter; the ceiling (a) always runs")
	serve := flag.String("serve", "", "internal: run one target server (ceiling, capture or capture-postgres) instead of the load")
	db := flag.String("db", "", "internal: the database of a capture-postgres target")
	flag.Parse()
	if *conns < 1 || *rounds < 1 || *duration < time.Duration(*rounds)*time.Millisecond {
		log.Fatalf("-c and -rounds must be at least 1 and -d at least 1ms a round (got -c %d -rounds %d -d %s)", *conns, *rounds, *duration)
	}
	if *serve != "" {
		runTarget(*serve, *cpuProfile, *db)
		return
	}

	fmt.Printf("leadwire load test: %d connections, %s per target in %d rounds, %d-byte JSON leads, GOMAXPROCS=%d, %d CPUs\n",
		*conns, *duration, *rounds, len(leadBody(nil, 100_000)), runtime.GOMAXPROCS(0), runtime.NumCPU())
	// Each target runs in a process of its own, as a server does, so that
	// the load's goroutines and garbage do not share its scheduler, and its
	// CPU time is its own.
	want := func(letter string) bool { return strings.Contains(*only, letter) }
	runs := []*run{{name: "(a) decode-only handler (ceiling)", w: newVisitors, t: startTarget("ceiling", "", 1)}}
	var newVisitor, returning, pgOne, pgThree *run
	if want("b") {
		newVisitor = &run{name: "(b) capture, new visitor", w: newVisitors, t: startTarget("capture", *cpuProfile, 1), p99Target: true}
		runs = append(runs, newVisitor)
		*cpuProfile = ""
	}
	if want("c") {
		returning = &run{name: "(c) capture, returning visitor", w: returningVisitors, t: startTarget("capture", "", 1), p99Target: true}
		runs = append(runs, returning)
	}
	var bench, leadBench *pgbench
	if *pgURL != "" && (want("d") || want("e") || want("f") || want("g")) {
		one, three, drop := postgresDatabases(*pgURL)
		defer drop()
		if want("d") {
			pgOne = &run{name: "(d) PostgreSQL, 1 server, new visitor", w: newVisitors, t: startTarget("capture-postgres", *cpuProfile, 1, "-db", one)}
			runs = append(runs, pgOne)
			*cpuProfile = ""
		}
		if want("e") {
			pgThree = &run{name: "(e) PostgreSQL, 3 servers, new visitor", w: newVisitors, t: startTarget("capture-postgres", *cpuProfile, 3, "-db", three)}
			runs = append(runs, pgThree)
		}
		if want("f") {
			bench = newPgbench(*pgURL, *conns)
			defer bench.drop()
		}
		if want("g") {
			leadBench = newLeadPgbench(*pgURL, *conns)
			defer leadBench.drop()
		}
	}
	for i := range *rounds {
		pause := settle
		if i == 0 {
			pause = warmUp
		}
		for _, r := range runs {
			r.load(*conns, pause, *duration/time.Duration(*rounds))
			// What a server defers (indexing leads for search) it does
			// once the load stops; it must not run while the next target
			// is measured, which it would slow down.
			r.after += r.t.settle()
		}
		for _, b := range []*pgbench{bench, leadBench} {
			if b != nil {
				b.round(*duration / time.Duration(*rounds))
			}
		}
	}
	for _, r := range runs {
		r.serverCPU = r.t.stop()
	}
	if returning != nil && returning.warm < returningPool {
		log.Printf("warning: the warm-up sent %d leads, fewer than the %d returning visitors: some of (c) were new", returning.warm, returningPool)
	}
	report(runs, newVisitor)
	reportPostgres(pgOne, pgThree, bench, leadBench)
}

// A run is one target under one workload, over all rounds.
type run struct {
	name string
	w    workload
	t    *target
	// p99Target: its p99 is held to targetP99Ratio (the SQLite capture's).
	p99Target bool

	next       int64           // the number of the last lead sent
	warm       int64           // how many leads the first warm-up sent
	latencies  []time.Duration // of every measured request
	measured   time.Duration   // the measuring time of all rounds
	perRound   []float64       // requests/s in each round
	clientCPU  time.Duration   // this process's CPU time, while loading the target
	machineCPU time.Duration   // the machine's, all processes, while measuring
	serverCPU  time.Duration   // the target's CPU time
	after      time.Duration   // the part of it spent once each round's load stopped
}

// load posts the leads of r's workload to its target from conns
// connections for pause and then for d, and measures the latency of every
// request in that window and the load process's CPU time.
func (r *run) load(conns int, pause, d time.Duration) {
	posters := make([]*poster, conns)
	for i := range posters {
		p, err := dial(r.t.url(i))
		if err != nil {
			log.Fatal(err)
		}
		defer p.Close()
		posters[i] = p
	}
	var (
		seq       atomic.Int64
		measuring atomic.Bool
		stop      atomic.Bool
		mu        sync.Mutex
		wg        sync.WaitGroup
	)
	seq.Store(r.next)
	cpuBefore := cpuTime()
	measured := len(r.latencies)
	for i, p := range posters {
		url := r.t.url(i)
		wg.Go(func() {
			mine := make([]time.Duration, 0, 1<<12)
			for !stop.Load() {
				n := seq.Add(1)
				start := time.Now()
				status, err := p.post(r.w, n)
				if err != nil {
					log.Fatalf("%s: %v", url, err)
				}
				if status != 200 {
					log.Fatalf("%s answered %d", url, status)
				}
				if measuring.Load() {
					mine = append(mine, time.Since(start))
				}
			}
			mu.Lock()
			r.latencies = append(r.latencies, mine...)
			mu.Unlock()
		})
	}
	time.Sleep(pause)
	if r.next == 0 {
		r.warm = seq.Load()
	}
	busy := machineBusy()
	measuring.Store(true)
	time.Sleep(d)
	measuring.Store(false)
	r.machineCPU += machineBusy() - busy
	stop.Store(true)
	wg.Wait()
	r.clientCPU += cpuTime() - cpuBefore
	r.next = seq.Load()
	r.measured += d
	r.perRound = append(r.perRound, float64(len(r.latencies)-measured)/d.Seconds())
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		log.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// machineBusy is the CPU time the machine has spent, all its cores and
// processes (the database's too), from /proc/stat: all but idle and
// waiting for I/O.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		log.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var ticks int64
	for i, f := range fields[1:min(len(fields), 9)] {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil && i != 3 && i != 4 {
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// clockTicks is the unit of /proc/stat: USER_HZ, 100 a second on Linux.
const clockTicks = 100

// figures are what report prints of a run.
type figures struct {
	perSecond            float64
	p50, p99, max        time.Duration
	serverCPU, clientCPU time.Duration // per request sent, warm-up included
	machineCPU           time.Duration // per request measured
}

func (r *run) figures() figures {
	slices.Sort(r.latencies)
	at := func(q float64) time.Duration { return r.latencies[int(q*float64(len(r.latencies)-1))] }
	n := time.Duration(r.next)
	return figures{
		perSecond:  float64(len(r.latencies)) / r.measured.Seconds(),
		p50:        at(0.50),
		p99:        at(0.99),
		max:        r.latencies[len(r.latencies)-1],
		serverCPU:  r.serverCPU / n,
		clientCPU:  r.clientCPU / n,
		machineCPU: r.machineCPU / time.Duration(len(r.latencies)),
	}
}

// report prints the figures of every run, the ceiling's first, and
// whether the capture endpoint meets its targets; newVisitor is target
// (b), nil when it did not run.
func report(runs []*run, newVisitor *run) {
	ceiling := runs[0].figures()
	fmt.Printf("%-34s %10s %9s %9s %9s %11s %11s %12s %6s %6s\n",
		"target", "requests/s", "p50", "p99", "max", "server CPU", "client CPU", "machine CPU", "ratio", "p99 x")
	for _, r := range runs {
		f := r.figures()
		fmt.Printf("%-34s %10.0f %9s %9s %9s %11s %11s %12s %6.2f %6.2f\n", r.name, f.perSecond,
			f.p50.Round(10*time.Microsecond), f.p99.Round(10*time.Microsecond), f.max.Round(10*time.Microsecond),
			f.serverCPU.Round(100*time.Nanosecond), f.clientCPU.Round(100*time.Nanosecond), f.machineCPU.Round(time.Microsecond),
			f.perSecond/ceiling.perSecond, float64(f.p99)/float64(ceiling.p99))
	}
	fmt.Println("(CPU per request; machine CPU: every process of the machine, the database's too, while measuring; ratio: requests/s over the ceiling's; p99 x: p99 over the ceiling's p99)")
	for _, r := range runs[1:] {
		fmt.Printf("%s: %s of the server CPU per request was spent after the rounds (deferred search indexing)\n",
			r.name, (r.after / time.Duration(r.next)).Round(100*time.Nanosecond))
	}
	for _, r := range runs[1:] {
		ratios := r.ratios(runs[0])
		fmt.Printf("%s: ratio by round %.2f, median %.2f\n", r.name, ratios, median(ratios))
	}
	// The median of the rounds is what counts: a burst of other work on
	// the machine lowers one round of one target, not the median.
	if newVisitor != nil {
		ratio := median(newVisitor.ratios(runs[0]))
		fmt.Printf("new-visitor ratio (median of rounds) %.3f: %s (target >= %.2f)\n", ratio, verdict(ratio >= targetRatio), targetRatio)
	}
	for _, r := range runs {
		if !r.p99Target {
			continue
		}
		x := float64(r.figures().p99) / float64(ceiling.p99)
		fmt.Printf("%s: p99 %.2f x the ceiling's: %s (target <= %.0f x)\n", r.name, x, verdict(x <= targetP99Ratio), targetP99Ratio)
	}
}

// ratios are r's requests/s over the ceiling's, round by round.
func (r *run) ratios(ceiling *run) []float64 {
	ratios := make([]float64, len(r.perRound))
	for i, rate := range r.perRound {
		ratios[i] = rate / ceiling.perRound[i]
	}
	return ratios
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
