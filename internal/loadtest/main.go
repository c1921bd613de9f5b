// Command loadtest measures the capture endpoint against its ceiling: in
// one run, with one Go load client and one realistic payload, it loads
// (a) a handler that only decodes the JSON body and (b) the real capture
// endpoint over SQLite with full durability, and prints requests/s, p50
// and p99 latency of both and the ratio (b)/(a).
//
//	go run ./internal/loadtest [-c 64] [-d 10s]
package main

import (
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
	`"phone_number":"(214) 555-%04d","tag":["buyer","website"],"lead_source":"Listing page",` +
	`"note":"Is the open house on Saturday still on? We are pre-approved.",` +
	`"referer_url":"https://homes.example.com/listings/1841395151?rechat_ad_campaign_id=spring",` +
	`"listing_id":"1841395151","mlsid":"NTREIS","source_type":"Website","ad_campaign_id":"spring",` +
	`"assignees":[{"email":"agent@homes.example.com","mlsid":"0512345"}],` +
	`"message":"Please call in the evening","preferred_time":"evening","budget":"650000"}`

// repeatEvery makes one lead in this many come from a returning visitor,
// so contact matching finds existing contacts as well as creating new ones.
const repeatEvery = 5

type result struct {
	perSecond     float64
	p50, p99, max time.Duration
}

func main() {
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 10*time.Second, "measuring time for each target")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the capture run (b) to this file")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))

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

	ceiling := listen(http.HandlerFunc(decodeOnly))
	real := listen(server.New(server.Config{Leads: store, Channels: store, DemoChannelID: ch.ID}))
	path := "/leads/channels/" + ch.ID + "/webhook"

	fmt.Printf("leadwire load test: %d connections, %s per target, %d-byte JSON lead, GOMAXPROCS=%d\n",
		*conns, *duration, len(fmt.Sprintf(payload, "x@example.com", 0)), runtime.GOMAXPROCS(0))
	a := load(ceiling+path, *conns, *duration)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	b := load(real+path, *conns, *duration)
	pprof.StopCPUProfile()
	fmt.Printf("%-34s %12s %10s %10s %10s\n", "target", "requests/s", "p50", "p99", "max")
	for _, r := range []struct {
		name string
		res  result
	}{{"(a) decode-only handler (ceiling)", a}, {"(b) capture, durable on SQLite", b}} {
		fmt.Printf("%-34s %12.0f %10s %10s %10s\n", r.name, r.res.perSecond,
			r.res.p50.Round(10*time.Microsecond), r.res.p99.Round(10*time.Microsecond), r.res.max.Round(10*time.Microsecond))
	}
	fmt.Printf("ratio (b)/(a): %.2f   (target >= 0.40, p99 of (b) <= 10ms)\n", b.perSecond/a.perSecond)
	if err := store.Check(context.Background()); err != nil {
		log.Fatalf("integrity check after the load: %v", err)
	}
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

func listen(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	return "http://" + ln.Addr().String()
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for !stop.Load() {
				n := seq.Add(1)
				visitor := n
				if n%repeatEvery == 0 {
					visitor = n / repeatEvery // a returning visitor
				}
				body := fmt.Sprintf(payload, fmt.Sprintf("visitor-%d@example.com", visitor), visitor%10000)
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
		}()
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
		perSecond: float64(len(latencies)) / d.Seconds(),
		p50:       at(0.50),
		p99:       at(0.99),
		max:       latencies[len(latencies)-1],
	}
}
