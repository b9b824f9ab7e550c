package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster/app"
)

// registerIndexMetrics exports how the access index answers (app.Access.IndexStats), read at
// each scrape: whether --index-memory holds what checks ask about shows in its turnovers and in
// the share of reads answered from SQL.
func registerIndexMetrics(reg *prometheus.Registry, a *app.App) {
	const reads = "Reads of checks and authentication, by where they could be answered from."
	for _, m := range []struct {
		name, help string
		counter    bool
		labels     prometheus.Labels
		value      func(app.IndexStats) float64
	}{
		{"roster_index_bytes", "Memory the access index's entries hold, as estimated.", false, nil,
			func(s app.IndexStats) float64 { return float64(s.Bytes) }},
		{"roster_index_limit_bytes", "The bound of roster_index_bytes (--index-memory).", false, nil,
			func(s app.IndexStats) float64 { return float64(s.Limit) }},
		{"roster_index_turnovers_total", "Times the index's newer generation filled up and the older one was dropped; often means --index-memory is too small for what is asked.", true, nil,
			func(s app.IndexStats) float64 { return float64(s.Turnovers) }},
		{"roster_index_whole_organizations", "Organizations the index holds whole (every membership loaded).", false, nil,
			func(s app.IndexStats) float64 { return float64(s.WholeOrgs) }},
		{"roster_index_reads_total", reads, true, prometheus.Labels{"answered_from": "index"},
			func(s app.IndexStats) float64 { return float64(s.FromIndex) }},
		{"roster_index_reads_total", reads, true, prometheus.Labels{"answered_from": "sql"},
			func(s app.IndexStats) float64 { return float64(s.FromSQL) }},
		{"roster_index_barrier_reads_total", "Reads of the access revision by the read barrier (none while the node's lease holds).", true, nil,
			func(s app.IndexStats) float64 { return float64(s.Barriers) }},
		{"roster_index_revision", "The access revision the index has applied.", false, nil,
			func(s app.IndexStats) float64 { return float64(s.Revision) }},
		{"roster_index_leased", "1 while the node's lease holds and checks skip the read barrier.", false, nil,
			func(s app.IndexStats) float64 {
				if s.Leased {
					return 1
				}
				return 0
			}},
	} {
		read := func() float64 { return m.value(a.Access.IndexStats()) }
		if m.counter {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help, ConstLabels: m.labels}, read))
		} else {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.name, Help: m.help, ConstLabels: m.labels}, read))
		}
	}
}
