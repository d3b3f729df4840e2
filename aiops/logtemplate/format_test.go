package logtemplate

import "testing"

func TestFormat(t *testing.T) {
	tests := []struct {
		format, line, want string
		ok                 bool
	}{
		{"<Date> <Time> <Pid> <Level> <Component>: <Content>",
			"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating",
			"PacketResponder 1 for block blk_1 terminating", true},
		{`\[<Time>\] \[<Level>\] <Content>`,
			"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
			"mod_jk child workerEnv in error state 6", true},
		{`<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>`,
			"Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown",
			"check pass; user unknown", true},
		{`<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>`,
			"Jul 27 14:42:00 combo kernel: Linux agpgart interface v0.100",
			"Linux agpgart interface v0.100", true},
		{`<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>`,
			"2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
			"Notification time out: 3200", true},
		{"<Date> <Time> <Level> <Component>: <Content>", "no header here", "no header here", false},
		{"<Content>", "", "", true},
	}
	for _, tt := range tests {
		f, err := ParseFormat(tt.format)
		if err != nil {
			t.Fatalf("ParseFormat(%q): %v", tt.format, err)
		}
		got, ok := f.Content(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q on %q: got %q %v, want %q %v", tt.format, tt.line, got, ok, tt.want, tt.ok)
		}
	}
	for _, bad := range []string{"<Date> <Time>", "<Content> (", ""} {
		if _, err := ParseFormat(bad); err == nil {
			t.Errorf("ParseFormat(%q) succeeded", bad)
		}
	}
}

func TestAccuracy(t *testing.T) {
	truth := []string{"a <*>", "a <*>", "b", "c <*>", "c <*>"}
	tests := []struct {
		name   string
		groups []string
		ga     float64
	}{
		{"perfect", []string{"1", "1", "2", "3", "3"}, 1},
		{"renamed", []string{"x", "x", "y", "z", "z"}, 1},
		{"merged", []string{"1", "1", "1", "3", "3"}, 0.4},
		{"split", []string{"1", "4", "2", "3", "3"}, 0.6},
		{"all one", []string{"1", "1", "1", "1", "1"}, 0},
	}
	for _, tt := range tests {
		if got := GroupingAccuracy(truth, tt.groups); got != tt.ga {
			t.Errorf("%s: GA %v, want %v", tt.name, got, tt.ga)
		}
	}
	pred := []string{"a  <*>", "a <*> <*>", "b <*>", "c <*><*>", "c x"}
	if got := ParsingAccuracy(truth, pred); got != 0.6 {
		t.Errorf("PA %v, want 0.6", got)
	}
	if GroupingAccuracy(truth, nil) != 0 || ParsingAccuracy(nil, nil) != 0 {
		t.Error("mismatched lengths scored")
	}
}
