# Downloaded data sets (spec 2.3, 2.4): MNIST and SUSY (or its physics stand-in), with
# the figures that only display data (Figs 24, 26) and the SUSY feature histograms.

SUSY_SOURCE = config["susy"]["source"]
#: the step that makes the SUSY file, per source
SUSY_STEPS = {"uci": "susy-prepare", "toy": "susy-toy"}


rule mnist_prepare:
    output:
        npz=res("data/mnist.npz"),
        metrics=res("metrics/mnist.json"),
    log:
        res("logs/mnist_prepare/mnist.log"),
    benchmark:
        res("benchmarks/mnist_prepare/mnist.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        json=as_json({k: v for k, v in mnist_params().items() if k != "fig26"}),
    shell:
        "python -m mlreview mnist-prepare --output npz={output.npz:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule fig26_select:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("data/fig26.npz"),
        metrics=res("metrics/fig26.json"),
    log:
        res("logs/fig26_select/fig26.log"),
    benchmark:
        res("benchmarks/fig26_select/fig26.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(
            {
                **compute_params(config["mnist"]["fig26"]),
                **{
                    k: config["mnist"][k]
                    for k in ("n_train", "n_test", "image_shape", "n_classes")
                },
            }
        ),
    shell:
        "python -m mlreview fig26-select --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule fig26_plot:
    input:
        data=rules.fig26_select.output.data,
    output:
        pdf=res("figures/fig26.pdf"),
        png=res("figures/fig26.png"),
    log:
        res("logs/fig26_plot/fig26.log"),
    benchmark:
        res("benchmarks/fig26_plot/fig26.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["mnist"]["fig26"]),
    shell:
        "python -m mlreview fig26-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_prepare:
    output:
        parquet=res("data/susy.parquet"),
        metrics=res("metrics/susy.json"),
    log:
        res("logs/susy_prepare/susy.log"),
    benchmark:
        res("benchmarks/susy_prepare/susy.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        step=SUSY_STEPS[SUSY_SOURCE],
        json=as_json(susy_params(SUSY_SOURCE)),
    shell:
        "python -m mlreview {params.step} --output parquet={output.parquet:q}"
        " metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule fig24_select:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        data=res("data/fig24.npz"),
        metrics=res("metrics/fig24.json"),
    log:
        res("logs/fig24_select/fig24.log"),
    benchmark:
        res("benchmarks/fig24_select/fig24.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(compute_params(config["susy"]["fig24"])),
    shell:
        "python -m mlreview fig24-select --input parquet={input.parquet:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule fig24_plot:
    input:
        data=rules.fig24_select.output.data,
    output:
        pdf=res("figures/fig24.pdf"),
        png=res("figures/fig24.png"),
    log:
        res("logs/fig24_plot/fig24.log"),
    benchmark:
        res("benchmarks/fig24_plot/fig24.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["susy"]["fig24"]),
    shell:
        "python -m mlreview fig24-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_features_plot:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        pdf=res("figures/susy_features.pdf"),
        png=res("figures/susy_features.png"),
    log:
        res("logs/susy_features_plot/susy_features.log"),
    benchmark:
        res("benchmarks/susy_features_plot/susy_features.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(config["susy"]["features_plot"]),
    shell:
        "python -m mlreview susy-features-plot --input parquet={input.parquet:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
