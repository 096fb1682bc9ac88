# Shared wiring: output locations, the figure registry, and the one command every rule runs.
#
# Each rule states only what is particular to it (its docstring, inputs, outputs, params,
# resources, and threads where it uses more than one). Everything that follows from its name is
# derived by `step_rules()` (called by the Snakefile after all its includes): the
# command `python -m mlreview <rule name> ...` (the step of the rule's name, mlreview.steps), the
# NAME=PATH pairs of its named inputs and outputs, its log and benchmark files, and its conda
# environment (workflow/envs/: torch.yaml for a step whose code imports torch, else core.yaml).
import functools
import json
import shlex
import sys
from pathlib import Path

import yaml
from snakemake.settings.types import DeploymentMethod

# Imported from the package's source beside the Snakefile (its sys.path); they need only the
# standard library and yaml.
from mlreview.report.native import (
    OVERVIEW,
    category as review_category,
    kind as figure_kind,
    label as figure_label,
)
from mlreview.steps import uses_torch

#: The conda environment of a rule: the lighter core one, or the one with PyTorch.
ENVS = {"core": "../envs/core.yaml", "torch": "../envs/torch.yaml"}

#: Each section file lists the figures and claims of one part of the review.
SECTIONS = sorted(Path(workflow.basedir, "workflow/report/sections").glob("*.yaml"))

#: The interpreter of every step: the one Snakemake runs under (so that `.venv/bin/snakemake`
#: works without activating the environment), or the `python` of the rule's conda environment
#: when Snakemake deploys them (--software-deployment-method conda).
PYTHON = (
    "python"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else shlex.quote(sys.executable)
)

#: The shell command of every rule: the step named like the rule, its NAME=PATH inputs and
#: outputs, and its params as one JSON object (`step_rules()` supplies params.step, params.io).
STEP = (
    f"{PYTHON} -m mlreview {{params.step}} --threads {{threads}} {{params.io}}"
    " --params {params.json:q} > {log:q} 2>&1"
)


def step_io(wildcards, input, output):
    """`--input NAME=PATH ... --output NAME=PATH ...` of a rule's named files (a name holding a
    list of files is repeated once per file and reaches the step as a list), and the config's
    `figure_style` for a step that writes a PDF."""

    def pairs(files):
        return " ".join(
            shlex.quote(f"{name}={path}")
            for name, value in files.items()
            for path in ([value] if isinstance(value, str) else value)
        )

    parts = []
    if len(input):
        parts.append(f"--input {pairs(input)}")
    if len(output):
        parts.append(f"--output {pairs(output)}")
    # a plot step: the workflow's figure style
    if any(str(path).endswith(".pdf") for path in output):
        parts.append(f"--figure-style {shlex.quote(as_json(config['figure_style']))}")
    return " ".join(parts)


def step_rules():
    """Give each rule with the command `STEP` what follows from its name (the step to run, its file
    arguments, a log and a benchmark file per job (logs/<rule>/<wildcards>.log), the conda
    environment its step needs, and empty params when it has none); returns their names.
    """
    names = []
    for each in workflow.rules:
        if each.shellcmd != STEP:
            continue
        stem = "_".join(f"{{{w}}}" for w in sorted(each.wildcard_names)) or each.name
        each.log_modifier = each.benchmark_modifier = workflow.modifier.path_modifier
        each.set_log(res(f"logs/{each.name}/{stem}.log"))
        each.benchmark = res(f"benchmarks/{each.name}/{stem}.tsv")
        each.set_params(step=each.name, io=step_io)
        if "json" not in each.params.keys():
            each.set_params(json="{}")
        if not each.conda_env:
            each.conda_env = ENVS["torch" if uses_torch(each.name) else "core"]
        names.append(each.name)
    return names


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


#: libyaml's parser when PyYAML has it (the same documents, about ten times faster than the
#: pure-Python one, which took most of the time of a run with nothing to do)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def section_entries():
    """Every section file, parsed once per Snakemake run."""
    return tuple(
        yaml.load(path.read_text(), Loader=YAML_LOADER) or {} for path in SECTIONS
    )


def registry():
    """Figures and claims of every section file."""
    figures, claims = [], []
    for entry in section_entries():
        figures += entry.get("figures", [])
        claims += entry.get("claims", [])
    return figures, claims


def figure_stem(fig):
    """fig07 for review figure 7; a project figure's own name otherwise."""
    return (
        f"fig{int(fig['number']):02d}" if fig.get("number") is not None else fig["name"]
    )


@functools.cache
def figure_entry(stem):
    """The registry entry of the figure with file stem `stem` (fig07, ising_validation)."""
    figures, _ = registry()
    return next(f for f in figures if figure_stem(f) == stem)


