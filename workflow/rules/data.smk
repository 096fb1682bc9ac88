# Downloaded data sets (spec 2.3, 2.4): MNIST and SUSY (or its physics stand-in), with the
# figures that only display data (Figs 24, 26) and the SUSY feature histograms.
# Code: mlreview.data.

SUSY_SOURCE = config["susy"]["source"]
#: the data files every section reads
MNIST = res("data/mnist.npz")
SUSY = res("data/susy.parquet")


rule mnist_prepare:
    """MNIST: the four canonical IDX files fetched, checked (sha256) and converted."""
    output:
        npz=MNIST,
        metrics=res("metrics/mnist.json"),
    # a data set that many figures need: started before any grid cell or plot (the DAG's
    # critical path); the default priority of every other rule is 0
    priority: 50
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        json=as_json(
            {
                **compute_params(
                    {k: v for k, v in config["mnist"].items() if k != "fig26"}
                ),
                "cache_dir": res("downloads/mnist"),
                "mirror": config["data"]["mirror"],
            }
        ),
    shell:
        STEP


rule fig26_select:
    """Fig 26: an example MNIST digit."""
    input:
        npz=MNIST,
    output:
        data=res("data/fig26.npz"),
        metrics=res("metrics/fig26.json"),
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
        STEP


rule fig26_plot:
    """Fig 26: the digit with its grey scale."""
    input:
        data=rules.fig26_select.output.data,
    output:
        pdf=res("figures/fig26.pdf"),
        png=figure_png("fig26"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["mnist"]["fig26"]),
    shell:
        STEP


rule susy_prepare:
    """SUSY: the UCI file fetched and converted, or the physics stand-in generated."""
    output:
        parquet=SUSY,
        metrics=res("metrics/susy.json"),
    # a data set that many figures need: started before any grid cell or plot (the DAG's
    # critical path); the default priority of every other rule is 0
    priority: 50
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        json=as_json(
            {
                **config["susy"][SUSY_SOURCE],
                "source": SUSY_SOURCE,
                **(
                    {
                        "cache_dir": res("downloads/susy"),
                        "mirror": config["data"]["mirror"],
                    }
                    if SUSY_SOURCE == "uci"
                    else {}
                ),
            }
        ),
    shell:
        STEP


rule fig24_select:
    """Fig 24: leading vs sub-leading lepton pT of test events."""
    input:
        parquet=SUSY,
    output:
        data=res("data/fig24.npz"),
        metrics=res("metrics/fig24.json"),
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(compute_params(config["susy"]["fig24"])),
    shell:
        STEP


rule fig24_plot:
    """Fig 24: the scatter of signal and background."""
    input:
        data=rules.fig24_select.output.data,
    output:
        pdf=res("figures/fig24.pdf"),
        png=figure_png("fig24"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["susy"]["fig24"]),
    shell:
        STEP


rule susy_features_plot:
    """Project figure susy_features: signal vs background histograms of the 18 features."""
    input:
        parquet=SUSY,
    output:
        pdf=res("figures/susy_features.pdf"),
        png=figure_png("susy_features"),
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        json=as_json(config["susy"]["features_plot"]),
    shell:
        STEP
