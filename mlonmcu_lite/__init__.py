"""mlonmcu-lite: TinyML virtual-platform benchmarking harness.

Data flows one way: model -> compiler -> firmware -> platform -> metrics -> report.
Keep this module import-free so that a broken subpackage never breaks the CLI.
"""

__version__ = "0.1.0"
