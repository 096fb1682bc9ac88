"""Figs 64, 65: the fixed digit classifier that judges how digit-like the energy-based models'
samples are - Fig 27's softmax regression (:mod:`mlreview.digits`) on images binarised like the
samples. A module of its own, beside the torch fits of :mod:`mlreview.sections.energy_based.mnist`:
its job fits with scikit-learn and does not import torch (about 2 CPU-s)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlreview.digits import fit_digit_classifier
from mlreview.steps import step


@step
def ebm_digit_classifier(params: Mapping, *, npz: Path, data: Path) -> dict:
    """The fixed digit classifier of Figs 64, 65 (:mod:`mlreview.digits`: Fig 27's softmax
    regression), trained on images binarised like the energy-based models' samples."""
    return fit_digit_classifier(params, npz=npz, data=data)
