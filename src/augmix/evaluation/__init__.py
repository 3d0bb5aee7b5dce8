"""Evaluation: any model -> one results record; test-set sources, metrics, reports, comparisons."""
