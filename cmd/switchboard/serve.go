package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	rungroup "github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/ivr/redact"
	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/nluapi"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/api"
	"github.com/switchboard-cc/switchboard/tickets/automation"
	"github.com/switchboard-cc/switchboard/tickets/enrich"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/sla"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/auth/esauth"
)

// fileConfig is the optional YAML configuration file (--config). Flags and
// environment variables override the fields they name.
type fileConfig struct {
	HTTP struct {
		Addr          string `yaml:"addr"`
		PublicURL     string `yaml:"public_url"`
		MaxBodyBytes  int64  `yaml:"max_body_bytes"`
		DocsAssetsDir string `yaml:"docs_assets_dir"`
	} `yaml:"http"`
	Elasticsearch struct {
		Replicas       int   `yaml:"replicas"`
		RefreshOnWrite *bool `yaml:"refresh_on_write"`
	} `yaml:"elasticsearch"`
	Auth struct {
		TokenTTL time.Duration `yaml:"token_ttl"`
	} `yaml:"auth"`
	SLA struct {
		// PoliciesFile seeds the policies on first start; afterwards the
		// copy in Elasticsearch (editable through the API) is in force.
		PoliciesFile    string        `yaml:"policies_file"`
		MonitorInterval time.Duration `yaml:"monitor_interval"`
	} `yaml:"sla"`
	Automation struct {
		RulesFile string `yaml:"rules_file"`
	} `yaml:"automation"`
	Webhooks webhook.Config `yaml:"webhooks"`
	// CRM enrichment is on when crm.url is set.
	CRM  enrich.Config `yaml:"crm"`
	Logs struct {
		ShipToES      *bool `yaml:"ship_to_elasticsearch"`
		RetentionDays int   `yaml:"retention_days"`
	} `yaml:"logs"`
	// SettingsReload is how often replicas pick up settings changed
	// through another replica's API.
	SettingsReload time.Duration `yaml:"settings_reload"`
	NLU            nluConfig     `yaml:"nlu"`
	ASR            asrConfig     `yaml:"asr"`
	IVR            ivrConfig     `yaml:"ivr"`
	AIOps          aiopsConfig   `yaml:"aiops"`
}

func loadFileConfig(path string) (fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return fc, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	return fc, nil
}

type serveFlags struct {
	configPath string
	addr       string
	publicURL  string
	replicas   int
	esWait     time.Duration
	docsAssets string
	modelsDir  string
	// modelsDirSet: --models-dir was given, so it overrides the file.
	modelsDirSet bool
	ortLib       string
	nluThreads   int
	asr          bool
	// asrSet: --asr was given, so it overrides the file.
	asrSet  bool
	ivr     bool
	ivrSet  bool
	sipAddr string
}

