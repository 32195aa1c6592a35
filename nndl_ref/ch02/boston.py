"""The Boston house-price pipeline: loading, IQR clipping, split, min–max scaling (book §2.5.1)."""

import importlib.resources

import paddle
import pandas as pd

BOSTON_CSV = "boston_house_prices.csv"
FEATURES = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "LSTAT"]
TARGET = "MEDV"


def load_boston_house_prices(path=None):
    """The book's table: 506 rows, 12 features and MEDV, column B dropped (book §2.5.1.1, Table 2.1).

    Reads ``path`` if given, else the copy of the classic data set shipped by the ``boston`` package.
    """
    if path is None:
        path = importlib.resources.files("boston") / "resources" / BOSTON_CSV
    data = pd.read_csv(path)
    return data.drop(columns=["B"], errors="ignore")[FEATURES + [TARGET]]


def clip_outliers_iqr(data, skip=("CHAS",)):
    """Clip every numeric column except ``skip`` to [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (book §2.5.1.2).

    Returns a new frame; integer columns stay integer (bounds truncated, as the book's cast does).
    MEDV, the target, is clipped too, as in the book.
    """
    data = data.copy()
    for column in data.select_dtypes(exclude=["object", "bool"]).columns:
        if column in skip:
            continue
        q1, q3 = data[column].quantile(0.25), data[column].quantile(0.75)
        iqr = q3 - q1
        values = data[column].to_numpy(copy=True).astype("float64")
        values = values.clip(q1 - 1.5 * iqr, q3 + 1.5 * iqr)
        data[column] = values.astype(data[column].dtype)
    return data


def train_test_split(X, y, train_percent=0.8):
    """Shuffle rows with ``paddle.randperm`` and split them (book §2.5.1.3).

    Takes a DataFrame and a Series, returns numpy ``X_train, X_test, y_train, y_test``. Call
    ``paddle.seed(10)`` first to get the book's split.
    """
    n = len(X)
    shuffled = paddle.randperm(n).numpy()
    train_size = int(n * train_percent)
    train_idx, test_idx = shuffled[:train_size], shuffled[train_size:]
    X_values, y_values = X.to_numpy(), y.to_numpy()
    return X_values[train_idx], X_values[test_idx], y_values[train_idx], y_values[test_idx]


def minmax_normalize(X_train, X_test):
    """Scale columns to [0, 1] with the TRAINING minimum and maximum, applied to both sets (book §2.5.1.4)."""
    X_train = paddle.to_tensor(X_train, dtype="float32")
    X_test = paddle.to_tensor(X_test, dtype="float32")
    X_min, X_max = paddle.min(X_train, axis=0), paddle.max(X_train, axis=0)
    scale = X_max - X_min
    return (X_train - X_min) / scale, (X_test - X_min) / scale
