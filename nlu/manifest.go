package nlu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Task names the manifest uses for the tasks the Service answers.
const (
	TaskCategory  = "category"
	TaskIntent    = "intent"
	TaskSentiment = "sentiment"
	TaskEmbed     = "embed"
	// TaskASR is the speech recognizer's acoustic model. The manifest
	// names its production version like any task's, but nlu/asr loads it,
	// not the Service.
	TaskASR = "asr"
	// TaskVAD is the voice activity detector, loaded by nlu/vad's users.
	TaskVAD = "vad"
)

// SpeechTask reports whether task is one the Service leaves to the speech
// packages: its models take audio features, not text.
func SpeechTask(task string) bool { return task == TaskASR || task == TaskVAD }

// ReadManifest reads and validates dir's manifest; exists is false when
// there is none. Packages that serve their own tasks from the same
// manifest (nlu/asr) use it.
func ReadManifest(dir string) (m Manifest, exists bool, err error) {
	m, _, exists, err = readManifest(dir)
	return m, exists, err
}

// ManifestFile is the manifest's name inside the models directory.
const ManifestFile = "manifest.json"

// Manifest says which version of each task serves; see docs/models.md.
type Manifest struct {
	Tasks map[string]TaskVersions `json:"tasks"`
}

// TaskVersions are the versions the manifest names for one task.
type TaskVersions struct {
	// Production answers requests.
	Production string `json:"production"`
	// Candidate, if set, runs in shadow beside production.
	Candidate string `json:"candidate,omitempty"`
	// Previous versions are kept for rollback, newest first;
	// informational.
	Previous []string `json:"previous,omitempty"`
}

var (
	taskName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	// A version is one directory name: no separators, no "..", no
	// hidden directories.
	versionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`)
)

// ParseManifest decodes and checks a manifest. Unknown members are
// ignored, so a newer training/ may add some.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest: %w", ErrRefused, err)
	}
	var errs []error
	for _, task := range m.taskNames() {
		v := m.Tasks[task]
		if !taskName.MatchString(task) {
			errs = append(errs, fmt.Errorf("task %q is not a valid task name", task))
		}
		if !versionName.MatchString(v.Production) {
			errs = append(errs, fmt.Errorf("task %s: production version %q is not a valid directory name", task, v.Production))
		}
		if v.Candidate != "" && !versionName.MatchString(v.Candidate) {
			errs = append(errs, fmt.Errorf("task %s: candidate version %q is not a valid directory name", task, v.Candidate))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest: %w", ErrRefused, err)
	}
	return m, nil
}

// taskNames returns the manifest's tasks, sorted.
func (m Manifest) taskNames() []string {
	names := make([]string, 0, len(m.Tasks))
	for t := range m.Tasks {
		names = append(names, t)
	}
	slices.Sort(names)
	return names
}

// readManifest reads dir's manifest. exists is false when there is none.
func readManifest(dir string) (m Manifest, hash string, exists bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, "", false, nil
	}
	if err != nil {
		return Manifest{}, "", false, fmt.Errorf("%w: read manifest: %w", ErrRefused, err)
	}
	sum := sha256.Sum256(bytes.TrimSpace(b))
	hash = hex.EncodeToString(sum[:8])
	m, err = ParseManifest(b)
	return m, hash, true, err
}

// modelFiles are the files docs/models.md requires in a version directory;
// a change to any of them (size or modification time) is a change of the
// directory, even though directories are meant to be immutable: a copy
// that was still in progress when it was first seen must be picked up once
// it is complete.
var modelFiles = []string{"model.onnx", "tokenizer.json", "labels.json", "card.json"}

// fingerprint summarises a version directory's files cheaply, by stat.
func fingerprint(dir string) string {
	var sb strings.Builder
	for _, f := range modelFiles {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			fmt.Fprintf(&sb, "%s:missing;", f)
			continue
		}
		fmt.Fprintf(&sb, "%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return sb.String()
}
