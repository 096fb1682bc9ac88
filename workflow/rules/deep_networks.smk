# Sections IX-X: deep neural networks and CNNs (PyTorch). MNIST: Figs 37, 38, the optimizer
# comparison and a CNN; SUSY: Fig 40; Ising phases: Figs 41 and 45. Every cell of a grid (and
# every optimizer, every CNN depth) is its own job, so a cluster runs them in parallel and a
# changed cell reruns alone; a gather job assembles each grid.

#: figure -> the step drawing it
DNN_PLOTS = {
    "fig37": "network-history-plot",
    "fig38": "network-history-plot",
    "fig40": "susy-dnn-plot",
    "fig41": "ising-dnn-plot",
    "fig45": "ising-cnn-plot",
    "mnist_optimizers": "mnist-optimizers-plot",
    "mnist_cnn": "mnist-cnn-plot",
}
#: figure -> the file it is drawn from
DNN_DATA = {
    "fig37": res("deep_networks/mnist_dnn.npz"),
    "fig38": res("deep_networks/mnist_dnn.npz"),
    "fig40": res("deep_networks/fig40.npz"),
    "fig41": res("deep_networks/fig41.npz"),
    "fig45": res("deep_networks/fig45.npz"),
    "mnist_optimizers": res("deep_networks/mnist_optimizers.npz"),
    "mnist_cnn": res("deep_networks/mnist_cnn.npz"),
}
DNN_OPTIMIZERS = config["deep_networks"]["mnist_optimizers"]["compared"]
SUSY_DNN_SIZES = grid_labels("susy_dnn", "sizes")
SUSY_DNN_LRS = grid_labels("susy_dnn", "learning_rates")
ISING_DNN_HIDDEN = grid_labels("ising_dnn", "hidden_units")
ISING_DNN_LRS = grid_labels("ising_dnn", "learning_rates")
ISING_CNN_DEPTHS = grid_labels("ising_cnn", "depths")


