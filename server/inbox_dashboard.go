package server

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/leadwire/leadwire"
)

// The dashboard looks at the last dashboardDays days, UTC, today
// included, and at most dashboardMaxLeads of their leads, newest first:
// it reads them a page at a time through SearchLeads and decodes each,
// about 30 µs a lead: 0.74 s for the 25,000 leads of a busy month among
// 100,000 (BenchmarkInboxPages). A query of the store's that counted in
// SQL would take a fraction of that; the root package's services have
// none yet.
const (
	dashboardDays     = 30
	dashboardMaxLeads = 50_000
	// staleAfter is how long a lead may stay new before it is counted as
	// waiting too long.
	staleAfter = time.Hour
)

// chartColors tell the channels apart, in the order of their volume.
var chartColors = []string{"#0b5cad", "#f5a623", "#2e9e5b", "#c0392b", "#8e44ad", "#16a2b8", "#7f8c8d", "#d35400"}

// dashboardView is what the dashboard shows.
type dashboardView struct {
	Days      int
	Leads     int
	Capped    bool // more leads than dashboardMaxLeads; the oldest were left out
	Stale     int  // leads still new an hour or more after their capture
	PerDay    barChart
	Responses []agentResponse
	Response  barChart
}

// agentResponse is the response times of the leads assigned to one agent.
type agentResponse struct {
	Agent       string
	Leads       int
	Median, P90 time.Duration
}

// barChart is an SVG chart drawn on the server.
type barChart struct {
	Width, Height int
	Bars          []bar
	Labels        []chartLabel
	Legend        []legendEntry
}

type bar struct {
	X, Y, W, H float64
	Fill       string
	Title      string // shown on hover, and read by screen readers
}

type chartLabel struct {
	X, Y   float64
	Text   string
	Anchor string // start, middle, end
}

type legendEntry struct {
	Name, Color string
}

// inboxDashboard serves the dashboard: leads per day per channel and the
// response times per agent, of the leads the user may see.
func (s *Server) inboxDashboard(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	p.Title, p.Nav = "Dashboard", "dashboard"
	now := time.Now().UTC()
	first := now.Truncate(24*time.Hour).AddDate(0, 0, 1-dashboardDays)
	var leads []*leadwire.Lead
	capped, err := s.leadsSince(ctx, leadwire.LeadFilter{}, first, dashboardMaxLeads, func(l *leadwire.Lead) bool {
		leads = append(leads, l)
		return true
	})
	if err != nil {
		s.inboxError(w, r, p, err)
		return
	}
	v := dashboardView{Days: dashboardDays, Leads: len(leads), Capped: capped}
	perDay := map[string][]int{} // channel id -> leads per day
	times := map[string][]time.Duration{}
	for _, l := range leads {
		day := int(l.CreatedAt.Sub(first) / (24 * time.Hour))
		if day < 0 || day >= dashboardDays {
			continue
		}
		if perDay[l.ChannelID] == nil {
			perDay[l.ChannelID] = make([]int, dashboardDays)
		}
		perDay[l.ChannelID][day]++
		switch {
		case l.RespondedAt.IsZero():
			if (l.Status == "" || l.Status == leadwire.StatusNew) && now.Sub(l.CreatedAt) >= staleAfter {
				v.Stale++
			}
		default:
			rt := l.RespondedAt.Sub(l.CreatedAt)
			agents := []string{}
			for _, a := range l.Payload.Assignees {
				agents = append(agents, assigneeCell(a))
			}
			if len(agents) == 0 {
				agents = []string{"unassigned"}
			}
			for _, a := range agents {
				times[a] = append(times[a], rt)
			}
		}
	}
	v.PerDay = s.perDayChart(ctx, p, first, perDay)
	for agent, ts := range times {
		slices.Sort(ts)
		v.Responses = append(v.Responses, agentResponse{Agent: agent, Leads: len(ts), Median: percentile(ts, 50), P90: percentile(ts, 90)})
	}
	slices.SortFunc(v.Responses, func(a, b agentResponse) int { return int(a.Median - b.Median) })
	v.Response = responseChart(v.Responses)
	s.render(w, r, http.StatusOK, "dashboard.html", p, v)
}

