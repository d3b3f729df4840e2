// Command benchtool prepares the data `make bench` measures with: a legacy
// help-desk export to import, and the same tickets as raw _bulk NDJSON, so
// the import can be compared with Elasticsearch's own bulk rate.
//
//	benchtool gen-csv N FILE           write N generated legacy tickets
//	benchtool dump-ndjson URL INDEX TARGET DIR
//	                                   write INDEX's documents as bulk files
//	                                   of 1000 create actions into TARGET
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 3 && args[0] == "gen-csv" {
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		f, err := os.Create(args[2])
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if err := importer.GenerateCSV(w, n, 42); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Close()
	}
	if len(args) == 5 && args[0] == "dump-ndjson" {
		return dump(args[1], args[2], args[3], args[4])
	}
	return fmt.Errorf("usage: benchtool gen-csv N FILE | dump-ndjson URL INDEX TARGET DIR")
}

func dump(url, index, target, dir string) error {
	c, err := es.New(es.Config{URLs: []string{url}, Prefix: "bench"})
	if err != nil {
		return err
	}
	ctx := context.Background()
	var page struct {
		ScrollID string `json:"_scroll_id"`
		Hits     struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	q := map[string]any{"size": 1000, "sort": []string{"_doc"}}
	if err := c.Do(ctx, http.MethodPost, "/"+index+"/_search?scroll=5m", q, &page); err != nil {
		return err
	}
	for n := 0; len(page.Hits.Hits) > 0; n++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("bulk-%05d.ndjson", n)))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for _, h := range page.Hits.Hits {
			fmt.Fprintf(w, `{"create":{"_index":%q,"_id":%q}}`+"\n", target, h.ID)
			w.Write(h.Source)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return err
		}
		f.Close()
		id := page.ScrollID
		page.Hits.Hits = nil
		if err := c.Do(ctx, http.MethodPost, "/_search/scroll", map[string]any{"scroll": "5m", "scroll_id": id}, &page); err != nil {
			return err
		}
	}
	return nil
}
