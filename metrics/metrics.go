// Package metrics holds leadwire's Prometheus metrics, served in the text
// format at GET /metrics. Every part of the product registers its
// collectors here, in a file of its own, so that one registry answers for
// the capture path, every store, screening and delivery.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every leadwire collector and the Go runtime's.
var Registry = prometheus.NewRegistry()

// Handler serves Registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

var (
	// Captures counts capture requests by channel and result: "ok",
	// "replayed", or the error code they were answered with.
	Captures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadwire_captures_total",
		Help: "Capture requests by channel and result (ok, replayed, or the error code).",
	}, []string{"channel", "result"})

	// CaptureSeconds is the time from a capture request's body being read
	// to its leads being durable.
	CaptureSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "leadwire_capture_duration_seconds",
		Help:    "Time to decode and durably store a capture request.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})

	// BatchSize is how many requests one group commit of a store held.
	BatchSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadwire_commit_batch_size",
		Help:    "Requests committed together in one transaction, by store.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 to 256
	}, []string{"store"})

	// DBErrors counts transactions a store could not commit, by store.
	DBErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadwire_database_errors_total",
		Help: "Transactions a store could not commit, by store.",
	}, []string{"store"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		Captures, CaptureSeconds, BatchSize, DBErrors,
	)
}
