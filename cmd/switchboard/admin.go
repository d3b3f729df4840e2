package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/importer"
	"github.com/switchboard-cc/switchboard/tickets/sla"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/auth/esauth"
)

func newImport(g *globals) *cobra.Command {
	var cfg importer.RunConfig
	var mappingPath string
	var noProgress, noEmbed bool
	var modelsDir, ortLib string
	cmd := &cobra.Command{
		Use:   "import --mapping MAP.yaml FILE.csv|FILE.jsonl",
		Short: "Import historical tickets from a CSV or JSON Lines export",
		Long: `Import historical tickets from another system's export. The mapping file says
which source column feeds which ticket field (see docs/import.md). Invalid rows
are not fatal: they are listed, with the reason, in the rejection report
(FILE.rejects.csv unless --rejects says otherwise). Ticket ids derive from the
source ids, so an interrupted import can simply be run again: tickets already
stored are skipped, none is duplicated. When the embedding model is installed
(--models-dir), each ticket is embedded as it is imported, so that history
takes part in similar-ticket search and backs new classifications with
labelled examples; --no-embed skips that (several times faster).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			h, err := g.logHandler()
			if err != nil {
				return err
			}
			log := slog.New(h)
			cfg.MappingPath = mappingPath
			cfg.InputPath = args[0]
			if !noProgress {
				cfg.Progress = g.stderr
			}
			if cfg.Actor == "" {
				cfg.Actor = "import"
			}
			var deps importer.Deps
			if !cfg.DryRun {
				if noEmbed {
					modelsDir = ""
				}
				var done func()
				deps, done, err = importDeps(ctx, g, log, modelsDir, ortLib)
				if err != nil {
					return err
				}
				defer done()
			}
			sum, err := importer.Run(ctx, cfg, deps)
			fmt.Fprintln(g.stdout, sum.String())
			if err != nil {
				var inc *importer.IncompleteError
				if errors.As(err, &inc) {
					return fmt.Errorf("%w\nRe-run the same command to resume: stored tickets are skipped, none is duplicated", err)
				}
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&mappingPath, "mapping", "", "YAML field-mapping file (required)")
	f.StringVar(&cfg.RejectsPath, "rejects", "", "where to write the rejection report (default FILE.rejects.csv)")
	f.BoolVar(&cfg.DryRun, "dry-run", false, "validate everything and write the rejection report, store nothing")
	f.IntVar(&cfg.BatchSize, "batch-size", 1000, "tickets per bulk request")
	f.IntVar(&cfg.Writers, "writers", 3, "bulk requests in flight at once")
	f.DurationVar(&cfg.RetryFor, "retry-for", 2*time.Minute, "how long to keep retrying while Elasticsearch is unavailable")
	f.StringVar(&cfg.Actor, "actor", "import", "name recorded in each imported ticket's history")
	f.BoolVar(&cfg.ForceProgress, "progress", false, "show the progress bar even when stderr is not a terminal")
	f.BoolVar(&noProgress, "quiet", false, "no progress bar")
	f.BoolVar(&noEmbed, "no-embed", false, "do not embed the imported tickets (faster; they are then absent from similar-ticket search)")
	f.StringVar(&modelsDir, "models-dir", env("SWITCHBOARD_MODELS_DIR", "models"), "NLU models directory with manifest.json (env SWITCHBOARD_MODELS_DIR)")
	f.StringVar(&ortLib, "onnxruntime-lib", ort.LibraryFromEnv(), "ONNX Runtime 1.24 shared library (env ONNXRUNTIME_LIB)")
	_ = cmd.MarkFlagRequired("mapping")
	return cmd
}

// importDeps connects to Elasticsearch and builds what a real import needs.
// Bulk imports skip the per-write refresh; the store refreshes at the end.
func importDeps(ctx context.Context, g *globals, log *slog.Logger, modelsDir, ortLib string) (importer.Deps, func(), error) {
	done := func() {}
	c, err := g.connect(ctx, log, 30*time.Second)
	if err != nil {
		return importer.Deps{}, done, err
	}
	var embedder importer.Embedder
	cfg := esstore.DefaultConfig()
	if modelsDir != "" {
		svc, rt, err := openNLU(ctx, nluConfig{ModelsDir: modelsDir, Threads: 2}, ortLib, nil, nil, log)
		if err != nil {
			return importer.Deps{}, done, err
		}
		if d := embeddingDims(svc); d > 0 {
			embedder, cfg.EmbeddingDims = svc, d
		}
		if svc != nil {
			done = func() { svc.Close(); rt.Close() }
		}
	}
	cfg.RefreshOnWrite = false
	store := esstore.New(c, cfg, log)
	st := settings.New(c)
	if err := store.Setup(ctx); err != nil {
		return importer.Deps{}, done, err
	}
	if err := c.Ensure(ctx, log, st.Index()); err != nil {
		return importer.Deps{}, done, err
	}
	// Imported tickets get due times from the policies in force.
	pol, err := sla.Default()
	if doc, gerr := st.Get(ctx, "tickets.sla-policies"); gerr == nil {
		pol, err = sla.Parse([]byte(doc.Value))
	}
	if err != nil {
		return importer.Deps{}, done, fmt.Errorf("sla policies: %w", err)
	}
	svc, err := tickets.New(tickets.DefaultConfig(), tickets.Deps{Store: store, Sequencer: store, NewID: newID, Logger: log})
	if err != nil {
		return importer.Deps{}, done, err
	}
	return importer.Deps{Builder: svc, Sequencer: store, Writer: store, Embedder: embedder, SLA: pol, Logger: log}, done, nil
}

func newClients(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Manage API clients (OAuth2 client credentials)",
		Long: `Manage API clients directly in Elasticsearch. Whoever can run this command
with the cluster's credentials is trusted; use it to create the first
integration clients, or a new admin client if the admin secret was lost.`,
	}
	store := func(ctx context.Context) (*esauth.Store, error) {
		h, err := g.logHandler()
		if err != nil {
			return nil, err
		}
		log := slog.New(h)
		c, err := g.connect(ctx, log, 30*time.Second)
		if err != nil {
			return nil, err
		}
		s := esauth.New(c)
		return s, c.Ensure(ctx, log, s.Index())
	}
	var name, role string
	create := &cobra.Command{
		Use:   "create --name NAME --role ROLE",
		Short: "Create a client and print its secret (shown only once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return err
			}
			s, err := store(cmd.Context())
			if err != nil {
				return err
			}
			c, secret, err := auth.CreateClient(cmd.Context(), s, name, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "client_id:     %s\nclient_secret: %s\nrole:          %s\n", c.ID, secret, c.Role)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the client is for, e.g. crm-sync")
	create.Flags().StringVar(&role, "role", "", "agent, supervisor, ml_engineer, ops, admin or integration")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("role")
	list := &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := store(cmd.Context())
			if err != nil {
				return err
			}
			all, err := s.ListClients(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tDISABLED")
			for _, c := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", c.ID, c.Name, c.Role, c.CreatedAt.Format(time.RFC3339), c.Disabled)
			}
			return tw.Flush()
		},
	}
	disable := &cobra.Command{
		Use:   "disable ID",
		Short: "Disable a client: it gets no new tokens (issued ones expire within their TTL)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := store(cmd.Context())
			if err != nil {
				return err
			}
			c, err := s.GetClient(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			c.Disabled = true
			return s.UpdateClient(cmd.Context(), c)
		},
	}
	cmd.AddCommand(create, list, disable)
	return cmd
}
