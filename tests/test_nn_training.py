"""The shared torch training loop (mlreview.nn.training): determinism, seeded shuffling, the
weights-only L2 penalty, the NaN exit, devices, the history file."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from mlreview.errors import MlreviewError
from mlreview.nn import training as T
from mlreview.nn.models import LogisticRegression


def data(n=600, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(np.float32)
    return T.as_tensor(X), T.as_tensor(y)


class TinyNet(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(d, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def run_tiny(seed=3, epochs=3, optimizer="adam"):
    X, y = data()
    T.setup(threads=1)
    torch.manual_seed(seed)
    model = TinyNet(X.shape[1])
    opt = T.make_optimizer(model, optimizer, 0.01, weight_decay=1e-3)

    def evaluate(m):
        p = torch.sigmoid(m(X))
        return {"accuracy": float(((p >= 0.5).float() == y).float().mean())}

    history = T.train(model, torch.nn.BCEWithLogitsLoss(), X, y, optimizer=opt, epochs=epochs, batch_size=64,
                      seed=seed, evaluate=evaluate, name="tiny")
    return model, history


def test_two_runs_give_identical_metrics_and_weights():
    m1, h1 = run_tiny()
    m2, h2 = run_tiny()
    strip = [{k: v for k, v in e.items() if k != "seconds"} for e in h1]
    assert strip == [{k: v for k, v in e.items() if k != "seconds"} for e in h2]
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(a, b)
    assert [e["epoch"] for e in h1] == [1, 2, 3]
    assert all("accuracy" in e and "train_loss" in e for e in h1)


def test_setup_is_deterministic_without_filling_new_memory():
    # deterministic algorithms on; the NaN fill of uninitialised memory (a debugging aid that cost
    # 7-17% of the torch steps' CPU time) off
    T.setup(1, "cpu")
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.utils.deterministic.fill_uninitialized_memory is False


def test_setup_does_not_import_the_compiler(env_with_venv):
    """torch.use_deterministic_algorithms imports torch._inductor and torch._dynamo (up to 3 CPU-s per
    torch step); setup sets the same flag without them."""
    code = ("import sys; from mlreview.nn.training import setup; setup(1, 'cpu'); import torch; "
            "assert torch.are_deterministic_algorithms_enabled(); "
            "print(sorted(m for m in ('torch._inductor', 'torch._dynamo') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], env=env_with_venv, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_setup_flushes_denormals_to_zero(env_with_venv):
    """Operations on denormal floats are tens of times slower; setup flushes them to zero (in a
    subprocess: the flag is the process's floating-point mode)."""
    code = ("import torch; from mlreview.nn.training import setup; x = torch.tensor([1e-40, 1e-30]); "
            "before = (x * 1.0).tolist(); setup(1, 'cpu'); after = (x * 1.0).tolist(); "
            "print(before[0] > 0, after[0] == 0, after[1] == before[1])")
    out = subprocess.run([sys.executable, "-c", code], env=env_with_venv, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]


def test_another_seed_gives_another_run():
    _, h1 = run_tiny(seed=3)
    _, h2 = run_tiny(seed=4)
    assert h1[-1]["train_loss"] != h2[-1]["train_loss"]


def test_shuffling_visits_every_row_once_per_epoch():
    X = torch.arange(10, dtype=torch.float32).unsqueeze(1)
    y = torch.zeros(10)
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            seen.extend(x[:, 0].int().tolist())
            return x[:, 0] * self.w

    model = Spy()
    T.train(model, torch.nn.BCEWithLogitsLoss(), X, y, optimizer=T.make_optimizer(model, "sgd", 0.1),
            epochs=2, batch_size=3, seed=5)
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert seen[:10] != seen[10:]  # a new order every epoch


def test_weight_decay_is_the_gradient_of_half_alpha_w_squared_on_weights_only():
    X, y = data(n=200)
    alpha, lr = 0.3, 0.5
    a = LogisticRegression(X.shape[1], zero_init=False)
    b = LogisticRegression(X.shape[1], zero_init=False)
    b.load_state_dict(a.state_dict())
    # a: decay through the optimizer; b: the explicit penalty alpha/2 ||W||^2 in the loss
    opt_a = T.make_optimizer(a, "sgd", lr, weight_decay=alpha)
    opt_b = torch.optim.SGD(b.parameters(), lr=lr)
    loss = torch.nn.BCEWithLogitsLoss()
    opt_a.zero_grad()
    loss(a(X), y).backward()
    opt_a.step()
    opt_b.zero_grad()
    (loss(b(X), y) + 0.5 * alpha * (b.linear.weight ** 2).sum()).backward()
    opt_b.step()
    assert torch.allclose(a.linear.weight, b.linear.weight, atol=1e-6)
    assert torch.allclose(a.linear.bias, b.linear.bias, atol=1e-6)
    groups = opt_a.param_groups
    assert groups[0]["weight_decay"] == alpha and groups[1]["weight_decay"] == 0.0


def test_divergence_stops_with_a_clear_error():
    X, y = data(n=100)
    X = X * 1e30
    model = LogisticRegression(X.shape[1], zero_init=False)
    with pytest.raises(T.TrainingDiverged, match="lower the learning rate"):
        T.train(model, torch.nn.MSELoss(), X, y * 1e30, optimizer=T.make_optimizer(model, "sgd", 1e10),
                epochs=2, batch_size=10, seed=0, name="bad")


def test_optimizers_and_devices():
    model = TinyNet(3)
    for name in T.OPTIMIZERS:
        assert isinstance(T.make_optimizer(model, name.upper(), 0.01), T.OPTIMIZERS[name])
    with pytest.raises(MlreviewError, match="unknown optimizer"):
        T.make_optimizer(model, "lbfgs-ish", 0.1)
    assert T.resolve_device("cpu").type == "cpu"
    assert T.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(MlreviewError, match="no GPU"):
            T.resolve_device("cuda")


def test_predict_and_history_file(tmp_path):
    model, history = run_tiny(epochs=1)
    X, _ = data()
    p = T.predict(model, X, batch_size=100, transform=torch.sigmoid)
    assert p.shape == (len(X),) and np.all((p >= 0) & (p <= 1))
    T.save_history(tmp_path / "h.json", history, model="tiny")
    saved = json.loads((tmp_path / "h.json").read_text())
    assert saved["model"] == "tiny" and saved["history"][0]["epoch"] == 1


def test_evaluation_batch_size_changes_no_output():
    """`eval_batch_size` is a speed and memory setting (Fig 45 evaluates in batches of 100): the CNN's
    outputs in eval mode are bitwise the same at any batch size of more than one row (a single row takes
    another convolution path: last-bit differences), NCHW and channels-last alike."""
    from mlreview.nn.models import IsingCNN

    torch.manual_seed(0)
    X = torch.randint(0, 2, (600, 64)).float() * 2 - 1
    for depth in (2, IsingCNN.CHANNELS_LAST_DEPTH):
        model = IsingCNN(8, depth).eval()
        whole = T.predict(model, X, batch_size=600)
        for batch in (10, 100, 256):
            np.testing.assert_array_equal(T.predict(model, X, batch_size=batch), whole)


def test_read_only_arrays_are_copied():
    a = np.arange(6, dtype=np.float64)
    a.flags.writeable = False
    t = T.as_tensor(a)
    assert t.dtype == torch.float32 and t.tolist() == [0, 1, 2, 3, 4, 5]
