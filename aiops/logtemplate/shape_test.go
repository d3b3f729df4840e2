package logtemplate

import "testing"

func TestShape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rhost=<*>", "a=a"},
		{"rhost=", "a="},
		{"LOGIN(uid=<*>)", "a(a=a)"},
		{"(uid=<*>)", "(a=a)"},
		{"(<*>-54-76-216.bflony.adelphia.net)", "(a)"},
		{"com.apple.xpc.launchd[1]", "a[a]"},
		{"end.", "a."},
		{"--verbose", "--a"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := shape(tt.in); got != tt.want {
			t.Errorf("shape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSameShape(t *testing.T) {
	tests := []struct {
		t, l string
		want bool
	}{
		{"cyrus", "news", true},
		{"user=root", "user=guest", true},
		{"tty=NODEVssh", "tty=<*>", true},
		{"admin", "<*>", true},         // a masked value stands for any word
		{"localhost", "<*>:<*>", true}, // so does an address
		{"rhost=<*>", "rhost=", false},
		{"(uid=<*>)", "LOGIN(uid=<*>)", false},
		{"done", "done.", false},
	}
	for _, tt := range tests {
		if got := sameShape(tt.t, tt.l); got != tt.want {
			t.Errorf("sameShape(%q, %q) = %v, want %v", tt.t, tt.l, got, tt.want)
		}
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		t, l string
		want bool
	}{
		{"<*>", "anything", true},
		{"rhost=<*>", "rhost=localhost", true},
		{"rhost=<*>", "rhost=<*>", true},
		{"rhost=<*>", "rhost=", false},
		{"(<*>)", "(usable)", true},
		{"(<*>)", "usable", false},
		{"<*>:<*>", "a:b", true},
		{"<*>:<*>", "a:", false},
		{"<*>x<*>", "axbxc", true},
		{"word", "word", true},
		{"word", "other", false},
	}
	for _, tt := range tests {
		if got := fits(tt.t, tt.l); got != tt.want {
			t.Errorf("fits(%q, %q) = %v, want %v", tt.t, tt.l, got, tt.want)
		}
	}
}

func TestGeneralise(t *testing.T) {
	tests := []struct{ t, l, want string }{
		{"cyrus", "news", "<*>"},
		{"rhost=<*>", "rhost=localhost", "rhost=<*>"},
		{"(usable)", "(reserved)", "(<*>)"},
		{"'sparkDriver'", "'sparkExecutor'", "'<*>'"},
		{"<*><*>/part-00590.", "<*><*>/part-00742.", "<*>"},
		{"user=root", "user=<*>", "user=<*>"},
		{"key=abc)", "key=abd)", "key=<*>)"},
	}
	for _, tt := range tests {
		got := generalise(tt.t, tt.l)
		if got != tt.want {
			t.Errorf("generalise(%q, %q) = %q, want %q", tt.t, tt.l, got, tt.want)
		}
		if !fits(got, tt.t) || !fits(got, tt.l) {
			t.Errorf("generalise(%q, %q) = %q does not fit both", tt.t, tt.l, got)
		}
	}
}

// TestStructuralDifferenceSplits: lines one token apart join a template
// when the token is a value of the same shape, and start their own when
// the difference is structural (an empty field, a word glued to a value).
func TestStructuralDifferenceSplits(t *testing.T) {
	m := mustNew(t, DefaultConfig())
	base := "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost="
	a := m.Add(base + "218.188.2.4")
	b := m.Add(base + "localhost")
	if b.ID != a.ID || b.Template != "authentication failure; logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>" {
		t.Errorf("same-shaped rhost: got %d %q, want id %d", b.ID, b.Template, a.ID)
	}
	if c := m.Add(base); c.ID == a.ID {
		t.Errorf("empty rhost joined the template: %q", c.Template)
	}
	s1 := m.Add("session opened for user cyrus by (uid=0)")
	s2 := m.Add("session opened for user news by (uid=9)")
	if s2.ID != s1.ID || s2.Template != "session opened for user <*> by (uid=<*>)" {
		t.Errorf("usernames: got %d %q, want id %d", s2.ID, s2.Template, s1.ID)
	}
	if s3 := m.Add("session opened for user root by LOGIN(uid=0)"); s3.ID == s1.ID {
		t.Errorf("LOGIN(uid=) joined the (uid=) template: %q", s3.Template)
	}

	off := DefaultConfig()
	off.NoShapes = true
	m = mustNew(t, off)
	a = m.Add(base + "218.188.2.4")
	if c := m.Add(base); c.ID != a.ID {
		t.Errorf("with NoShapes the lines should join as in plain Drain")
	}
}
