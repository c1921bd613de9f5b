package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	neturl "net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/internal/search"
	"github.com/leadwire/leadwire/postgres"
	"github.com/leadwire/leadwire/wire"
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
	one, dropOne := leadwireSchema(base, "lw_load_one_")
	three, dropThree := leadwireSchema(base, "lw_load_three_")
	return one, three, func() {
		dropOne()
		dropThree()
	}
}

// leadwireSchema creates a schema named prefix and random letters on the
// server at base, with leadwire's tables and its default channel, and
// returns its URL and a function that drops it.
func leadwireSchema(base, prefix string) (url string, drop func()) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		log.Fatalf("-postgres %s: %v", base, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		log.Fatal(err)
	}
	if url, err = pgtest.WithSearchPath(base, schema); err != nil {
		log.Fatal(err)
	}
	// Created here, so the three servers of (e) find one channel.
	s, err := postgres.Open(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := leadwire.EnsureDefaultChannel(ctx, s); err != nil {
		log.Fatal(err)
	}
	s.Close()
	return url, func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			log.Print(err)
		}
		conn.Close(ctx)
	}
}

// pgbench is a baseline: PostgreSQL's own pgbench, with as many clients
// as the load has connections, each transaction committed on its own.
type pgbench struct {
	name         string // what one transaction does
	mode         string // pgbench's query mode: simple, or prepared (planned once)
	base, script string
	clients      int
	drop         func()        // drops what it made
	perRound     []float64     // transactions/s in each round
	transactions int64         // in all rounds
	machineCPU   time.Duration // the machine's while pgbench ran, connecting included
}

// newPgbench is the naive baseline (f): each transaction one INSERT of a
// row the size of a stored lead: ids, time and both payloads.
func newPgbench(base string, clients int) *pgbench {
	b := make([]byte, 6)
	rand.Read(b)
	table := "lw_pgbench_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+` (id uuid PRIMARY KEY, channel_id uuid NOT NULL,
		created_at bigint NOT NULL, parsed_payload text NOT NULL, raw_payload text NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	lead := quote(string(leadBody(nil, 1)))
	return newScript(base, clients, "one INSERT a transaction", "simple", func() {
		if _, err := conn.Exec(ctx, "DROP TABLE "+table); err != nil {
			log.Print(err)
		}
		conn.Close(ctx)
	}, fmt.Sprintf("INSERT INTO %s VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', %d, %s, %s);\n",
		table, time.Now().UnixMilli(), lead, lead))
}

