# Sections XV-XVI: energy-based models, on the machinery of mlreview.ebm.
# Code: mlreview.sections.energy_based. The torch rules can use a GPU and declare `gpu=0`: none
# is requested unless a profile raises it; the config's `device` picks the device the code uses.

EBM = config["energy_based"]

# -- MNIST: Figs 60, 64, 65, the weight filters and the free-energy figure ----------------------
# Three RBMs ("Hopfield" with Gaussian hidden units, Bernoulli, Bernoulli with L1) and a DBM
# whose first layer is the RBM with L1 (spec Fig 60: "first train an RBM v-h1 as in model 3");
# AIS log Z per model; one step draws reconstructions, fantasy particles and denoised digits of
# all four and collects their metrics. Each step gets the shared data settings and its own part
# only: retuning AIS or the samples never retrains a model.

EBM_MNIST = EBM["mnist"]
#: every model in the review's order: the RBMs of `models`, then the DBM
EBM_MNIST_MODELS = ebm_mnist_models()


rule ebm_digit_classifier:
    """Figs 64, 65: the fixed digit classifier, on binarised digits like the samples."""
    input:
        npz=MNIST,
    output:
        data=res("energy_based/digit_classifier.npz"),
        metrics=res("metrics/ebm_digit_classifier.json"),
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        json=as_json(
            {
                **compute_params(config["logistic_regression"]["mnist"]),
                "binarize": EBM_MNIST["binarize"],
            }
        ),
    shell:
        STEP


rule ebm_mnist_fit:
    """Figs 60, 64, 65: one RBM with 200 hidden units on binarised MNIST, by PCD."""
    input:
        npz=MNIST,
    output:
        data=res("energy_based/mnist/{model}.npz"),
        metrics=res("metrics/ebm_mnist_fit_{model}.json"),
    wildcard_constraints:
        model="|".join(EBM_MNIST["models"]),
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(ebm_mnist_fit_params(w.model)),
    shell:
        STEP


rule ebm_mnist_dbm_fit:
    """Figs 60, 64, 65: the DBM 784-200-200 on top of the RBM with L1."""
    input:
        npz=MNIST,
        first=res(f"energy_based/mnist/{EBM_MNIST['dbm']['first_layer']}.npz"),
    output:
        data=res("energy_based/mnist/dbm.npz"),
        metrics=res("metrics/ebm_mnist_fit_dbm.json"),
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    params:
        json=as_json(ebm_mnist_fit_params("dbm")),
    shell:
        STEP


rule ebm_mnist_ais:
    """Fig 60: the AIS log-likelihood of one model."""
    input:
        npz=MNIST,
        model=res("energy_based/mnist/{model}.npz"),
    output:
        metrics=res("metrics/ebm_mnist_ais_{model}.json"),
    wildcard_constraints:
        model="|".join(EBM_MNIST_MODELS),
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(ebm_mnist_ais_params(w.model)),
    shell:
        STEP


rule ebm_mnist_samples:
    """Figs 60, 64, 65: reconstructions, fantasy particles and denoised digits of all models."""
    input:
        npz=MNIST,
        classifier=rules.ebm_digit_classifier.output.data,
        models=expand(res("energy_based/mnist/{model}.npz"), model=EBM_MNIST_MODELS),
        fits=expand(res("metrics/ebm_mnist_fit_{model}.json"), model=EBM_MNIST_MODELS),
        ais=expand(res("metrics/ebm_mnist_ais_{model}.json"), model=EBM_MNIST_MODELS),
    output:
        data=res("energy_based/mnist/samples.npz"),
        metrics=res("metrics/ebm_mnist.json"),
    resources:
        mem_mb=3000,
        runtime=20,
        gpu=0,
    params:
        json=as_json(
            {
                **ebm_mnist_data_params(),
                "samples": EBM_MNIST["samples"],
                "literature": EBM_MNIST["literature"],
                "models": EBM_MNIST_MODELS,
                "mean_field_iter": EBM_MNIST["dbm"]["mean_field_iter"],
            }
        ),
    shell:
        STEP


rule fig60_plot:
    """Fig 60: reconstructions of test digits by the four models."""
    input:
        data=rules.ebm_mnist_samples.output.data,
    output:
        pdf=res("figures/fig60.pdf"),
        png=figure_png("fig60"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ebm_mnist_plot_params()),
    shell:
        STEP


rule fig64_plot:
    """Fig 64: fantasy particles after 100 Gibbs steps."""
    input:
        data=rules.ebm_mnist_samples.output.data,
    output:
        pdf=res("figures/fig64.pdf"),
        png=figure_png("fig64"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ebm_mnist_plot_params()),
    shell:
        STEP


rule fig65_plot:
    """Fig 65: digits with 15% of the pixels flipped, and their reconstructions."""
    input:
        data=rules.ebm_mnist_samples.output.data,
    output:
        pdf=res("figures/fig65.pdf"),
        png=figure_png("fig65"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ebm_mnist_plot_params()),
    shell:
        STEP


