package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/postgres"
)

// minPostgresRatio is what one server on PostgreSQL must store per second
// over the pgbench baseline: it batches the commits pgbench makes one by
// one.
const minPostgresRatio = 1.0

// defaultPostgres is the server of the PostgreSQL targets when -postgres
// is not given: the tests' one.
func defaultPostgres() string {
	if u := os.Getenv("LEADWIRE_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// postgresDatabases creates two empty schemas on the server at base, one
// for target (d) and one for (e), with their tables and default channel,
// and returns their URLs and a function that drops both.
func postgresDatabases(base string) (one, three string, drop func()) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		log.Fatalf("-postgres %s: %v", base, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	var schemas, urls []string
	for _, n := range []string{"one", "three"} {
		schema := "lw_load_" + n + "_" + hex.EncodeToString(b)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			log.Fatal(err)
		}
		u, err := pgtest.WithSearchPath(base, schema)
		if err != nil {
			log.Fatal(err)
		}
		// Created here, so the three servers of (e) find one channel.
		s, err := postgres.Open(ctx, u)
		if err != nil {
			log.Fatal(err)
		}
		if _, _, err := leadwire.EnsureDefaultChannel(ctx, s); err != nil {
			log.Fatal(err)
		}
		s.Close()
		schemas, urls = append(schemas, schema), append(urls, u)
	}
	return urls[0], urls[1], func() {
		for _, schema := range schemas {
			if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				log.Print(err)
			}
		}
		conn.Close(ctx)
	}
}

// pgbench is the baseline: PostgreSQL's own pgbench, with as many clients
// as the load has connections, each transaction one INSERT of a row the
// size of a stored lead, committed on its own.
type pgbench struct {
	base, table, script string
	clients             int
	perRound            []float64     // transactions/s in each round
	transactions        int64         // in all rounds
	machineCPU          time.Duration // the machine's while pgbench ran, connecting included
}

func newPgbench(base string, clients int) *pgbench {
	if _, err := exec.LookPath("pgbench"); err != nil {
		log.Fatalf("the PostgreSQL baseline needs pgbench (Debian's postgresql-client): %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	p := &pgbench{base: base, table: "lw_pgbench_" + hex.EncodeToString(b), clients: clients}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)
	// A lead as the capture stores it: ids, times and both payloads.
	if _, err := conn.Exec(ctx, "CREATE TABLE "+p.table+` (id uuid PRIMARY KEY, channel_id uuid NOT NULL,
		created_at bigint NOT NULL, parsed_payload text NOT NULL, raw_payload text NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	lead := strings.ReplaceAll(string(leadBody(nil, 1)), "'", "''")
	f, err := os.CreateTemp("", "leadwire-pgbench-*.sql")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(f, "INSERT INTO %s VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', %d, '%s', '%s');\n",
		p.table, time.Now().UnixMilli(), lead, lead)
	f.Close()
	p.script = f.Name()
	return p
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// minPgbenchRound is the shortest pgbench run: its 64 connections take
// seconds to open on a loaded 2-core machine, and a run that ends before
// they are open counts no transaction at all.
const minPgbenchRound = 5 * time.Second

// round runs pgbench for d (at least minPgbenchRound) and records its
// transactions per second, not counting the time its connections took to
// open.
func (p *pgbench) round(d time.Duration) {
	secs := int(max(d, minPgbenchRound).Round(time.Second).Seconds())
	busy := machineBusy()
	out, err := exec.Command("pgbench", "-n", "-c", strconv.Itoa(p.clients), "-j", "2", "-T", strconv.Itoa(secs),
		"-f", p.script, p.base).CombinedOutput()
	busy = machineBusy() - busy
	m, n := tpsLine.FindSubmatch(out), transactionsLine.FindSubmatch(out)
	if err != nil || m == nil || n == nil {
		log.Printf("pgbench measured nothing this round (%v):\n%s", err, out)
		p.perRound = append(p.perRound, 0)
		return
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	transactions, _ := strconv.ParseInt(string(n[1]), 10, 64)
	p.perRound = append(p.perRound, tps)
	p.transactions += transactions
	p.machineCPU += busy
}

var transactionsLine = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)

func (p *pgbench) drop() {
	os.Remove(p.script)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.base)
	if err != nil {
		log.Print(err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE "+p.table); err != nil {
		log.Print(err)
	}
}

// reportPostgres prints the baseline and the PostgreSQL targets' ratios to
// it, round by round, and whether they meet the targets, as far as the
// targets ran: one, three or p is nil when it did not.
func reportPostgres(one, three *run, p *pgbench) {
	if p != nil {
		fmt.Printf("(f) pgbench baseline, %d clients, one INSERT a transaction: %.0f transactions/s by round %.0f, median %.0f\n",
			p.clients, median(p.perRound), p.perRound, median(p.perRound))
		if p.transactions > 0 {
			fmt.Printf("(f) pgbench baseline: %s of machine CPU a transaction, its connections' start included\n",
				(p.machineCPU / time.Duration(p.transactions)).Round(time.Microsecond))
		}
		for _, r := range []*run{one, three} {
			if r != nil {
				fmt.Printf("%s over pgbench: by round %.2f, median %.2f\n", r.name, r.over(p.perRound), median(r.over(p.perRound)))
			}
		}
		if one != nil {
			x := median(one.over(p.perRound))
			fmt.Printf("1 server on PostgreSQL over pgbench (median of rounds) %.2f: %s (target >= %.1f)\n", x, verdict(x >= minPostgresRatio), minPostgresRatio)
		}
	}
	if one != nil && three != nil {
		y := median(three.perRound) / median(one.perRound)
		fmt.Printf("3 servers over 1 server on PostgreSQL %.2f: %s (target >= 1.0)\n", y, verdict(y >= 1))
	}
}

// over returns r's requests/s over base's, round by round.
func (r *run) over(base []float64) []float64 {
	out := make([]float64, len(r.perRound))
	for i := range out {
		out[i] = r.perRound[i] / base[i]
	}
	return out
}
