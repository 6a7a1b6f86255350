"""Reports: the data model, the table, exports and explanations."""
from .model import LayerReport, Report, Totals, definitions  # noqa: F401
