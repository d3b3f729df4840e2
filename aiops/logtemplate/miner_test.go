package logtemplate

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func mustNew(t testing.TB, cfg Config) *Miner {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMaskTable(t *testing.T) {
	mk := NewMasker(nil)
	tests := []struct{ in, want string }{
		{"PacketResponder 1 for block blk_-6952295868487656571 terminating", "PacketResponder <*> for block <*> terminating"},
		{"blk_38865049064139660 size 67108864", "<*> size <*>"},
		{"/10.250.19.102:50010 Served block", "<*>:<*> Served block"},
		{"Received connection request /10.10.34.13:57707", "Received connection request <*>:<*>"},
		{"bind port: 0.0.0.0/0.0.0.0:3888", "bind port: <*>/<*>:<*>"},
		{"from 173.234.31.186 port 38926 ssh2", "from <*> port <*> ssh2"},
		{"jk2_init() Found child 6725 in scoreboard slot 10", "jk2_init() Found child <*> in scoreboard slot <*>"},
		{"workerEnv.init() ok /etc/httpd/conf/workers2.properties", "workerEnv.init() ok <*>"},
		{"Input split: hdfs://10.10.34.11:9000/pjhe/test/1/112.txt:0+1", "Input split: hdfs://<*>"},
		{"Found block rdd_42_20 locally", "Found block <*> locally"},
		{"session 0x14f05578bf80001 closed, id 3c1a8f3e2b7d", "session <*> closed, id <*>"},
		{"req 123e4567-e89b-12d3-a456-426614174000 done", "req <*> done"},
		{"logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net", "logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>"},
		{"took 20ms, cache 16K, capacity 17.7 GB", "took <*>, cache <*>, capacity <*> GB"},
		{"connection at Sun Jul 10 03:55:21 2005", "connection at <*>"},
		{"at 2015-07-29 17:41:44,747 ok", "at <*> ok"},
		{"BIOS-e820: 0000000000100000 - 000000001f7e0000 (usable)", "BIOS-e820: <*> - <*> (usable)"},
		{"deadbeef words and L1 cache", "deadbeef words and L1 cache"},
		{"mac 00:1a:2b:3c:4d:5e up", "mac <*> up"},
		{`Loaded Stack with Core: C:\Windows\winsxs\amd64_x_6.1.7601\cbscore.dll`, "Loaded Stack with Core: <*>"},
		{`share \\fs01.corp\public$\a b.txt gone`, "share <*> b.txt gone"},
		{`escaped a\b and C:not-a-path`, `escaped a\b and C:not-a-path`},
		{"", ""},
	}
	// The same masks run over whole lines, without the per-token
	// prefilters, must give the same result: the prefilters only save time.
	whole := DefaultMasks()
	for i := range whole {
		whole[i].need = nil
	}
	slow := NewMasker(whole)
	for _, tt := range tests {
		got := mk.Mask(tt.in)
		if got != tt.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if s := slow.Mask(tt.in); s != got {
			t.Errorf("Mask(%q) on whole lines %q, token by token %q", tt.in, s, got)
		}
	}
}

func TestTemplates(t *testing.T) {
	m := mustNew(t, DefaultConfig())
	lines := []string{
		"Invalid user webmaster from 173.234.31.186",
		"Invalid user test9 from 52.80.34.196",
		"Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
		"Invalid user admin from 103.99.0.122",
		"Accepted password for root from 10.0.0.1 port 22 ssh2",
		"Connection closed by 212.47.254.145 [preauth]",
	}
	want := []string{
		"Invalid user <*> from <*>",
		"Accepted password for <*> from <*> port <*> ssh2",
		"Connection closed by <*> [preauth]",
	}
	ids := map[string]int64{}
	for _, l := range lines {
		m.Add(l)
	}
	var got []string
	for _, c := range m.Clusters() {
		got = append(got, c.Template)
		ids[c.Template] = c.ID
	}
	for _, w := range want {
		if _, ok := ids[w]; !ok {
			t.Errorf("template %q missing; have %q", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("templates %q, want %q", got, want)
	}
	c, ok := m.Match("Invalid user oracle from 1.2.3.4")
	if !ok || c.ID != ids["Invalid user <*> from <*>"] {
		t.Errorf("Match = %+v, %v", c, ok)
	}
	if _, ok := m.Match("something else entirely"); ok {
		t.Error("Match of an unseen event succeeded")
	}
}

func TestIDStableUnderGeneralisation(t *testing.T) {
	m := mustNew(t, DefaultConfig())
	steps := []struct {
		line, template string
		change         Change
	}{
		{"session opened for user root by root", "session opened for user root by root", Created},
		{"session opened for user root by root", "session opened for user root by root", Unchanged},
		{"session opened for user alice by root", "session opened for user <*> by root", Generalised},
		{"session opened for user bob by cron", "session opened for user <*> by <*>", Generalised},
		{"session opened for user carol by cron", "session opened for user <*> by <*>", Unchanged},
	}
	var id int64
	for i, s := range steps {
		r := m.Add(s.line)
		if i == 0 {
			id = r.ID
		}
		if r.ID != id || r.Template != s.template || r.Change != s.change {
			t.Errorf("step %d: got %d %q %v, want %d %q %v", i, r.ID, r.Template, r.Change, id, s.template, s.change)
		}
	}
	if r := m.Add("disk full on /dev/sda1"); r.ID == id || r.Change != Created {
		t.Errorf("new event got %+v", r)
	}
}

func TestExportImport(t *testing.T) {
	m := mustNew(t, DefaultConfig())
	for i := range 50 {
		m.Add(fmt.Sprintf("worker %d finished job %d in %dms", i%3, i, i*7))
		m.Add(fmt.Sprintf("user u%d logged in", i))
	}
	r1 := m.Add("cache warmed")
	state, err := m.Export()
	if err != nil {
		t.Fatal(err)
	}
	m2 := mustNew(t, DefaultConfig())
	if err := m2.Import(state); err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprint(m.Clusters()), fmt.Sprint(m2.Clusters()); a != b {
		t.Fatalf("clusters differ after import:\n%s\n%s", a, b)
	}
	for _, l := range []string{"worker 9 finished job 1000 in 3ms", "user zed logged in", "cache warmed", "brand new event"} {
		if a, b := m.Add(l), m2.Add(l); a != b {
			t.Errorf("Add(%q): original %+v, imported %+v", l, a, b)
		}
	}
	if r := m2.Add("cache warmed"); r.ID != r1.ID {
		t.Errorf("id %d after restart, want %d", r.ID, r1.ID)
	}
	for _, bad := range []string{"", "{", `{"version":9}`, `{"version":1,"next_id":2,"clusters":[{"id":5,"tokens":["a"],"path":["1","a"]}]}`,
		`{"version":1,"next_id":9,"clusters":[{"id":1,"tokens":["a"],"path":["2","a"]}]}`} {
		if err := m2.Import([]byte(bad)); err == nil {
			t.Errorf("Import(%q) succeeded", bad)
		}
	}
	if r := m2.Add("cache warmed"); r.ID != r1.ID {
		t.Errorf("a failed import changed the state")
	}
}

func TestEviction(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxClusters = 3
	m := mustNew(t, cfg)
	words := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	for _, w := range words {
		m.Add(w + " happened")
	}
	if st := m.Stats(); st.Clusters != 3 || st.Evicted != 2 || st.NextID != 6 {
		t.Errorf("stats %+v", st)
	}
	if r := m.Add("alpha happened"); r.Change != Created || r.ID != 6 {
		t.Errorf("evicted template came back as %+v, want new id 6", r)
	}
}

func TestBadInput(t *testing.T) {
	m := mustNew(t, DefaultConfig())
	long := strings.Repeat("x1 ", 100000)
	for _, l := range []string{"", "   ", "\t", "\xff\xfe bad utf8 \xc3", long, strings.Repeat("é", 40000), "\r", "<*> <*>", "a\x00b"} {
		r := m.Add(l)
		if !utf8.ValidString(r.Template) || len(r.Template) > 2*64<<10 {
			t.Errorf("Add(%.20q): template %d bytes, valid UTF-8 %v", l, len(r.Template), utf8.ValidString(r.Template))
		}
	}
	if s := Sanitize(strings.Repeat("é", 10), 5); s != "éé" {
		t.Errorf("Sanitize cut a rune: %q", s)
	}
	if err := (Config{Similarity: 2}).Validate(); err == nil {
		t.Error("similarity 2 accepted")
	}
}

func TestConcurrent(t *testing.T) {
	m := mustNew(t, DefaultConfig())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				m.Add(fmt.Sprintf("request %d served in %dms by node%d", i, g, g))
				if i%50 == 0 {
					if _, err := m.Export(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if cs := m.Clusters(); len(cs) != 1 || cs[0].Size != 800 {
		t.Errorf("clusters %+v", cs)
	}
}

func FuzzMine(f *testing.F) {
	for _, s := range []string{"", "blk_-1 /1.2.3.4:5 uid=0", "\xff", "a b c", "0x1f rdd_1_2 Jul 10 03:55:21 2005"} {
		f.Add(s, "Invalid user x from 1.2.3.4")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		m := mustNew(t, Config{MaxClusters: 4})
		for _, l := range []string{a, b, a + " " + b, b} {
			r := m.Add(l)
			if !utf8.ValidString(r.Template) {
				t.Fatalf("invalid template %q", r.Template)
			}
			if c, ok := m.Match(l); ok && c.ID <= 0 {
				t.Fatalf("match id %d", c.ID)
			}
		}
		st, err := m.Export()
		if err != nil {
			t.Fatal(err)
		}
		if err := mustNew(t, Config{MaxClusters: 4}).Import(st); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// BenchmarkAdd measures lines per second through masking and the tree on
// a mix of sshd-like lines with varying values.
func BenchmarkAdd(b *testing.B) {
	plain := DefaultConfig()
	plain.NoShapes = true
	for _, bc := range []struct {
		name string
		cfg  Config
	}{{"shapes", DefaultConfig()}, {"plain-drain", plain}} {
		b.Run(bc.name, func(b *testing.B) { benchmarkAdd(b, bc.cfg) })
	}
}

func benchmarkAdd(b *testing.B, cfg Config) {
	m := mustNew(b, cfg)
	users := []string{"root", "admin", "oracle", "test", "guest"}
	lines := make([]string, 1024)
	for i := range lines {
		switch i % 4 {
		case 0:
			lines[i] = fmt.Sprintf("Failed password for invalid user %s from 10.%d.%d.%d port %d ssh2", users[i%5], i%250, i%13, i%7, 40000+i)
		case 1:
			lines[i] = fmt.Sprintf("authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=host-%d.example.net user=%s", i, users[i%5])
		case 2:
			lines[i] = fmt.Sprintf("Received disconnect from 10.0.%d.%d: 11: Bye Bye [preauth]", i%250, i%200)
		default:
			lines[i] = fmt.Sprintf("session opened for user %s by (uid=%d)", users[i%5], i%3)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Add(lines[i%len(lines)])
	}
}