rule mnist_dnn_fit:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("deep_networks/mnist_dnn.npz"),
        metrics=res("metrics/mnist_dnn.json"),
    log:
        res("logs/mnist_dnn_fit/mnist_dnn.log"),
    benchmark:
        res("benchmarks/mnist_dnn_fit/mnist_dnn.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(dnn_params("mnist_dnn")),
    shell:
        "python -m mlreview mnist-dnn --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule mnist_optimizer_cv:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        metrics=res("deep_networks/mnist_optimizers/{optimizer}.json"),
    log:
        res("logs/mnist_optimizer_cv/{optimizer}.log"),
    benchmark:
        res("benchmarks/mnist_optimizer_cv/{optimizer}.tsv")
    wildcard_constraints:
        optimizer="|".join(DNN_OPTIMIZERS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(mnist_optimizer_params(w.optimizer)),
    shell:
        "python -m mlreview mnist-optimizer-cv --threads {threads} --input npz={input.npz:q}"
        " --output metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule mnist_optimizers_gather:
    input:
        cells=expand(
            res("deep_networks/mnist_optimizers/{optimizer}.json"),
            optimizer=DNN_OPTIMIZERS,
        ),
    output:
        data=res("deep_networks/mnist_optimizers.npz"),
        metrics=res("metrics/mnist_optimizers.json"),
    log:
        res("logs/mnist_optimizers_gather/mnist_optimizers.log"),
    benchmark:
        res("benchmarks/mnist_optimizers_gather/mnist_optimizers.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cells=lambda w, input: cli_pairs("cells", input.cells),
        json=as_json(
            {"compared": config["deep_networks"]["mnist_optimizers"]["compared"]}
        ),
    shell:
        "python -m mlreview mnist-optimizers --input {params.cells}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule mnist_cnn_fit:
    input:
        npz=rules.mnist_prepare.output.npz,
    output:
        data=res("deep_networks/mnist_cnn.npz"),
        metrics=res("metrics/mnist_cnn.json"),
    log:
        res("logs/mnist_cnn_fit/mnist_cnn.log"),
    benchmark:
        res("benchmarks/mnist_cnn_fit/mnist_cnn.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    params:
        json=as_json(dnn_params("mnist_cnn")),
    shell:
        "python -m mlreview mnist-cnn --threads {threads} --input npz={input.npz:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule susy_dnn_cell:
    input:
        parquet=rules.susy_prepare.output.parquet,
    output:
        metrics=res("deep_networks/fig40/D{size}_lr{lr}.json"),
    log:
        res("logs/susy_dnn_cell/D{size}_lr{lr}.log"),
    benchmark:
        res("benchmarks/susy_dnn_cell/D{size}_lr{lr}.tsv")
    wildcard_constraints:
        size="|".join(SUSY_DNN_SIZES),
        lr="|".join(SUSY_DNN_LRS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
        gpu=0,
    params:
        json=lambda w: as_json(
            dnn_params("susy_dnn", size=SUSY_DNN_SIZES[w.size], lr=SUSY_DNN_LRS[w.lr])
        ),
    shell:
        "python -m mlreview susy-dnn-cell --threads {threads} --input parquet={input.parquet:q}"
        " --output metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule susy_dnn_grid:
    input:
        cells=expand(
            res("deep_networks/fig40/D{size}_lr{lr}.json"),
            size=SUSY_DNN_SIZES,
            lr=SUSY_DNN_LRS,
        ),
    output:
        data=res("deep_networks/fig40.npz"),
        metrics=res("metrics/fig40.json"),
    log:
        res("logs/susy_dnn_grid/fig40.log"),
    benchmark:
        res("benchmarks/susy_dnn_grid/fig40.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cells=lambda w, input: cli_pairs("cells", input.cells),
        json=as_json(dnn_gather_params("susy_dnn")),
    shell:
        "python -m mlreview susy-dnn-grid --input {params.cells}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_dnn_cell:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        metrics=res("deep_networks/fig41/N{hidden}_lr{lr}.json"),
    log:
        res("logs/ising_dnn_cell/N{hidden}_lr{lr}.log"),
    benchmark:
        res("benchmarks/ising_dnn_cell/N{hidden}_lr{lr}.tsv")
    wildcard_constraints:
        hidden="|".join(ISING_DNN_HIDDEN),
        lr="|".join(ISING_DNN_LRS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(
            dnn_params(
                "ising_dnn",
                hidden_units=ISING_DNN_HIDDEN[w.hidden],
                lr=ISING_DNN_LRS[w.lr],
            )
        ),
    shell:
        "python -m mlreview ising-dnn-cell --threads {threads} --input dataset={input.dataset:q}"
        " --output metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule ising_dnn_grid:
    input:
        cells=expand(
            res("deep_networks/fig41/N{hidden}_lr{lr}.json"),
            hidden=ISING_DNN_HIDDEN,
            lr=ISING_DNN_LRS,
        ),
    output:
        data=res("deep_networks/fig41.npz"),
        metrics=res("metrics/fig41.json"),
    log:
        res("logs/ising_dnn_grid/fig41.log"),
    benchmark:
        res("benchmarks/ising_dnn_grid/fig41.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cells=lambda w, input: cli_pairs("cells", input.cells),
        json=as_json(dnn_gather_params("ising_dnn")),
    shell:
        "python -m mlreview ising-dnn-grid --input {params.cells}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_cnn_depth:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        metrics=res("deep_networks/fig45/D{depth}.json"),
    log:
        res("logs/ising_cnn_depth/D{depth}.log"),
    benchmark:
        res("benchmarks/ising_cnn_depth/D{depth}.tsv")
    wildcard_constraints:
        depth="|".join(ISING_CNN_DEPTHS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
    params:
        json=lambda w: as_json(dnn_params("ising_cnn", depth=ISING_CNN_DEPTHS[w.depth])),
    shell:
        "python -m mlreview ising-cnn-depth --threads {threads} --input dataset={input.dataset:q}"
        " --output metrics={output.metrics:q} --params {params.json:q} > {log:q} 2>&1"


rule ising_cnn_gather:
    input:
        cells=expand(res("deep_networks/fig45/D{depth}.json"), depth=ISING_CNN_DEPTHS),
    output:
        data=res("deep_networks/fig45.npz"),
        metrics=res("metrics/fig45.json"),
    log:
        res("logs/ising_cnn_gather/fig45.log"),
    benchmark:
        res("benchmarks/ising_cnn_gather/fig45.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cells=lambda w, input: cli_pairs("cells", input.cells),
        json=as_json(dnn_gather_params("ising_cnn")),
    shell:
        "python -m mlreview ising-cnn-depths --input {params.cells}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule deep_networks_plot:
    input:
        data=lambda w: DNN_DATA[w.plot],
    output:
        pdf=res("figures/{plot}.pdf"),
        png=res("figures/{plot}.png"),
    log:
        res("logs/deep_networks_plot/{plot}.log"),
    benchmark:
        res("benchmarks/deep_networks_plot/{plot}.tsv")
    wildcard_constraints:
        plot="|".join(DNN_PLOTS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        step=lambda w: DNN_PLOTS[w.plot],
        json=lambda w: as_json(dnn_plot_params(w.plot)),
    shell:
        "python -m mlreview {params.step} --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"
