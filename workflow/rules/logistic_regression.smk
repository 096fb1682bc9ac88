# Section VII: logistic regression - Ising phases (Fig 21), SUSY (Figs 22, 23, 25) and MNIST
# softmax (Fig 27). Code: mlreview.sections.logistic_regression (the toolbox: mlreview.logistic).
# The torch rules (susy_logistic_*) can use a GPU and declare `gpu=0`: none is requested unless
# a profile raises it (profiles/README.md); the config's
# logistic_regression.susy.torch.device picks the device the code uses.

LOGISTIC = config["logistic_regression"]
SUSY_FITS = list(LOGISTIC["susy"]["fits"])


rule ising_logistic_fit:
    """Fig 21: logistic regression on the Ising phases, liblinear and SGD over lambda."""
    input:
        dataset=ISING2D,
    output:
        data=res("logistic/fig21.npz"),
        metrics=res("metrics/fig21.json"),
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        json=as_json(compute_params(LOGISTIC["ising"])),
    shell:
        STEP


rule mnist_softmax_fit:
    """Fig 27: softmax regression on MNIST (the project's fixed digit classifier)."""
    input:
        npz=MNIST,
    output:
        data=res("logistic/fig27.npz"),
        metrics=res("metrics/fig27.json"),
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        json=as_json(compute_params(LOGISTIC["mnist"])),
    shell:
        STEP


rule susy_logistic_fit:
    """Figs 22, 25: minibatch logistic regression on 8 or 18 SUSY features."""
    input:
        parquet=SUSY,
    output:
        data=res("logistic/susy_{fit}.npz"),
        metrics=res("metrics/susy_logistic_{fit}.json"),
    wildcard_constraints:
        fit="|".join(SUSY_FITS),
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=0,
    params:
        json=lambda w: as_json(susy_logistic_params("fits", w.fit)),
    shell:
        STEP


rule susy_logistic_scan:
    """Fig 23: test ROC curves over the L2 strength, torch and scikit-learn SGD."""
    input:
        parquet=SUSY,
    output:
        data=res("logistic/fig23.npz"),
        metrics=res("metrics/fig23.json"),
    resources:
        mem_mb=4000,
        runtime=40,
        gpu=0,
    params:
        json=as_json(susy_logistic_params("fig23")),
    shell:
        STEP


rule susy_logistic_ablation:
    """Claim C34: the test AUC lost when each feature is dropped."""
    input:
        parquet=SUSY,
    output:
        metrics=res("metrics/susy_ablation.json"),
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=0,
    params:
        json=as_json(susy_logistic_params("ablation")),
    shell:
        STEP


rule fig25_roc:
    """Fig 25: ROC of the two fits and of a cut on the leading-lepton pT."""
    input:
        parquet=SUSY,
        low=res("logistic/susy_low.npz"),
        all_features=res("logistic/susy_all.npz"),
    output:
        data=res("logistic/fig25.npz"),
        metrics=res("metrics/fig25.json"),
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(susy_logistic_params("fig25")),
    shell:
        STEP


rule fig21_plot:
    """Fig 21: train, test and critical accuracy against lambda."""
    input:
        data=rules.ising_logistic_fit.output.data,
    output:
        pdf=res("figures/fig21.pdf"),
        png=figure_png("fig21"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LOGISTIC["ising"]),
    shell:
        STEP


rule fig22_plot:
    """Fig 22: predicted signal probability of test signal and background."""
    input:
        data=res(f"logistic/susy_{LOGISTIC['susy']['fig22']['fit']}.npz"),
    output:
        pdf=res("figures/fig22.pdf"),
        png=figure_png("fig22"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LOGISTIC["susy"]["fig22"]),
    shell:
        STEP


rule fig23_plot:
    """Fig 23: the ROC curves of the scan."""
    input:
        data=rules.susy_logistic_scan.output.data,
    output:
        pdf=res("figures/fig23.pdf"),
        png=figure_png("fig23"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LOGISTIC["susy"]["fig23"]),
    shell:
        STEP


rule fig25_plot:
    """Fig 25: logistic regression on 8 and 18 features against a cut."""
    input:
        data=rules.fig25_roc.output.data,
    output:
        pdf=res("figures/fig25.pdf"),
        png=figure_png("fig25"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LOGISTIC["susy"]["fig25"]),
    shell:
        STEP


rule fig27_plot:
    """Fig 27: the ten weight images of the softmax regression."""
    input:
        data=rules.mnist_softmax_fit.output.data,
    output:
        pdf=res("figures/fig27.pdf"),
        png=figure_png("fig27"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(LOGISTIC["mnist"]),
    shell:
        STEP
