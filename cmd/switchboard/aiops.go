package main

import "github.com/spf13/cobra"

func newAIOps(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aiops",
		Short: "Ops intelligence: anomaly detection, log templates, incidents, staffing (see docs/aiops.md)",
	}
	cmd.AddCommand(newAIOpsLogparse(g), newAIOpsNAB(g), newAIOpsShip(g))
	return cmd
}
