"""Chapter 2 reference: the book's deterministic numbers (CPU) and the errata fixes."""

import numpy as np
import paddle
import pytest

from nndl_ref.ch02 import (Linear, RunnerV1, clip_outliers_iqr, create_toy_data, linear_func,
                           load_boston_house_prices, mean_squared_error, minmax_normalize, optimizer_lsm,
                           polynomial_basis_function, sin, train_test_split)

# Book lines 2854–2866: the 12 Boston weights and the bias.
BOOK_BOSTON_WEIGHTS = [-6.7268967628479, 1.28081214427948, -0.4696650803089142, 2.235346794128418,
                       -7.0105814933776855, 9.76220417022705, -0.8556219339370728, -9.265738487243652,
                       7.973038673400879, -4.365403175354004, -7.105883598327637, -13.165120124816895]


def test_linear_demo_with_seed_10():
    paddle.seed(10)
    X = paddle.randn([2, 3])
    y_pred = Linear(3)(X)
    assert list(y_pred.shape) == [2, 1]
    np.testing.assert_allclose(y_pred.numpy().ravel(), [0.54838145, 2.03063798], rtol=1e-6)  # book 1937–1938


def test_mean_squared_error_demo():
    error = mean_squared_error(paddle.to_tensor([[-0.2], [4.9]]), paddle.to_tensor([[1.3], [2.5]]))
    assert error.item() == pytest.approx(4.005000114440918, rel=1e-7)   # book line 1982


def test_erratum_mse_refuses_broadcasting_n_against_n1():
    """The book checks only shape[0]; [N] against [N,1] silently becomes an [N,N] mean."""
    with pytest.raises(ValueError):
        mean_squared_error(paddle.ones([4]), paddle.ones([4, 1]))


def test_polynomial_basis_book_example():
    result = polynomial_basis_function(paddle.to_tensor([[2.0], [3.0], [4.0]]), 3)
    np.testing.assert_array_equal(result.numpy(), [[2, 4, 8], [3, 9, 27], [4, 16, 64]])   # book 2255–2258
    assert polynomial_basis_function(paddle.ones([5, 1]) * 3, 0).numpy().tolist() == [[1.0]] * 5


def test_lsm_matches_numpy_least_squares_and_ridge():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 + rng.normal(scale=0.1, size=40)
    for reg_lambda in (0.0, 2.0):
        model = optimizer_lsm(Linear(3), paddle.to_tensor(X, dtype="float32"), paddle.to_tensor(y, dtype="float32"),
                              reg_lambda)
        A = np.hstack([X, np.ones((40, 1))])
        solution = np.linalg.solve(A.T @ A + reg_lambda * np.diag([1, 1, 1, 0]), A.T @ y)
        np.testing.assert_allclose(model.params["w"].numpy(), solution[:3], rtol=1e-5)
        np.testing.assert_allclose(model.params["b"].numpy(), solution[3:], rtol=1e-5)


def test_lsm_degree_zero_gives_mean():
    model = optimizer_lsm(Linear(1), paddle.ones([4, 1]), paddle.to_tensor([1.0, 2.0, 4.5, -0.5]))
    assert model.params["w"].numpy().tolist() == [0.0]
    assert model.params["b"].item() == pytest.approx(1.75)


