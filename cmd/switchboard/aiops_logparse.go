package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/aiops/logtemplate"
)

func newAIOpsLogparse(g *globals) *cobra.Command {
	var (
		format, state, evalDir, labels string
		evalFormats                    []string
	)
	cfg := logtemplate.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "logparse [flags] FILE.log|-",
		Short: "Mine log templates online (Drain) and label every line",
		Long: `Assign every line a template id and template, online and in one pass,
as a production stream would: variable parts (numbers, addresses, ids,
paths…) become <*>, and templates generalise as lines arrive while their
ids stay. Writes CSV "LineId,EventId,EventTemplate", one row per input
line, in order. "-" reads standard input.

--format takes a logpai-style header description; only <Content> is
templated (a line that does not fit is templated whole). Without it the
whole line is templated.

--state FILE loads the miner's state from FILE when it exists and saves it
there at the end, so template ids survive restarts.

--eval DIR runs the loghub-2k benchmark instead: for each DIR/S/S_2k.log
with S_2k.log_structured_corrected.csv (or _structured.csv with
--labels original), it prints grouping and parsing accuracy.`,
		Example: `  switchboard aiops logparse --format '<Date> <Time> <Pid> <Level> <Component>: <Content>' HDFS.log > out.csv
  tail -F app.log | switchboard aiops logparse --state logparse.json -
  switchboard aiops logparse --eval datasets/loghub2k --eval-format 'HDFS=<Date> <Time> <Pid> <Level> <Component>: <Content>'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if evalDir != "" {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if evalDir != "" {
				formats, err := parseEvalFormats(evalFormats)
				if err != nil {
					return err
				}
				return runLogparseEval(cmd.OutOrStdout(), cfg, evalDir, labels, formats)
			}
			var ft *logtemplate.Format
			if format != "" {
				var err error
				if ft, err = logtemplate.ParseFormat(format); err != nil {
					return err
				}
			}
			m, err := logtemplate.New(cfg)
			if err != nil {
				return err
			}
			if state != "" {
				b, err := os.ReadFile(state)
				switch {
				case errors.Is(err, fs.ErrNotExist):
				case err != nil:
					return err
				default:
					if err := m.Import(b); err != nil {
						return fmt.Errorf("%s: %w", state, err)
					}
				}
			}
			in, flushEach := g.stdin, true
			if args[0] != "-" {
				fh, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer fh.Close()
				in, flushEach = fh, false
			}
			if err := logparseStream(cmd.OutOrStdout(), in, m, ft, cfg.MaxLineBytes, flushEach); err != nil {
				return err
			}
			if state != "" {
				b, err := m.Export()
				if err != nil {
					return err
				}
				tmp := state + ".tmp"
				if err := os.WriteFile(tmp, b, 0o644); err != nil {
					return err
				}
				return os.Rename(tmp, state)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "", `logpai-style header format, e.g. "<Date> <Time> <Level> <Component>: <Content>"`)
	fl.StringVar(&state, "state", "", "miner state file (JSON) to resume from and save to")
	fl.StringVar(&evalDir, "eval", "", "run the loghub-2k benchmark on this directory instead")
	fl.StringVar(&labels, "labels", "corrected", "with --eval: ground truth, corrected (loghub-2.0) or original (loghub)")
	fl.StringArrayVar(&evalFormats, "eval-format", nil, "with --eval: SYSTEM=FORMAT header format of a system (repeatable); systems without one are templated whole")
	fl.Float64Var(&cfg.Similarity, "similarity", cfg.Similarity, "least fraction of shared tokens to join a template")
	fl.BoolVar(&cfg.NoShapes, "no-shapes", cfg.NoShapes, "plain Drain: let a line join a template whatever the shape of the tokens that differ")
	fl.IntVar(&cfg.Settled, "settled", cfg.Settled, "lines after which a template's constant tokens stay constant (0: off)")
	fl.IntVar(&cfg.Depth, "depth", cfg.Depth, "token layers of the parse tree")
	fl.IntVar(&cfg.MaxClusters, "max-templates", cfg.MaxClusters, "templates kept; the least recently used are evicted")
	return cmd
}

// readLines calls fn with each line of r, without its end of line,
// truncated to max bytes: an endless line must not exhaust memory.
func readLines(r io.Reader, max int, fn func(string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf) < max {
			buf = append(buf, chunk[:min(len(chunk), max-len(buf))]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil || errors.Is(err, io.EOF) && len(chunk) > 0:
			line := strings.TrimSuffix(string(buf), "\n")
			buf = buf[:0]
			if ferr := fn(line); ferr != nil {
				return ferr
			}
			if err != nil {
				return nil
			}
		case errors.Is(err, io.EOF):
			if len(buf) > 0 {
				return fn(string(buf))
			}
			return nil
		default:
			return err
		}
	}
}

func logparseStream(w io.Writer, r io.Reader, m *logtemplate.Miner, ft *logtemplate.Format, max int, flushEach bool) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write([]string{"LineId", "EventId", "EventTemplate"}); err != nil {
		return err
	}
	n := 0
	err := readLines(r, max, func(line string) error {
		n++
		content := line
		if ft != nil {
			content, _ = ft.Content(logtemplate.Sanitize(line, max))
		}
		res := m.Add(content)
		if err := cw.Write([]string{strconv.Itoa(n), strconv.FormatInt(res.ID, 10), res.Template}); err != nil {
			return err
		}
		if flushEach {
			cw.Flush()
			return bw.Flush()
		}
		return nil
	})
	cw.Flush()
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func parseEvalFormats(specs []string) (map[string]*logtemplate.Format, error) {
	out := map[string]*logtemplate.Format{}
	for _, s := range specs {
		sys, f, ok := strings.Cut(s, "=")
		if !ok || sys == "" {
			return nil, fmt.Errorf("--eval-format %q: want SYSTEM=FORMAT", s)
		}
		ft, err := logtemplate.ParseFormat(f)
		if err != nil {
			return nil, err
		}
		out[sys] = ft
	}
	return out, nil
}

// evalResult is one system's benchmark score.
type evalResult struct {
	system         string
	ga, pa         float64
	pred, truth    int // template counts
	unparsedHeader int
}

func runLogparseEval(w io.Writer, cfg logtemplate.Config, dir, labels string, formats map[string]*logtemplate.Format) error {
	suffix := map[string]string{"corrected": "_structured_corrected.csv", "original": "_structured.csv"}[labels]
	if suffix == "" {
		return fmt.Errorf("--labels %q: want corrected or original", labels)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var results []evalResult
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sys := e.Name()
		logPath := filepath.Join(dir, sys, sys+"_2k.log")
		truth, err := readTruth(logPath + suffix)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		r, err := evalSystem(cfg, logPath, formats[sys], truth)
		if err != nil {
			return fmt.Errorf("%s: %w", sys, err)
		}
		r.system = sys
		results = append(results, r)
	}
	if len(results) == 0 {
		return fmt.Errorf("%s: no <S>/<S>_2k.log with labels found", dir)
	}
	sort.Slice(results, func(i, j int) bool { return results[i].system < results[j].system })
	fmt.Fprintf(w, "%-12s %6s %6s %9s %9s %9s\n", "system", "GA", "PA", "templates", "truth", "no-header")
	var ga, pa float64
	for _, r := range results {
		fmt.Fprintf(w, "%-12s %6.3f %6.3f %9d %9d %9d\n", r.system, r.ga, r.pa, r.pred, r.truth, r.unparsedHeader)
		ga += r.ga
		pa += r.pa
	}
	n := float64(len(results))
	fmt.Fprintf(w, "%-12s %6.3f %6.3f\n", "average", ga/n, pa/n)
	return nil
}

// readTruth returns the EventTemplate column of a loghub structured CSV.
func readTruth(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	col := -1
	for i, h := range rows[0] {
		if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == "EventTemplate" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("%s: no EventTemplate column", path)
	}
	out := make([]string, 0, len(rows)-1)
	for _, row := range rows[1:] {
		out = append(out, row[col])
	}
	return out, nil
}

func evalSystem(cfg logtemplate.Config, logPath string, ft *logtemplate.Format, truth []string) (evalResult, error) {
	var r evalResult
	m, err := logtemplate.New(cfg)
	if err != nil {
		return r, err
	}
	fh, err := os.Open(logPath)
	if err != nil {
		return r, err
	}
	defer fh.Close()
	var ids []int64
	err = readLines(fh, cfg.MaxLineBytes, func(line string) error {
		content := line
		if ft != nil {
			var ok bool
			if content, ok = ft.Content(logtemplate.Sanitize(line, cfg.MaxLineBytes)); !ok {
				r.unparsedHeader++
			}
		}
		ids = append(ids, m.Add(content).ID)
		return nil
	})
	if err != nil {
		return r, err
	}
	if len(ids) != len(truth) {
		return r, fmt.Errorf("%d lines but %d labels", len(ids), len(truth))
	}
	// Score the templates as they stand at the end of the stream, as the
	// benchmark does for every parser; the ids were fixed on arrival.
	final := map[int64]string{}
	for _, c := range m.Clusters() {
		final[c.ID] = c.Template
	}
	pred := make([]string, len(ids))
	groups := make([]string, len(ids))
	for i, id := range ids {
		pred[i] = final[id]
		groups[i] = strconv.FormatInt(id, 10)
	}
	r.ga = logtemplate.GroupingAccuracy(truth, groups)
	r.pa = logtemplate.ParsingAccuracy(truth, pred)
	r.pred = len(final)
	distinct := map[string]bool{}
	for _, t := range truth {
		distinct[t] = true
	}
	r.truth = len(distinct)
	return r, nil
}
