package metrics

import "github.com/prometheus/client_golang/prometheus"

var (
	// ScreenVerdicts counts screened captures by verdict: accept,
	// quarantine or refuse.
	ScreenVerdicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadwire_screen_verdicts_total",
		Help: "Screened captures by verdict (accept, quarantine, refuse).",
	}, []string{"verdict"})

	// ScreenReasons counts the signals that quarantined or refused a
	// capture, by reason.
	ScreenReasons = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadwire_screen_reasons_total",
		Help: "Signals that quarantined or refused a capture, by reason.",
	}, []string{"reason"})
)

func init() {
	Registry.MustRegister(ScreenVerdicts, ScreenReasons)
}
