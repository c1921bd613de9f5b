package wire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/sqlite"
	"github.com/leadwire/leadwire/wire"
)

// TestEverySeedReadsBack stores every lead and activity the decoders
// accept among the fuzz seeds and corpus in a real SQLite file, and reads
// each back without error and equal to what was stored: nothing a client
// may send can make a later read fail.
func TestEverySeedReadsBack(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "leadwire.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ch, _, err := leadwire.EnsureDefaultChannel(ctx, store)
	if err != nil {
		t.Fatal(err)
	}

	var stored []*leadwire.Lead
	var activities []*leadwire.Activity
	var refused int
	for _, s := range wire.Seeds(t) {
		if s.Fuzz == "FuzzDecodeActivity" {
			continue // recorded on a lead below
		}
		leads, err := wire.DecodeLeads(s.ContentType, s.Body, 0)
		if err != nil {
			refused++
			continue
		}
		got, _, err := store.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, Leads: leads})
		if err != nil {
			t.Fatalf("%s seed %.80q: capture: %v", s.Fuzz, s.Body, err)
		}
		stored = append(stored, got...)
	}
	if len(stored) == 0 || refused == 0 {
		t.Fatalf("%d leads stored, %d seeds refused: the seeds should hold both", len(stored), refused)
	}
	for _, s := range wire.Seeds(t) {
		if s.Fuzz != "FuzzDecodeActivity" {
			continue
		}
		a, err := wire.DecodeActivity(s.ContentType, s.Body)
		if err != nil {
			continue
		}
		a.LeadID = stored[0].ID
		if err := store.AddActivity(ctx, a); err != nil {
			t.Fatalf("activity seed %.80q: %v", s.Body, err)
		}
		activities = append(activities, a)
	}
	if len(activities) == 0 {
		t.Fatal("no activity seed was accepted")
	}

	found, err := store.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil {
		t.Fatalf("reading the leads back: %v", err)
	}
	byID := map[string]*leadwire.Lead{}
	for _, l := range found {
		byID[l.ID] = l
	}
	for _, want := range stored {
		got := byID[want.ID]
		if got == nil {
			t.Errorf("lead %s (raw %.80s) not found", want.ID, want.Raw)
			continue
		}
		wantParsed, _ := want.PayloadJSON()
		gotParsed, err := got.PayloadJSON()
		if err != nil || !bytes.Equal(gotParsed, wantParsed) || !bytes.Equal(got.Raw, want.Raw) {
			t.Errorf("lead read back as\n %s\n %s\nstored\n %s\n %s", gotParsed, got.Raw, wantParsed, want.Raw)
		}
	}
	timeline := byID[stored[0].ID].Timeline
	if len(timeline) != len(activities) {
		t.Fatalf("%d activities read back, %d stored", len(timeline), len(activities))
	}
	for i, want := range activities {
		gotDoc, err := json.Marshal(wire.NewActivityDoc(timeline[i]))
		if err != nil {
			t.Fatal(err)
		}
		wantDoc, _ := json.Marshal(wire.NewActivityDoc(want))
		if !bytes.Equal(gotDoc, wantDoc) {
			t.Errorf("activity read back as\n %s\nstored\n %s", gotDoc, wantDoc)
		}
	}
}
