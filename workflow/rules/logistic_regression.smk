# Section VII: logistic regression - Ising phases (Fig 21) and MNIST softmax (Fig 27).
# SUSY (Figs 22, 23, 25) is an open issue.

#: figure -> the step drawing it
LOGISTIC_PLOTS = {"fig21": "ising-logistic-plot", "fig27": "mnist-weights-plot"}
#: figure -> its config section
LOGISTIC_SECTIONS = {"fig21": "ising", "fig27": "mnist"}


rule ising_logistic_fit:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        data=res("logistic/fig21.npz"),
        metrics=res("metrics/fig21.json"),
    log:
        res("logs/ising_logistic_fit/fig21.log"),
    benchmark:
        res("benchmarks/ising_logistic_fit/fig21.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        json=as_json(compute_params(config["logistic_regression"]["ising"])),
    shell:
        "python -m mlreview ising-logistic --threads {threads} --input dataset={input.dataset:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule mnist_softmax_fit:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("logistic/fig27.npz"),
        metrics=res("metrics/fig27.json"),
    log:
        res("logs/mnist_softmax_fit/fig27.log"),
    benchmark:
        res("benchmarks/mnist_softmax_fit/fig27.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        json=as_json(compute_params(config["logistic_regression"]["mnist"])),
    shell:
        "python -m mlreview mnist-softmax --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule logistic_regression_plot:
    input:
        data=res("logistic/{fig}.npz"),
    output:
        pdf=res("figures/{fig}.pdf"),
        png=res("figures/{fig}.png"),
    log:
        res("logs/logistic_regression_plot/{fig}.log"),
    benchmark:
        res("benchmarks/logistic_regression_plot/{fig}.tsv")
    wildcard_constraints:
        fig="|".join(LOGISTIC_PLOTS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: LOGISTIC_PLOTS[w.fig],
        json=lambda w: as_json(config["logistic_regression"][LOGISTIC_SECTIONS[w.fig]]),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
