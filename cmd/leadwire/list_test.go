package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/bulk"
	"github.com/leadwire/leadwire/sqlite"
	"github.com/leadwire/leadwire/wire"
)

// TestLeadsListOutput: leads list writes its leads as it reads them, and
// what it writes is what listing them all at once wrote: printJSON of the
// whole array, and one aligned table.
func TestLeadsListOutput(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "leads.db")
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ch := &leadwire.Channel{Name: "Site"}
	if err := store.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	emptyCh := &leadwire.Channel{Name: "Quiet"}
	if err := store.CreateChannel(ctx, emptyCh); err != nil {
		t.Fatal(err)
	}
	for i, p := range []leadwire.Payload{
		{FirstName: "Ada", Email: "ada@example.com", Note: "<b>Saturday</b> & Sunday"},
		{FirstName: "Bob", LastName: "Lee", PhoneNumber: "+12145550100", Tag: []string{"buyer"}},
		{Email: "x@example.com", Extra: map[string]any{"budget": "500k"}},
	} {
		leads, _, err := store.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID,
			Leads: []*leadwire.Lead{{Payload: p, Raw: []byte(fmt.Sprintf(`{"n": %d, "html": "<i>"}`, i))}}})
		if err != nil {
			t.Fatal(err)
		}
		for range i {
			if err := store.AddActivity(ctx, &leadwire.Activity{LeadID: leads[0].ID, Action: leadwire.ActionViewedListing,
				Listing: &leadwire.Listing{MLSNumber: "42"}, Notes: "from <email>"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	leads, err := store.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// What the listing wrote when it held every lead at once.
	var wantJSON, wantTable bytes.Buffer
	docs := make([]listedLead, len(leads))
	for i, l := range leads {
		doc, err := wire.NewLeadDoc(l)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = listedLead{LeadDoc: doc, Timeline: doc.Timeline}
		if docs[i].Timeline == nil {
			docs[i].Timeline = []wire.ActivityDoc{}
		}
	}
	if err := printJSON(&wantJSON, docs); err != nil {
		t.Fatal(err)
	}
	tw := tabwriter.NewWriter(&wantTable, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tID\tNAME\tEMAIL\tPHONE\tADDRESS\tSOURCE\tACTIVITIES")
	for _, l := range leads {
		p := l.Payload
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", l.CreatedAt.Local().Format(time.DateTime), l.ID,
			strings.TrimSpace(p.FirstName+" "+p.LastName), p.Email, p.PhoneNumber, p.Address.Line(), p.SourceType,
			len(l.Timeline))
	}
	tw.Flush()

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"json", []string{"--json"}, wantJSON.String()},
		{"table", nil, wantTable.String()},
		{"json of no leads", []string{"--json", "--channel", emptyCh.ID}, "[]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"leads", "list", "--db", db}, tc.args...)...)
			if code != 0 || out != tc.want {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, tc.want)
			}
		})
	}
}

// TestLeadsListMemoryIsFlat lists every lead of a database of 10,000 and
// of one of 100,000: the process's peak memory must stay about the same,
// where holding every lead at once took ten times more.
func TestLeadsListMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a database of 100,000 leads")
	}
	peak := func(leads int) (rssKB int64) {
		db := filepath.Join(t.TempDir(), "leads.db")
		store, err := sqlite.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := bulk.Fill(context.Background(), db, bulk.Options{Contacts: 1000, Leads: leads, Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(t.TempDir(), "leads.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd := exec.Command(binary, "leads", "list", "--db", db, "--limit", "0", "--json")
		var errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The kernel's peak for the process as the parent sees it
		// (rusage) counts the test's own memory from before the exec, so
		// read the command's own while it runs.
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for running := true; running; {
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("leads list: %v %s", err, errOut.Bytes())
				}
				running = false
			case <-time.After(5 * time.Millisecond):
				rssKB = max(rssKB, peakKB(cmd.Process.Pid))
			}
		}
		if _, err := out.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		listed := 0
		for sc := bufio.NewScanner(out); sc.Scan(); {
			if sc.Text() == "  {" {
				listed++
			}
		}
		if listed != leads {
			t.Fatalf("listed %d leads, want %d", listed, leads)
		}
		return rssKB
	}
	small, large := peak(10_000), peak(100_000)
	t.Logf("peak memory listing 10,000 leads: %d MB, 100,000 leads: %d MB", small>>10, large>>10)
	if large > 2*small {
		t.Errorf("listing ten times more leads took %d KB instead of %d KB", large, small)
	}
}

// peakKB returns the peak resident memory of process pid so far (VmHWM),
// 0 once it has exited.
func peakKB(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(rest, "%d", &kb)
			return kb
		}
	}
	return 0
}
