package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

func newTraining(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "training",
		Short: "Training data for the NLU models (see training/README.md)",
	}
	cmd.AddCommand(newTrainingExport(g))
	return cmd
}

// exportRow is one labelled example, as training/ reads it.
type exportRow struct {
	ID        string    `json:"id"`
	Text      string    `json:"text"`
	Label     string    `json:"label"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	Lang      string    `json:"lang,omitempty"`
	Channel   string    `json:"channel,omitempty"`
}

func newTrainingExport(g *globals) *cobra.Command {
	var since, until, out, sources string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "export [--since DATE] [--until DATE] [--out FILE]",
		Short: "Export labelled tickets as JSON Lines for training the category model",
		Long: `Export the tickets whose category a person decided, as JSON Lines
(id, text, label, source, created_at, lang, channel), oldest first, for
switchboard-train. By default only agent labels and imported labels are
exported: a model's own guesses (source auto) would teach the next model
its predecessor's mistakes. Dates are YYYY-MM-DD or RFC 3339; --until is
exclusive.`,
		Example: `  switchboard training export --since 2026-08-01 > data.jsonl
  switchboard training export --since 2026-08-01 --until 2026-11-01 --out data.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseDay("since", since)
			if err != nil {
				return err
			}
			to, err := parseDay("until", until)
			if err != nil {
				return err
			}
			if !from.IsZero() && !to.IsZero() && !from.Before(to) {
				return fmt.Errorf("--since %s must be before --until %s", since, until)
			}
			var srcs []string
			for _, s := range strings.Split(sources, ",") {
				s = strings.TrimSpace(s)
				switch s {
				case tickets.SourceAgent, tickets.SourceImport, tickets.SourceAuto, tickets.SourceNeedsReview:
					srcs = append(srcs, s)
				case "":
				default:
					return fmt.Errorf("--sources: unknown category source %q (agent, import, auto, needs_review)", s)
				}
			}
			h, err := g.logHandler()
			if err != nil {
				return err
			}
			log := slog.New(h)
			ctx := cmd.Context()
			c, err := g.connect(ctx, log, 30*time.Second)
			if err != nil {
				return err
			}
			store := esstore.New(c, esstore.DefaultConfig(), log)

			w := g.stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 1<<16)
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			var bar io.Writer = io.Discard
			if !quiet {
				pb := progressbar.NewOptions(-1, progressbar.OptionSetWriter(g.stderr),
					progressbar.OptionSetDescription("exporting labelled tickets"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
				defer pb.Finish()
				bar = pb
			}
			n, err := store.Labelled(ctx, from, to, srcs, func(t *tickets.Ticket) error {
				_, _ = bar.Write([]byte{0})
				return enc.Encode(exportRow{
					ID: t.ID, Text: tickets.AnalysisText(t), Label: t.Category.Label, Source: t.Category.Source,
					CreatedAt: t.CreatedAt, Lang: t.Language, Channel: string(t.Channel),
				})
			})
			if err != nil {
				return fmt.Errorf("export after %d tickets: %w", n, err)
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			fmt.Fprintf(g.stderr, "exported %d labelled tickets (sources %s)\n", n, strings.Join(srcs, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "first creation day to export (YYYY-MM-DD or RFC 3339); default: the beginning")
	f.StringVar(&until, "until", "", "export tickets created before this (exclusive); default: now")
	f.StringVar(&out, "out", "", "write to this file instead of stdout")
	f.StringVar(&sources, "sources", "agent,import", "category sources to export, comma-separated (agent, import, auto, needs_review)")
	f.BoolVar(&quiet, "quiet", false, "no progress on stderr")
	return cmd
}

// parseDay reads a YYYY-MM-DD day (UTC midnight) or an RFC 3339 time; ""
// is the zero time (an open bound).
func parseDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want YYYY-MM-DD or RFC 3339 (2026-11-01T00:00:00Z)", flag, s)
	}
	return t, nil
}
