package importer

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/switchboard-cc/switchboard/tickets"
)

// report is the rejection report: a CSV file with one line per violation,
// so a row with three problems shows all three. It is safe for concurrent
// use: the parser reports invalid rows, writers report rows that storage
// refused.
type report struct {
	mu   sync.Mutex
	f    *os.File
	w    *csv.Writer
	path string
}

func createReport(path string) (*report, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("importer: rejection report: %w", err)
	}
	r := &report{f: f, w: csv.NewWriter(f), path: path}
	if err := r.w.Write([]string{"row", "field", "message", "raw"}); err != nil {
		f.Close()
		return nil, fmt.Errorf("importer: rejection report: %w", err)
	}
	return r, nil
}

func (r *report) add(line int, raw string, vs []tickets.FieldViolation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vs {
		if err := r.w.Write([]string{strconv.Itoa(line), v.Field, v.Message, raw}); err != nil {
			return fmt.Errorf("importer: write %s: %w", r.path, err)
		}
	}
	return nil
}

func (r *report) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Flush()
	err := r.w.Error()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("importer: write %s: %w", r.path, err)
	}
	return nil
}
