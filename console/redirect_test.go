package console

import "testing"

func TestSafeNextKeepsOnlyLocalPaths(t *testing.T) {
	for next, want := range map[string]string{
		"/organizations/org_1?tab=members": "/organizations/org_1?tab=members",
		"/":                                "/",
		"":                                 "/",
		"//evil.example/x":                 "/",
		"/\t/evil.example":                 "/",
		"/\n/evil.example":                 "/",
		"/\r/evil.example":                 "/",
		"/\\evil.example":                  "/",
		"/x\\y":                            "/",
		"https://evil.example/":            "/",
		"evil.example":                     "/",
		"javascript:alert(1)":              "/",
		"/\x00/evil.example":               "/",
		"/\u2028/evil.example":             "/\u2028/evil.example", // not a control character: stays a path of this site
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