def figure_png(stem):
    """The PNG of a figure (`stem` may hold wildcards: "{fig}") as an item of Snakemake's report
    (`snakemake --report`): under its review section, labelled with its number and title, and
    captioned by workflow/report/figure.rst with what the registry says about it."""
    return report(
        res(f"figures/{stem}.png"),
        caption="../report/figure.rst",
        category=lambda wildcards, output: review_category(
            figure_entry(Path(output.png).stem)["section"]
        ),
        subcategory=lambda wildcards, output: figure_kind(
            figure_entry(Path(output.png).stem)
        ),
        labels=lambda wildcards, output: {
            "figure": figure_label(figure_entry(Path(output.png).stem)),
            "title": figure_entry(Path(output.png).stem)["title"],
        },
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
    for entry in section_entries():
        names += [d["metrics"] for d in entry.get("datasets", [])]
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


wildcard_constraints:
    fig="fig[0-9]{2}",


# --- The params of each section's steps: its config, as the steps expect it ----------------------


# Section II (polynomial.smk)


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


# Formula-only figures (analytic.smk)


#: the figures of the KL divergences, one rule for both
KL_FIGURES = ["fig69", "fig70"]


def analytic_params(fig):
    """A figure of the `analytic` section; the KL figures also get the quadrature settings."""
    params = {**config["analytic"][fig], "figure": fig}
    if fig in KL_FIGURES:
        params["quadrature"] = config["analytic"]["quadrature"]
    return params


# Section VII (logistic_regression.smk)


#: parts of `logistic_regression.susy` that belong to one rule; the rest is shared
SUSY_LOGISTIC_PARTS = ("fits", "fig22", "fig23", "ablation", "fig25")


def susy_logistic_params(part, name=None):
    """SUSY logistic regression: the shared settings with one part's own on top (one fit of
    `fits` when `name` is given); drawing-only settings stay out."""
    section = config["logistic_regression"]["susy"]
    shared = {k: v for k, v in section.items() if k not in SUSY_LOGISTIC_PARTS}
    own = section[part][name] if name is not None else section[part]
    return {**shared, **compute_params(own)}


# Sections IX-X (deep_networks.smk)


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
    own = {
        k: v
        for k, v in compute_params(config["deep_networks"][part]).items()
        if k not in DNN_GRID_KEYS.get(part, ())
    }
    split = config["deep_networks"]["ising"] if part.startswith("ising") else {}
    return {
        **{k: config["deep_networks"][k] for k in DNN_SHARED},
        **split,
        **own,
        **cell,
    }


def dnn_gather_params(part):
    """A grid's gather step: its grid lists and claim settings."""
    return {k: config["deep_networks"][part][k] for k in DNN_GRID_KEYS[part]}


def mnist_optimizer_params(name):
    """One optimizer of the comparison, trained on the network of Figs 37 and 38."""
    own = compute_params(config["deep_networks"]["mnist_optimizers"])
    training = {**own["training"], "optimizer": name, **own["settings"][name]}
    return {
        **{k: config["deep_networks"][k] for k in DNN_SHARED},
        **{k: config["deep_networks"]["mnist_dnn"][k] for k in DNN_ARCHITECTURE},
        **{k: own[k] for k in ("n_train", "folds", "fold_seed")},
        "training": training,
    }


# Sections XV-XVI (energy_based.smk)


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


def ebm_mnist_data_params():
    return {k: config["energy_based"]["mnist"][k] for k in EBM_MNIST_DATA}


def ebm_mnist_fit_params(name):
    """One RBM (`name` in `models`) or the DBM (`dbm`): data, training and its own settings."""
    own = (
        config["energy_based"]["mnist"]["dbm"]
        if name == "dbm"
        else config["energy_based"]["mnist"]["models"][name]
    )
    return {
        **ebm_mnist_data_params(),
        **{k: config["energy_based"]["mnist"][k] for k in EBM_MNIST_FIT},
        **own,
        "name": name,
    }


def ebm_mnist_ais_params(name):
    """AIS of one model (the DBM also needs its mean-field sweeps for the likelihood bound)."""
    extra = (
        {"mean_field_iter": config["energy_based"]["mnist"]["dbm"]["mean_field_iter"]}
        if name == "dbm"
        else {}
    )
    return {
        **ebm_mnist_data_params(),
        "ais": config["energy_based"]["mnist"]["ais"],
        "name": name,
        **extra,
    }


def ebm_mnist_plot_params(model=None):
    extra = {"model": model} if model is not None else {}
    return {
        "plot": config["energy_based"]["mnist"]["plot"],
        "models": ebm_mnist_models(),
        "dbm": "dbm",
        **extra,
    }


#: the keys of `energy_based.ising` that only the gather (claims) or the plots read: changing
#: them never retrains a DBM
EBM_ISING_GATHER_KEYS = ("figures", "threads", "c74", "c75", "plot")


def ising_dbm_params(fig):
    """One temperature's DBM: the shared settings and the figure's temperature."""
    return {
        **{
            k: v
            for k, v in config["energy_based"]["ising"].items()
            if k not in EBM_ISING_GATHER_KEYS
        },
        "temperature": config["energy_based"]["ising"]["figures"][fig],
    }


def ebm_mnist_models():
    """Every MNIST model in the review's order: the RBMs of `models`, then the DBM."""
    return [*config["energy_based"]["mnist"]["models"], "dbm"]