// percentile is the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// perDayChart stacks each day's leads by channel, the busiest channel at
// the bottom.
func (s *Server) perDayChart(ctx context.Context, p *page, first time.Time, perDay map[string][]int) barChart {
	const width, height, left, bottom, top = 720, 240, 36, 24, 8
	c := barChart{Width: width, Height: height}
	channels := make([]string, 0, len(perDay))
	totals := map[string]int{}
	for id, days := range perDay {
		channels = append(channels, id)
		for _, n := range days {
			totals[id] += n
		}
	}
	slices.SortFunc(channels, func(a, b string) int { return totals[b] - totals[a] })
	highest := 1
	for day := range dashboardDays {
		sum := 0
		for _, id := range channels {
			sum += perDay[id][day]
		}
		highest = max(highest, sum)
	}
	scale := float64(height-bottom-top) / float64(niceCeil(highest))
	slot := float64(width-left) / dashboardDays
	for i, id := range channels {
		c.Legend = append(c.Legend, legendEntry{Name: s.channelName(ctx, p, id), Color: chartColors[i%len(chartColors)]})
	}
	for day := range dashboardDays {
		y := float64(height - bottom)
		date := first.AddDate(0, 0, day)
		for i, id := range channels {
			n := perDay[id][day]
			if n == 0 {
				continue
			}
			h := float64(n) * scale
			y -= h
			c.Bars = append(c.Bars, bar{X: left + float64(day)*slot + 1, Y: y, W: slot - 2, H: h,
				Fill: chartColors[i%len(chartColors)], Title: date.Format("Jan 2") + ": " + strconv.Itoa(n) + " from " + c.Legend[i].Name})
		}
		// Weeks are counted back from today, whose label ends at the edge.
		switch back := dashboardDays - 1 - day; {
		case back == 0:
			c.Labels = append(c.Labels, chartLabel{X: width, Y: height - 6, Text: date.Format("Jan 2"), Anchor: "end"})
		case back%7 == 0:
			c.Labels = append(c.Labels, chartLabel{X: left + (float64(day)+0.5)*slot, Y: height - 6, Text: date.Format("Jan 2"), Anchor: "middle"})
		}
	}
	c.Labels = append(c.Labels,
		chartLabel{X: left - 6, Y: top + 10, Text: strconv.Itoa(niceCeil(highest)), Anchor: "end"},
		chartLabel{X: left - 6, Y: height - bottom, Text: "0", Anchor: "end"})
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the axis
// reads well.
func niceCeil(n int) int {
	for base := 1; ; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*base >= n {
				return m * base
			}
		}
	}
}

// responseChart draws each agent's median and 90th percentile response
// time as two bars, on a scale of the slowest.
func responseChart(rs []agentResponse) barChart {
	const width, row, left, right = 720, 44, 200, 90
	c := barChart{Width: width, Height: max(row*len(rs), row)}
	slowest := time.Second
	for _, r := range rs {
		slowest = max(slowest, r.P90)
	}
	scale := float64(width-left-right) / float64(slowest)
	c.Legend = []legendEntry{{"median", chartColors[0]}, {"90th percentile", chartColors[1]}}
	for i, r := range rs {
		y := float64(i * row)
		c.Labels = append(c.Labels, chartLabel{X: left - 8, Y: y + 24, Text: shorten(r.Agent, 28), Anchor: "end"})
		for j, d := range []time.Duration{r.Median, r.P90} {
			w := max(float64(d)*scale, 1)
			by := y + 4 + float64(j)*18
			c.Bars = append(c.Bars, bar{X: left, Y: by, W: w, H: 16, Fill: chartColors[j],
				Title: r.Agent + ": " + c.Legend[j].Name + " " + duration(d) + " over " + strconv.Itoa(r.Leads) + " leads"})
			c.Labels = append(c.Labels, chartLabel{X: left + w + 6, Y: by + 13, Text: duration(d), Anchor: "start"})
		}
	}
	return c
}
