package ort

import (
	"fmt"

	onnx "github.com/yalue/onnxruntime_go"
)

// Metadata returns the model's custom metadata (ONNX metadata_props), the
// key/value pairs exporters use to describe what a graph cannot: sample
// rates, feature settings, label sets. A model without any gives an empty
// map.
func (r *Runtime) Metadata(path string) (map[string]string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, fmt.Errorf("%w: runtime", ErrClosed)
	}
	data, err := readModel(path)
	if err != nil {
		return nil, err
	}
	md, err := onnx.GetModelMetadataWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadModel, path, err)
	}
	defer md.Destroy()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, fmt.Errorf("ort: %s: metadata keys: %w", path, err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, ok, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return nil, fmt.Errorf("ort: %s: metadata %q: %w", path, k, err)
		}
		if ok {
			out[k] = v
		}
	}
	return out, nil
}
