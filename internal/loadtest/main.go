// Command loadtest measures the capture endpoint against its ceiling. In
// one run, with one lean HTTP/1.1 client, it loads
//
//	(a) a handler that only decodes the JSON body (the ceiling),
//	(b) the real capture endpoint over SQLite with full durability, each
//	    lead from a new visitor (new email and phone), as most traffic is,
//	(c) the same endpoint with returning visitors, whose leads match an
//	    existing contact,
//
// each in a server process of its own, and prints for each requests/s,
// p50, p99 and max latency, the server's and the client's CPU time per
// request and the ratios to the ceiling.
//
//	go run ./internal/loadtest [-c 64] [-d 10s] [-cpuprofile capture.pprof]
package main

import (
	"flag"
	"fmt"
	"log"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// warmUp is how long each target is loaded before measuring: connections
// open, caches fill, and the returning visitors are all sent once.
const warmUp = time.Second

// Targets the capture endpoint should reach on every machine.
const (
	targetRatio    = 0.40 // new-visitor requests/s over the ceiling's
	targetP99Ratio = 2.0  // capture p99 over the ceiling's p99
)

type result struct {
	name                 string
	warm, served         int64         // requests answered in the warm-up, and in all
	serverCPU, clientCPU time.Duration // CPU time per request served
	perSecond            float64       // in the measured window
	p50, p99, max        time.Duration
}

func main() {
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 10*time.Second, "measuring time for each target")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the capture server under new visitors (b) to this file")
	serve := flag.String("serve", "", "internal: run one target server (ceiling or capture) instead of the load")
	flag.Parse()
	if *serve != "" {
		runTarget(*serve, *cpuProfile)
		return
	}

	fmt.Printf("leadwire load test: %d connections, %s per target after %s of warm-up, %d-byte JSON leads, GOMAXPROCS=%d, %d CPUs\n",
		*conns, *duration, warmUp, len(leadBody(nil, 100_000)), runtime.GOMAXPROCS(0), runtime.NumCPU())
	runs := []struct {
		name, server, profile string
		w                     workload
	}{
		{"(a) decode-only handler (ceiling)", "ceiling", "", newVisitors},
		{"(b) capture, new visitor", "capture", *cpuProfile, newVisitors},
		{"(c) capture, returning visitor", "capture", "", returningVisitors},
	}
	results := make([]result, len(runs))
	for i, r := range runs {
		// Each target runs in a process of its own, as a server does, so
		// that the load's goroutines and garbage do not share its
		// scheduler, and its CPU time is its own.
		t := startTarget(r.server, r.profile)
		results[i] = load(t.url, r.w, *conns, *duration)
		results[i].name = r.name
		results[i].serverCPU = t.stop() / time.Duration(results[i].served)
	}
	if warm := results[2].warm; warm < returningPool {
		log.Printf("warning: the warm-up sent %d leads, fewer than the %d returning visitors: some of (c) were new", warm, returningPool)
	}
	report(results)
}

// report prints the results, the ceiling first, and whether the capture
// endpoint meets its targets.
func report(results []result) {
	ceiling := results[0]
	fmt.Printf("%-34s %10s %9s %9s %9s %11s %11s %6s %6s\n",
		"target", "requests/s", "p50", "p99", "max", "server CPU", "client CPU", "ratio", "p99 x")
	for _, r := range results {
		fmt.Printf("%-34s %10.0f %9s %9s %9s %11s %11s %6.2f %6.2f\n", r.name, r.perSecond,
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond),
			r.serverCPU.Round(100*time.Nanosecond), r.clientCPU.Round(100*time.Nanosecond),
			r.perSecond/ceiling.perSecond, float64(r.p99)/float64(ceiling.p99))
	}
	fmt.Println("(CPU columns are per request; ratio is requests/s over the ceiling's, p99 x the p99 over the ceiling's)")
	ratio := results[1].perSecond / ceiling.perSecond
	fmt.Printf("new-visitor ratio %.2f: %s (target >= %.2f)\n", ratio, verdict(ratio >= targetRatio), targetRatio)
	for _, r := range results[1:] {
		x := float64(r.p99) / float64(ceiling.p99)
		fmt.Printf("%s p99 %.1f x the ceiling's: %s (target <= %.0f x)\n", r.name, x, verdict(x <= targetP99Ratio), targetP99Ratio)
	}
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// load posts the leads of w to url from conns connections for the warm-up
// and then for d, and measures the latency of every request in the
// measured window and the load process's CPU time per request.
func load(url string, w workload, conns int, d time.Duration) result {
	posters := make([]*poster, conns)
	for i := range posters {
		p, err := dial(url)
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
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	cpuBefore := cpuTime()
	for _, p := range posters {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 1<<12)
			for !stop.Load() {
				n := seq.Add(1)
				start := time.Now()
				status, err := p.post(w, n)
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
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	time.Sleep(warmUp)
	warm := seq.Load()
	measuring.Store(true)
	time.Sleep(d)
	measuring.Store(false)
	stop.Store(true)
	wg.Wait()
	served, clientCPU := seq.Load(), cpuTime()-cpuBefore

	slices.Sort(latencies)
	at := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	return result{
		warm:      warm,
		served:    served,
		clientCPU: clientCPU / time.Duration(served),
		perSecond: float64(len(latencies)) / d.Seconds(),
		p50:       at(0.50),
		p99:       at(0.99),
		max:       latencies[len(latencies)-1],
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		log.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
