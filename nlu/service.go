package nlu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/onnxmodel"
	"github.com/switchboard-cc/switchboard/nlu/ort"
)

// Deps are the Service's optional collaborators.
type Deps struct {
	// Utterances is where out-of-scope and low-confidence intents are
	// recorded for IntentHealth; nil disables both. *es.Client is one.
	Utterances Elasticsearch
}

// Service answers the understanding tasks with the model versions the
// manifest names, and keeps them current. It is safe for concurrent use.
// Open starts it; Close stops it and frees the models once the last
// request using each has finished.
type Service struct {
	cfg Config
	rt  *ort.Runtime
	log *slog.Logger
	m   *metrics

	// reloadMu serialises reloads; it is held while a new version opens,
	// which takes a while, so it is never taken on the request path.
	reloadMu sync.Mutex
	// failed remembers, per task and role, the version and directory
	// fingerprint a reload refused, so that Watch does not retry (and
	// log) the same broken directory every tick. Guarded by reloadMu.
	failed map[slotKey]string
	// manifestFailed is the hash of a manifest that failed to parse, for
	// the same reason. Guarded by reloadMu.
	manifestFailed string

	mu    sync.RWMutex // guards the fields below
	tasks map[string]*taskState
	// manifest is the last manifest that parsed; loadedAny says whether
	// one ever did, so that a manifest disappearing later is an error
	// rather than an order to unload everything.
	manifest      Manifest
	manifestHash  string
	manifestErr   string
	manifestErrAt time.Time
	checkedAt     time.Time
	loadedAny     bool
	closed        bool

	shadow *shadower
	rec    *recorder
	bg     context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// Model roles in the manifest.
const (
	roleProduction = "production"
	roleCandidate  = "candidate"
)

type slotKey struct{ task, role string }

// taskState is one task's serving models and reload history.
type taskState struct {
	prod, cand         *loaded
	wantProd, wantCand string
	lastErr            string
	lastErrAt          time.Time
	reloadedAt         time.Time
	// shadow collects the comparison of the current production and
	// candidate pair; it is replaced, not reset, when either changes, so
	// replays still queued for the old pair land in the old one.
	shadow *shadowStats
}

// loaded is an open model version with a reference count: one reference
// for each role it serves in, one for each request or shadow replay using
// it. The last release closes it, so a swap never cuts off a request in
// flight.
type loaded struct {
	info  *modelInfo
	model *onnxmodel.Model
	fp    string
	at    time.Time
	refs  atomic.Int64
	log   *slog.Logger
}

func (l *loaded) retain() { l.refs.Add(1) }

func (l *loaded) release() {
	if l.refs.Add(-1) == 0 {
		if err := l.model.Close(); err != nil {
			l.log.Warn("closing a retired model failed", "task", l.info.task, "version", l.info.version, "err", err)
		}
	}
}

// Open loads the models the manifest in cfg.Dir names and starts the
// Service's background work (shadow replays, utterance recording). A
// version that cannot be loaded is logged and shown by Status; the task is
// then unavailable until a reload succeeds, but Open itself fails only for
// a bad configuration or a cancelled ctx. Watch keeps the models current.
// rt may be nil only when cfg.Dir is empty. The caller must Close the
// Service; rt must outlive it.
func Open(ctx context.Context, rt *ort.Runtime, cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if rt == nil && cfg.Dir != "" {
		return nil, errors.New("nlu: a models directory needs an ONNX runtime")
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:    cfg,
		rt:     rt,
		log:    cfg.Logger.With("component", "nlu"),
		m:      m,
		failed: map[slotKey]string{},
		tasks:  map[string]*taskState{},
	}
	s.bg, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.shadow = newShadower(s, cfg.ShadowQueue)
	s.wg.Go(func() { s.shadow.run(s.bg) })
	if d.Utterances != nil {
		s.rec = newRecorder(s, d.Utterances)
		s.wg.Go(func() { s.rec.run(s.bg) })
	}
	if err := s.reload(ctx, true); err != nil && ctx.Err() != nil {
		_ = s.Close()
		return nil, fmt.Errorf("nlu: open: %w", ctx.Err())
	}
	return s, nil
}

// Close stops the background work, waiting for the utterances still queued
// to be written (bounded by Config.RecordTimeout), and releases every
// model; a model still answering a request is closed when that request
// ends. Afterwards every task is unavailable. Close is idempotent.
func (s *Service) Close() error {
	// A reload in progress finishes first, so it never swaps into a
	// closed Service.
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	tasks := s.tasks
	s.tasks = map[string]*taskState{}
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
	for _, ts := range tasks {
		for _, l := range []*loaded{ts.prod, ts.cand} {
			if l != nil {
				l.release()
			}
		}
	}
	return nil
}

// Watch polls the manifest and the model directories it names every
// Config.Reload, and reloads what changed, until ctx is done; then it
// returns nil. A refused version is logged once, counted and kept in
// Status, and the version serving before keeps serving.
func (s *Service) Watch(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.reload(ctx, false); errors.Is(err, ErrClosed) {
			return nil
		}
	}
}

