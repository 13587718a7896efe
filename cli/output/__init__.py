"""What the user sees: renderers, history, timings, summary, report, certificates."""