// newLeadPgbench is baseline (g): each transaction writes what the capture
// of a new visitor writes into leadwire's own tables (a contact, its two
// match keys, an idempotency key and the lead with its search words and
// assignee), without the capture's reads and locks.
func newLeadPgbench(base string, clients int) *pgbench {
	url, drop := leadwireSchema(base, "lw_pgbench_lead_")
	u, err := neturl.Parse(url)
	if err != nil {
		log.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	leads, err := wire.DecodeLeads("application/json", leadBody(nil, 1), 1)
	if err != nil {
		log.Fatal(err)
	}
	p := &leads[0].Payload
	parsed, err := json.Marshal(p)
	if err != nil {
		log.Fatal(err)
	}
	words, raw := quote(strings.Join(search.LeadWords(p), " ")), quote(string(leadBody(nil, 1)))
	// Prepared: its statement is planned once, as the capture's are.
	return newScript(base, clients, "a new visitor's rows a transaction", "prepared", drop, fmt.Sprintf(`\set n random(1, 2000000000)
WITH c AS (INSERT INTO %[1]s.contacts (id, brand, first_name, last_name, email, phone_number, created_at, updated_at)
		VALUES (gen_random_uuid(), '', 'Jordan', 'Rivera', 'visitor-' || :n || '@example.com', '+1' || (2000000000::bigint + :n), %[2]d, %[2]d)
		RETURNING id, email, phone_number),
	k AS (INSERT INTO %[1]s.contact_keys (contact_id, kind, brand, key, updated_at)
		SELECT id, 'email', '', email, %[2]d FROM c UNION ALL SELECT id, 'phone', '', phone_number, %[2]d FROM c),
	i AS (INSERT INTO %[1]s.idempotency_keys (channel_id, key, request_hash, capture_id, created_at)
		VALUES ('00000000-0000-0000-0000-000000000001', gen_random_uuid()::text, 'hash', gen_random_uuid(), %[2]d))
INSERT INTO %[1]s.leads (id, channel_id, contact_id, capture_id, created_at, parsed_payload, raw_payload, assignees, search)
	SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', c.id, gen_random_uuid(), %[2]d, %[3]s, %[4]s,
		ARRAY['agent@homes.example.com'], array_to_tsvector(string_to_array(%[5]s, ' ')) FROM c;
`, schema, time.Now().UnixMilli(), quote(string(parsed)), raw, words))
}

// newScript writes script to a file for pgbench.
func newScript(base string, clients int, name, mode string, drop func(), script string) *pgbench {
	if _, err := exec.LookPath("pgbench"); err != nil {
		log.Fatalf("the PostgreSQL baselines need pgbench (Debian's postgresql-client): %v", err)
	}
	f, err := os.CreateTemp("", "leadwire-pgbench-*.sql")
	if err != nil {
		log.Fatal(err)
	}
	f.WriteString(script)
	f.Close()
	return &pgbench{name: name, mode: mode, base: base, script: f.Name(), clients: clients, drop: func() {
		os.Remove(f.Name())
		drop()
	}}
}

// quote is s as an SQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
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
	out, err := exec.Command("pgbench", "-n", "-M", p.mode, "-c", strconv.Itoa(p.clients), "-j", "2", "-T", strconv.Itoa(secs),
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

// reportPostgres prints the baselines and the PostgreSQL targets' ratios
// to them, round by round, and whether they meet the targets, as far as
// the targets ran: one, three or a baseline is nil when it did not. The
// target is over the naive baseline, f; g shows what batching does to the
// same writes as a capture's.
func reportPostgres(one, three *run, f, g *pgbench) {
	for _, p := range []*pgbench{f, g} {
		if p == nil {
			continue
		}
		fmt.Printf("%s, %d clients, %s: %.0f transactions/s by round %.0f, median %.0f\n",
			p.letter(f), p.clients, p.name, median(p.perRound), p.perRound, median(p.perRound))
		if p.transactions > 0 {
			fmt.Printf("%s: %s of machine CPU a transaction, its connections' start included\n",
				p.letter(f), (p.machineCPU / time.Duration(p.transactions)).Round(time.Microsecond))
		}
		for _, r := range []*run{one, three} {
			if r != nil {
				fmt.Printf("%s over %s: by round %.2f, median %.2f\n", r.name, p.letter(f), r.over(p.perRound), median(r.over(p.perRound)))
			}
		}
	}
	if one != nil && f != nil {
		x := median(one.over(f.perRound))
		fmt.Printf("1 server on PostgreSQL over pgbench (f) (median of rounds) %.2f: %s (target >= %.1f)\n", x, verdict(x >= minPostgresRatio), minPostgresRatio)
	}
	if one != nil && three != nil {
		y := median(three.perRound) / median(one.perRound)
		fmt.Printf("3 servers over 1 server on PostgreSQL %.2f: %s (target >= 1.0)\n", y, verdict(y >= 1))
	}
}

// letter names p in the report: (f) the naive baseline, else (g).
func (p *pgbench) letter(naive *pgbench) string {
	if p == naive {
		return "(f) pgbench"
	}
	return "(g) pgbench"
}

// over returns r's requests/s over base's, round by round.
func (r *run) over(base []float64) []float64 {
	out := make([]float64, len(r.perRound))
	for i := range out {
		out[i] = r.perRound[i] / base[i]
	}
	return out
}
