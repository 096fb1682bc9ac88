# Shared wiring: output locations, the figure registry and the step command.
import json
import shlex
from pathlib import Path

import yaml

#: The conda environment of every rule (the same packages as pyproject.toml).
ENV = "../../environment.yml"

#: Each section file lists the figures and claims of one part of the review.
SECTIONS = sorted(Path(workflow.basedir, "workflow/report/sections").glob("*.yaml"))


def res(path):
    """A path under the configured results folder."""
    return f"{config['results']}/{path}"


def as_json(obj):
    """Params travel to a step as one JSON object (and trigger reruns when they change)."""
    return json.dumps(obj, sort_keys=True)


def compute_params(section):
    """A figure's params without its drawing-only `plot` settings, for compute rules:
    changing how a figure is drawn must never rerun the computation behind it."""
    return {k: v for k, v in section.items() if k != "plot"}


def cli_pairs(name, paths):
    """`NAME=PATH` arguments for a list of files (a repeated name reaches the step as a list)."""
    return " ".join(shlex.quote(f"{name}={p}") for p in paths)


def cli_named(files):
    """`NAME=PATH` arguments for the named files of a rule's input."""
    return " ".join(shlex.quote(f"{name}={path}") for name, path in files.items())


def registry():
    """Figures and claims of every section file."""
    figures, claims = [], []
    for path in SECTIONS:
        entry = yaml.safe_load(path.read_text())
        figures += entry.get("figures", [])
        claims += entry.get("claims", [])
    return figures, claims


def figure_stem(fig):
    """fig07 for review figure 7; a project figure's own name otherwise."""
    return (
        f"fig{int(fig['number']):02d}" if fig.get("number") is not None else fig["name"]
    )


def all_figures():
    figures, _ = registry()
    return [
        res(f"figures/{figure_stem(f)}.{ext}")
        for f in figures
        for ext in ("pdf", "png")
    ]


def all_datasets():
    """Metrics of every registered data set (building them builds the data set)."""
    names = []
    for path in SECTIONS:
        names += [
            d["metrics"] for d in yaml.safe_load(path.read_text()).get("datasets", [])
        ]
    return [res(f"metrics/{name}.json") for name in names]


def claim_figure_stem(key):
    """File stem of the figure a claim is about: fig21 for `figure: 21`, else the name."""
    return f"fig{int(key):02d}" if str(key).isdigit() else str(key)


def claimed_figures():
    """Every figure some claim is about: its stem -> its key as the claims write it."""
    _, claims = registry()
    return {claim_figure_stem(c["figure"]): str(c["figure"]) for c in claims}


def figure_claim_metrics(stem):
    """The metrics files read by the claims about one figure (its scorecard's inputs)."""
    _, claims = registry()
    key = claimed_figures()[stem]
    return sorted(
        {res(f"metrics/{c['metrics']}.json") for c in claims if str(c["figure"]) == key}
    )


def plot_rules():
    """The drawing rules (named `*_plot` by convention): cheap, so local rules on a
    cluster. Call it after every rule file is included."""
    return sorted(r.name for r in workflow.rules if r.name.endswith("_plot"))


def all_metrics():
    figures, claims = registry()
    names = {f["metrics"] for f in figures} | {c["metrics"] for c in claims}
    return sorted({res(f"metrics/{name}.json") for name in names} | set(all_datasets()))


# Params of the section rules: the config section of one figure, as its step expects it.


def polynomial_params(fig):
    """The shared `polynomial` settings with the figure's own ones on top."""
    shared = {k: v for k, v in config["polynomial"].items() if k != "figures"}
    own = config["polynomial"]["figures"][fig]
    shared["functions"] = {n: shared["functions"][n] for n in own["functions"]}
    return {
        **shared,
        **{k: v for k, v in own.items() if k != "functions"},
        "figure": fig,
    }


def analytic_params(fig):
    """A figure of the `analytic` section; the KL figures also get the quadrature settings."""
    params = {**config["analytic"][fig], "figure": fig}
    if ANALYTIC_STEPS[fig] == "kl-divergence":
        params["quadrature"] = config["analytic"]["quadrature"]
    return params


def mnist_params():
    return {
        **compute_params(config["mnist"]),
        "cache_dir": res("downloads/mnist"),
        "mirror": config["data"]["mirror"],
    }


def susy_params(source):
    if source == "uci":
        return {
            **config["susy"]["uci"],
            "cache_dir": res("downloads/susy"),
            "mirror": config["data"]["mirror"],
        }
    return config["susy"]["toy"]


#: Parts of `logistic_regression.susy` that belong to one rule; the rest is shared.
SUSY_LOGISTIC_PARTS = ("fits", "fig22", "fig23", "ablation", "fig25")


def susy_logistic_params(part, name=None):
    """SUSY logistic regression: the shared settings with one part's own on top (one fit of
    `fits` when `name` is given); drawing-only settings stay out."""
    section = config["logistic_regression"]["susy"]
    shared = {k: v for k, v in section.items() if k not in SUSY_LOGISTIC_PARTS}
    own = section[part][name] if name is not None else section[part]
    return {**shared, **compute_params(own)}


def logistic_plot_params(fig):
    """The config section a logistic-regression figure is drawn with."""
    section = config["logistic_regression"]
    parts = {"fig21": ("ising",), "fig27": ("mnist",)}
    for key in parts.get(fig, ("susy", fig)):
        section = section[key]
    return section


wildcard_constraints:
    fig="fig[0-9]{2}",


# Sections IX-X: deep networks. A grid cell's params hold the shared settings and its own
# values, never the grid lists: adding a cell to a grid reruns that cell alone.

