package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPU time spent by the processes of a run, read from /proc: throughput on a shared machine
// moves with the neighbours' load, while the CPU one answer costs moves much less. It is
// counted for the server (Roster or the ceiling) and, when Roster runs on PostgreSQL on this
// machine, for PostgreSQL's processes too, which do part of Roster's work.

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100 on Linux.
const userHZ = 100

// processCPU returns the user and system CPU time a process has used so far, 0 when it
// cannot be read (another operating system).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may contain spaces: fields count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of stat(5)
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(utime+stime) * time.Second / userHZ
}

// postgresCPU returns the CPU time used so far by the processes named postgres on this
// machine (the server and its backends), 0 when there are none.
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total time.Duration
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil {
			total += processCPU(pid)
		}
	}
	return total
}

// cpuMeter measures the CPU a phase of the run costs the server and, if asked, PostgreSQL.
type cpuMeter struct {
	pid      int
	postgres bool
	server   time.Duration // at the start
	pg       time.Duration
}

func startCPU(pid int, postgres bool) cpuMeter {
	m := cpuMeter{pid: pid, postgres: postgres, server: processCPU(pid)}
	if postgres {
		m.pg = postgresCPU()
	}
	return m
}

// since returns the CPU used since startCPU by the server and by PostgreSQL.
func (m cpuMeter) since() (server, pg time.Duration) {
	server = processCPU(m.pid) - m.server
	if m.postgres {
		pg = postgresCPU() - m.pg
	}
	return server, pg
}
