package nlu

import "errors"

// Conditions callers branch on. Errors returned by this package wrap them
// with context; test with errors.Is.
var (
	// ErrUnavailable means no model serves the task: the manifest does not
	// name one, or the version it names could not be loaded. The error's
	// message names the task.
	ErrUnavailable = errors.New("nlu: no model serves this task")
	// ErrEmptyText means a text was empty or only white space; there is
	// nothing to understand, and a model's answer would be noise.
	ErrEmptyText = errors.New("nlu: empty text")
	// ErrInvalid means an argument is out of range, e.g. a limit.
	ErrInvalid = errors.New("nlu: invalid argument")
	// ErrRefused means a reload refused a model version or the manifest
	// (corrupt, inconsistent with its card, or missing files); the
	// versions already serving keep serving.
	ErrRefused = errors.New("nlu: model version refused")
	// ErrClosed means the Service was closed.
	ErrClosed = errors.New("nlu: service closed")
)
