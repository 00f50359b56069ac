"""The package is lib/rootwatch; the notebooks ship inside it as rootwatch.notebooks, built from the
top-level notebooks/ (their source, where analysts open them). pyproject.toml cannot map one extra
directory into a package found by ``packages.find``, hence these lines."""

from setuptools import find_packages, setup

setup(packages=[*find_packages("lib"), "rootwatch.report.templates", "rootwatch.notebooks"],
      package_dir={"": "lib", "rootwatch.notebooks": "notebooks"})
