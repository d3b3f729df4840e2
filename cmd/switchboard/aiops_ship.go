package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/aiops/logs"
)

type shipFlags struct {
	url          string
	token        string
	clientID     string
	clientSecret string
	service      string
	host         string
	text         bool
	batch        int
}

// newAIOpsShip is the log shipper: it sends a file (or stdin) to the
// server's POST /api/v1/logs in batches, so one server (and its template
// miner) sees every service's logs.
func newAIOpsShip(g *globals) *cobra.Command {
	var f shipFlags
	cmd := &cobra.Command{
		Use:   "ship FILE|-",
		Short: "Send a log file (or stdin) to the server's log ingestion",
		Long: `Send log lines to POST /api/v1/logs in batches. Lines are JSON objects with
ECS-style fields (@timestamp, message, log.level, service.name, ...), or, with
--text, plain lines sent as messages. Authenticate with --token, or with
--client-id and --client-secret (an API client with the ops role). Prints how
many lines were taken and how many rejected, by reason.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return ship(cmd.Context(), f, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", env("SWITCHBOARD_URL", "http://127.0.0.1:8080"), "the server (env SWITCHBOARD_URL)")
	fl.StringVar(&f.token, "token", env("SWITCHBOARD_TOKEN", ""), "access token (env SWITCHBOARD_TOKEN)")
	fl.StringVar(&f.clientID, "client-id", env("SWITCHBOARD_CLIENT_ID", ""), "API client id, to get a token (env SWITCHBOARD_CLIENT_ID)")
	fl.StringVar(&f.clientSecret, "client-secret", env("SWITCHBOARD_CLIENT_SECRET", ""), "API client secret (env SWITCHBOARD_CLIENT_SECRET)")
	fl.StringVar(&f.service, "service", "", "service.name for lines that name none")
	fl.StringVar(&f.host, "host", "", "host.name for lines that name none")
	fl.BoolVar(&f.text, "text", false, "the input is plain text lines, not JSON")
	fl.IntVar(&f.batch, "batch", 1000, "lines per request")
	return cmd
}

func ship(ctx context.Context, f shipFlags, path string, stdout, stderr io.Writer) error {
	if f.batch < 1 {
		return fmt.Errorf("--batch must be at least 1")
	}
	token := f.token
	if token == "" {
		if f.clientID == "" || f.clientSecret == "" {
			return fmt.Errorf("give --token, or --client-id and --client-secret")
		}
		var err error
		if token, err = fetchToken(ctx, f.url, f.clientID, f.clientSecret); err != nil {
			return err
		}
	}
	var in io.Reader = os.Stdin
	var bar *progressbar.ProgressBar
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return err
		}
		defer file.Close()
		st, err := file.Stat()
		if err != nil {
			return err
		}
		bar = progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("ship"),
			progressbar.OptionShowBytes(true), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
		in = io.TeeReader(file, bar)
	}
	q := url.Values{}
	if f.service != "" {
		q.Set("service", f.service)
	}
	if f.host != "" {
		q.Set("host", f.host)
	}
	endpoint := strings.TrimSuffix(f.url, "/") + "/api/v1/logs"
	if len(q) > 0 {
		endpoint += "?" + q.Encode()
	}
	total := logs.Result{Reasons: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 2<<20) // the server rejects lines over 1 MiB itself
	var body bytes.Buffer
	n, sent := 0, 0
	send := func() error {
		if n == 0 {
			return nil
		}
		res, err := postLogs(ctx, endpoint, token, body.Bytes())
		if err != nil {
			return fmt.Errorf("after %d lines: %w", sent, err)
		}
		sent += n
		total.Accepted += res.Accepted
		total.Rejected += res.Rejected
		total.Repaired += res.Repaired
		for k, v := range res.Reasons {
			total.Reasons[k] += v
		}
		body.Reset()
		n = 0
		return nil
	}
	for sc.Scan() {
		line := sc.Bytes()
		if f.text {
			b, _ := json.Marshal(map[string]string{"message": string(line)})
			line = b
		}
		body.Write(line)
		body.WriteByte('\n')
		n++
		if n >= f.batch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := send(); err != nil {
		return err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	fmt.Fprintf(stdout, "%d lines taken, %d rejected", total.Accepted, total.Rejected)
	if total.Repaired > 0 {
		fmt.Fprintf(stdout, ", %d with invalid UTF-8 repaired", total.Repaired)
	}
	for k, v := range total.Reasons {
		fmt.Fprintf(stdout, "; %s: %d", k, v)
	}
	fmt.Fprintln(stdout)
	return nil
}

func postLogs(ctx context.Context, endpoint, token string, body []byte) (logs.Result, error) {
	var res logs.Result
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("POST %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("POST %s: answer: %w", endpoint, err)
	}
	return res, nil
}

func fetchToken(ctx context.Context, base, id, secret string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token: no access_token in the answer")
	}
	return tok.AccessToken, nil
}
