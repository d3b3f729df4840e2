"""Switchboard's NLU training pipeline: labelled data in, model directories out.

The model directories follow docs/models.md, the contract with the Go
serving code in nlu/. Entry point: ``switchboard-train`` (see cli.py).
"""

__version__ = "0.1.0"
