"""benchmarks/bench_pipeline.py runs end to end at tiny sizes and writes its record (no timings checked)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_pipeline", ROOT / "benchmarks" / "bench_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_every_pipeline_with_its_bound_and_cores(tmp_path, capsys):
    out = tmp_path / "pipeline.json"
    assert _load_benchmark().main(["--quick", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["quick"] and len(record["rounds"]) == 1
    pipelines = record["pipelines"]
    assert {"per_image_augmix", "batched_augmix"} <= set(pipelines)
    for pipeline in pipelines.values():
        assert pipeline["images_per_second"] > 0 and pipeline["cores_per_gpu"] > 0
        assert set(pipeline["stages_ms"]) == {"decode", "crop", "augmix"}
        assert pipeline["bound_by"] == max(pipeline["stages_ms"], key=pipeline["stages_ms"].get)
        expected = record["gpu_rate"] / 3 / pipeline["images_per_second"]
        assert abs(pipeline["cores_per_gpu"] - expected) < 1e-9
    # timm is optional: measured where it imports, else skipped with the reason printed
    printed = capsys.readouterr().out
    assert ("timm_augmix" in pipelines) != ("skipped" in printed)
    assert "bound by" in printed


def test_written_jpegs_have_the_requested_size(tmp_path):
    from PIL import Image
    paths = _load_benchmark().write_jpegs(tmp_path, 2, (50, 40))
    assert [Image.open(p).size for p in paths] == [(50, 40)] * 2
