# Beyond the review, part 1: the statistical physics of learning - the interpolation peak of
# least squares (synthetic design, its heavy tail at n = p, the review's 1D Ising design, ridge
# against logistic regression as classifiers), double descent of random features, perceptron
# capacity (Cover, Gardner) and teacher-student generalisation. Each against its exact theory.
# Code: mlreview.sections.learning_theory.

THEORY = config["learning_theory"]
INTERPOLATION = THEORY["interpolation_peak"]


rule interpolation_peak_fit:
    """Project figure interpolation_peak: min-norm and ridge risk on a Gaussian design against n."""
    output:
        data=res("learning_theory/interpolation_peak.npz"),
        metrics=res("metrics/interpolation_peak.json"),
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        json=as_json(INTERPOLATION["synthetic"]),
    shell:
        STEP


rule interpolation_tail_fit:
    """Project figure interpolation_peak: the heavy tail of the min-norm error at n = p."""
    output:
        data=res("learning_theory/interpolation_tail.npz"),
        metrics=res("metrics/interpolation_tail.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(INTERPOLATION["tail"]),
    shell:
        STEP


rule interpolation_ising_fit:
    """Project figure interpolation_peak: min-norm fits of the 1D Ising energies (rank 781)."""
    input:
        chains=rules.ising1d_chains.output.data,
    output:
        data=res("learning_theory/interpolation_ising.npz"),
        metrics=res("metrics/interpolation_ising.json"),
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        json=as_json(INTERPOLATION["ising"]),
    shell:
        STEP


rule interpolation_susy_fit:
    """Project figure interpolation_peak: ridge as a classifier against logistic regression on SUSY."""
    input:
        susy=SUSY,
    output:
        data=res("learning_theory/interpolation_susy.npz"),
        metrics=res("metrics/interpolation_susy.json"),
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        json=as_json(INTERPOLATION["susy"]),
    shell:
        STEP


rule interpolation_mnist_fit:
    """Project figure interpolation_peak: ridge as a classifier against logistic regression on MNIST."""
    input:
        mnist=MNIST,
    output:
        data=res("learning_theory/interpolation_mnist.npz"),
        metrics=res("metrics/interpolation_mnist.json"),
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        json=as_json(INTERPOLATION["mnist"]),
    shell:
        STEP


rule double_descent_fit:
    """Project figure double_descent: random ReLU features on MNIST against their number."""
    input:
        mnist=MNIST,
    output:
        data=res("learning_theory/double_descent.npz"),
        metrics=res("metrics/double_descent.json"),
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        json=as_json(compute_params(THEORY["double_descent"])),
    shell:
        STEP


rule perceptron_capacity_fit:
    """Project figure perceptron_capacity: separability and the largest stability against alpha."""
    output:
        data=res("learning_theory/perceptron_capacity.npz"),
        metrics=res("metrics/perceptron_capacity.json"),
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        json=as_json(compute_params(THEORY["perceptron_capacity"])),
    shell:
        STEP


rule teacher_student_fit:
    """Project figure teacher_student: Hebb, perceptron, logistic and maximal-stability students."""
    output:
        data=res("learning_theory/teacher_student.npz"),
        metrics=res("metrics/teacher_student.json"),
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        json=as_json(THEORY["teacher_student"]["continuous"]),
    shell:
        STEP


rule teacher_student_binary_fit:
    """Project figure teacher_student: Gibbs learning with binary weights, all 2^N enumerated."""
    output:
        data=res("learning_theory/teacher_student_binary.npz"),
        metrics=res("metrics/teacher_student_binary.json"),
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        json=as_json(THEORY["teacher_student"]["binary"]),
    shell:
        STEP


rule interpolation_peak_plot:
    """Project figure interpolation_peak: the six panels with their exact curves."""
    input:
        synthetic=rules.interpolation_peak_fit.output.data,
        tail=rules.interpolation_tail_fit.output.data,
        ising=rules.interpolation_ising_fit.output.data,
        susy=rules.interpolation_susy_fit.output.data,
        mnist=rules.interpolation_mnist_fit.output.data,
    output:
        pdf=res("figures/interpolation_peak.pdf"),
        png=figure_png("interpolation_peak"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(INTERPOLATION["plot"]),
    shell:
        STEP


rule double_descent_plot:
    """Project figure double_descent: train and test error and the readout norm against N/n."""
    input:
        data=rules.double_descent_fit.output.data,
    output:
        pdf=res("figures/double_descent.pdf"),
        png=figure_png("double_descent"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(THEORY["double_descent"]["plot"]),
    shell:
        STEP


rule perceptron_capacity_plot:
    """Project figure perceptron_capacity: P(separable) with Cover's count, kappa_max with Gardner."""
    input:
        data=rules.perceptron_capacity_fit.output.data,
    output:
        pdf=res("figures/perceptron_capacity.pdf"),
        png=figure_png("perceptron_capacity"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(THEORY["perceptron_capacity"]["plot"]),
    shell:
        STEP


rule teacher_student_plot:
    """Project figure teacher_student: generalisation error against alpha with the exact curves."""
    input:
        continuous=rules.teacher_student_fit.output.data,
        binary=rules.teacher_student_binary_fit.output.data,
    output:
        pdf=res("figures/teacher_student.pdf"),
        png=figure_png("teacher_student"),
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        json=as_json(THEORY["teacher_student"]["plot"]),
    shell:
        STEP
