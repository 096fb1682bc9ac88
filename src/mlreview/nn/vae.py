"""The torch modules of the variational autoencoders of Section XVII (Figs 75-78).

* :class:`GaussianEncoder` - ``x -> (mu, log sigma^2)`` of a diagonal Gaussian q(z|x): hidden
  layers (``Linear -> activation``), then one linear layer giving both; with no hidden layer it is
  linear in x (the linear-Gaussian VAE of the probabilistic-PCA check). Optionally log sigma^2 is
  bounded smoothly from above (the Ising VAE: sigma never above the prior's s).
* :class:`Decoder` - ``z -> `` the parameters of p(x|z): Bernoulli logits (``bernoulli``; the
  Bernoulli means are their sigmoid) or the mean of a Gaussian with one learned noise variance
  shared by every coordinate (``gaussian``: probabilistic PCA when it is linear).
* :class:`VAE` - the two with a Gaussian prior N(0, s^2 I) and the reparametrisation
  z = mu + sigma * epsilon, epsilon ~ N(0, I) drawn from the model's own seeded
  ``torch.Generator`` (so training is reproducible on CPU, independent of any other draw).

The ELBO, the importance-sampled log-likelihood and everything else that is computed with these
modules lives in :mod:`mlreview.sections.vae.fits`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from mlreview.nn.models import activation

LIKELIHOODS = ("bernoulli", "gaussian")


def _hidden_layers(n_inputs: int, hidden: Sequence[int], activation_name: str) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    width = int(n_inputs)
    for size in hidden:
        layers += [nn.Linear(width, int(size)), activation(activation_name)]
        width = int(size)
    return nn.Sequential(*layers), width


class GaussianEncoder(nn.Module):
    """q(z|x) = N(mu(x), diag exp(logvar(x))): ``forward`` returns ``(mu, logvar)``.

    With ``max_logvar`` the log-variance is bounded smoothly from above,
    logvar = max_logvar - softplus(max_logvar - raw): equal to the raw output well below the bound,
    never above it (None: unbounded)."""

    def __init__(self, n_inputs: int, hidden: Sequence[int], latent: int, activation_name: str = "relu",
                 max_logvar: float | None = None):
        super().__init__()
        self.latent = int(latent)
        self.max_logvar = None if max_logvar is None else float(max_logvar)
        self.body, width = _hidden_layers(n_inputs, hidden, activation_name)
        self.head = nn.Linear(width, 2 * self.latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.body(x.flatten(1)))
        mu, logvar = out[:, :self.latent], out[:, self.latent:]
        if self.max_logvar is not None:
            logvar = self.max_logvar - F.softplus(self.max_logvar - logvar)
        return mu, logvar


class Decoder(nn.Module):
    """p(x|z): ``forward`` gives Bernoulli logits or the Gaussian mean; :meth:`log_likelihood`
    is log p(x|z) summed over the coordinates, one value per example."""

    def __init__(self, latent: int, hidden: Sequence[int], n_outputs: int, likelihood: str = "bernoulli",
                 activation_name: str = "relu"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
        self.likelihood = likelihood
        body, width = _hidden_layers(latent, hidden, activation_name)
        self.layers = nn.Sequential(*body, nn.Linear(width, int(n_outputs)))
        if likelihood == "gaussian":
            self.log_noise_var = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        """E[x|z]: the Bernoulli means (sigmoid of the logits) or the Gaussian mean."""
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def log_likelihood(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over coordinates; ``out`` has shape (..., D), ``x`` broadcasts to it.
        For grey values in [0, 1] the Bernoulli term is minus the binary cross-entropy, which is
        not a normalised density of continuous x."""
        if self.likelihood == "bernoulli":
            x = x.expand_as(out)
            return -F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(-1)
        var = self.log_noise_var.exp()
        return -0.5 * (((x - out) ** 2) / var + self.log_noise_var + math.log(2 * math.pi)).sum(-1)


class VAE(nn.Module):
    """Encoder, decoder and the prior N(0, ``prior_std``^2 I).

    ``forward(x)`` draws one z per example by the reparametrisation (noise from
    ``self.generator``, seeded by :meth:`reseed`) and returns ``(decoder output, mu, logvar)``.
    """

    def __init__(self, encoder: GaussianEncoder, decoder: Decoder, prior_std: float = 1.0, seed: int = 0):
        super().__init__()
        if not prior_std > 0:
            raise ValueError(f"prior_std must be positive, got {prior_std}")
        self.encoder = encoder
        self.decoder = decoder
        self.prior_std = float(prior_std)
        self.generator = torch.Generator()
        self.reseed(seed)

    @property
    def latent(self) -> int:
        return self.encoder.latent

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(int(seed))

    def noise(self, shape: Sequence[int], like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise of ``shape`` from ``generator`` (default: the model's), drawn on
        the CPU (reproducible everywhere) and moved to ``like``'s device and dtype."""
        eps = torch.randn(tuple(shape), generator=generator or self.generator, dtype=torch.float64)
        return eps.to(device=like.device, dtype=like.dtype)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x)
        z = mu + torch.exp(0.5 * logvar) * self.noise(mu.shape, mu)
        return self.decoder(z), mu, logvar


def build_vae(n_inputs: int, hidden: Sequence[int], latent: int, *, likelihood: str = "bernoulli",
              activation_name: str = "relu", prior_std: float = 1.0, seed: int = 0,
              max_posterior_std: float | None = None) -> VAE:
    """The VAE of the config: encoder ``n_inputs -> hidden -> 2 x latent`` and the mirrored
    decoder ``latent -> reversed(hidden) -> n_inputs``; with ``max_posterior_std`` the encoder's
    standard deviations are bounded smoothly by it (:class:`GaussianEncoder`)."""
    max_logvar = None if max_posterior_std is None else 2.0 * math.log(float(max_posterior_std))
    encoder = GaussianEncoder(n_inputs, hidden, latent, activation_name, max_logvar)
    decoder = Decoder(latent, list(reversed([int(h) for h in hidden])), n_inputs, likelihood, activation_name)
    return VAE(encoder, decoder, prior_std, seed)
