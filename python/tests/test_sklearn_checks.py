"""scikit-learn's own estimator checks, every one run on small, fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from anmin import ANMINClassifier, ANMINRegressor

# Checks that cannot pass, each with the reason, as scikit-learn's `expected_failed_checks`
# takes them. None today: every check passes. (The array-API check is skipped by
# scikit-learn itself unless SCIPY_ARRAY_API=1 is set; it does not apply to this estimator,
# which converts its input to float64 numpy arrays.)
EXPECTED_FAILED: dict = {}


def expected_failed(estimator):
    return EXPECTED_FAILED


@parametrize_with_checks(
    [ANMINRegressor(hidden=8, max_iter=5), ANMINClassifier(hidden=8, max_iter=5)],
    expected_failed_checks=expected_failed,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
