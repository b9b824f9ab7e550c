package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster/app"
)

// registerIndexMetrics exports how the access index answers (app.Access.IndexStats), read at
// each scrape: whether --index-memory holds what checks ask about shows in its turnovers and in
// the share of reads answered from SQL.
func registerIndexMetrics(reg *prometheus.Registry, a *app.App) {
	stat := func(f func(app.IndexStats) float64) func() float64 {
		return func() float64 { return f(a.Access.IndexStats()) }
	}
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_index_bytes", Help: "Memory the access index's entries hold, as estimated."},
			stat(func(s app.IndexStats) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_index_limit_bytes", Help: "The bound of roster_index_bytes (--index-memory)."},
			stat(func(s app.IndexStats) float64 { return float64(s.Limit) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_index_turnovers_total", Help: "Times the index's newer generation filled up and the older one was dropped; often means --index-memory is too small for what is asked."},
			stat(func(s app.IndexStats) float64 { return float64(s.Turnovers) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_index_whole_organizations", Help: "Organizations the index holds whole (every membership loaded)."},
			stat(func(s app.IndexStats) float64 { return float64(s.WholeOrgs) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_index_reads_total", Help: "Reads of checks and authentication, by where they could be answered from.", ConstLabels: prometheus.Labels{"answered_from": "index"}},
			stat(func(s app.IndexStats) float64 { return float64(s.FromIndex) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_index_reads_total", Help: "Reads of checks and authentication, by where they could be answered from.", ConstLabels: prometheus.Labels{"answered_from": "sql"}},
			stat(func(s app.IndexStats) float64 { return float64(s.FromSQL) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_index_barrier_reads_total", Help: "Reads of the access revision by the read barrier (none while the node's lease holds)."},
			stat(func(s app.IndexStats) float64 { return float64(s.Barriers) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_index_revision", Help: "The access revision the index has applied."},
			stat(func(s app.IndexStats) float64 { return float64(s.Revision) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roster_index_leased", Help: "1 while the node's lease holds and checks skip the read barrier."},
			stat(func(s app.IndexStats) float64 { return flag(s.Leased) })),
	)
}
