"""Evaluation: any model -> one results record; test-set sources, metrics, reports, comparisons."""


def __getattr__(name: str):
    # `augmix.evaluation.evaluate` without importing the evaluator for `augmix.metrics` users.
    if name == "evaluate":
        from augmix.evaluation.robustness import evaluate
        return evaluate
    raise AttributeError(f"module 'augmix.evaluation' has no attribute {name!r}")
