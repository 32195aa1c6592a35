"""Each expanded master runs top to bottom on the CPU in smoke mode (NNDL_SMOKE=1) and draws its plots."""

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from nndl_grading.config import load_course

CHAPTERS = list(load_course().chapters)


@pytest.mark.parametrize("key", CHAPTERS)
def test_master_runs_in_smoke_mode_and_plots(key, built, tmp_path, monkeypatch):
    bundle, work = built[key]
    run_dir = tmp_path / key
    shutil.copytree(bundle, run_dir)
    notebook = nbformat.read(work / f"{key}.ipynb", as_version=4)
    monkeypatch.setenv("NNDL_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{key}: the experiments drew no plot"
    nbformat.write(notebook, work / f"{key}.executed.ipynb")   # for a person to look at the plots
