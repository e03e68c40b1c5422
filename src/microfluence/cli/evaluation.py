"""`microfluence eval …`: re-check the shipped models and scores on labelled data."""

from __future__ import annotations

from microfluence.authenticity import vet_cli
from microfluence.authenticity.cli import eval_app

eval_app.command("vetting")(vet_cli.eval_vetting)

__all__ = ["eval_app"]
