package api

import (
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Time is a timestamp in the API's JSON: RFC 3339 with nanoseconds, exactly as time.Time writes
// and reads it, but as text (encoding.TextMarshaler) rather than as JSON (json.Marshaler):
// encoding/json checks and compacts again the output of every json.Marshaler, which was a
// quarter of encoding a selector of 1,000 organizations (BENCHMARKS.md). The OpenAPI document
// describes it as time.Time (registerTime).
type Time time.Time

// MarshalText writes the time as time.Time does.
func (t Time) MarshalText() ([]byte, error) { return time.Time(t).MarshalText() }

// UnmarshalText reads an RFC 3339 time as time.Time does.
func (t *Time) UnmarshalText(b []byte) error { return (*time.Time)(t).UnmarshalText(b) }

// optTime is nil for the zero time: a timestamp absent from the JSON (omitempty).
func optTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	v := Time(t)
	return &v
}

// registerTime makes the schema of Time the schema of time.Time.
func registerTime(r huma.Registry) {
	r.RegisterTypeAlias(reflect.TypeFor[Time](), reflect.TypeFor[time.Time]())
}
