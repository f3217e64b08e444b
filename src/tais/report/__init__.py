"""Report files: report.md, report.html and the figures, drawn from the summary alone."""