func newServe(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Switchboard server",
		Long: `Run the Switchboard server: the REST API with its docs and metrics, the SLA
monitor, webhook deliveries and log shipping, on the Elasticsearch cluster
named by --es-url. The first start against an empty cluster creates the
indices and an admin API client, whose secret is printed once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.modelsDirSet = cmd.Flags().Changed("models-dir")
			f.asrSet = cmd.Flags().Changed("asr")
			f.ivrSet = cmd.Flags().Changed("ivr")
			return serve(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", env("SWITCHBOARD_CONFIG", ""), "YAML configuration file (env SWITCHBOARD_CONFIG)")
	fl.StringVar(&f.addr, "addr", env("SWITCHBOARD_ADDR", ""), "HTTP listen address (env SWITCHBOARD_ADDR; default 127.0.0.1:8080)")
	fl.StringVar(&f.publicURL, "public-url", env("SWITCHBOARD_PUBLIC_URL", ""), "URL clients use to reach the server, when behind a proxy")
	fl.IntVar(&f.replicas, "es-replicas", -1, "number_of_replicas for Switchboard's indices (default 0; set 1+ on a cluster)")
	fl.StringVar(&f.docsAssets, "docs-assets-dir", env("SWITCHBOARD_DOCS_ASSETS_DIR", ""), "directory with swagger-ui-dist's swagger-ui.css and swagger-ui-bundle.js, to serve /docs without a CDN (make run sets it)")
	fl.DurationVar(&f.esWait, "es-wait", 2*time.Minute, "how long to wait for Elasticsearch to answer at start")
	fl.StringVar(&f.modelsDir, "models-dir", env("SWITCHBOARD_MODELS_DIR", "models"), "NLU models directory with manifest.json (env SWITCHBOARD_MODELS_DIR); '' runs without NLU")
	fl.StringVar(&f.ortLib, "onnxruntime-lib", ort.LibraryFromEnv(), "ONNX Runtime 1.24 shared library (env ONNXRUNTIME_LIB)")
	fl.IntVar(&f.nluThreads, "nlu-threads", 0, "intra-op threads per model (default 1: requests are micro-batched, and tickets run three models side by side)")
	fl.BoolVar(&f.asr, "asr", true, "serve speech recognition (POST /api/v1/asr) with the asr and vad models the manifest in --models-dir names")
	fl.BoolVar(&f.ivr, "ivr", false, "answer SIP calls with the IVR (the config file's ivr section; needs the speech models)")
	fl.StringVar(&f.sipAddr, "sip-addr", env("SWITCHBOARD_SIP_ADDR", ""), "SIP UDP/TCP listen address of the IVR (env SWITCHBOARD_SIP_ADDR; default 127.0.0.1:5060)")
	return cmd
}

func serve(ctx context.Context, g *globals, f serveFlags) error {
	base, err := g.logHandler()
	if err != nil {
		return err
	}
	log := slog.New(base)
	fc, err := loadFileConfig(f.configPath)
	if err != nil {
		return err
	}
	c, err := g.connect(ctx, log, f.esWait)
	if err != nil {
		return err
	}

	// Logs: ship the service's own logs to Elasticsearch for AIOps.
	var shipper *eslog.Shipper
	if fc.Logs.ShipToES == nil || *fc.Logs.ShipToES {
		shipper = eslog.New(c, eslog.Config{Service: "switchboard", RetentionDays: fc.Logs.RetentionDays})
		if err := shipper.Setup(ctx); err != nil {
			return err
		}
		log = slog.New(shipper.Handler(base))
	}
	// The IVR puts callers' numbers and words into the logs' reach:
	// redact them before they are written or shipped.
	ivrOn := f.ivr
	if !f.ivrSet && fc.IVR.Enabled != nil {
		ivrOn = *fc.IVR.Enabled
	}
	if ivrOn && !fc.IVR.Redact.KeepLogs {
		red, err := newRedactor(fc.IVR)
		if err != nil {
			return err
		}
		if red != nil {
			log = slog.New(redact.NewHandler(log.Handler(), red))
		}
	}
	// Packages tag their own records with a component; cmd tags its own.
	mainLog := log.With("component", "switchboard")

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Language understanding: the models named by the manifest, hot
	// reloaded when it changes.
	nluCfg := fc.NLU
	if f.modelsDirSet || nluCfg.ModelsDir == "" {
		nluCfg.ModelsDir = f.modelsDir
	}
	if f.nluThreads > 0 {
		nluCfg.Threads = f.nluThreads
	}
	if nluCfg.Threads == 0 {
		nluCfg.Threads = 1
	}
	var nluSvc *nlu.Service
	if nluCfg.ModelsDir != "" {
		svc, rt, err := openNLU(ctx, nluCfg, f.ortLib, c, reg, mainLog)
		if err != nil {
			return err
		}
		if svc != nil {
			nluSvc = svc
			defer rt.Close()
			defer svc.Close()
		}
	}

	// Speech recognition of recordings: the manifest's asr and vad
	// models. A model not there yet leaves the route answering 503.
	asrOn := f.asr
	if !f.asrSet && fc.ASR.Enabled != nil {
		asrOn = *fc.ASR.Enabled
	}
	var speech *asr.Speech
	if asrOn && nluCfg.ModelsDir != "" {
		sp, rt, err := openSpeech(ctx, nluCfg.ModelsDir, fc.ASR, f.ortLib, mainLog)
		if err != nil {
			return fmt.Errorf("asr: %w", err)
		}
		if sp != nil {
			speech = sp
			defer rt.Close()
			defer sp.Close()
		}
	}

	// Storage.
	storeCfg := esstore.DefaultConfig()
	if d := embeddingDims(nluSvc); d > 0 {
		storeCfg.EmbeddingDims = d
	}
	// Writes do not wait for a refresh: a ticket is readable by id at once
	// and searchable within the refresh interval (1 s), and a waiting write
	// costs up to that second (see docs/configuration.md).
	storeCfg.RefreshOnWrite = false
	storeCfg.Replicas = fc.Elasticsearch.Replicas
	if f.replicas >= 0 {
		storeCfg.Replicas = f.replicas
	}
	if fc.Elasticsearch.RefreshOnWrite != nil {
		storeCfg.RefreshOnWrite = *fc.Elasticsearch.RefreshOnWrite
	}
	store := esstore.New(c, storeCfg, log.With("component", "esstore"))
	st := settings.New(c)
	clients := esauth.New(c)
	webhooks, err := webhook.New(c, fc.Webhooks, webhook.Deps{Logger: log})
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	// The ticket store's Setup ensures its own indices (and their replica
	// count); the rest are ensured here.
	if err := store.Setup(ctx); err != nil {
		return err
	}
	indices := append([]es.Index{st.Index(), clients.Index()}, webhooks.Indices()...)
	if err := c.Ensure(ctx, mainLog, indices...); err != nil {
		return err
	}

	// Settings shared by all replicas: SLA policies and automation rules.
	slaHolder := sla.NewHolder(nil)
	slaDoc, err := newSyncedDoc(ctx, st, "tickets.sla-policies", fc.SLA.PoliciesFile, sla.DefaultYAML(),
		func(b []byte) error {
			p, err := sla.Parse(b)
			if err != nil {
				return err
			}
			return slaHolder.ApplyConfig(p)
		}, mainLog)
	if err != nil {
		return fmt.Errorf("sla policies: %w", err)
	}
	rulesHolder := automation.NewHolder(nil)
	rulesDoc, err := newSyncedDoc(ctx, st, "tickets.automation-rules", fc.Automation.RulesFile, automation.DefaultYAML(),
		func(b []byte) error {
			r, err := automation.Parse(b)
			if err != nil {
				return err
			}
			return rulesHolder.ApplyConfig(r)
		}, mainLog)
	if err != nil {
		return fmt.Errorf("automation rules: %w", err)
	}

	var enricher tickets.Enricher
	if fc.CRM.URL != "" {
		conn, err := enrich.New(fc.CRM, enrich.Deps{Logger: log})
		if err != nil {
			return fmt.Errorf("crm: %w", err)
		}
		enricher = conn
	}

	feedback, err := newLabelFeedback(reg)
	if err != nil {
		return err
	}
	var ana tickets.Analyzer
	if nluSvc != nil {
		ana = analyzer{svc: nluSvc, timeout: 2 * time.Second}
	}
	svc, err := tickets.New(tickets.DefaultConfig(), tickets.Deps{
		Store: store, Sequencer: tickets.NewBlockSequencer(store, 20), SLA: slaHolder, Automator: rulesHolder,
		Enricher: enricher, Analyzer: ana, Feedback: feedback, Vectors: store, Publisher: webhooks,
		Logger: log.With("component", "tickets"), NewID: newID,
	})
	if err != nil {
		return err
	}
	monitor, err := sla.NewMonitor(sla.MonitorConfig{Interval: fc.SLA.MonitorInterval}, sla.MonitorDeps{
		Finder: store, Updater: svc, Policies: slaHolder, Logger: log,
	})
	if err != nil {
		return err
	}

	// Authentication.
	key, err := signingKey(ctx, st)
	if err != nil {
		return err
	}
	issuer, err := auth.NewIssuer(auth.Config{SigningKey: key, Issuer: "switchboard", Audience: "switchboard", TTL: fc.Auth.TokenTTL}, clients, nil)
	if err != nil {
		return err
	}
	secret, created, err := auth.EnsureAdmin(ctx, clients, mainLog)
	if err != nil {
		return err
	}

	// HTTP.
	ticketAPI, err := api.New(api.DefaultConfig(), api.Deps{
		Tickets:    svc,
		Webhooks:   webhooks,
		SLA:        slaPolicies{slaDoc},
		Automation: automationRules{rulesDoc},
		Importer:   newAPIImporter(svc, store, slaHolder, nluSvc, storeCfg.EmbeddingDims, log),
		Clients:    clients,
	})
	if err != nil {
		return err
	}
	apis := []web.Registrar{ticketAPI}

	// AIOps: log ingestion with template mining.
	var readable func(string) bool
	if nluSvc != nil {
		readable = nluSvc.Readable
	}
	ops, err := startAIOps(ctx, fc.AIOps, c, st, readable, log.With("component", "aiops"))
	if err != nil {
		return err
	}
	apis = append(apis, ops.apis...)

	// The voice IVR: SIP calls through the call flow.
	var ivr *ivrParts
	if ivrOn {
		ic := fc.IVR
		ic.SIP.Addr = firstNonEmpty(f.sipAddr, ic.SIP.Addr)
		if ivr, err = startIVR(ctx, ic, ivrDeps{
			es: c, speech: speech, nlu: nluSvc, tickets: svc, reg: reg,
			log: log.With("component", "ivr"), modelsDir: nluCfg.ModelsDir, progress: promptProgress,
		}); err != nil {
			return err
		}
		apis = append(apis, ivr.apis...)
	}
	if nluSvc != nil {
		nluAPI, err := nluapi.New(nluapi.DefaultConfig(), nluapi.Deps{Service: nluSvc, Neighbors: neighbors{store}})
		if err != nil {
			return err
		}
		apis = append(apis, nluAPI)
	}
	if asrOn {
		asrAPI, err := newASRAPI(fc.ASR, speech)
		if err != nil {
			return err
		}
		apis = append(apis, asrAPI)
	}
	if shipper != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_logs_dropped_total",
			Help: "Log records not shipped to Elasticsearch because it was unreachable or slow.",
		}, func() float64 { return float64(shipper.Dropped()) }))
	}
	webCfg := web.DefaultConfig()
	webCfg.Addr = firstNonEmpty(f.addr, fc.HTTP.Addr, webCfg.Addr)
	webCfg.PublicURL = firstNonEmpty(f.publicURL, fc.HTTP.PublicURL)
	webCfg.DocsAssetsDir = firstNonEmpty(f.docsAssets, fc.HTTP.DocsAssetsDir)
	if fc.HTTP.MaxBodyBytes > 0 {
		webCfg.MaxBodyBytes = fc.HTTP.MaxBodyBytes
	}
	gin.SetMode(gin.ReleaseMode)
	srv, err := web.New(webCfg, web.Deps{
		Logger: log, Registry: reg, Issuer: issuer,
		Ready: c.Ping, APIs: apis,
	})
	if err != nil {
		return err
	}

	printBanner(g, webCfg, created, secret)

	// Every long-running part in one group: when one stops, all stop.
	var group rungroup.Group
	add := func(name string, fn func(context.Context) error) {
		ctx, cancel := context.WithCancel(ctx)
		group.Add(func() error {
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}, func(error) { cancel() })
	}
	add("http", srv.Run)
	for name, run := range ops.runs {
		add(name, run)
	}
	if ivr != nil {
		for name, run := range ivr.runs {
			add(name, run)
		}
		add("sip", func(ctx context.Context) error {
			<-ctx.Done()
			// Calls in progress get a BYE; their records are written.
			cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := ivr.sip.Close(cctx)
			ivr.runner.Wait()
			return err
		})
	}
	add("sla monitor", monitor.Run)
	add("webhooks", webhooks.Run)
	if nluSvc != nil {
		add("nlu reload", nluSvc.Watch)
	}
	reload := fc.SettingsReload
	if reload <= 0 {
		reload = 30 * time.Second
	}
	add("settings reload", func(ctx context.Context) error {
		return reloadLoop(ctx, reload, mainLog, slaDoc, rulesDoc)
	})
	// Stop when the process is signalled (ctx done).
	add("signal", func(ctx context.Context) error { <-ctx.Done(); return nil })
	if shipper != nil {
		// The shipper stops with the others and flushes what they logged.
		add("log shipper", shipper.Run)
	}
	mainLog.Info("switchboard started", "addr", webCfg.Addr, "es", strings.Join(g.esConfig().URLs, ","), "prefix", g.indexPrefix)
	err = group.Run()
	mainLog.Info("switchboard stopped", "err", err)
	return err
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// signingKey returns the JWT signing key: SWITCHBOARD_JWT_KEY when the
// operator keeps it elsewhere, else the deployment's key in Elasticsearch.
func signingKey(ctx context.Context, st *settings.Store) ([]byte, error) {
	if v := os.Getenv("SWITCHBOARD_JWT_KEY"); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) < 32 {
			return nil, errors.New("SWITCHBOARD_JWT_KEY must be at least 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")
		}
		return key, nil
	}
	return esauth.SigningKey(ctx, st)
}

func printBanner(g *globals, cfg web.Config, created bool, secret string) {
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + cfg.Addr
	}
	w := g.stdout
	fmt.Fprintf(w, "\nSwitchboard is running.\n")
	fmt.Fprintf(w, "  API:      %s/api/v1\n", base)
	fmt.Fprintf(w, "  API docs: %s/docs  (OpenAPI: %s/openapi.json)\n", base, base)
	fmt.Fprintf(w, "  Metrics:  %s/metrics\n", base)
	fmt.Fprintf(w, "  Health:   %s/healthz, %s/readyz\n", base, base)
	if created {
		fmt.Fprintf(w, "\nAn admin API client was created. Its secret is shown only this once; store it now:\n")
		fmt.Fprintf(w, "  client_id:     %s\n  client_secret: %s\n", auth.AdminClientID, secret)
		fmt.Fprintf(w, "Get a token with:\n  curl -s -u %s:%s -d grant_type=client_credentials %s/oauth/token\n", auth.AdminClientID, secret, base)
	} else {
		fmt.Fprintf(w, "\nThe admin API client exists (its secret was shown on the first start).\n")
		fmt.Fprintf(w, "Create more clients with: switchboard clients create --name NAME --role ROLE\n")
	}
	fmt.Fprintln(w)
}

// reloadLoop re-reads shared settings so that a change made through one
// replica's API reaches every replica.
func reloadLoop(ctx context.Context, every time.Duration, log *slog.Logger, docs ...*syncedDoc) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for _, d := range docs {
				if err := d.reload(ctx); err != nil {
					log.WarnContext(ctx, "settings reload failed; keeping the settings in force", "key", d.key, "err", err)
				}
			}
		}
	}
}
