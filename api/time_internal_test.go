package api

import (
	"encoding/json"
	"testing"
	"time"
)

// TestTime: the API's timestamps read and write exactly as time.Time does in JSON, without
// being a json.Marshaler (whose output encoding/json checks and compacts again).
func TestTime(t *testing.T) {
	if _, ok := any(Time{}).(json.Marshaler); ok {
		t.Fatal("Time is a json.Marshaler")
	}
	madrid := time.FixedZone("CET", 3600)
	for _, tt := range []time.Time{
		{}, time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC), time.Date(2026, 12, 7, 8, 30, 0, 123456789, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 600000000, madrid), time.Unix(0, 1).UTC(),
	} {
		type withTime struct {
			T Time  `json:"t"`
			P *Time `json:"p,omitempty"`
		}
		type withStd struct {
			T time.Time  `json:"t"`
			P *time.Time `json:"p,omitempty"`
		}
		got, err := json.Marshal(withTime{T: Time(tt), P: optTime(tt)})
		if err != nil {
			t.Fatal(err)
		}
		var stdP *time.Time
		if !tt.IsZero() {
			stdP = &tt
		}
		want, _ := json.Marshal(withStd{T: tt, P: stdP})
		if string(got) != string(want) {
			t.Errorf("%v: wrote %s, time.Time writes %s", tt, got, want)
		}
		var back withTime
		if err := json.Unmarshal(want, &back); err != nil || !time.Time(back.T).Equal(tt) {
			t.Errorf("%v: read back %v, %v", tt, time.Time(back.T), err)
		}
	}
	var bad withTimeOnly
	for _, in := range []string{`{"t":"yesterday"}`, `{"t":12}`, `{"t":"2026-13-01T00:00:00Z"}`} {
		if err := json.Unmarshal([]byte(in), &bad); err == nil {
			t.Errorf("%s was read", in)
		}
	}
}

type withTimeOnly struct {
	T Time `json:"t"`
}
