// Command switchboard is the Switchboard server and its administration
// tools, in one binary: `serve` runs the API (and, as they arrive, the IVR
// and AIOps workers); `import` migrates historical tickets; `clients` manages
// API credentials. This is the only package that knows every other package
// and wires concrete implementations together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	// SLA calendars name IANA time zones; embed the database so a container
	// without /usr/share/zoneinfo still computes business hours right.
	_ "time/tzdata"

	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/es"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(stderr, "switchboard:", err)
		}
		return 1
	}
	return 0
}

// errSilent marks failures already reported to the user.
var errSilent = errors.New("failed")

// globals are the flags every command shares: where Elasticsearch is and
// how to log.
type globals struct {
	esURLs      string
	esAPIKey    string
	esUser      string
	esPassword  string
	esCAFile    string
	esInsecure  bool
	indexPrefix string
	logLevel    string
	logFormat   string
	stdin       io.Reader
	stdout      io.Writer
	stderr      io.Writer
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "switchboard",
		Short:         "Self-hosted AI call-center and ticketing engine",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	f := root.PersistentFlags()
	f.StringVar(&g.esURLs, "es-url", env("ES_URL", ""), "Elasticsearch URL(s), comma-separated (env ES_URL)")
	f.StringVar(&g.esAPIKey, "es-api-key", env("ES_API_KEY", ""), "Elasticsearch API key, base64 id:key (env ES_API_KEY)")
	f.StringVar(&g.esUser, "es-username", env("ES_USERNAME", ""), "Elasticsearch basic-auth user (env ES_USERNAME)")
	f.StringVar(&g.esPassword, "es-password", env("ES_PASSWORD", ""), "Elasticsearch basic-auth password (env ES_PASSWORD)")
	f.StringVar(&g.esCAFile, "es-ca-file", env("ES_CA_FILE", ""), "PEM CA certificate of the Elasticsearch cluster (env ES_CA_FILE)")
	f.BoolVar(&g.esInsecure, "es-insecure-skip-verify", false, "do not verify the cluster's TLS certificate (testing only)")
	f.StringVar(&g.indexPrefix, "index-prefix", env("SWITCHBOARD_INDEX_PREFIX", "switchboard"), "prefix of every index this deployment owns (env SWITCHBOARD_INDEX_PREFIX)")
	f.StringVar(&g.logLevel, "log-level", env("SWITCHBOARD_LOG_LEVEL", "info"), "debug, info, warn or error")
	f.StringVar(&g.logFormat, "log-format", env("SWITCHBOARD_LOG_FORMAT", "json"), "json or text")
	root.AddCommand(newServe(g), newImport(g), newClients(g), newTraining(g), newASR(g), newIVR(g), newAIOps(g), newSimulate(g))
	return root
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// esConfig builds the Elasticsearch configuration from the flags.
func (g *globals) esConfig() es.Config {
	var urls []string
	for _, u := range strings.Split(g.esURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	return es.Config{
		URLs: urls, APIKey: g.esAPIKey, Username: g.esUser, Password: g.esPassword,
		CAFile: g.esCAFile, InsecureSkipVerify: g.esInsecure, Prefix: g.indexPrefix,
	}
}

// connect builds a client and waits up to wait for the cluster to answer,
// so that a server started together with its Elasticsearch does not fail
// on the cluster's first seconds.
func (g *globals) connect(ctx context.Context, log *slog.Logger, wait time.Duration) (*es.Client, error) {
	c, err := es.New(g.esConfig())
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = c.Ping(pctx)
		cancel()
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("elasticsearch at %s is not reachable: %w", g.esURLs, err)
		}
		log.InfoContext(ctx, "waiting for elasticsearch", "url", g.esURLs, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// logHandler returns the handler for the process's own log output.
func (g *globals) logHandler() (slog.Handler, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "json":
		return slog.NewJSONHandler(g.stderr, opts), nil
	case "text":
		return slog.NewTextHandler(g.stderr, opts), nil
	}
	return nil, fmt.Errorf("--log-format must be json or text, not %q", g.logFormat)
}
