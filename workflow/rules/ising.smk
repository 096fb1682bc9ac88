# Ising data sets (spec 2.1, 2.2): 2D Monte Carlo per temperature, the assembled data
# set, its validation against exact results, Fig 20, and the random 1D chains.

ISING_T = [f"{t:.2f}" for t in config["ising"]["sampling"]["temperatures"]]


rule ising2d_sample:
    output:
        data=res("ising/ising2d_T{temp}.npz"),
        metrics=res("metrics/ising2d_T{temp}.json"),
    log:
        res("logs/ising2d_sample/T{temp}.log"),
    benchmark:
        res("benchmarks/ising2d_sample/T{temp}.tsv")
    wildcard_constraints:
        temp=r"[0-9]+\.[0-9]{2}",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        json=lambda w: as_json(
            {**config["ising"]["sampling"], "temperature": float(w.temp)}
        ),
    shell:
        "python -m mlreview ising2d-sample --threads {threads}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising2d_assemble:
    input:
        temperatures=expand(res("ising/ising2d_T{temp}.npz"), temp=ISING_T),
    output:
        dataset=res("ising/ising2d.npz"),
        metrics=res("metrics/ising2d.json"),
    log:
        res("logs/ising2d_assemble/ising2d.log"),
    benchmark:
        res("benchmarks/ising2d_assemble/ising2d.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        inputs=lambda w, input: cli_pairs("temperatures", input.temperatures),
        json=as_json(
            {
                "temperatures": config["ising"]["sampling"]["temperatures"],
                "J": config["ising"]["sampling"]["J"],
                "critical_range": config["ising"]["critical_range"],
            }
        ),
    shell:
        "python -m mlreview ising2d-assemble --input {params.inputs}"
        " --output dataset={output.dataset:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising2d_validate:
    input:
        temperatures=expand(res("ising/ising2d_T{temp}.npz"), temp=ISING_T),
        records=expand(res("metrics/ising2d_T{temp}.json"), temp=ISING_T),
    output:
        data=res("ising/validation.npz"),
        metrics=res("metrics/ising_validation.json"),
    log:
        res("logs/ising2d_validate/validation.log"),
    benchmark:
        res("benchmarks/ising2d_validate/validation.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        inputs=lambda w, input: " ".join(
            [
                cli_pairs("temperatures", input.temperatures),
                cli_pairs("records", input.records),
            ]
        ),
        json=as_json(
            {
                "J": config["ising"]["sampling"]["J"],
                "validation": config["ising"]["validation"],
            }
        ),
    shell:
        "python -m mlreview ising2d-validate --input {params.inputs}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising_validation_plot:
    input:
        data=rules.ising2d_validate.output.data,
    output:
        pdf=res("figures/ising_validation.pdf"),
        png=res("figures/ising_validation.png"),
    log:
        res("logs/ising_validation_plot/validation.log"),
    benchmark:
        res("benchmarks/ising_validation_plot/validation.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["ising"]["validation"]),
    shell:
        "python -m mlreview ising-validation-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule fig20_select:
    input:
        dataset=rules.ising2d_assemble.output.dataset,
    output:
        data=res("ising/fig20.npz"),
        metrics=res("metrics/fig20.json"),
    log:
        res("logs/fig20_select/fig20.log"),
    benchmark:
        res("benchmarks/fig20_select/fig20.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=5,
    params:
        json=as_json(compute_params(config["ising"]["fig20"])),
    shell:
        "python -m mlreview fig20-select --input dataset={input.dataset:q}"
        " --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule fig20_plot:
    input:
        data=rules.fig20_select.output.data,
    output:
        pdf=res("figures/fig20.pdf"),
        png=res("figures/fig20.png"),
    log:
        res("logs/fig20_plot/fig20.log"),
    benchmark:
        res("benchmarks/fig20_plot/fig20.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(config["ising"]["fig20"]),
    shell:
        "python -m mlreview fig20-plot --input data={input.data:q}"
        " --output pdf={output.pdf:q} png={output.png:q}"
        " --params {params.json:q} > {log:q} 2>&1"


rule ising1d_chains:
    output:
        data=res("ising/ising1d.npz"),
        metrics=res("metrics/ising1d.json"),
    log:
        res("logs/ising1d_chains/ising1d.log"),
    benchmark:
        res("benchmarks/ising1d_chains/ising1d.tsv")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        json=as_json(config["ising1d"]),
    shell:
        "python -m mlreview ising1d --output data={output.data:q} metrics={output.metrics:q}"
        " --params {params.json:q} > {log:q} 2>&1"
