"""Small torch models of the project (one class per architecture, built from config values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn


class LogisticRegression(nn.Module):
    """Binary logistic regression: one linear layer giving the logit of P(class 1).

    Weights and bias start at zero (the authors' SUSY notebook). The sigmoid is applied exactly
    once, by the loss (``BCEWithLogitsLoss``) or by the caller when it wants probabilities.
    """

    def __init__(self, n_features: int, zero_init: bool = True):
        super().__init__()
        self.linear = nn.Linear(int(n_features), 1)
        if zero_init:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)


#: config name -> activation module of the hidden layers
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU}
#: weight initialisations by config name (``init: {kind: ..., ...}``)
INITS = ("torch", "glorot_uniform", "truncated_normal")


def activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


def initialise(module: nn.Module, init: Mapping) -> None:
    """Set the weights of every linear and convolutional layer of ``module``.

    ``init["kind"]``: ``torch`` (leave torch's default), ``glorot_uniform`` (Glorot/Xavier
    uniform weights, zero biases: the Keras default), ``truncated_normal`` (normal weights of
    standard deviation ``std`` cut at two standard deviations, as TensorFlow's
    ``truncated_normal``, and every bias equal to ``bias``).
    """
    kind = init["kind"]
    if kind not in INITS:
        raise ValueError(f"unknown init {kind!r}; choose one of {INITS}")
    if kind == "torch":
        return
    for layer in module.modules():
        if not isinstance(layer, (nn.Linear, nn.Conv2d)):
            continue
        if kind == "glorot_uniform":
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        else:
            std = float(init["std"])
            nn.init.trunc_normal_(layer.weight, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)
            nn.init.constant_(layer.bias, float(init["bias"]))


class MLP(nn.Module):
    """A fully connected classifier: inputs -> hidden layers -> class logits.

    Each hidden layer is ``Linear -> activation``, followed by dropout with the probability
    given for that layer (``dropout[i]``, 0 = none). The output layer gives one logit per
    class; the softmax is applied once, by the loss (``CrossEntropyLoss``) or by the caller.
    """

    def __init__(self, n_inputs: int, hidden: Sequence[int], n_classes: int, activation_name: str = "relu",
                 dropout: Sequence[float] | None = None, init: Mapping | None = None):
        super().__init__()
        hidden = [int(h) for h in hidden]
        dropout = [0.0] * len(hidden) if dropout is None else [float(p) for p in dropout]
        if len(dropout) != len(hidden):
            raise ValueError(f"dropout needs one probability per hidden layer ({len(hidden)}), got {len(dropout)}")
        layers: list[nn.Module] = []
        width = int(n_inputs)
        for size, p in zip(hidden, dropout):
            layers += [nn.Linear(width, size), activation(activation_name)]
            if p > 0.0:
                layers.append(nn.Dropout(p))
            width = size
        layers.append(nn.Linear(width, int(n_classes)))
        self.layers = nn.Sequential(*layers)
        initialise(self, init or {"kind": "torch"})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


class IsingCNN(nn.Module):
    """The one-layer CNN of Fig 45 on L x L spin lattices (rows of L*L spins).

    ``Conv2d(1 -> depth, kernel, stride 1, padding)``, ReLU, ``pool x pool`` max pooling,
    ``BatchNorm2d(depth)``, flatten, ``Linear(-> n_classes)`` logits. Max pooling is applied
    before the ReLU: the two commute (both are monotone; max(relu(a), relu(b)) =
    relu(max(a, b))), so outputs and gradients are identical, and pooling first saves the ReLU
    on the four times larger map.

    From ``CHANNELS_LAST_DEPTH`` filters on, the feature maps are kept channels-last (NHWC): CPU
    max pooling and batch norm, most of the time of a step, are up to several times faster on
    them than on NCHW maps (20 filters: 2.3 times per training step; see benchmarks/README.md),
    while with one to a few filters NCHW is as fast or faster (1 filter: 4 against 8 ms). Only
    the memory layout changes, a speed choice: the parameters, their shapes, the seeded
    initialisation and the order of the flattened features are those of the NCHW model, and
    outputs agree to float32 rounding (batch norm sums its statistics in another order).
    """

    #: the number of filters from which the maps are channels-last (measured crossover: 5-10)
    CHANNELS_LAST_DEPTH = 8

    def __init__(self, lattice: int, depth: int, kernel: int = 2, padding: int = 1, pool: int = 2,
                 n_classes: int = 2):
        super().__init__()
        self.lattice = int(lattice)
        self.conv = nn.Conv2d(1, int(depth), int(kernel), stride=1, padding=int(padding))
        self.pool = nn.MaxPool2d(int(pool))
        self.relu = nn.ReLU()
        self.norm = nn.BatchNorm2d(int(depth))
        side = (self.lattice - int(kernel) + 2 * int(padding)) + 1
        self.n_features = int(depth) * (side // int(pool)) ** 2
        self.out = nn.Linear(self.n_features, int(n_classes))
        self.memory_format = (torch.channels_last if int(depth) >= self.CHANNELS_LAST_DEPTH
                              else torch.contiguous_format)
        # after every parameter is drawn, so the seeded initial values are those of an NCHW model
        self.conv.to(memory_format=self.memory_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, 1, self.lattice, self.lattice).contiguous(memory_format=self.memory_format)
        x = self.norm(self.relu(self.pool(self.conv(x))))
        return self.out(x.flatten(1))


class ConvNet(nn.Module):
    """A small CNN for square images (rows of side*side pixels), as for MNIST.

    Convolutions ``channels[i]`` (``kernel`` x ``kernel``, no padding) each followed by ReLU;
    ``pool`` x ``pool`` max pooling; dropout; flatten; dense layers ``dense[i]`` with ReLU and
    dropout; ``Linear(-> n_classes)`` logits.
    """

    def __init__(self, side: int, channels: Sequence[int], kernel: int, pool: int, dense: Sequence[int],
                 dropout: float, n_classes: int, init: Mapping | None = None):
        super().__init__()
        self.side = int(side)
        layers: list[nn.Module] = []
        width = 1
        for c in channels:
            layers += [nn.Conv2d(width, int(c), int(kernel)), nn.ReLU()]
            width = int(c)
        layers += [nn.MaxPool2d(int(pool)), nn.Dropout(float(dropout)), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            n = self.features(torch.zeros(1, 1, self.side, self.side)).shape[1]
        head: list[nn.Module] = []
        for size in dense:
            head += [nn.Linear(n, int(size)), nn.ReLU(), nn.Dropout(float(dropout))]
            n = int(size)
        head.append(nn.Linear(n, int(n_classes)))
        self.head = nn.Sequential(*head)
        initialise(self, init or {"kind": "torch"})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.reshape(-1, 1, self.side, self.side)))