#: settings every deep-network step receives
DNN_SHARED = ("confidence", "eval_batch_size")
#: the config keys that list a grid (or drive only the gather and the plot) per part
DNN_GRID_KEYS = {
    "susy_dnn": ("sizes", "learning_rates", "claims"),
    "ising_dnn": ("hidden_units", "learning_rates", "claims"),
    "ising_cnn": ("depths",),
}
#: the network of the optimizer comparison is the one of Figs 37 and 38
DNN_ARCHITECTURE = ("hidden", "activation", "dropout", "init")


def grid_label(value):
    """A grid value as it appears in file names: 1e-05, 0.1, 200000."""
    return f"{float(value):g}"


def grid_labels(part, key):
    """{label: value} of one grid list of the `deep_networks` config."""
    return {grid_label(v): v for v in config["deep_networks"][part][key]}


def dnn_params(part, **cell):
    """A deep-network step: the shared settings, the part's compute settings (no grid lists,
    no plot settings) and the cell's own values; the Ising parts add the family's split.
    """
    section = config["deep_networks"]
    own = {
        k: v
        for k, v in compute_params(section[part]).items()
        if k not in DNN_GRID_KEYS.get(part, ())
    }
    split = section["ising"] if part.startswith("ising") else {}
    return {**{k: section[k] for k in DNN_SHARED}, **split, **own, **cell}


def dnn_gather_params(part):
    """A grid's gather step: its grid lists and claim settings."""
    section = config["deep_networks"][part]
    return {k: section[k] for k in DNN_GRID_KEYS[part]}


def mnist_optimizer_params(name):
    """One optimizer of the comparison, trained on the network of Figs 37 and 38."""
    section = config["deep_networks"]
    own = compute_params(section["mnist_optimizers"])
    training = {**own["training"], "optimizer": name, **own["settings"][name]}
    return {
        **{k: section[k] for k in DNN_SHARED},
        **{k: section["mnist_dnn"][k] for k in DNN_ARCHITECTURE},
        **{k: own[k] for k in ("n_train", "folds", "fold_seed")},
        "training": training,
    }


def dnn_plot_params(name):
    """The drawing settings of a deep-network figure."""
    section = config["deep_networks"]
    if name in ("fig37", "fig38"):
        return {"plot": section["mnist_dnn"]["plot"][name]}
    parts = {
        "fig40": "susy_dnn",
        "fig41": "ising_dnn",
        "fig45": "ising_cnn",
        "mnist_optimizers": "mnist_optimizers",
    }
    return {"plot": section[parts[name]].get("plot", {})} if name in parts else {}


# Sections XV-XVI: energy-based models. Figs 66-68: a DBM per temperature on the Ising states.

#: the keys of `energy_based.ising` that only the gather (claims) or the plots read: changing
#: them never retrains a DBM
EBM_ISING_GATHER_KEYS = ("figures", "threads", "c74", "c75", "plot")


def ising_dbm_params(fig):
    """One temperature's DBM: the shared settings and the figure's temperature."""
    section = config["energy_based"]["ising"]
    return {
        **{k: v for k, v in section.items() if k not in EBM_ISING_GATHER_KEYS},
        "temperature": section["figures"][fig],
    }


# Section XVII: variational autoencoders.


def vae_plot_params(plot):
    """The drawing settings of a VAE figure (its fit's `plot` section; none for the project
    figures, which draw every fit)."""
    parts = {"fig75": "mnist", "fig76": "mnist", "fig77": "ising", "fig78": "ising"}
    part = parts.get(plot)
    return {"plot": config["vae"][part]["plot"]} if part else {}


# Sections XV-XVI: the MNIST energy-based models (Figs 60, 64, 65). Each step gets the shared
# data settings and its own part only: retuning AIS or the samples never retrains a model.

#: the data and split every MNIST energy-based step shares
EBM_MNIST_DATA = (
    "device",
    "n_images",
    "binarize",
    "train_fraction",
    "split_seed",
    "monitor",
)
#: the model settings every fit shares
EBM_MNIST_FIT = ("n_hidden", "training")


def ebm_mnist_section():
    return config["energy_based"]["mnist"]


def ebm_mnist_models():
    """Every model in the review's order: the RBMs of `models`, then the DBM."""
    return [*ebm_mnist_section()["models"], "dbm"]


def ebm_mnist_data_params():
    section = ebm_mnist_section()
    return {k: section[k] for k in EBM_MNIST_DATA}


def ebm_mnist_fit_params(name):
    """One RBM (`name` in `models`) or the DBM (`dbm`): data, training and its own settings."""
    section = ebm_mnist_section()
    own = section["dbm"] if name == "dbm" else section["models"][name]
    return {
        **ebm_mnist_data_params(),
        **{k: section[k] for k in EBM_MNIST_FIT},
        **own,
        "name": name,
    }


def ebm_mnist_ais_params(name):
    """AIS of one model (the DBM also needs its mean-field sweeps for the likelihood bound)."""
    section = ebm_mnist_section()
    extra = (
        {"mean_field_iter": section["dbm"]["mean_field_iter"]} if name == "dbm" else {}
    )
    return {**ebm_mnist_data_params(), "ais": section["ais"], "name": name, **extra}


def ebm_mnist_samples_params():
    section = ebm_mnist_section()
    return {
        **ebm_mnist_data_params(),
        "samples": section["samples"],
        "models": ebm_mnist_models(),
        "mean_field_iter": section["dbm"]["mean_field_iter"],
    }


def ebm_mnist_plot_params(model=None):
    extra = {"model": model} if model is not None else {}
    return {
        "plot": ebm_mnist_section()["plot"],
        "models": ebm_mnist_models(),
        "dbm": "dbm",
        **extra,
    }
