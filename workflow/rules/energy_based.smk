# Sections XV-XVI: energy-based models. The exact-likelihood studies (project figures
# rbm_likelihood and rbm_ising_kl) use models small enough that log Z is exact.

#: project figure -> its config section under `energy_based.exact` (the steps:
#: "<name with dashes>" and "<name with dashes>-plot")
EBM_EXACT_SECTIONS = {"rbm_likelihood": "likelihood", "rbm_ising_kl": "ising"}
EBM_EXACT = config["energy_based"]["exact"]
# The torch rules can use a GPU and declare `gpu=0`: none is requested unless a profile
# raises it; the config's `device` picks the device the code uses.


rule rbm_likelihood:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("energy_based/rbm_likelihood.npz"),
        metrics=res("metrics/rbm_likelihood.json"),
    log:
        res("logs/rbm_likelihood/rbm_likelihood.log"),
    benchmark:
        res("benchmarks/rbm_likelihood/rbm_likelihood.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(compute_params(EBM_EXACT["likelihood"])),
    shell:
        "python -m mlreview rbm-likelihood --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule rbm_ising_kl:
    output:
        data=res("energy_based/rbm_ising_kl.npz"),
        metrics=res("metrics/rbm_ising_kl.json"),
    log:
        res("logs/rbm_ising_kl/rbm_ising_kl.log"),
    benchmark:
        res("benchmarks/rbm_ising_kl/rbm_ising_kl.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(compute_params(EBM_EXACT["ising"])),
    shell:
        "python -m mlreview rbm-ising-kl --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_exact_plot:
    input:
        data=res("energy_based/{name}.npz"),
    output:
        pdf=res("figures/{name}.pdf"),
        png=res("figures/{name}.png"),
    log:
        res("logs/ebm_exact_plot/{name}.log"),
    benchmark:
        res("benchmarks/ebm_exact_plot/{name}.tsv")
    wildcard_constraints:
        name="|".join(EBM_EXACT_SECTIONS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: w.name.replace("_", "-"),
        json=lambda w: as_json(EBM_EXACT[EBM_EXACT_SECTIONS[w.name]]),
    shell:
        "python -m mlreview {params.step}-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


# --- Figs 66-68: a deep Boltzmann machine per temperature on the 40 x 40 Ising states ----------
# (mlreview.sections.energy_based.ising): one training job per figure (temperature), a gather job with
# the physical observables of all temperatures and the claims C74, C75, and the drawings. The
# torch rules can use a GPU and declare `gpu=0`; the config's `device` picks the device.

#: figure -> temperature
EBM_ISING = config["energy_based"]["ising"]
EBM_ISING_FIGURES = list(EBM_ISING["figures"])


rule ising_dbm_fit:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        model=res("energy_based/ising_dbm/{fig}_dbm.npz"),
        data=res("energy_based/ising_dbm/{fig}.npz"),
        metrics=res("metrics/{fig}.json"),
    log:
        res("logs/ising_dbm_fit/{fig}.log"),
    benchmark:
        res("benchmarks/ising_dbm_fit/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(EBM_ISING_FIGURES),
    conda:
        ENV
    threads: EBM_ISING["threads"]
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        json=lambda w: as_json(ising_dbm_params(w.fig)),
    shell:
        "python -m mlreview ising-dbm --threads {threads} --input dataset={input.dataset:q}"
        " --output model={output.model:q} data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_dbm_observables:
    input:
        data=expand(res("energy_based/ising_dbm/{fig}.npz"), fig=EBM_ISING_FIGURES),
        models=expand(
            res("energy_based/ising_dbm/{fig}_dbm.npz"), fig=EBM_ISING_FIGURES
        ),
    output:
        summary=res("energy_based/ising_dbm_observables.npz"),
        metrics=res("metrics/ising_dbm_observables.json"),
    log:
        res("logs/ising_dbm_observables/ising_dbm_observables.log"),
    benchmark:
        res("benchmarks/ising_dbm_observables/ising_dbm_observables.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        data=lambda w, input: " ".join(
            [cli_pairs("data", input.data), cli_pairs("models", input.models)]
        ),
        json=as_json(compute_params(EBM_ISING)),
    shell:
        "python -m mlreview ising-dbm-observables --input {params.data}"
        " --output summary={output.summary:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_dbm_plot:
    input:
        data=res("energy_based/ising_dbm/{fig}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/ising_dbm_plot/{fig}.log"),
    benchmark:
        res("benchmarks/ising_dbm_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(EBM_ISING_FIGURES),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json({"plot": EBM_ISING["plot"]}),
    shell:
        "python -m mlreview ising-dbm-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_dbm_observables_plot:
    input:
        summary=rules.ising_dbm_observables.output.summary,
    output:
        pdf=res("figures/ising_dbm_observables.pdf"),
        png=res("figures/ising_dbm_observables.png"),
    log:
        res("logs/ising_dbm_observables_plot/ising_dbm_observables.log"),
    benchmark:
        res("benchmarks/ising_dbm_observables_plot/ising_dbm_observables.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(
            {"plot": EBM_ISING["plot"], "histogram_bins": EBM_ISING["histogram_bins"]}
        ),
    shell:
        "python -m mlreview ising-dbm-observables-plot --input summary={input.summary:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


# -- MNIST: Figs 60, 64, 65, the weight filters and the free-energy figure ----------------------
# Three RBMs ("Hopfield" with Gaussian hidden units, Bernoulli, Bernoulli with L1) and a DBM
# whose first layer is the RBM with L1 (spec Fig 60: "first train an RBM v-h1 as in model 3");
# AIS log Z per model; one step draws reconstructions, fantasy particles and denoised digits of
# all four and collects their metrics. The torch rules declare `gpu=0` (none requested unless a
# profile raises it); the config's `device` picks the device the code uses.

#: figure -> the step drawing it from the samples file
EBM_MNIST_PLOTS = {
    "fig60": "ebm-fig60-plot",
    "fig64": "ebm-fig64-plot",
    "fig65": "ebm-fig65-plot",
}
EBM_MNIST = config["energy_based"]["mnist"]


rule ebm_digit_classifier:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("energy_based/digit_classifier.npz"),
        metrics=res("metrics/ebm_digit_classifier.json"),
    log:
        res("logs/ebm_digit_classifier/ebm_digit_classifier.log"),
    benchmark:
        res("benchmarks/ebm_digit_classifier/ebm_digit_classifier.tsv")
    conda:
        ENV
    threads: 1
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
        "python -m mlreview mnist-softmax --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_mnist_fit:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("energy_based/mnist/{model}.npz"),
        metrics=res("metrics/ebm_mnist_fit_{model}.json"),
    log:
        res("logs/ebm_mnist_fit/{model}.log"),
    benchmark:
        res("benchmarks/ebm_mnist_fit/{model}.tsv")
    wildcard_constraints:
        model="|".join(EBM_MNIST["models"]),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(ebm_mnist_fit_params(w.model)),
    shell:
        "python -m mlreview ebm-mnist-fit --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_mnist_dbm_fit:
    input:
        npz=rules.mnist_prepare.output.npz,
        first=res(f"energy_based/mnist/{EBM_MNIST['dbm']['first_layer']}.npz"),
    output:
        data=res("energy_based/mnist/dbm.npz"),
        metrics=res("metrics/ebm_mnist_fit_dbm.json"),
    log:
        res("logs/ebm_mnist_dbm_fit/dbm.log"),
    benchmark:
        res("benchmarks/ebm_mnist_dbm_fit/dbm.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    params:
        json=as_json(ebm_mnist_fit_params("dbm")),
    shell:
        "python -m mlreview ebm-mnist-dbm --threads {threads} --input npz={input.npz:q}"
        " first={input.first:q} --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_mnist_ais:
    input:
        npz=rules.mnist_prepare.output.npz,
        model=res("energy_based/mnist/{model}.npz"),
    output:
        metrics=res("metrics/ebm_mnist_ais_{model}.json"),
    log:
        res("logs/ebm_mnist_ais/{model}.log"),
    benchmark:
        res("benchmarks/ebm_mnist_ais/{model}.tsv")
    wildcard_constraints:
        model="|".join(ebm_mnist_models()),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(ebm_mnist_ais_params(w.model)),
    shell:
        "python -m mlreview ebm-mnist-ais --threads {threads} --input npz={input.npz:q}"
        " model={input.model:q} --output metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_mnist_samples:
    input:
        npz=rules.mnist_prepare.output.npz,
        classifier=rules.ebm_digit_classifier.output.data,
        models=expand(res("energy_based/mnist/{model}.npz"), model=ebm_mnist_models()),
        fits=expand(res("metrics/ebm_mnist_fit_{model}.json"), model=ebm_mnist_models()),
        ais=expand(res("metrics/ebm_mnist_ais_{model}.json"), model=ebm_mnist_models()),
    output:
        data=res("energy_based/mnist/samples.npz"),
        metrics=res("metrics/ebm_mnist.json"),
    log:
        res("logs/ebm_mnist_samples/ebm_mnist.log"),
    benchmark:
        res("benchmarks/ebm_mnist_samples/ebm_mnist.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
        gpu=0,
    params:
        json=as_json(ebm_mnist_samples_params()),
        models=lambda w, input: cli_pairs("models", input.models),
        fits=lambda w, input: cli_pairs("fits", input.fits),
        ais=lambda w, input: cli_pairs("ais", input.ais),
    shell:
        "python -m mlreview ebm-mnist-samples --threads {threads} --input npz={input.npz:q}"
        " classifier={input.classifier:q} {params.models} {params.fits} {params.ais}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_mnist_plot:
    input:
        data=rules.ebm_mnist_samples.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/ebm_mnist_plot/{fig}.log"),
    benchmark:
        res("benchmarks/ebm_mnist_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(EBM_MNIST_PLOTS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: EBM_MNIST_PLOTS[w.fig],
        json=as_json(ebm_mnist_plot_params()),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_filters_plot:
    input:
        data=rules.ebm_mnist_samples.output.data,
    output:
        pdf=res("figures/ebm_filters_{model}.pdf"),
        png=res("figures/ebm_filters_{model}.png"),
    log:
        res("logs/ebm_filters_plot/{model}.log"),
    benchmark:
        res("benchmarks/ebm_filters_plot/{model}.tsv")
    wildcard_constraints:
        model="|".join(ebm_mnist_models()),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json(ebm_mnist_plot_params(w.model)),
    shell:
        "python -m mlreview ebm-filters-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ebm_free_energy_plot:
    input:
        models=expand(res("energy_based/mnist/{model}.npz"), model=ebm_mnist_models()),
    output:
        pdf=res("figures/ebm_free_energy.pdf"),
        png=res("figures/ebm_free_energy.png"),
    log:
        res("logs/ebm_free_energy_plot/ebm_free_energy.log"),
    benchmark:
        res("benchmarks/ebm_free_energy_plot/ebm_free_energy.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(ebm_mnist_plot_params()),
        models=lambda w, input: cli_pairs("models", input.models),
    shell:
        "python -m mlreview ebm-free-energy-plot --input {params.models}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