// Reload applies the manifest now, synchronously: each task's named
// versions are opened and validated, and swapped in only if they pass.
// Unlike Watch it also retries versions refused before. It returns nil when
// every named version serves, and otherwise the refusals, joined, each
// wrapping ErrRefused.
func (s *Service) Reload(ctx context.Context) error {
	return s.reload(ctx, true)
}

// reload brings the serving models in line with the manifest. With force,
// versions refused before are tried again.
func (s *Service) reload(ctx context.Context, force bool) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.checkedAt = s.cfg.Now()
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if s.cfg.Dir == "" {
		return nil
	}
	man, hash, exists, err := readManifest(s.cfg.Dir)
	if err == nil && !exists {
		s.mu.RLock()
		loadedAny := s.loadedAny
		s.mu.RUnlock()
		if loadedAny {
			err = fmt.Errorf("%w: %s disappeared; keeping the models loaded", ErrRefused, filepath.Join(s.cfg.Dir, ManifestFile))
		}
	}
	if err != nil {
		return s.manifestRefused(ctx, hash, err, force)
	}
	s.manifestFailed = ""
	s.mu.Lock()
	s.manifest, s.manifestHash, s.manifestErr, s.manifestErrAt = man, hash, "", time.Time{}
	if exists {
		s.loadedAny = true
	}
	s.mu.Unlock()

	var errs []error
	for _, task := range man.taskNames() {
		if SpeechTask(task) {
			continue // served by nlu/asr, which reads the same manifest
		}
		if err := s.reloadTask(ctx, task, man.Tasks[task], force); err != nil {
			errs = append(errs, err)
		}
	}
	s.unloadMissing(ctx, man)
	return errors.Join(errs...)
}

// manifestRefused records a manifest that could not be read or parsed.
func (s *Service) manifestRefused(ctx context.Context, hash string, err error, force bool) error {
	key := hash + err.Error()
	if force || s.manifestFailed != key {
		s.manifestFailed = key
		s.log.ErrorContext(ctx, "model manifest refused; the loaded models keep serving", "dir", s.cfg.Dir, "err", err)
		s.m.reloadFailures.WithLabelValues("manifest").Inc()
	}
	s.mu.Lock()
	s.manifestErr, s.manifestErrAt = err.Error(), s.cfg.Now()
	s.mu.Unlock()
	return err
}

