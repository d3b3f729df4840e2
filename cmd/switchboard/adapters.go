package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
	"github.com/switchboard-cc/switchboard/tickets/importer"
	"github.com/switchboard-cc/switchboard/tickets/sla"
)

// syncedDoc is one YAML settings document shared by all replicas through
// Elasticsearch. It is seeded from a file (or the built-in default) on the
// deployment's first start; afterwards the stored copy is in force, the API
// replaces it, and every replica reloads it when its version changes.
type syncedDoc struct {
	key   string
	st    *settings.Store
	apply func([]byte) error // parses, validates and puts into force

	mu    sync.Mutex
	seq   int64
	value []byte
}

func newSyncedDoc(ctx context.Context, st *settings.Store, key, seedFile string, builtin []byte, apply func([]byte) error, log *slog.Logger) (*syncedDoc, error) {
	d := &syncedDoc{key: key, st: st, apply: apply, seq: -1}
	seed := builtin
	if seedFile != "" {
		b, err := os.ReadFile(seedFile)
		if err != nil {
			return nil, err
		}
		if err := apply(b); err != nil {
			return nil, fmt.Errorf("%s: %w", seedFile, err)
		}
		seed = b
	}
	err := st.Create(ctx, key, string(seed), "seed")
	switch {
	case err == nil:
		log.InfoContext(ctx, "seeded shared setting", "key", key, "from", firstNonEmpty(seedFile, "built-in default"))
	case errors.Is(err, settings.ErrExists):
		if seedFile != "" {
			log.WarnContext(ctx, "setting already stored in Elasticsearch; the seed file is ignored (edit it through the API)", "key", key, "file", seedFile)
		}
	default:
		return nil, err
	}
	if err := d.reload(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// reload applies the stored document if it changed since the last reload.
func (d *syncedDoc) reload(ctx context.Context) error {
	doc, err := d.st.Get(ctx, d.key)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if doc.SeqNo == d.seq {
		return nil
	}
	if err := d.apply([]byte(doc.Value)); err != nil {
		return fmt.Errorf("stored %s is invalid: %w", d.key, err)
	}
	d.seq, d.value = doc.SeqNo, []byte(doc.Value)
	return nil
}

func (d *syncedDoc) current() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.value)
}

// replace validates and applies data here, then stores it for the others.
func (d *syncedDoc) replace(ctx context.Context, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.apply(data); err != nil {
		return fmt.Errorf("%w: %w", tickets.ErrInvalid, err)
	}
	if err := d.st.Put(ctx, d.key, string(data), "api"); err != nil {
		// Put the stored version back in force so this replica does not
		// run settings the others never see.
		if rerr := d.apply(d.value); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	doc, err := d.st.Get(ctx, d.key)
	if err == nil {
		d.seq = doc.SeqNo
	}
	d.value = bytes.Clone(data)
	return nil
}

// slaPolicies and automationRules give the API its view of the documents.
type slaPolicies struct{ d *syncedDoc }

func (s slaPolicies) Policies(context.Context) ([]byte, error) { return s.d.current(), nil }
func (s slaPolicies) ReplacePolicies(ctx context.Context, b []byte) error {
	return s.d.replace(ctx, b)
}

type automationRules struct{ d *syncedDoc }

func (a automationRules) Rules(context.Context) ([]byte, error) { return a.d.current(), nil }
func (a automationRules) ReplaceRules(ctx context.Context, b []byte) error {
	return a.d.replace(ctx, b)
}

// apiImporter runs an import uploaded through the API: the importer works
// on files, so the upload is spooled to a temporary directory first.
type apiImporter struct {
	svc   *tickets.Service
	store *esstore.Store
	sla   *sla.Holder
	embed importer.Embedder // nil without an embedding model
	log   *slog.Logger
}

func (a *apiImporter) Import(ctx context.Context, mapping []byte, input io.Reader, filename string, dryRun bool, actor string) (any, []byte, error) {
	m, err := importer.ParseMapping(mapping)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", tickets.ErrInvalid, err)
	}
	dir, err := os.MkdirTemp("", "switchboard-import-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	ext := strings.ToLower(filepath.Ext(filename))
	if ext != ".csv" && ext != ".jsonl" && ext != ".ndjson" {
		ext = ".data"
	}
	in := filepath.Join(dir, "input"+ext)
	f, err := os.Create(in)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.Copy(f, input); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%w: reading upload: %w", tickets.ErrInvalid, err)
	}
	if err := f.Close(); err != nil {
		return nil, nil, err
	}
	rejects := filepath.Join(dir, "rejects.csv")
	sum, err := importer.Run(ctx, importer.RunConfig{
		Mapping: m, InputPath: in, RejectsPath: rejects, DryRun: dryRun, Actor: actor,
	}, importer.Deps{Builder: a.svc, Sequencer: a.store, Writer: a.store, Embedder: a.embed, SLA: a.sla, Logger: a.log})
	if errors.Is(err, importer.ErrMapping) || errors.Is(err, importer.ErrInput) {
		err = fmt.Errorf("%w: %w", tickets.ErrInvalid, err)
	}
	var rej []byte
	if sum.Rejected > 0 {
		rej, _ = os.ReadFile(rejects)
	}
	sum.RejectsPath = ""
	return sum, rej, err
}
