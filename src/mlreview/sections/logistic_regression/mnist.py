"""Fig 27: softmax (multinomial logistic) regression on MNIST and its ten weight images.

The fit is the project's fixed digit classifier (:mod:`mlreview.digits`, where the data, the model
and the metrics are described): Figs 64, 65 and 76 measure with it how digit-like generated
images are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlreview.digits import fit_digit_classifier
from mlreview.steps import step


@step
def mnist_softmax_fit(params: Mapping, *, npz: Path, data: Path) -> dict:
    """Fit softmax regression on the MNIST training set; write the weight images and return metrics."""
    return fit_digit_classifier(params, npz=npz, data=data)