// reloadTask brings one task's production and candidate in line with v.
func (s *Service) reloadTask(ctx context.Context, task string, v TaskVersions, force bool) error {
	cand := v.Candidate
	if cand == v.Production {
		cand = "" // a version cannot shadow itself
	}
	s.mu.Lock()
	ts := s.tasks[task]
	if ts == nil {
		ts = &taskState{}
		s.tasks[task] = ts
	}
	ts.wantProd, ts.wantCand = v.Production, cand
	s.mu.Unlock()

	var errs []error
	for _, role := range []string{roleProduction, roleCandidate} {
		version := v.Production
		if role == roleCandidate {
			version = cand
		}
		if err := s.reloadSlot(ctx, task, role, version, force); err != nil {
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		ts.lastErr, ts.lastErrAt = err.Error(), s.cfg.Now()
	case err == nil && s.serves(ts):
		// Everything the manifest asks for serves: an older refusal is
		// history, not a problem to show.
		ts.lastErr, ts.lastErrAt = "", time.Time{}
	}
	s.resetShadow(ts, task)
	return err
}

// serves reports whether ts serves exactly the versions it should.
// Callers hold s.mu.
func (s *Service) serves(ts *taskState) bool {
	version := func(l *loaded) string {
		if l == nil {
			return ""
		}
		return l.info.version
	}
	return version(ts.prod) == ts.wantProd && version(ts.cand) == ts.wantCand
}

// reloadSlot makes the task's role serve version ("" for none).
func (s *Service) reloadSlot(ctx context.Context, task, role, version string, force bool) error {
	key := slotKey{task, role}
	s.mu.RLock()
	ts := s.tasks[task]
	cur := ts.slot(role)
	other := ts.slot(otherRole(role))
	s.mu.RUnlock()

	if version == "" {
		if cur != nil {
			s.swap(ctx, task, role, nil)
		}
		delete(s.failed, key)
		return nil
	}
	dir := filepath.Join(s.cfg.Dir, task, version)
	fp := fingerprint(dir)
	if cur != nil && cur.info.version == version && cur.fp == fp {
		delete(s.failed, key)
		return nil
	}
	attempt := version + "\x00" + fp
	if !force && s.failed[key] == attempt {
		return nil // refused before and unchanged since; Status shows why
	}
	var next *loaded
	if other != nil && other.info.version == version && other.fp == fp {
		// A promotion (candidate → production) or the reverse: share
		// the open model instead of loading it twice.
		other.retain()
		next = other
	} else {
		l, err := s.load(ctx, task, version, dir, fp)
		if err != nil && ctx.Err() != nil {
			// Cut short (shutdown, a client that gave up on its POST):
			// not the version's fault, so the next poll tries again.
			return fmt.Errorf("nlu: load %s %s: %w", task, version, ctx.Err())
		}
		if err != nil {
			s.failed[key] = attempt
			s.m.reloadFailures.WithLabelValues(task).Inc()
			s.log.ErrorContext(ctx, "model version refused; the version before keeps serving",
				"task", task, "role", role, "version", version, "err", err)
			return err
		}
		next = l
	}
	delete(s.failed, key)
	s.swap(ctx, task, role, next)
	return nil
}

func otherRole(role string) string {
	if role == roleProduction {
		return roleCandidate
	}
	return roleProduction
}

// slot returns the model serving role; ts may be nil.
func (ts *taskState) slot(role string) *loaded {
	switch {
	case ts == nil:
		return nil
	case role == roleProduction:
		return ts.prod
	default:
		return ts.cand
	}
}

// swap makes next serve role and releases what served it before, which
// closes once the requests using it have finished.
func (s *Service) swap(ctx context.Context, task, role string, next *loaded) {
	s.mu.Lock()
	ts := s.tasks[task]
	var old *loaded
	if role == roleProduction {
		old, ts.prod = ts.prod, next
	} else {
		old, ts.cand = ts.cand, next
	}
	ts.reloadedAt = s.cfg.Now()
	s.mu.Unlock()
	if old != nil {
		s.m.loaded.DeleteLabelValues(task, role, old.info.version)
		old.release()
	}
	from := ""
	if old != nil {
		from = old.info.version
	}
	if next != nil {
		s.m.loaded.WithLabelValues(task, role, next.info.version).Set(1)
		s.m.swaps.WithLabelValues(task, role).Inc()
		s.log.InfoContext(ctx, "model version serving", "task", task, "role", role, "version", next.info.version, "previous", from)
	} else {
		s.log.InfoContext(ctx, "model version retired", "task", task, "role", role, "version", from)
	}
}

// unloadMissing retires the tasks the manifest no longer names.
func (s *Service) unloadMissing(ctx context.Context, man Manifest) {
	s.mu.RLock()
	var gone []string
	for task := range s.tasks {
		if _, ok := man.Tasks[task]; !ok {
			gone = append(gone, task)
		}
	}
	s.mu.RUnlock()
	for _, task := range gone {
		for _, role := range []string{roleCandidate, roleProduction} {
			s.mu.RLock()
			l := s.tasks[task].slot(role)
			s.mu.RUnlock()
			if l != nil {
				s.swap(ctx, task, role, nil)
			}
			delete(s.failed, slotKey{task, role})
		}
		s.mu.Lock()
		delete(s.tasks, task)
		s.mu.Unlock()
	}
}

// load opens and validates one version directory.
func (s *Service) load(ctx context.Context, task, version, dir, fp string) (*loaded, error) {
	refuse := func(err error) error {
		return fmt.Errorf("%w: %s %s: %w", ErrRefused, task, version, err)
	}
	m, err := onnxmodel.Open(ctx, s.rt, dir, onnxmodel.Options{Threads: s.cfg.Threads, MaxBatch: s.cfg.MaxBatch, Window: s.cfg.Window})
	if err != nil {
		return nil, refuse(err)
	}
	info, err := newModelInfo(task, version, m)
	if err != nil {
		_ = m.Close()
		return nil, refuse(err)
	}
	l := &loaded{info: info, model: m, fp: fp, at: s.cfg.Now(), log: s.log}
	l.refs.Store(1)
	return l, nil
}

// acquire returns task's production model, retained, and its candidate,
// retained too, when one is loaded; the caller releases both.
func (s *Service) acquire(task string) (prod, cand *loaded, stats *shadowStats, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, nil, fmt.Errorf("nlu: %s: %w", task, ErrClosed)
	}
	ts := s.tasks[task]
	if ts == nil || ts.prod == nil {
		return nil, nil, nil, fmt.Errorf("nlu: task %s: %w", task, ErrUnavailable)
	}
	ts.prod.retain()
	if ts.cand != nil && ts.shadow != nil {
		ts.cand.retain()
		cand, stats = ts.cand, ts.shadow
	}
	return ts.prod, cand, stats, nil
}

