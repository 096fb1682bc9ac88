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
