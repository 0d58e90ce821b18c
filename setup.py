from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
version = {}
for line in (here / "neuron_ann" / "__init__.py").read_text().splitlines():
    if line.startswith("__version__"):
        exec(line, version)

setup(
    name="neuron-ann",
    version=version["__version__"],
    description="Swap detailed NEURON cells for batched CNN-LSTM surrogates (ONNX Runtime), train and validate them",
    long_description=(here / "README.md").read_text() if (here / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["neuron_ann", "neuron_ann.*"]) + ["neuron_ann.mod", "neuron_ann.hoc"],
    # mod/ and hoc/ live at the top of the repository and install inside the package
    package_dir={"neuron_ann.mod": "mod", "neuron_ann.hoc": "hoc"},
    package_data={
        "neuron_ann": ["models/*.onnx", "models/*.json", "models/*.md"],
        "neuron_ann.mod": ["*.mod"],
        "neuron_ann.hoc": ["*.hoc"],
    },
    install_requires=[
        "neuron>=9,<10",
        "numpy>=1.24",
        "onnxruntime-gpu>=1.17",
        "filelock>=3.12",
        "tqdm>=4.60",
    ],
    extras_require={
        "train": ["tensorflow>=2.16", "tf2onnx>=1.16", "onnx>=1.15", "matplotlib>=3.7"],
        "mpi": ["mpich", "mpi4py>=3.1"],
        "test": ["pytest>=7"],
    },
    entry_points={"console_scripts": ["neuron-ann=neuron_ann.cli:main"]},
)