// Status is what serves and what the last reloads did.
type Status struct {
	// Dir is the models directory.
	Dir string `json:"dir"`
	// ManifestHash identifies the manifest applied last.
	ManifestHash string `json:"manifest_hash,omitempty"`
	// ManifestError says why the current manifest file was refused, if it
	// was; the one applied before stays in force.
	ManifestError   string     `json:"manifest_error,omitempty"`
	ManifestErrorAt *time.Time `json:"manifest_error_at,omitempty"`
	// CheckedAt is when the manifest was last read.
	CheckedAt time.Time `json:"checked_at"`
	// Tasks are sorted by name.
	Tasks []TaskStatus `json:"tasks"`
}

// TaskStatus is one task's serving versions and reload history.
type TaskStatus struct {
	Task string `json:"task"`
	// Production and Candidate are the versions serving; nil for none.
	Production *ModelStatus `json:"production,omitempty"`
	Candidate  *ModelStatus `json:"candidate,omitempty"`
	// WantedProduction and WantedCandidate are what the manifest names;
	// they differ from what serves while a version is refused.
	WantedProduction string `json:"wanted_production"`
	WantedCandidate  string `json:"wanted_candidate,omitempty"`
	// LastError is the last refusal, kept until the wanted versions
	// serve.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// ReloadedAt is when a version last changed.
	ReloadedAt *time.Time `json:"reloaded_at,omitempty"`
}

// ModelStatus is one serving version.
type ModelStatus struct {
	Version  string    `json:"version"`
	Kind     string    `json:"kind"`
	LoadedAt time.Time `json:"loaded_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Status returns what serves now and what the last reloads did.
func (s *Service) Status() Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Status{
		Dir: s.cfg.Dir, ManifestHash: s.manifestHash,
		ManifestError: s.manifestErr, ManifestErrorAt: optTime(s.manifestErrAt),
		CheckedAt: s.checkedAt, Tasks: []TaskStatus{},
	}
	model := func(l *loaded) *ModelStatus {
		if l == nil {
			return nil
		}
		return &ModelStatus{Version: l.info.version, Kind: l.info.kind, LoadedAt: l.at}
	}
	for _, task := range slices.Sorted(maps.Keys(s.tasks)) {
		ts := s.tasks[task]
		st.Tasks = append(st.Tasks, TaskStatus{
			Task: task, Production: model(ts.prod), Candidate: model(ts.cand),
			WantedProduction: ts.wantProd, WantedCandidate: ts.wantCand,
			LastError: ts.lastErr, LastErrorAt: optTime(ts.lastErrAt), ReloadedAt: optTime(ts.reloadedAt),
		})
	}
	return st
}

// Manifest returns the manifest applied last (the zero Manifest before
// one was).
func (s *Service) Manifest() Manifest {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := Manifest{Tasks: maps.Clone(s.manifest.Tasks)}
	if m.Tasks == nil {
		m.Tasks = map[string]TaskVersions{}
	}
	return m
}

// Cards returns the card.json of every serving version, as written by
// training/, keyed by task, then version.
func (s *Service) Cards() map[string]map[string][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]map[string][]byte{}
	for task, ts := range s.tasks {
		for _, l := range []*loaded{ts.prod, ts.cand} {
			if l == nil {
				continue
			}
			if out[task] == nil {
				out[task] = map[string][]byte{}
			}
			out[task][l.info.version] = slices.Clone(l.info.card)
		}
	}
	return out
}
