package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/ivr/flow"
	"github.com/switchboard-cc/switchboard/nlu"
)

func newIVR(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ivr",
		Short: "Voice IVR call flows (see docs/ivr.md)",
	}
	cmd.AddCommand(newIVRValidate(g))
	return cmd
}

func newIVRValidate(g *globals) *cobra.Command {
	var intents, modelsDir string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check call flows and print every problem as file:line:col: msg",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			labels, err := intentLabels(intents, modelsDir)
			if err != nil {
				return err
			}
			failed := false
			for _, path := range args {
				var probs flow.Problems
				f, err := flow.Load(path)
				switch {
				case errors.As(err, &probs):
				case err != nil:
					return err
				default:
					probs = f.Validate(flow.Options{Intents: labels})
				}
				for _, p := range probs {
					fmt.Fprintln(g.stdout, p)
				}
				if probs.HasErrors() {
					failed = true
				} else {
					fmt.Fprintf(g.stderr, "%s: ok (flow %s version %d, %d nodes)\n", path, f.ID, f.Version, len(f.Nodes))
				}
			}
			if failed {
				return errSilent
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&intents, "intents", "", "intent labels.json to check intents against (default: the production intent model's, via the models manifest)")
	cmd.Flags().StringVar(&modelsDir, "models-dir", env("SWITCHBOARD_MODELS_DIR", "models"), "models directory whose manifest.json names the production intent model (env SWITCHBOARD_MODELS_DIR)")
	return cmd
}

// intentLabels reads the intent labels a flow is checked against: the
// file given, else the production intent model's; nil (no check) when
// there is no manifest, so that a flow can be checked outside a deployment.
func intentLabels(file, modelsDir string) ([]string, error) {
	if file == "" {
		m, exists, err := nlu.ReadManifest(modelsDir)
		if err != nil {
			return nil, err
		}
		v := m.Tasks["intent"].Production
		if !exists || v == "" {
			return nil, nil
		}
		file = filepath.Join(modelsDir, "intent", v, "labels.json")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("intent labels: %w", err)
	}
	var labels []string
	if err := json.Unmarshal(b, &labels); err != nil {
		return nil, fmt.Errorf("intent labels %s: %w", file, err)
	}
	return labels, nil
}