rule ebm_filters_plot:
    """Project figures ebm_filters_<model>: the first weight filters of one model."""
    input:
        data=rules.ebm_mnist_samples.output.data,
    output:
        pdf=res("figures/ebm_filters_{model}.pdf"),
        png=figure_png("ebm_filters_{model}"),
    wildcard_constraints:
        model="|".join(EBM_MNIST_MODELS),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(ebm_mnist_plot_params(w.model)),
    shell:
        STEP


rule ebm_free_energy_plot:
    """Project figure ebm_free_energy: training vs held-out free energy per epoch."""
    input:
        models=expand(res("energy_based/mnist/{model}.npz"), model=EBM_MNIST_MODELS),
    output:
        pdf=res("figures/ebm_free_energy.pdf"),
        png=figure_png("ebm_free_energy"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ebm_mnist_plot_params()),
    shell:
        STEP


# -- Figs 66-68: a deep Boltzmann machine per temperature on the 40 x 40 Ising states -----------
# One training job per figure (temperature), a gather job with the physical observables of all
# temperatures and the claims C74, C75, and the drawings.

EBM_ISING = EBM["ising"]
EBM_ISING_FIGURES = list(EBM_ISING["figures"])


rule ising_dbm_fit:
    """Figs 66-68: a DBM on the Ising states of one temperature."""
    input:
        dataset=ISING2D,
    output:
        model=res("energy_based/ising_dbm/{fig}_dbm.npz"),
        data=res("energy_based/ising_dbm/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    wildcard_constraints:
        fig="|".join(EBM_ISING_FIGURES),
    threads: EBM_ISING["threads"]
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        json=lambda w: as_json(ising_dbm_params(w.fig)),
    shell:
        STEP


rule ising_dbm_observables:
    """Claims C74, C75: the fantasy particles' observables against the Monte Carlo data."""
    input:
        data=expand(res("energy_based/ising_dbm/{fig}.npz"), fig=EBM_ISING_FIGURES),
        models=expand(
            res("energy_based/ising_dbm/{fig}_dbm.npz"), fig=EBM_ISING_FIGURES
        ),
    output:
        summary=res("energy_based/ising_dbm_observables.npz"),
        metrics=res("metrics/ising_dbm_observables.json"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(compute_params(EBM_ISING)),
    shell:
        STEP


rule ising_dbm_plot:
    """Figs 66-68: data, reconstructions and fantasy particles of one DBM."""
    input:
        data=res("energy_based/ising_dbm/{fig}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=figure_png("{fig}"),
    wildcard_constraints:
        fig="|".join(EBM_ISING_FIGURES),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": EBM_ISING["plot"]}),
    shell:
        STEP


rule ising_dbm_observables_plot:
    """Project figure ising_dbm_observables: histograms of m and e against Monte Carlo."""
    input:
        summary=rules.ising_dbm_observables.output.summary,
    output:
        pdf=res("figures/ising_dbm_observables.pdf"),
        png=figure_png("ising_dbm_observables"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(
            {"plot": EBM_ISING["plot"], "histogram_bins": EBM_ISING["histogram_bins"]}
        ),
    shell:
        STEP


rule ising_dbm_training_plot:
    """Project figure ising_dbm_training: the per-epoch monitors of the DBMs' training."""
    input:
        data=expand(res("energy_based/ising_dbm/{fig}.npz"), fig=EBM_ISING_FIGURES),
    output:
        pdf=res("figures/ising_dbm_training.pdf"),
        png=figure_png("ising_dbm_training"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"c74": EBM_ISING["c74"]}),
    shell:
        STEP


# -- The exact-likelihood studies (project figures): models small enough that log Z is exact -----

EBM_EXACT = EBM["exact"]


rule rbm_likelihood:
    """Project figure rbm_likelihood: exact log-likelihood of 784-16 RBMs by CD and PCD."""
    input:
        npz=MNIST,
    output:
        data=res("energy_based/rbm_likelihood.npz"),
        metrics=res("metrics/rbm_likelihood.json"),
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(compute_params(EBM_EXACT["likelihood"])),
    shell:
        STEP


rule rbm_ising_kl:
    """Project figure rbm_ising_kl: exact KL between the 4 x 4 Ising model and RBMs."""
    output:
        data=res("energy_based/rbm_ising_kl.npz"),
        metrics=res("metrics/rbm_ising_kl.json"),
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(compute_params(EBM_EXACT["ising"])),
    shell:
        STEP


rule rbm_likelihood_plot:
    """Project figure rbm_likelihood: the curves per epoch and AIS against exact log Z."""
    input:
        data=rules.rbm_likelihood.output.data,
    output:
        pdf=res("figures/rbm_likelihood.pdf"),
        png=figure_png("rbm_likelihood"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(EBM_EXACT["likelihood"]),
    shell:
        STEP


rule rbm_ising_kl_plot:
    """Project figure rbm_ising_kl: KL against hidden units, and the models' <|m|>."""
    input:
        data=rules.rbm_ising_kl.output.data,
    output:
        pdf=res("figures/rbm_ising_kl.pdf"),
        png=figure_png("rbm_ising_kl"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(EBM_EXACT["ising"]),
    shell:
        STEP
