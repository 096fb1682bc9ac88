# Sections IX-X: deep neural networks and CNNs (PyTorch). MNIST: Figs 37, 38, the optimizer
# comparison and a CNN; SUSY: Fig 40; Ising phases: Figs 41 and 45. Every cell of a grid (and
# every optimizer, every CNN depth) is its own job, so a cluster runs them in parallel and a
# changed cell reruns alone; a gather job assembles each grid. A cell's params hold the shared
# settings and its own values, never the grid lists: adding a cell reruns that cell alone.
# Code: mlreview.sections.deep_networks (models and the training loop: mlreview.nn).

DNN = config["deep_networks"]


DNN_OPTIMIZERS = DNN["mnist_optimizers"]["compared"]
SUSY_DNN_SIZES = grid_labels("susy_dnn", "sizes")
SUSY_DNN_LRS = grid_labels("susy_dnn", "learning_rates")
ISING_DNN_HIDDEN = grid_labels("ising_dnn", "hidden_units")
ISING_DNN_LRS = grid_labels("ising_dnn", "learning_rates")
ISING_CNN_DEPTHS = grid_labels("ising_cnn", "depths")


rule mnist_dnn_fit:
    """Figs 37, 38: the network 784-100-400-400-50-10 on MNIST, per-epoch history."""
    input:
        npz=MNIST,
    output:
        data=res("deep_networks/mnist_dnn.npz"),
        metrics=res("metrics/mnist_dnn.json"),
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(dnn_params("mnist_dnn")),
    shell:
        STEP


rule mnist_optimizer_cv:
    """Project figure mnist_optimizers: one optimizer, cross-validated."""
    input:
        npz=MNIST,
    output:
        metrics=res("deep_networks/mnist_optimizers/{optimizer}.json"),
    wildcard_constraints:
        optimizer="|".join(DNN_OPTIMIZERS),
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    params:
        json=lambda w: as_json(mnist_optimizer_params(w.optimizer)),
    shell:
        STEP


rule mnist_optimizers_gather:
    """Project figure mnist_optimizers: every optimizer's accuracy."""
    input:
        cells=expand(
            res("deep_networks/mnist_optimizers/{optimizer}.json"),
            optimizer=DNN_OPTIMIZERS,
        ),
    output:
        data=res("deep_networks/mnist_optimizers.npz"),
        metrics=res("metrics/mnist_optimizers.json"),
    resources:
        mem_mb=500,
        runtime=5,
    params:
        json=as_json({"compared": DNN_OPTIMIZERS}),
    shell:
        STEP


rule mnist_cnn_fit:
    """Project figure mnist_cnn: a small CNN on MNIST."""
    input:
        npz=MNIST,
    output:
        data=res("deep_networks/mnist_cnn.npz"),
        metrics=res("metrics/mnist_cnn.json"),
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    params:
        json=as_json(dnn_params("mnist_cnn")),
    shell:
        STEP


rule susy_dnn_cell:
    """Fig 40: one (data-set size, learning rate) cell of the SUSY network."""
    input:
        parquet=SUSY,
    output:
        metrics=res("deep_networks/fig40/D{size}_lr{lr}.json"),
    wildcard_constraints:
        size="|".join(SUSY_DNN_SIZES),
        lr="|".join(SUSY_DNN_LRS),
    resources:
        mem_mb=2000,
        runtime=20,
        gpu=0,
    params:
        json=lambda w: as_json(
            dnn_params("susy_dnn", size=SUSY_DNN_SIZES[w.size], lr=SUSY_DNN_LRS[w.lr])
        ),
    shell:
        STEP


rule susy_dnn_grid:
    """Fig 40: the grid of test accuracies."""
    input:
        cells=expand(
            res("deep_networks/fig40/D{size}_lr{lr}.json"),
            size=SUSY_DNN_SIZES,
            lr=SUSY_DNN_LRS,
        ),
    output:
        data=res("deep_networks/fig40.npz"),
        metrics=res("metrics/fig40.json"),
    resources:
        mem_mb=500,
        runtime=5,
    params:
        json=as_json(dnn_gather_params("susy_dnn")),
    shell:
        STEP


