// Package nlu is the understanding pipeline: which model version serves
// each task (category, intent, sentiment, embed), and what a text means.
//
// A [Service] reads a models directory laid out as docs/models.md
// describes: manifest.json names the production (and optionally candidate)
// version of each task, and each version is an immutable directory. The
// Service loads those versions through nlu/onnxmodel, hot-reloads them when
// the manifest or a named directory changes (a new version is opened and
// validated before it replaces the old one, and requests in flight finish
// on the model they started on), runs candidates in shadow beside
// production, and records the intents it could not place in Elasticsearch,
// so that [Service.IntentHealth] can suggest new intents.
//
// Tasks absent from the manifest are unavailable ([ErrUnavailable]); the
// server runs without models. cmd/switchboard owns the Service; the HTTP
// edge (nlu/nluapi) and the ticket domain consume it through interfaces they
// declare.
package nlu
