"""Chapter 2 (机器学习概述) under the book's names; ``Linear`` here is the chapter-2 regression operator."""

from .boston import clip_outliers_iqr, load_boston_house_prices, minmax_normalize, train_test_split
from .linear_regression import Linear, mean_squared_error, optimizer_lsm, polynomial_basis_function
from .plots import boxplot, plot_degree_errors, plot_fit
from .runner_v1 import Runner, RunnerV1
from .toy_data import create_toy_data, linear_func, sin

__all__ = [
    "create_toy_data", "linear_func", "sin",
    "Linear", "mean_squared_error", "optimizer_lsm", "polynomial_basis_function",
    "Runner", "RunnerV1",
    "load_boston_house_prices", "clip_outliers_iqr", "train_test_split", "minmax_normalize",
    "plot_fit", "plot_degree_errors", "boxplot",
]