rule ising_dnn_cell:
    """Fig 41: one (hidden neurons, learning rate) cell on the Ising phases."""
    input:
        dataset=ISING2D,
    output:
        metrics=res("deep_networks/fig41/N{hidden}_lr{lr}.json"),
    wildcard_constraints:
        hidden="|".join(ISING_DNN_HIDDEN),
        lr="|".join(ISING_DNN_LRS),
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
        STEP


rule ising_dnn_grid:
    """Fig 41: the grid of train, test and critical accuracies."""
    input:
        cells=expand(
            res("deep_networks/fig41/N{hidden}_lr{lr}.json"),
            hidden=ISING_DNN_HIDDEN,
            lr=ISING_DNN_LRS,
        ),
    output:
        data=res("deep_networks/fig41.npz"),
        metrics=res("metrics/fig41.json"),
    resources:
        mem_mb=500,
        runtime=5,
    params:
        json=as_json(dnn_gather_params("ising_dnn")),
    shell:
        STEP


rule ising_cnn_depth:
    """Fig 45: the one-layer CNN with one number of filters on the Ising phases."""
    input:
        dataset=ISING2D,
    output:
        metrics=res("deep_networks/fig45/D{depth}.json"),
    wildcard_constraints:
        depth="|".join(ISING_CNN_DEPTHS),
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
    params:
        json=lambda w: as_json(dnn_params("ising_cnn", depth=ISING_CNN_DEPTHS[w.depth])),
    shell:
        STEP


rule ising_cnn_gather:
    """Fig 45: test and critical accuracy against the number of filters."""
    input:
        cells=expand(res("deep_networks/fig45/D{depth}.json"), depth=ISING_CNN_DEPTHS),
    output:
        data=res("deep_networks/fig45.npz"),
        metrics=res("metrics/fig45.json"),
    resources:
        mem_mb=500,
        runtime=5,
    params:
        json=as_json(dnn_gather_params("ising_cnn")),
    shell:
        STEP


rule mnist_dnn_plot:
    """Figs 37 (accuracy) and 38 (loss) per epoch."""
    input:
        data=rules.mnist_dnn_fit.output.data,
    output:
        pdf=res("figures/{fig}.pdf"),
        png=figure_png("{fig}"),
    wildcard_constraints:
        fig="fig37|fig38",
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=lambda w: as_json({"plot": DNN["mnist_dnn"]["plot"][w.fig]}),
    shell:
        STEP


rule mnist_optimizers_plot:
    """Project figure mnist_optimizers: cross-validated accuracy per optimizer."""
    input:
        data=rules.mnist_optimizers_gather.output.data,
    output:
        pdf=res("figures/mnist_optimizers.pdf"),
        png=figure_png("mnist_optimizers"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": DNN["mnist_optimizers"].get("plot", {})}),
    shell:
        STEP


rule mnist_cnn_plot:
    """Project figure mnist_cnn: test accuracy per epoch."""
    input:
        data=rules.mnist_cnn_fit.output.data,
    output:
        pdf=res("figures/mnist_cnn.pdf"),
        png=figure_png("mnist_cnn"),
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        STEP


rule fig40_plot:
    """Fig 40: heat map of the SUSY test accuracy."""
    input:
        data=rules.susy_dnn_grid.output.data,
    output:
        pdf=res("figures/fig40.pdf"),
        png=figure_png("fig40"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": DNN["susy_dnn"].get("plot", {})}),
    shell:
        STEP


rule fig41_plot:
    """Fig 41: heat maps of the Ising accuracies."""
    input:
        data=rules.ising_dnn_grid.output.data,
    output:
        pdf=res("figures/fig41.pdf"),
        png=figure_png("fig41"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": DNN["ising_dnn"].get("plot", {})}),
    shell:
        STEP


rule fig45_plot:
    """Fig 45: test and critical accuracy of the CNN against depth."""
    input:
        data=rules.ising_cnn_gather.output.data,
    output:
        pdf=res("figures/fig45.pdf"),
        png=figure_png("fig45"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json({"plot": DNN["ising_cnn"].get("plot", {})}),
    shell:
        STEP
