package scim

import (
	"encoding/json"
	"testing"
)

// TestSubAttributeOfValuePath: the form identity providers send becomes the valuePath it means,
// and quoted text is never touched.
func TestSubAttributeOfValuePath(t *testing.T) {
	for in, want := range map[string]string{
		`emails[type eq "work"].value eq "a@b.c"`:                    `emails[type eq "work" and value eq "a@b.c"]`,
		`userName eq "x" and emails[type eq "work"].value co "@b.c"`: `userName eq "x" and emails[type eq "work" and value co "@b.c"]`,
		`emails[type eq "work"].value pr`:                            `emails[type eq "work" and value pr]`,
		`userName eq "a[b].c eq d"`:                                  `userName eq "a[b].c eq d"`,
		`emails[type eq "work" or type eq "home"].value eq "a@b.c"`:  `emails[(type eq "work" or type eq "home") and value eq "a@b.c"]`,
		`emails[value eq "q\"]"].value eq "x"`:                       `emails[value eq "q\"]" and value eq "x"]`,
		`members[value eq "usr_1"]`:                                  `members[value eq "usr_1"]`,
	} {
		if got := subAttributeOfValuePath(in); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
	// Whatever the input, the rewrite neither panics nor lets a malformed filter through.
	for _, bad := range []string{`]`, `[`, `a[`, `a].`, `a[b].`, `a[b].c`, `"`, `a[b eq "x"].c eq`} {
		_ = subAttributeOfValuePath(bad)
		if _, err := parseFilter(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestApplyPatch: RFC 7644's operations on a user, with Okta's and Entra ID's forms.
func TestApplyPatch(t *testing.T) {
	res := map[string]any{}
	_ = json.Unmarshal([]byte(`{"userName":"a@b.c","active":true,"name":{"givenName":"A","familyName":"B"},
		"emails":[{"value":"a@b.c","type":"work","primary":true},{"value":"a@home.c","type":"home"}]}`), &res)
	body := map[string]any{}
	_ = json.Unmarshal([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"},
		{"op":"replace","value":{"name.familyName":"C","displayName":"A C"}},
		{"op":"remove","path":"emails[type eq \"home\"]"},
		{"op":"add","path":"emails[type eq \"work\"].display","value":"Work"},
		{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1"},
		{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Ops"}]}`), &body)
	ops, err := readPatch(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyPatch(res, ops); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res)
	want := `{"active":"False","displayName":"A C","emails":[{"display":"Work","primary":true,"type":"work","value":"a@b.c"}],` +
		`"name":{"familyName":"C","givenName":"A"},"phoneNumbers":[{"type":"mobile","value":"+1"}],` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops"},"userName":"a@b.c"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	in, err := userInput(res)
	if err != nil || in.Active || in.Name != "A C" || in.Email != "a@b.c" {
		t.Fatalf("%+v %v", in, err)
	}
	for _, bad := range []string{
		`{"Operations":[{"op":"move","path":"active"}]}`,
		`{"Operations":[{"op":"remove"}]}`,
		`{"Operations":[{"op":"replace","value":"x"}]}`,
		`{"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}`,
		`{"schemas":["urn:x"],"Operations":[{"op":"replace","path":"active","value":true}]}`,
		`{"Operations":[]}`,
	} {
		b := map[string]any{}
		_ = json.Unmarshal([]byte(bad), &b)
		if _, err := readPatch(b); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
