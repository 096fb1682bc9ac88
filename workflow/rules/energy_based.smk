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
# (mlreview.models.ebm_ising): one training job per figure (temperature), a gather job with
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
