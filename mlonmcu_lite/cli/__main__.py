"""`python -m mlonmcu_lite.cli` == `bench`."""

from mlonmcu_lite.cli import main

main()