def test_training_error_never_rises_with_degree():
    """In float64 the degree sweep is monotone; the book's blow-up at degree 7–8 is a float32 artefact."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, size=(15, 1))
    y = np.sin(2 * np.pi * x).ravel() + rng.normal(scale=0.1, size=15)
    X_t, y_t = paddle.to_tensor(x, dtype="float32"), paddle.to_tensor(y, dtype="float32")
    errors = []
    for degree in range(9):
        features = polynomial_basis_function(X_t, degree)
        model = optimizer_lsm(Linear(degree if degree else 1), features, y_t)
        errors.append(mean_squared_error(y_t, model(features).reshape([-1])).item())
    assert all(later <= earlier + 1e-4 for earlier, later in zip(errors, errors[1:])), errors


def test_toy_data_shapes_and_noise_free_values():
    paddle.seed(1)
    X, y = create_toy_data(linear_func, (-10, 10), 50)
    assert list(X.shape) == [50] and list(y.shape) == [50]   # [N], not the docstring's [N,1]
    assert float(X.min()) >= -10 and float(X.max()) < 10
    np.testing.assert_allclose(y.numpy(), 1.2 * X.numpy() + 0.5, rtol=1e-6)
    X, y = create_toy_data(sin, (0, 1), 20000, noise=0.1)
    assert np.std(y.numpy() - np.sin(2 * np.pi * X.numpy())) == pytest.approx(0.1, rel=0.05)


def test_toy_data_outliers_multiply_labels_by_five():
    paddle.seed(2)
    X, y = create_toy_data(linear_func, (-10, 10), 1000, add_outlier=True, outlier_ratio=0.1)
    ratio = y.numpy() / (1.2 * X.numpy() + 0.5)
    changed = np.isclose(ratio, 5.0, rtol=1e-4)
    assert 50 <= changed.sum() <= 100 and np.all(np.isclose(ratio[~changed], 1.0, rtol=1e-4))


@pytest.fixture(scope="module")
def boston_run(tmp_path_factory):
    """The book's §2.5 pipeline end to end on the CPU."""
    paddle.set_device("cpu")
    data = clip_outliers_iqr(load_boston_house_prices())
    paddle.seed(10)
    X_train, X_test, y_train, y_test = train_test_split(data.drop(columns=["MEDV"]), data["MEDV"])
    X_train, X_test = minmax_normalize(X_train, X_test)
    y_train, y_test = paddle.to_tensor(y_train, dtype="float32"), paddle.to_tensor(y_test, dtype="float32")
    model = Linear(12)
    runner = RunnerV1(model, optimizer=optimizer_lsm, loss_fn=None, metric=paddle.nn.MSELoss())
    model_dir = tmp_path_factory.mktemp("models")
    runner.train((X_train, y_train), reg_lambda=0, model_dir=str(model_dir))
    runner.model = Linear(12)
    runner.load_model(str(model_dir))
    return runner, X_train, X_test, y_test


def test_boston_table_is_the_books():
    data = load_boston_house_prices()
    assert data.shape == (506, 13) and "B" not in data.columns
    assert data["MEDV"].head().tolist() == [24.0, 21.6, 34.7, 33.4, 36.2]   # book lines 2548–2559
    assert int(data.isna().sum().sum()) == 0


def test_boston_weights_bias_mse_and_prediction(boston_run):
    runner, X_train, X_test, y_test = boston_run
    # Float64 solve vs the book's float32 inverse: weights agree to ~1e-4 relative (grading_pitfalls.md).
    np.testing.assert_allclose(runner.model.params["w"].numpy(), BOOK_BOSTON_WEIGHTS, rtol=5e-4)
    assert runner.model.params["b"].item() == pytest.approx(32.12007522583008, rel=1e-4)          # book 2866
    assert runner.evaluate((X_test, y_test)).item() == pytest.approx(12.345974922180176, rel=1e-4)  # book 2885
    assert y_test[0].item() == pytest.approx(33.099998474121094, rel=1e-7)                          # book 2900
    assert runner.predict(X_test[:1]).item() == pytest.approx(33.04654312133789, rel=1e-4)         # book 2902


def test_boston_split_and_scaling(boston_run):
    _, X_train, X_test, _ = boston_run
    assert X_train.shape == [404, 12] and X_test.shape == [102, 12]
    np.testing.assert_allclose(X_train.numpy().min(axis=0), 0.0, atol=1e-7)
    np.testing.assert_allclose(X_train.numpy().max(axis=0), 1.0, atol=1e-6)


def test_clipping_bounds_dtypes_and_chas():
    raw = load_boston_house_prices()
    clipped = clip_outliers_iqr(raw)
    assert (clipped.dtypes == raw.dtypes).all()
    assert clipped["CHAS"].equals(raw["CHAS"])
    crim = raw["CRIM"]
    iqr = crim.quantile(0.75) - crim.quantile(0.25)
    assert clipped["CRIM"].max() == pytest.approx(crim.quantile(0.75) + 1.5 * iqr)
    assert (raw["CRIM"] > clipped["CRIM"].max()).sum() > 0   # some values really were clipped
