"""The energy-based machinery of Sections XV-XVI, written in PyTorch: restricted Boltzmann machines (RBMs)
with Bernoulli or Gaussian ("Hopfield") hidden units, deep Boltzmann machines (DBMs) with any number
of Bernoulli layers, one persistent-contrastive-divergence training loop for both, exact partition
functions of small models and annealed importance sampling (AIS) for large ones.

Conventions: visible and Bernoulli hidden units take values in {0, 1}; every random draw takes an
explicit ``torch.Generator`` (:func:`make_generator`) on the model's device; a batch of states is a
2D tensor ``(n, units)``. Models are ``torch.nn.Module`` s whose trainable tensors are
``nn.Parameter`` s, so ``torch.optim`` optimisers (ADAM) drive them; their gradients are the
sufficient statistics of the energy, set by :func:`fit` (no autograd).

API
---
Models
  :class:`RBM` ``(n_visible, n_hidden, hidden="bernoulli"|"gaussian", dtype, device, up_scale=1, down_scale=1)``
      Bernoulli: E(v, h) = -a.v - b.h - v^T W h. Gaussian ("Hopfield", spec Fig 60): unit-variance hidden
      units with mean 0 and no hidden bias, E(v, h) = -a.v + |h|^2/2 - v^T W h, so that
      F(v) = -a.v - |W^T v|^2/2 - (n_hidden/2) log(2 pi) (the constant makes log Z the true normaliser).
      ``energy(v, h)``, ``free_energy(v)``, ``hidden_mean(v)``, ``sample_hidden(v, gen)``,
      ``visible_mean(h)``, ``sample_visible(h, gen)``, ``gibbs(v, steps, gen)`` (v -> h -> v, returns
      the final v), ``sample_visible_chain(n, steps, gen)`` (fantasy particles from random states),
      ``reconstruct(v, probabilities=False, positive=None)`` (the spec's deterministic most-probable
      pass; ``positive``: the states of ``positive_states(v)`` when at hand, whose E[h | v] is reused),
      ``initialize(data, gen)`` (Glorot weights, hidden biases 0, visible biases from the data
      means clipped to [0.01, 0.99]), ``weights`` (the list of coupling matrices), ``n_units``.
      ``up_scale``/``down_scale`` multiply W in p(h | v) / p(v | h): the doubled-weight RBMs of DBM
      pretraining (Salakhutdinov & Hinton 2009), which have no single energy (no likelihood functions).
  :class:`DBM` ``(layer_sizes, dtype, device)`` - Bernoulli layers v = h_0, h_1, ..., h_L:
      E = -sum_l b_l.h_l - sum_l h_{l-1}^T W_l h_l; parameters ``W1..WL`` and ``b0..bL`` (b0 = the
      visible bias). ``energy(states)``, ``layer_mean(states, l)``, ``mean_field(v, n_iter)`` (fixed-point
      iterations with v clamped; returns [v, mu_1, ..., mu_L]), ``gibbs(states, steps, gen)`` (the
      odd/even layer-wise sampler of spec Fig 64: odd layers given even ones, then even layers given odd
      ones), ``sample_visible_chain(n, steps, gen)``, ``reconstruct(v, probabilities=False)`` (spec
      Fig 60: forward pass from below only, backward pass from above only), ``mean_field_reconstruct(v,
      n_iter, probabilities=False)`` (v -> mean-field q(h | v) -> p(v' | mu_1): both neighbours of every
      hidden layer, so it holds under the centred parametrisation), ``initialize(data, gen)``,
      ``DBM.from_rbms(rbms)`` (layer-wise pretraining result), ``flip_visible(chains, gen)`` (the global
      flip v -> 1 - v on the even layers' marginal; the RBM has one too), ``log_f_odd(odd)`` / ``log_f_even(even)``
      (log of the unnormalised marginal of the odd / even layers, the other layers summed out),
      ``log_likelihood_lower_bound(v, log_z, n_iter)`` (the mean-field variational bound).
  :func:`pretrain_dbm` ``(data, layer_sizes, seed, doubled_weights=False, **fit_kwargs)`` - RBM v-h1 on the
      data, RBM h1-h2 on p(h1 | v), ... then :meth:`DBM.from_rbms`; ``doubled_weights``: the RBMs double the
      input of every layer that has two neighbours in the DBM (``training.doubled_scales``).
Training
  :func:`fit` ``(model, data, *, epochs, batch_size, lr, schedule, method="pcd"|"cd", k, n_chains, l1, l2,
      seed, betas, eps, mean_field_iter, optimizer="adam"|"sgd", momentum, bias_lr_scale, centering,
      centering_rate, flip_moves, keep_best, patience, evaluate, evaluate_chains, evaluate_initial, name,
      progress_every)`` -
      one loop for RBMs and DBMs: CD-k (chains restart at the minibatch) or PCD-k (``n_chains``
      persistent chains from random states, optionally followed by the Metropolis-Hastings global flip
      ``flip_visible`` of the model) or ``exact`` (model statistics by enumeration; small RBMs);
      positive phase = exact conditional expectation (RBM) or mean field (DBM); L1 and L2 (weight decay)
      penalties on the weights; ADAM or SGD with momentum, the biases' rate scaled by ``bias_lr_scale``; optionally the
      centred gradient (:class:`Centering`); per-epoch history (learning rate, seconds, reconstruction
      error, plus ``evaluate(model, epoch)`` and ``evaluate_chains(chains, epoch)``); ``keep_best``: early
      stopping on a monitored number (the parameters of its best epoch are kept; ``patience`` epochs);
      :class:`~mlreview.nn.training.TrainingDiverged` on non-finite parameters. Returns the history
      (a list of dicts).
  :class:`Centering` - the centring trick (Montavon & Mueller 2012; Melchior et al. 2016) for models
      kept in their ordinary parameters.
  :func:`fit_options` ``(*sections)`` - the :func:`fit` keyword arguments held by config sections
      (later ones override earlier ones: shared settings, then a stage's).
  :func:`learning_rate` ``(lr0, epoch, schedule)`` - ``inverse_epoch``: lr0/(1+t) (spec decision k);
      ``power``: lr0/(1+lr0 t) (Paysage's power-law decay with coefficient 1); ``constant``.
  :func:`statistics` ``(model, states, weights=None)`` - the (weighted) mean of -dE/dtheta per parameter.
  :func:`exact_gradient` ``(model, data)`` - the exact log-likelihood gradient of a small model.
Partition functions and likelihoods
  :func:`exact_log_z` ``(model)`` - by enumeration over the smaller side (RBM: hidden or visible <=
      ``MAX_ENUMERATION_UNITS``; Gaussian-hidden RBM: visible; DBM: odd or even layers).
  :func:`exact_log_likelihood` ``(model, data, log_z=None)`` - mean log p(v) (RBMs, and small DBMs).
  :func:`pseudo_log_likelihood` ``(rbm, data, sites=None)`` - Besag's pseudo-log-likelihood per unit.
  :func:`visible_probabilities` ``(model)`` - p(v) of every visible state (small models; row i is the
      binary expansion of i, unit 0 the least significant bit - :func:`all_states`).
  :func:`ais_log_z` ``(model, n_runs, betas, gen, base_visible_bias=None)`` -> :class:`AISResult`
      (Salakhutdinov & Murray 2008: base model = W = 0, the data's visible biases, geometric path in
      the joint energy; for a DBM the odd layers are the AIS variables and the even layers are summed
      out analytically). :func:`ais_betas` ``(n, kind)`` - the inverse-temperature schedule.
  :func:`data_visible_bias` ``(data)`` - logit of the clipped pixel means (init and AIS base).
Files
  :func:`save_model` ``(path, model)`` / :func:`load_model` ``(path)`` - ``.npz`` (no pickle).
"""

