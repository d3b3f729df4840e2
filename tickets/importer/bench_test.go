package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// benchRows is the size of one benchmark import.
const benchRows = 10000

// BenchmarkImport measures Run end to end (parse, validate, build, encode,
// bulk create through tickets/esstore) into Elasticsearch; BenchmarkRawBulk
// sends the documents the store wrote, encoded in advance, with the same
// batch size and concurrency. Their rows/s ratio is the importer's
// efficiency (goal: at least 80%).
//
//	SWITCHBOARD_TEST_ES_URL=... go test ./tickets/importer -run '^$' -bench . -benchtime 3x
func BenchmarkImport(b *testing.B) {
	input := writeGenerated(b, benchRows)
	for b.Loop() {
		b.StopTimer()
		c := estest.Client(b)
		be := newBackend(b, c, c)
		b.StartTimer()
		sum, err := importer.Run(context.Background(), importer.RunConfig{
			MappingPath: "testdata/generated-mapping.yaml",
			InputPath:   input,
		}, be.deps)
		if err != nil || sum.Imported != benchRows {
			b.Fatalf("Run: %v, %+v", err, sum)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkRawBulk(b *testing.B) {
	// Import once and read back what the store wrote, so the baseline
	// sends exactly the documents the import sends.
	input := writeGenerated(b, benchRows)
	c := estest.Client(b)
	be := newBackend(b, c, c)
	if _, err := importer.Run(context.Background(), importer.RunConfig{
		MappingPath: "testdata/generated-mapping.yaml",
		InputPath:   input,
	}, be.deps); err != nil {
		b.Fatal(err)
	}
	docs := storedDocs(b, c)
	for b.Loop() {
		b.StopTimer()
		c := estest.Client(b)
		newBackend(b, c, c)
		bodies := bulkBodies(c.Name(esstore.TicketsIndex), docs, importer.DefaultBatchSize)
		b.StartTimer()
		sendConcurrently(b, c, bodies, importer.DefaultWriters)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

type storedDoc struct {
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

func storedDocs(tb testing.TB, c *es.Client) []storedDoc {
	tb.Helper()
	alias := c.Name(esstore.TicketsIndex)
	if err := c.Refresh(context.Background(), alias); err != nil {
		tb.Fatal(err)
	}
	var res struct {
		Hits struct {
			Hits []storedDoc `json:"hits"`
		} `json:"hits"`
	}
	body := map[string]any{"size": benchRows, "sort": []string{"_doc"}}
	if err := c.Do(context.Background(), http.MethodPost, "/"+alias+"/_search", body, &res); err != nil {
		tb.Fatal(err)
	}
	if len(res.Hits.Hits) != benchRows {
		tb.Fatalf("read back %d documents, want %d", len(res.Hits.Hits), benchRows)
	}
	return res.Hits.Hits
}

func writeGenerated(tb testing.TB, n int) string {
	tb.Helper()
	var data bytes.Buffer
	if err := importer.GenerateCSV(&data, n, 7); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "tickets.csv")
	if err := os.WriteFile(path, data.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func bulkBodies(index string, docs []storedDoc, size int) [][]byte {
	var out [][]byte
	for i := 0; i < len(docs); i += size {
		var buf bytes.Buffer
		for _, d := range docs[i:min(i+size, len(docs))] {
			meta, _ := json.Marshal(map[string]any{"create": map[string]any{"_index": index, "_id": d.ID}})
			buf.Write(meta)
			buf.WriteByte('\n')
			buf.Write(d.Source)
			buf.WriteByte('\n')
		}
		out = append(out, buf.Bytes())
	}
	return out
}

func sendConcurrently(tb testing.TB, c *es.Client, bodies [][]byte, workers int) {
	ch := make(chan []byte)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for body := range ch {
				res, err := c.Bulk(context.Background(), body, "")
				if err != nil {
					tb.Error(err)
					continue
				}
				for _, it := range res.Items {
					if it.Status >= 300 {
						tb.Errorf("bulk item %s: %d %s", it.ID, it.Status, it.Error)
						break
					}
				}
			}
		})
	}
	for _, body := range bodies {
		ch <- body
	}
	close(ch)
	wg.Wait()
}
