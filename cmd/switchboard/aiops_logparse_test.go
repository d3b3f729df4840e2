package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runLogparse(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	cmd := newAIOpsLogparse(g)
	cmd.SetArgs(args)
	cmd.SetIn(g.stdin)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err := cmd.Execute()
	return out.String(), err
}

const sampleLog = `081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating
081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating

081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864
not a header line, "quoted", with commas
`

func TestAIOpsLogparseCLI(t *testing.T) {
	format := "<Date> <Time> <Pid> <Level> <Component>: <Content>"
	want := `LineId,EventId,EventTemplate
1,1,PacketResponder <*> for block <*> terminating
2,1,PacketResponder <*> for block <*> terminating
3,2,
4,3,BLOCK* NameSystem.addStoredBlock: blockMap updated: <*>:<*> is added to <*> size <*>
5,4,"not a header line, ""quoted"", with commas"
`
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, []byte(sampleLog), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, stdin string
		args        []string
	}{
		{"file", "", []string{"--format", format, path}},
		{"stdin", sampleLog, []string{"--format", format, "-"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runLogparse(t, tt.stdin, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}

	// Whole lines without --format; a 200 KiB line is truncated, not fatal.
	long := strings.Repeat("word ", 40000)
	got, err := runLogparse(t, "a\xffb\n"+long+"\nlast line without newline", "-")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(got), "\n"); len(lines) != 4 || len(got) > 70<<10 {
		t.Errorf("%d lines, %d bytes", len(lines), len(got))
	}

	if _, err := runLogparse(t, "", "--format", "<Date> <Time>", path); err == nil {
		t.Error("a format without <Content> was accepted")
	}
	if _, err := runLogparse(t, "", filepath.Join(t.TempDir(), "missing.log")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestAIOpsLogparseState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	first, err := runLogparse(t, "disk sda1 full\nlogin ok for alice\n", "--state", state, "-")
	if err != nil {
		t.Fatal(err)
	}
	second, err := runLogparse(t, "login ok for bob\nfan failure\n", "--state", state, "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first, "2,2,login ok for alice") {
		t.Errorf("first run:\n%s", first)
	}
	if want := "LineId,EventId,EventTemplate\n1,2,login ok for <*>\n2,3,fan failure\n"; second != want {
		t.Errorf("second run:\n%s\nwant\n%s", second, want)
	}
}

func TestAIOpsLogparseEval(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "Tiny")
	if err := os.MkdirAll(sys, 0o755); err != nil {
		t.Fatal(err)
	}
	raw := "I conn from 1.2.3.4\nI conn from 5.6.7.8\nW disk full\nI user a logged in\n"
	truth := "LineId,Level,Content,EventId,EventTemplate\n" +
		"1,I,conn from 1.2.3.4,E1,conn from <*>\n2,I,conn from 5.6.7.8,E1,conn from <*>\n" +
		"3,W,disk full,E2,disk full\n4,I,user a logged in,E3,user <*> logged in\n"
	for name, body := range map[string]string{"Tiny_2k.log": raw, "Tiny_2k.log_structured_corrected.csv": truth} {
		if err := os.WriteFile(filepath.Join(sys, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := runLogparse(t, "", "--eval", dir, "--eval-format", "Tiny=<Level> <Content>")
	if err != nil {
		t.Fatal(err)
	}
	// All grouped right; "user a logged in" was seen once, so its template
	// is still the literal line: PA 3/4.
	if !strings.Contains(got, "Tiny          1.000  0.750         3         3         0") ||
		!strings.Contains(got, "average       1.000  0.750") {
		t.Errorf("eval output:\n%s", got)
	}
	if _, err := runLogparse(t, "", "--eval", dir, "--labels", "original"); err == nil {
		t.Error("eval without any labelled system succeeded")
	}
	if _, err := runLogparse(t, "", "--eval", dir, "--eval-format", "nonsense"); err == nil {
		t.Error("bad --eval-format accepted")
	}
}
