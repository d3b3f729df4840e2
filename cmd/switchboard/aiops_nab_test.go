package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAIOpsNAB(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	var csv strings.Builder
	csv.WriteString("timestamp,value\n")
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		v := 10.0 + float64(i%7)
		if i == 1500 {
			v = 500
		}
		fmt.Fprintf(&csv, "%s,%g\n", t0.Add(time.Duration(i)*5*time.Minute).Format("2006-01-02 15:04:05"), v)
	}
	files := map[string]string{
		"data/x/s.csv":                 csv.String(),
		"labels/combined_windows.json": `{"x/s.csv": [["2020-01-06 04:00:00.000000", "2020-01-06 08:00:00.000000"]]}`,
		"config/profiles.json":         `{"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}}}`,
	}
	for p, s := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout bytes.Buffer
	cmd := newAIOpsNAB(&globals{stdout: &stdout, stderr: &stdout})
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"--data", dir, "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "switchboard", "x", "switchboard_s.csv")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stdout.String(), "standard") {
		t.Errorf("output:\n%s", stdout.String())
	}
}
