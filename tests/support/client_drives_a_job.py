"""Drives one job from submit to outputs with the Python client that
openapi-python-client generated from openapi/shopsynth.json.

    python client_drives_a_job.py CLIENT_DIR BASE_URL API_KEY

CLIENT_DIR holds the generated package (generated with --meta none, so the
folder is the package). Submits a small Taobao job on `taobao.csv` under the
service's local root, polls it until it finishes, reads its report, asks for
more rows from its model and waits for those too, then prints one JSON
object with what it saw. Exits non-zero, saying why, on any surprise.
"""

import importlib
import json
import sys
import time
from pathlib import Path

DEADLINE_S = 300


def main() -> None:
    client_dir, base_url, key = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    sys.path.insert(0, str(client_dir.parent))
    package = client_dir.name
    client_module = importlib.import_module(f"{package}.client")
    submit = importlib.import_module(f"{package}.api.jobs.submit")
    get = importlib.import_module(f"{package}.api.jobs.get")
    report = importlib.import_module(f"{package}.api.jobs.report")
    sample = importlib.import_module(f"{package}.api.jobs.sample")
    models = importlib.import_module(f"{package}.models")

    client = client_module.AuthenticatedClient(base_url=base_url, token=key, timeout=60)
    spec = models.JobSpec.from_dict(
        {
            "dataset": {
                "uri": "taobao.csv",
                "header": False,
                "columns": ["user_id", "item_id", "category_id", "behavior", "timestamp"],
                "schema": {"timestamp": {"type": "datetime", "format": "unix_seconds"}},
            },
            "model": {"kind": "vae", "epochs": 3, "device": "cpu"},
            "output": {"uri": "client-out", "rows": 100, "formats": ["csv", "parquet"]},
        }
    )
    submitted = submit.sync_detailed(client=client, body=spec, idempotency_key="client-1")
    expect(submitted.status_code == 202, f"submit answered {submitted.status_code}: {submitted.content!r}")
    job = wait(get, client, submitted.parsed.id)
    expect(job.status.value == "succeeded", f"job ended {job.status.value}: {job.error}")

    fetched = report.sync_detailed(job.id, client=client)
    expect(fetched.status_code == 200, f"report answered {fetched.status_code}")
    overall = fetched.parsed.to_dict()["quality"]["overall"]

    more = sample.sync_detailed(job.id, client=client, body=models.SampleRequest(rows=25, seed=3))
    expect(more.status_code == 202, f"samples answered {more.status_code}: {more.content!r}")
    sampled = wait(get, client, more.parsed.id)
    expect(sampled.status.value == "succeeded", f"sample job ended {sampled.status.value}")

    print(
        json.dumps(
            {
                "job": job.id,
                "files": job.result.files,
                "quality": job.result.quality,
                "report_overall": overall,
                "sample_files": sampled.result.files,
                "sample_rows": sampled.result.rows,
            }
        )
    )


def wait(get, client, job_id):
    deadline = time.monotonic() + DEADLINE_S
    while True:
        job = get.sync(job_id, client=client)
        expect(hasattr(job, "status"), f"get answered a problem: {job}")
        if job.status.value in ("succeeded", "failed", "cancelled"):
            return job
        expect(time.monotonic() < deadline, f"job {job_id} still {job.status.value}")
        time.sleep(0.5)


def expect(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"client_drives_a_job.py: {message}")


if __name__ == "__main__":
    main()
