"""Results schema, session reports and the baseline comparison (CI gate).

Runner usage:
    df = add_comparisons(to_dataframe(results))   # results: list[RunResult]
    print(study_table(df)); write_session_report(df, out_dir)
"""

from .comparisons import add_comparisons
from .io import load_results, records
from .regression import Comparison, compare_frames
from .schema import SCHEMA_VERSION, RunResult, SchemaError, config_name, to_dataframe
from .session import write_session_report
from .tables import study_table

__all__ = [
    "SCHEMA_VERSION", "RunResult", "SchemaError", "config_name", "to_dataframe",
    "add_comparisons", "write_session_report", "study_table", "load_results", "records",
    "Comparison", "compare_frames",
]
