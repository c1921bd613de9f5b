package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/postgres"
	"github.com/leadwire/leadwire/screen"
	"github.com/leadwire/leadwire/server"
	"github.com/leadwire/leadwire/sqlite"
)

// target is one or more server processes under load, sharing what they
// store; the load's connections are spread over them.
type target struct {
	procs []*exec.Cmd
	urls  []string // where to post leads, one per process
}

// url returns the URL the i-th connection posts to.
func (t *target) url(i int) string { return t.urls[i%len(t.urls)] }

// cpu returns the CPU time the target's processes have used so far, read
// from /proc in clock ticks (10 ms).
func (t *target) cpu() time.Duration {
	var total time.Duration
	for _, cmd := range t.procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			log.Fatal(err)
		}
		// The fields after the command name, which is in parentheses: utime
		// and stime are the 14th and 15th of the line.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return total
}

// settle waits until the target has stopped working (no more than a clock
// tick of CPU in 200 ms, at most 30 s) and returns the CPU time it used
// meanwhile.
func (t *target) settle() time.Duration {
	start := t.cpu()
	last := start
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		now := t.cpu()
		if now-last <= 10*time.Millisecond {
			return now - start
		}
		last = now
	}
	return last - start
}

// startTarget runs this program again as the named server, n times with
// the arguments args, and waits for the URL each prints.
func startTarget(name, cpuProfile string, n int, args ...string) *target {
	t := &target{}
	for range n {
		cmd := exec.Command(os.Args[0], append([]string{"-serve", name, "-cpuprofile", cpuProfile}, args...)...)
		cmd.Stderr = os.Stderr
		// A load that dies (log.Fatal) takes its servers along.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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
		t.procs, t.urls = append(t.procs, cmd), append(t.urls, strings.TrimSpace(url))
		cpuProfile = "" // the first process's only
	}
	return t
}

// stop asks the servers to finish (they then clean up), waits, and returns
// the CPU time they used.
func (t *target) stop() time.Duration {
	var total time.Duration
	for _, cmd := range t.procs {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			log.Fatalf("%s: %v", cmd.Args, err)
		}
		total += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return total
}

// runTarget serves one target until SIGINT and prints its capture URL:
// the ceiling, or capture on a new SQLite file, or capture-postgres on the
// PostgreSQL database db.
func runTarget(name, cpuProfile, db string) {
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
	var store interface {
		leadwire.LeadService
		leadwire.ChannelService
		Close() error
	}
	if name == "capture-postgres" {
		pg, err := postgres.Open(context.Background(), db)
		if err != nil {
			log.Fatal(err)
		}
		store = pg
	} else {
		dir, err := os.MkdirTemp("", "leadwire-load")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		lite, err := sqlite.Open(filepath.Join(dir, "load.db"))
		if err != nil {
			log.Fatal(err)
		}
		// As serve does: this process is the file's only writer.
		if err := lite.ClaimWriter(); err != nil {
			log.Fatal(err)
		}
		store = lite
	}
	defer store.Close()
	ch, _, err := leadwire.EnsureDefaultChannel(context.Background(), store)
	if err != nil {
		log.Fatal(err)
	}
	// Captures are screened for spam as on any server; the channel's
	// flood limit, which the load exceeds by design, is off, as a site
	// expecting this many leads would set it.
	if _, err := store.UpdateChannel(context.Background(), ch.ID, leadwire.ChannelUpdate{
		Screening: &leadwire.ScreeningSettings{Disabled: []string{screen.ReasonChannelRate}}}); err != nil {
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
	go http.Serve(ln, server.New(server.Config{Leads: store, Channels: store, DemoChannelID: ch.ID, Screener: screen.New(screen.Config{})}))
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
