package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/aiops/anomaly"
	"github.com/switchboard-cc/switchboard/aiops/nab"
)

func newAIOpsNAB(g *globals) *cobra.Command {
	var data, out, name string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "nab --data DIR [--out DIR]",
		Short: "Run the streaming anomaly detector on the Numenta Anomaly Benchmark and score it",
		Long: `Run the aiops/anomaly detector causally over every series of a NAB corpus
(DIR/data/<category>/<file>.csv, DIR/labels/combined_windows.json,
DIR/config/profiles.json), write NAB-format results under
OUT/<detector>/<category>/<detector>_<file>.csv (with --out), and print the
NAB score of each profile: the threshold is swept over all files at once
and the raw score normalised so that the null detector scores 0 and a
perfect one 100.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			corpus, err := nab.Read(data)
			if err != nil {
				return err
			}
			start := time.Now()
			results, err := nab.Run(cmd.Context(), corpus, func() (nab.Detector, error) {
				d, err := anomaly.New(anomaly.DefaultConfig())
				if err != nil {
					return nil, err
				}
				return nab.DetectorFunc(func(t time.Time, v float64) float64 { return d.Observe(t, v).Score }), nil
			})
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			if out != "" {
				if err := nab.WriteResults(out, name, results); err != nil {
					return err
				}
			}
			var scores []nab.ProfileScore
			for _, p := range corpus.Profiles {
				scores = append(scores, nab.Score(results, p))
			}
			w := cmd.OutOrStdout()
			rows := 0
			for _, s := range corpus.Series {
				rows += len(s.Values)
			}
			fmt.Fprintf(w, "%d series, %d rows, detected in %v\n", len(corpus.Series), rows, elapsed.Round(time.Millisecond))
			if verbose {
				for _, p := range scores {
					fmt.Fprintf(w, "\n%s (threshold %.4f):\n", p.Profile, p.Threshold)
					for _, f := range p.Files {
						fmt.Fprintf(w, "  %-55s %8.3f  tp=%d fp=%d fn=%d\n", f.Name, f.Score, f.TP, f.FP, f.FN)
					}
				}
				fmt.Fprintln(w)
			}
			fmt.Fprint(w, nab.FormatScores(name, scores))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "NAB corpus directory (with data/, labels/, config/)")
	f.StringVar(&out, "out", "", "results directory; nothing is written without it")
	f.StringVar(&name, "detector", "switchboard", "detector name in the results layout")
	f.BoolVarP(&verbose, "verbose", "v", false, "print every file's raw score at each profile's threshold")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}
