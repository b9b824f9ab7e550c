package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// request is one request of a scenario and the check of its answer.
type request struct {
	method, path string
	body         []byte
	questions    int // questions the request asks (a batch asks several)
	verify       func(status int, body []byte) error
}

// errRefused is an answer that refused for load, 503 with Retry-After as Roster's password
// hasher answers when too many logins wait (and the ceiling's, the same hasher): a right answer
// that answers no question, so that a scenario's questions per second count what was done.
var errRefused = errors.New("refused for load")

// scenario makes the requests of one measurement; each worker calls it with its own source.
type scenario func(r *rand.Rand) request

// result is what a closed-loop run measured.
type result struct {
	requests, questions int
	refused             int   // answers that refused for load (errRefused): not questions answered
	wrong               int   // answers that did not match the dataset
	firstWrong          error // the first of them
	elapsed             time.Duration
	p50, p99            time.Duration
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }
func (r result) qps() float64 { return float64(r.questions) / r.elapsed.Seconds() }

// drive runs a closed loop: conns workers, each sending its next request as soon as the
// previous one is answered (as wrk -c does), for the duration, on keep-alive connections.
// Every answer is checked. Roster and the ceiling server are driven by this same code.
func drive(ctx context.Context, base, bearer string, conns int, d time.Duration, sc scenario, seed uint64) result {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	res := result{}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var lat []time.Duration
			var buf bytes.Buffer // each answer read into the same memory
			var n, q, refused, wrong int
			var firstWrong error
			for ctx.Err() == nil {
				req := sc(r)
				t0 := time.Now()
				status, body, err := send(ctx, client, base, bearer, req, &buf)
				if ctx.Err() != nil {
					break // cut by the end of the run: not counted
				}
				lat = append(lat, time.Since(t0))
				n++
				q += req.questions
				if err == nil {
					err = req.verify(status, body)
				}
				if errors.Is(err, errRefused) {
					refused++
					q -= req.questions
					continue
				}
				if err != nil {
					wrong++
					if firstWrong == nil {
						firstWrong = fmt.Errorf("%s %s: %w", req.method, req.path, err)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			res.requests += n
			res.questions += q
			res.refused += refused
			res.wrong += wrong
			if res.firstWrong == nil {
				res.firstWrong = firstWrong
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if len(all) > 0 {
		slices.Sort(all)
		res.p50 = all[len(all)/2]
		res.p99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return res
}

// send asks req and reads the answer into buf: what it returns is valid until buf is used again.
func send(ctx context.Context, client *http.Client, base, bearer string, req request, buf *bytes.Buffer) (int, []byte, error) {
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, base+req.path, body)
	if err != nil {
		return 0, nil, err
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), err
}
