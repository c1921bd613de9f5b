package metrics

import "github.com/prometheus/client_golang/prometheus"

var (
	// DeliveryAttempts counts delivery attempts by destination kind and
	// what followed: "delivered", "pending" (retried later) or "failed".
	DeliveryAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadwire_delivery_attempts_total",
		Help: "Delivery attempts by destination kind and outcome (delivered, pending for a retry, failed).",
	}, []string{"kind", "outcome"})

	// DeliverySeconds is how long one delivery attempt took, by kind.
	DeliverySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "leadwire_delivery_attempt_duration_seconds",
		Help:    "Time one delivery attempt took, by destination kind.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"kind"})
)

func init() {
	Registry.MustRegister(DeliveryAttempts, DeliverySeconds)
}