from mlreview.ebm.energy import (
    DBM,
    HIDDEN_KINDS,
    MAX_ENUMERATION_UNITS,
    RBM,
    all_states,
    data_visible_bias,
    glorot_std,
    load_model,
    make_generator,
    save_model,
)
from mlreview.ebm.likelihood import (
    AISResult,
    ais_betas,
    ais_log_z,
    exact_log_likelihood,
    exact_log_z,
    pseudo_log_likelihood,
    visible_probabilities,
)
from mlreview.ebm.training import (
    FIT_OPTIONS,
    METHODS,
    OPTIMIZERS,
    SCHEDULES,
    Centering,
    exact_gradient,
    fit,
    fit_options,
    learning_rate,
    pretrain_dbm,
    statistics,
)

__all__ = [
    "AISResult", "Centering", "DBM", "FIT_OPTIONS", "HIDDEN_KINDS", "MAX_ENUMERATION_UNITS", "METHODS",
    "OPTIMIZERS", "RBM", "SCHEDULES", "ais_betas", "ais_log_z", "all_states", "data_visible_bias",
    "exact_gradient", "exact_log_likelihood", "exact_log_z", "fit", "fit_options", "glorot_std", "learning_rate",
    "load_model", "make_generator", "pretrain_dbm", "pseudo_log_likelihood", "save_model", "statistics",
    "visible_probabilities",
]
