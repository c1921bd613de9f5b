// Command loadtest measures the capture endpoint against its ceiling: in
// one run, with one Go load client and one realistic payload, it loads
// (a) a handler that only decodes the JSON body and (b) the real capture
// endpoint over SQLite with full durability, and prints requests/s, p50
// and p99 latency of both and the ratio (b)/(a).
//
//	go run ./internal/loadtest [-c 64] [-d 10s]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/server"
	"github.com/leadwire/leadwire/sqlite"
)

// payload is what a listing page's contact form typically sends.
const payload = `{"first_name":"Jordan","last_name":"Rivera","email":"%s",` +
	`"phone_number":"(214) %s","tag":["buyer","website"],"lead_source":"Listing page",` +
	`"note":"Is the open house on Saturday still on? We are pre-approved.",` +
	`"referer_url":"https://homes.example.com/listings/1841395151?rechat_ad_campaign_id=spring",` +
	`"listing_id":"1841395151","mlsid":"NTREIS","source_type":"Website","ad_campaign_id":"spring",` +
	`"assignees":[{"email":"agent@homes.example.com","mlsid":"0512345"}],` +
	`"message":"Please call in the evening","preferred_time":"evening","budget":"650000"}`

// repeatEvery makes one lead in this many come from a returning visitor,
// so contact matching finds existing contacts as well as creating new ones.
const repeatEvery = 5

// phoneOf gives each visitor a phone number of their own, as real
// visitors have: a shared number would merge unrelated people's contacts.
func phoneOf(visitor int64) string {
	return fmt.Sprintf("%03d-%04d", 200+visitor/10000%800, visitor%10000)
}

// leadBody is the n-th lead the load client sends.
func leadBody(n int64) string {
	visitor := n
	if n%repeatEvery == 0 {
		visitor = n / repeatEvery // a returning visitor
	}
	return fmt.Sprintf(payload, fmt.Sprintf("visitor-%d@example.com", visitor), phoneOf(visitor))
}

type result struct {
	served        int           // requests answered, warm-up included
	serverCPU     time.Duration // the server's CPU time per request served
	perSecond     float64
	p50, p99, max time.Duration
}

func main() {
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 10*time.Second, "measuring time for each target")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the capture server (b) to this file")
	serve := flag.String("serve", "", "internal: run one target server (ceiling or capture) instead of the load")
	flag.Parse()
	if *serve != "" {
		runTarget(*serve, *cpuProfile)
		return
	}

	// Each target runs in a process of its own, as a server does, so the
	// load client's goroutines and garbage do not share its scheduler.
	ceiling := startTarget("ceiling", "")
	capture := startTarget("capture", *cpuProfile)

	fmt.Printf("leadwire load test: %d connections, %s per target, %d-byte JSON lead, GOMAXPROCS=%d, %d CPUs\n",
		*conns, *duration, len(leadBody(100_000)), runtime.GOMAXPROCS(0), runtime.NumCPU())
	a := load(ceiling.url, *conns, *duration)
	b := load(capture.url, *conns, *duration)
	a.serverCPU = ceiling.stop() / time.Duration(a.served)
	b.serverCPU = capture.stop() / time.Duration(b.served)
	fmt.Printf("%-34s %12s %10s %10s %10s %16s\n", "target", "requests/s", "p50", "p99", "max", "server CPU/req")
	for _, r := range []struct {
		name string
		res  result
	}{{"(a) decode-only handler (ceiling)", a}, {"(b) capture, durable on SQLite", b}} {
		fmt.Printf("%-34s %12.0f %10s %10s %10s %16s\n", r.name, r.res.perSecond,
			r.res.p50.Round(10*time.Microsecond), r.res.p99.Round(10*time.Microsecond),
			r.res.max.Round(10*time.Microsecond), r.res.serverCPU.Round(100*time.Nanosecond))
	}
	fmt.Printf("ratio (b)/(a): %.2f   (target >= 0.40, p99 of (b) <= 10ms)\n", b.perSecond/a.perSecond)
}

// target is a server process under load.
type target struct {
	cmd *exec.Cmd
	url string // where to post leads
}

// startTarget runs this program again as the named server and waits for
// the URL it prints.
func startTarget(name, cpuProfile string) *target {
	cmd := exec.Command(os.Args[0], "-serve", name, "-cpuprofile", cpuProfile)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	url, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatalf("%s server: %v", name, err)
	}
	return &target{cmd: cmd, url: strings.TrimSpace(url)}
}

// stop asks the server to finish (it then cleans up), waits, and returns
// the CPU time it used.
func (t *target) stop() time.Duration {
	t.cmd.Process.Signal(os.Interrupt)
	if err := t.cmd.Wait(); err != nil {
		log.Fatalf("%s: %v", t.cmd.Args, err)
	}
	return t.cmd.ProcessState.UserTime() + t.cmd.ProcessState.SystemTime()
}

// runTarget serves one target until SIGINT and prints its capture URL.
func runTarget(name, cpuProfile string) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)

	if name == "ceiling" {
		go http.Serve(ln, http.HandlerFunc(decodeOnly))
		fmt.Println(base + "/leads/channels/00000000-0000-0000-0000-000000000000/webhook")
		<-stop
		return
	}
	dir, err := os.MkdirTemp("", "leadwire-load")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(filepath.Join(dir, "load.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ch, _, err := leadwire.EnsureDefaultChannel(context.Background(), store)
	if err != nil {
		log.Fatal(err)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	go http.Serve(ln, server.New(server.Config{Leads: store, Channels: store, DemoChannelID: ch.ID}))
	fmt.Println(base + "/leads/channels/" + ch.ID + "/webhook")
	<-stop
}

// decodeOnly is the ceiling: it reads and decodes the body, and answers
// like the API would, without storing anything.
func decodeOnly(w http.ResponseWriter, r *http.Request) {
	var v map[string]any
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"code":"OK","data":{"id":"00000000-0000-0000-0000-000000000000"}}`)
}

// load posts leads to url from conns connections for a warm-up second and
// then for d, and measures the latency of every request in the measured
// window.
func load(url string, conns int, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var (
		seq       atomic.Int64
		measuring atomic.Bool
		stop      atomic.Bool
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			for !stop.Load() {
				n := seq.Add(1)
				body := leadBody(n)
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("load-%d", n))
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					log.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					log.Fatalf("%s answered %d", url, res.StatusCode)
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
	time.Sleep(time.Second)
	measuring.Store(true)
	time.Sleep(d)
	measuring.Store(false)
	stop.Store(true)
	wg.Wait()
	client.CloseIdleConnections()

	slices.Sort(latencies)
	at := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	return result{
		served:    int(seq.Load()),
		perSecond: float64(len(latencies)) / d.Seconds(),
		p50:       at(0.50),
		p99:       at(0.99),
		max:       latencies[len(latencies)-1],
	}
}
