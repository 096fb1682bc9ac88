# Section VII: logistic regression - Ising phases (Fig 21), SUSY (Figs 22, 23, 25) and MNIST
# softmax (Fig 27).

#: figure -> the step drawing it
LOGISTIC_PLOTS = {
    "fig21": "ising-logistic-plot",
    "fig22": "susy-probability-plot",
    "fig23": "susy-roc-scan-plot",
    "fig25": "susy-roc-plot",
    "fig27": "mnist-weights-plot",
}
#: figure -> the file it is drawn from (Fig 22 shows one of the SUSY fits)
LOGISTIC_DATA = {
    "fig21": res("logistic/fig21.npz"),
    "fig22": res(
        f"logistic/susy_{config['logistic_regression']['susy']['fig22']['fit']}.npz"
    ),
    "fig23": res("logistic/fig23.npz"),
    "fig25": res("logistic/fig25.npz"),
    "fig27": res("logistic/fig27.npz"),
}
SUSY_FITS = list(config["logistic_regression"]["susy"]["fits"])
# The torch rules (susy_logistic_*) can use a GPU and declare `gpu=0`: none is requested
# unless a profile raises it (README, "Running on a cluster"); the config's
# logistic_regression.susy.torch.device picks the device the code uses.


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


rule susy_logistic_fit:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        data=res("logistic/susy_{fit}.npz"),
        metrics=res("metrics/susy_logistic_{fit}.json"),
    log:
        res("logs/susy_logistic_fit/{fit}.log"),
    benchmark:
        res("benchmarks/susy_logistic_fit/{fit}.tsv")
    wildcard_constraints:
        fit="|".join(SUSY_FITS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=0,
    params:
        json=lambda w: as_json(susy_logistic_params("fits", w.fit)),
    shell:
        "python -m mlreview susy-logistic --threads {threads} --input parquet={input.parquet:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_logistic_scan:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        data=res("logistic/fig23.npz"),
        metrics=res("metrics/fig23.json"),
    log:
        res("logs/susy_logistic_scan/fig23.log"),
    benchmark:
        res("benchmarks/susy_logistic_scan/fig23.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=40,
        gpu=0,
    params:
        json=as_json(susy_logistic_params("fig23")),
    shell:
        "python -m mlreview susy-logistic-scan --threads {threads} --input parquet={input.parquet:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_logistic_ablation:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        metrics=res("metrics/susy_ablation.json"),
    log:
        res("logs/susy_logistic_ablation/susy_ablation.log"),
    benchmark:
        res("benchmarks/susy_logistic_ablation/susy_ablation.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(susy_logistic_params("ablation")),
    shell:
        "python -m mlreview susy-logistic-ablation --threads {threads} --input parquet={input.parquet:q}"
        " --output metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule fig25_roc:
    input:
        parquet=rules.susy_prepare.output.parquet,
        low=res("logistic/susy_low.npz"),
        all_features=res("logistic/susy_all.npz"),
    output:
        data=res("logistic/fig25.npz"),
        metrics=res("metrics/fig25.json"),
    log:
        res("logs/fig25_roc/fig25.log"),
    benchmark:
        res("benchmarks/fig25_roc/fig25.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(susy_logistic_params("fig25")),
    shell:
        "python -m mlreview fig25-roc --input parquet={input.parquet:q} low={input.low:q}"
        " all_features={input.all_features:q} --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule logistic_regression_plot:
    input:
        data=lambda w: LOGISTIC_DATA[w.fig],
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
        json=lambda w: as_json(logistic_plot_params(w.fig)),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
