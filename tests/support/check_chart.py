#!/usr/bin/env python3
"""Checks the Helm chart in helm/shopsynth without a cluster or a network.

For each value set (the chart's defaults, values-gpu.yaml, values-cpu.yaml,
and a few inline variants that switch on the optional templates):

1. lints the chart (helm lint --strict) and validates the values against
   values.schema.json, through helm-python-sdk's bundled Helm library;
2. renders it as `helm template` would;
3. validates every rendered manifest with kubernetes-validate, in strict
   mode (unknown fields are errors), against the newest Kubernetes version
   that kubernetes-validate ships schemas for (or --kube-version);
4. checks what the chart promises: the commands each Deployment runs, probes
   on the API, the security context of every container, /tmp on an emptyDir,
   GPUs asked for only where wanted, one scheduler, Secrets referenced and
   no secret in the ConfigMap, selectors that select.

It also checks that values the chart must refuse are refused. Prints one
line per value set on success; on failure, every problem with its value set
and manifest, and exits 1.

    python tests/support/check_chart.py [--kube-version 1.37.0]

Needs helm-python-sdk and kubernetes-validate (tests/support/requirements.txt).
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    import helm_python as helm
    from kubernetes_validate import utils as kubernetes_validate
except ImportError as error:  # pragma: no cover - depends on the environment
    sys.exit(
        f"check_chart.py needs helm-python-sdk and kubernetes-validate ({error}); "
        "install tests/support/requirements.txt"
    )

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "shopsynth"
RELEASE = "shopsynth-check"
NAMESPACE = "shopsynth"

# The settings service.yaml may hold (src/service/config.rs); api_keys and
# redis_url are left to Secrets, so they must not appear.
CONFIG_KEYS = {"listen", "key_prefix", "stores", "local_root", "limits", "worker"}
STORE_KEYS = {"bucket", "endpoint", "region", "path_style", "allow_http"}
# Environment variables that carry secrets: never a literal value.
SECRET_ENV = {"SHOPSYNTH_API_KEYS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
URL_WITH_PASSWORD = re.compile(r"[a-z]+://[^/\s@]*:[^/\s@]+@")

# Marker values for the quick-start variant: none may reach the ConfigMap.
QUICKSTART_API_KEYS = "ci:quickstart-api-key-0123456789"
QUICKSTART_ACCESS_KEY = "QUICKSTARTACCESSKEY"
QUICKSTART_SECRET_KEY = "quickstart-secret-access-key-0123456789"


@dataclass
class ValueSet:
    """A set of values to render, and what its render must show."""

    name: str
    files: list[str] = field(default_factory=list)
    inline: dict[str, Any] = field(default_factory=dict)
    # Facts beyond those derived from the merged values.
    gpu: int | None = None  # nvidia.com/gpu limit of a worker; 0: none at all
    device: str | None = None
    gpu_toleration: bool = False
    min_worker_replicas: int | None = None
    secret_values: list[str] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for name in self.files:
            merged = deep_merge(merged, yaml.safe_load((CHART / name).read_text()) or {})
        return deep_merge(merged, self.inline)


VALUE_SETS = [
    ValueSet("defaults", gpu=0, device="auto"),
    ValueSet("values-gpu.yaml", files=["values-gpu.yaml"], gpu=1, device="cuda", gpu_toleration=True),
    ValueSet("values-cpu.yaml", files=["values-cpu.yaml"], gpu=0, device="cpu", min_worker_replicas=2),
    # Inline variants, so that the optional templates are rendered and validated too.
    ValueSet(
        "quickstart (inline)",
        inline={
            "apiKeys": {"create": True, "value": QUICKSTART_API_KEYS},
            "s3Credentials": {
                "create": True,
                "accessKeyId": QUICKSTART_ACCESS_KEY,
                "secretAccessKey": QUICKSTART_SECRET_KEY,
            },
            "redis": {"url": "redis://redis.example:6379/0", "bundled": {"enabled": False}},
            "config": {
                "local_root": "/srv/shopsynth",
                "stores": [{"bucket": "synth", "endpoint": "http://seaweedfs:8333", "path_style": True}],
            },
            "localRootClaim": "shopsynth-data",
            "api": {
                "ingress": {
                    "enabled": True,
                    "className": "nginx",
                    "tls": [{"secretName": "shopsynth-tls", "hosts": ["shopsynth.example.com"]}],
                },
                "podDisruptionBudget": {"minAvailable": 1},
            },
        },
        gpu=0,
        secret_values=[QUICKSTART_API_KEYS, QUICKSTART_ACCESS_KEY, QUICKSTART_SECRET_KEY],
    ),
    ValueSet(
        "no-s3-no-scheduler (inline)",
        inline={
            "s3Credentials": {"enabled": False},
            "scheduler": {"enabled": False},
            "api": {"podDisruptionBudget": {"enabled": False}},
            "workers": {"podDisruptionBudget": {"enabled": False}},
            "redis": {"bundled": {"persistence": {"enabled": True, "existingClaim": "redis-data"}}},
        },
        gpu=0,
    ),
]

# Values the chart must refuse, with a word its message must contain.
REFUSED = [
    ("redis URL with a password", {"redis": {"url": "redis://:hunter2@redis:6379/0", "bundled": {"enabled": False}}}, "existingSecret"),
    ("two Redis sources", {"redis": {"url": "redis://redis:6379/0"}}, "exactly one"),
    ("no Redis", {"redis": {"bundled": {"enabled": False}}}, "exactly one"),
    ("apiKeys.create without a value", {"apiKeys": {"create": True}}, "apiKeys.value"),
    ("credentials in config.stores", {"config": {"stores": [{"bucket": "b", "secret_access_key": "x"}]}}, "secret_access_key"),
    ("unknown worker device", {"workers": {"device": "tpu"}}, "device"),
]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of values files: maps merge, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Manifest:
    template: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind"))

    @property
    def name(self) -> str:
        return str((self.doc.get("metadata") or {}).get("name"))

    def where(self) -> str:
        return f"{self.template} {self.kind}/{self.name}"


class Failures:
    """Collects every problem of one value set."""

    def __init__(self, value_set: str) -> None:
        self.value_set = value_set
        self.problems: list[str] = []
        self.messages: set[str] = set()

    def add(self, where: str, message: str) -> None:
        # Helm's messages span lines; lint and render report the same error.
        message = " ".join(message.split())
        if message in self.messages:
            return
        self.messages.add(message)
        self.problems.append(f"[{self.value_set}] {where}: {message}")

    def check(self, condition: bool, where: str, message: str) -> bool:
        if not condition:
            self.add(where, message)
        return condition


def render(value_set: ValueSet, kube_version: str, failures: Failures) -> tuple[list[Manifest], dict[str, Any]]:
    values = value_set.values()
    report = helm.lint(str(CHART), values, strict=True, kube_version=f"v{kube_version}")
    for message in report.get("messages", []):
        if message.get("severity", 0) >= 2:
            failures.add(f"helm lint {message.get('path')}", str(message.get("error")))
    for error in report.get("errors") or []:
        failures.add("helm lint", str(error))
    with helm.Chart.load(CHART) as chart:
        try:
            chart.validate_schema(values)
        except helm.HelmError as error:
            failures.add("values.schema.json", str(error))
            return [], {}
        merged = chart.merge_values(values)
        try:
            rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        except helm.HelmError as error:
            failures.add("helm template", str(error))
            return [], merged
    manifests = []
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            failures.check(bool(text.strip()), template, "NOTES.txt renders empty")
            continue
        try:
            docs = [d for d in yaml.safe_load_all(text) if d]
        except yaml.YAMLError as error:
            failures.add(template, f"not YAML: {error}")
            continue
        for doc in docs:
            manifests.append(Manifest(template, doc))
    return manifests, merged


def validate_schemas(manifests: list[Manifest], kube_version: str, failures: Failures) -> None:
    seen = set()
    for m in manifests:
        key = (m.kind, m.name)
        failures.check(key not in seen, m.where(), "rendered twice")
        seen.add(key)
        try:
            kubernetes_validate.validate(m.doc, kube_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path) or "(top)"
            failures.add(m.where(), f"invalid for Kubernetes {error.version}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            failures.add(m.where(), error.message)
        except Exception as error:  # noqa: BLE001 - any other failure is a failure of this manifest
            failures.add(m.where(), f"could not be validated: {error!r}")


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env") or []}


def component(m: Manifest) -> str | None:
    return ((m.doc.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")


def check_facts(value_set: ValueSet, manifests: list[Manifest], values: dict[str, Any], failures: Failures) -> dict[str, int]:
    by_kind: dict[str, list[Manifest]] = {}
    for m in manifests:
        by_kind.setdefault(m.kind, []).append(m)
    deployments = {component(m): m for m in by_kind.get("Deployment", [])}
    secrets = {m.name: m for m in by_kind.get("Secret", [])}
    configmaps = {m.name: m for m in by_kind.get("ConfigMap", [])}
    services = {m.name: m for m in by_kind.get("Service", [])}

    expected = {"api", "worker"}
    if values["scheduler"]["enabled"]:
        expected.add("scheduler")
    if values["redis"]["bundled"]["enabled"]:
        expected.add("redis")
    failures.check(
        set(deployments) == expected,
        "Deployments",
        f"expected components {sorted(expected)}, rendered {sorted(str(c) for c in deployments)}",
    )

    # Every pod: selector selects, security context, /tmp on an emptyDir,
    # resources, and how shopsynth containers are configured.
    for comp, m in deployments.items():
        spec = m.doc["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels") or {}
        selector = spec["selector"].get("matchLabels") or {}
        failures.check(
            bool(selector) and selector.items() <= labels.items(),
            m.where(),
            f"selector {selector} does not select the pod labels {labels}",
        )
        pod_security = pod.get("securityContext") or {}
        failures.check(pod_security.get("runAsNonRoot") is True, m.where(), "pod securityContext.runAsNonRoot is not true")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for container in (pod.get("initContainers") or []) + pod["containers"]:
            where = f"{m.where()} container {container['name']}"
            check_security(container, pod_security, where, failures)
            resources = container.get("resources") or {}
            failures.check(
                bool(resources.get("requests")) and bool(resources.get("limits")),
                where,
                "resources need requests and limits from values",
            )
            mounts = {v["mountPath"]: v for v in container.get("volumeMounts") or []}
            tmp = mounts.get("/tmp")
            failures.check(
                tmp is not None and "emptyDir" in volumes.get(tmp["name"], {}),
                where,
                "/tmp is not mounted from an emptyDir (the root file system is read-only)",
            )
            if comp != "redis":
                check_shopsynth_container(container, mounts, volumes, configmaps, services, values, where, failures)

    api = deployments.get("api")
    if api:
        check_api(api, values, failures)
    worker = deployments.get("worker")
    gpus = 0
    if worker:
        gpus = check_worker(worker, value_set, values, failures)
    scheduler = deployments.get("scheduler")
    if scheduler:
        where = scheduler.where()
        failures.check(scheduler.doc["spec"].get("replicas") == 1, where, "the scheduler must have exactly 1 replica")
        failures.check(
            (scheduler.doc["spec"].get("strategy") or {}).get("type") == "Recreate",
            where,
            "the scheduler must use the Recreate strategy so that two never run at once",
        )
        container = scheduler.doc["spec"]["template"]["spec"]["containers"][0]
        check_command(container, "scheduler", where, failures)

    check_secrets(manifests, secrets, values, failures)
    check_configmap(configmaps, value_set, values, failures)
    check_pdbs(by_kind.get("PodDisruptionBudget", []), deployments, values, failures)
    check_services(by_kind, deployments, values, failures)
    return {"manifests": len(manifests), "gpus": gpus}


def check_security(container: dict[str, Any], pod: dict[str, Any], where: str, failures: Failures) -> None:
    sc = container.get("securityContext") or {}

    def setting(key: str) -> Any:
        return sc.get(key, pod.get(key))

    failures.check(setting("runAsNonRoot") is True, where, "securityContext.runAsNonRoot is not true")
    failures.check(setting("runAsUser") == 10001, where, f"securityContext.runAsUser is {setting('runAsUser')}, not 10001")
    failures.check(sc.get("allowPrivilegeEscalation") is False, where, "securityContext.allowPrivilegeEscalation is not false")
    failures.check(sc.get("readOnlyRootFilesystem") is True, where, "securityContext.readOnlyRootFilesystem is not true")
    failures.check(
        "ALL" in ((sc.get("capabilities") or {}).get("drop") or []),
        where,
        "securityContext.capabilities.drop does not hold ALL",
    )
    failures.check(
        (setting("seccompProfile") or {}).get("type") == "RuntimeDefault",
        where,
        "seccompProfile is not RuntimeDefault",
    )


def check_command(container: dict[str, Any], subcommand: str, where: str, failures: Failures) -> None:
    command = (container.get("command") or []) + (container.get("args") or [])
    failures.check(
        command[:2] == ["shopsynth", subcommand],
        where,
        f"runs {command}, not `shopsynth {subcommand}`",
    )


def check_shopsynth_container(
    container: dict[str, Any],
    mounts: dict[str, dict[str, Any]],
    volumes: dict[str, dict[str, Any]],
    configmaps: dict[str, Manifest],
    services: dict[str, Manifest],
    values: dict[str, Any],
    where: str,
    failures: Failures,
) -> None:
    env = env_of(container)
    # SHOPSYNTH_CONFIG names a file on a read-only mount of the rendered ConfigMap.
    config = (env.get("SHOPSYNTH_CONFIG") or {}).get("value")
    if failures.check(bool(config), where, "SHOPSYNTH_CONFIG is not set"):
        folder, _, filename = config.rpartition("/")
        mount = mounts.get(folder)
        volume = volumes.get(mount["name"], {}) if mount else {}
        configmap = (volume.get("configMap") or {}).get("name")
        failures.check(
            mount is not None and mount.get("readOnly") is True and configmap in configmaps,
            where,
            f"SHOPSYNTH_CONFIG={config} is not on a read-only mount of a rendered ConfigMap",
        )
        if configmap in configmaps:
            failures.check(
                filename in (configmaps[configmap].doc.get("data") or {}),
                where,
                f"ConfigMap {configmap} has no key {filename}",
            )
    # SHOPSYNTH_REDIS_URL from the bundled Redis, redis.url or a Secret.
    redis = env.get("SHOPSYNTH_REDIS_URL")
    if failures.check(redis is not None, where, "SHOPSYNTH_REDIS_URL is not set"):
        if values["redis"]["existingSecret"]:
            ref = (redis.get("valueFrom") or {}).get("secretKeyRef") or {}
            failures.check(
                ref.get("name") == values["redis"]["existingSecret"],
                where,
                "SHOPSYNTH_REDIS_URL does not come from redis.existingSecret",
            )
        else:
            url = str(redis.get("value", ""))
            failures.check(not URL_WITH_PASSWORD.search(url), where, "SHOPSYNTH_REDIS_URL carries a password in plain text")
            if values["redis"]["bundled"]["enabled"]:
                host = re.sub(r"^redis://([^:/]+).*$", r"\1", url)
                failures.check(host in services, where, f"SHOPSYNTH_REDIS_URL names {host}, which is no rendered Service")
            else:
                failures.check(url == values["redis"]["url"], where, "SHOPSYNTH_REDIS_URL is not redis.url")
    # Secrets never as literal values.
    for name in SECRET_ENV & env.keys():
        failures.check(
            "value" not in env[name] and "secretKeyRef" in (env[name].get("valueFrom") or {}),
            where,
            f"{name} is not read from a Secret",
        )
    if values["s3Credentials"]["enabled"]:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            failures.check(name in env, where, f"{name} is not set from the S3 Secret")
    else:
        failures.check(not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & env.keys(), where, "AWS_* set although s3Credentials.enabled is false")
    if values["localRootClaim"]:
        mount = mounts.get(values["config"]["local_root"])
        failures.check(
            mount is not None
            and (volumes.get(mount["name"], {}).get("persistentVolumeClaim") or {}).get("claimName") == values["localRootClaim"],
            where,
            "localRootClaim is not mounted at config.local_root",
        )


def check_api(api: Manifest, values: dict[str, Any], failures: Failures) -> None:
    where = api.where()
    spec = api.doc["spec"]
    failures.check(spec.get("replicas") == values["api"]["replicaCount"], where, "replicas differ from api.replicaCount")
    container = spec["template"]["spec"]["containers"][0]
    check_command(container, "serve", where, failures)
    port = values["api"]["containerPort"]
    env = env_of(container)
    failures.check(
        (env.get("SHOPSYNTH_LISTEN") or {}).get("value") == f"0.0.0.0:{port}",
        where,
        f"SHOPSYNTH_LISTEN is not 0.0.0.0:{port}",
    )
    keys = ((env.get("SHOPSYNTH_API_KEYS") or {}).get("valueFrom") or {}).get("secretKeyRef")
    failures.check(bool(keys), where, "SHOPSYNTH_API_KEYS is not read from a Secret")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = (container.get(probe) or {}).get("httpGet") or {}
        if failures.check(get.get("path") == path, where, f"{probe} is not GET {path}"):
            target = ports.get(get.get("port"), get.get("port"))
            failures.check(target == port, where, f"{probe} probes port {get.get('port')}, not the API's {port}")


def check_worker(worker: Manifest, value_set: ValueSet, values: dict[str, Any], failures: Failures) -> int:
    where = worker.where()
    w = values["workers"]
    spec = worker.doc["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    check_command(container, "worker", where, failures)
    env = env_of(container)
    failures.check(
        (env.get("SHOPSYNTH_WORKER_CONCURRENCY") or {}).get("value") == str(w["concurrency"]),
        where,
        "SHOPSYNTH_WORKER_CONCURRENCY is not workers.concurrency",
    )
    device = (env.get("SHOPSYNTH_WORKER_DEVICE") or {}).get("value")
    failures.check(device == w["device"], where, f"SHOPSYNTH_WORKER_DEVICE is {device}, not workers.device")
    if value_set.device:
        failures.check(device == value_set.device, where, f"SHOPSYNTH_WORKER_DEVICE is {device}, expected {value_set.device}")
    grace = pod.get("terminationGracePeriodSeconds")
    failures.check(
        grace == w["terminationGracePeriodSeconds"] and grace >= 300,
        where,
        f"terminationGracePeriodSeconds is {grace}: workers need workers.terminationGracePeriodSeconds (>= 300) to finish an epoch",
    )
    failures.check(spec.get("replicas") == w["replicaCount"], where, "replicas differ from workers.replicaCount")
    if value_set.min_worker_replicas is not None:
        failures.check(spec.get("replicas", 1) >= value_set.min_worker_replicas, where, "too few worker replicas")
    limits = (container.get("resources") or {}).get("limits") or {}
    requests = (container.get("resources") or {}).get("requests") or {}
    gpus = int(limits.get("nvidia.com/gpu", 0))
    failures.check(gpus == w["gpu"], where, f"nvidia.com/gpu limit is {gpus}, workers.gpu is {w['gpu']}")
    if value_set.gpu is not None:
        if value_set.gpu:
            failures.check(gpus == value_set.gpu, where, f"the worker asks for {gpus} nvidia.com/gpu, expected {value_set.gpu}")
        else:
            failures.check(
                "nvidia.com/gpu" not in limits and "nvidia.com/gpu" not in requests,
                where,
                "the worker asks for nvidia.com/gpu in a CPU render",
            )
    failures.check(pod.get("nodeSelector") == (w["nodeSelector"] or None), where, "nodeSelector differs from workers.nodeSelector")
    failures.check(pod.get("tolerations") == (w["tolerations"] or None), where, "tolerations differ from workers.tolerations")
    failures.check(pod.get("affinity") == (w["affinity"] or None), where, "affinity differs from workers.affinity")
    if value_set.gpu_toleration:
        failures.check(
            any(
                t.get("key") == "nvidia.com/gpu" and t.get("effect") == "NoSchedule"
                for t in pod.get("tolerations") or []
            ),
            where,
            "no toleration for nvidia.com/gpu:NoSchedule",
        )
        failures.check(bool(pod.get("nodeSelector")), where, "GPU workers have no nodeSelector")
    return gpus


def check_secrets(manifests: list[Manifest], secrets: dict[str, Manifest], values: dict[str, Any], failures: Failures) -> None:
    """Every secretKeyRef names a Secret that is rendered, or one the values name."""
    external = {values["apiKeys"]["existingSecret"], values["s3Credentials"]["existingSecret"], values["redis"]["existingSecret"]}
    # The chart's default Secret names, "<fullname>-api-keys" and "<fullname>-s3",
    # which the user creates unless `create` is set; fullname is RELEASE, since
    # the release name contains the chart name.
    if not values["apiKeys"]["existingSecret"] and not values["apiKeys"]["create"]:
        external.add(f"{RELEASE}-api-keys")
    if not values["s3Credentials"]["existingSecret"] and not values["s3Credentials"]["create"]:
        external.add(f"{RELEASE}-s3")
    referenced = set()
    for m in manifests:
        if m.kind != "Deployment":
            continue
        for container in m.doc["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if not ref:
                    continue
                referenced.add(ref["name"])
                where = f"{m.where()} env {env['name']}"
                if ref["name"] in secrets:
                    data = secrets[ref["name"]].doc.get("data") or {}
                    failures.check(ref["key"] in data, where, f"Secret {ref['name']} has no key {ref['key']}")
                else:
                    failures.check(
                        ref["name"] in external - {""},
                        where,
                        f"names Secret {ref['name']}, neither rendered nor named in values",
                    )
    for name, m in secrets.items():
        failures.check(name in referenced, m.where(), "rendered but read by no container")
    failures.check(bool(referenced), "Secrets", "no container reads any Secret")


def check_configmap(configmaps: dict[str, Manifest], value_set: ValueSet, values: dict[str, Any], failures: Failures) -> None:
    if not failures.check(len(configmaps) == 1, "ConfigMap", f"expected one ConfigMap, rendered {len(configmaps)}"):
        return
    m = next(iter(configmaps.values()))
    data = m.doc.get("data") or {}
    text = "\n".join(str(v) for v in data.values())
    try:
        config = yaml.safe_load(data.get("service.yaml", "")) or {}
    except yaml.YAMLError as error:
        failures.add(m.where(), f"service.yaml is not YAML: {error}")
        return
    where = f"{m.where()} service.yaml"
    failures.check(isinstance(config, dict), where, "service.yaml is not a mapping")
    extra = set(config) - CONFIG_KEYS
    failures.check(not extra, where, f"holds settings that belong in Secrets or do not exist: {sorted(extra)}")
    for store in config.get("stores") or []:
        failures.check(set(store) <= STORE_KEYS, where, f"a store holds {sorted(set(store) - STORE_KEYS)}")
    for section in ("limits", "worker"):
        for key, value in (config.get(section) or {}).items():
            failures.check(
                isinstance(value, int) and not isinstance(value, bool),
                where,
                f"{section}.{key} is {value!r}, not an integer (serde refuses floats)",
            )
    failures.check(config.get("listen") == f"0.0.0.0:{values['api']['containerPort']}", where, "listen is not 0.0.0.0:<api.containerPort>")
    failures.check(config.get("key_prefix") == values["config"]["key_prefix"], where, "key_prefix differs from config.key_prefix")
    failures.check(not URL_WITH_PASSWORD.search(text), where, "holds a URL with a password")
    for secret in value_set.secret_values:
        failures.check(secret not in text, where, "holds a secret value from the values")
    # The chart's own Secrets' values must not leak either.
    for name in ("apiKeys", "s3Credentials"):
        for key in ("value", "accessKeyId", "secretAccessKey"):
            secret = values[name].get(key)
            if secret:
                failures.check(str(secret) not in text and base64.b64encode(str(secret).encode()).decode() not in text, where, f"holds {name}.{key}")


def check_pdbs(pdbs: list[Manifest], deployments: dict[str | None, Manifest], values: dict[str, Any], failures: Failures) -> None:
    wanted = {
        "api": values["api"]["podDisruptionBudget"]["enabled"],
        "worker": values["workers"]["podDisruptionBudget"]["enabled"],
    }
    found = {component(m): m for m in pdbs}
    for comp, enabled in wanted.items():
        failures.check((comp in found) == bool(enabled), f"PodDisruptionBudget {comp}", f"rendered: {comp in found}, enabled in values: {enabled}")
        if comp in found and comp in deployments:
            selector = found[comp].doc["spec"]["selector"].get("matchLabels") or {}
            labels = deployments[comp].doc["spec"]["template"]["metadata"].get("labels") or {}
            failures.check(bool(selector) and selector.items() <= labels.items(), found[comp].where(), "does not select the pods")
    failures.check(set(found) <= set(wanted), "PodDisruptionBudget", f"unexpected ones: {sorted(set(found) - set(wanted))}")


def check_services(by_kind: dict[str, list[Manifest]], deployments: dict[str | None, Manifest], values: dict[str, Any], failures: Failures) -> None:
    services = {m.name: m for m in by_kind.get("Service", [])}
    pods = [d.doc["spec"]["template"] for d in deployments.values()]
    for m in services.values():
        selector = m.doc["spec"].get("selector") or {}
        matched = [p for p in pods if selector and selector.items() <= (p["metadata"].get("labels") or {}).items()]
        if not failures.check(len(matched) == 1, m.where(), f"selects {len(matched)} Deployments' pods, not 1"):
            continue
        names = {p.get("name") for c in matched[0]["spec"]["containers"] for p in c.get("ports") or []}
        for port in m.doc["spec"]["ports"]:
            failures.check(port.get("targetPort") in names, m.where(), f"targetPort {port.get('targetPort')} is no container port")
    ingresses = by_kind.get("Ingress", [])
    failures.check(bool(ingresses) == bool(values["api"]["ingress"]["enabled"]), "Ingress", "rendered unless api.ingress.enabled")
    for m in ingresses:
        for rule in m.doc["spec"].get("rules") or []:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                target = services.get(service["name"])
                ok = target is not None and service["port"].get("name") in {p.get("name") for p in target.doc["spec"]["ports"]}
                failures.check(ok, m.where(), f"backend {service} is no rendered Service port")
    claims = {m.name for m in by_kind.get("PersistentVolumeClaim", [])}
    persistence = values["redis"]["bundled"]
    wants_claim = persistence["enabled"] and persistence["persistence"]["enabled"] and not persistence["persistence"]["existingClaim"]
    failures.check(bool(claims) == bool(wants_claim), "PersistentVolumeClaim", f"rendered {sorted(claims)}, wanted: {wants_claim}")


def check_refusals() -> list[str]:
    problems = []
    with helm.Chart.load(CHART) as chart:
        for what, values, word in REFUSED:
            try:
                chart.validate_schema(values)
                chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
            except helm.HelmError as error:
                if word not in str(error):
                    message = " ".join(str(error).split())
                    problems.append(f"[refused: {what}] refused, but the message does not name {word!r}: {message}")
                continue
            problems.append(f"[refused: {what}] the chart rendered values it must refuse: {values}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--kube-version",
        default=kubernetes_validate.latest_version(),
        help="Kubernetes version to validate against (default: the newest kubernetes-validate knows)",
    )
    args = parser.parse_args()
    kube = args.kube_version.lstrip("v")
    if not (CHART / "Chart.yaml").is_file():
        print(f"FAIL: no chart at {CHART}", file=sys.stderr)
        return 1
    print(f"chart {CHART.relative_to(ROOT)}: Helm {helm.helm_sdk_version()} (helm-python-sdk {helm.__version__}), "
          f"Kubernetes {kube} schemas (kubernetes-validate {kubernetes_validate.__version__}, strict)")
    problems: list[str] = []
    for value_set in VALUE_SETS:
        failures = Failures(value_set.name)
        manifests, values = render(value_set, kube, failures)
        facts: dict[str, int] = {}
        if manifests:
            validate_schemas(manifests, kube, failures)
            facts = check_facts(value_set, manifests, values, failures)
        elif not failures.problems:
            failures.add("helm template", "rendered no manifest")
        if failures.problems:
            problems.extend(failures.problems)
            print(f"FAIL {value_set.name}: {len(failures.problems)} problem(s)")
            continue
        kinds = sorted({m.kind for m in manifests})
        print(f"ok   {value_set.name}: {facts['manifests']} manifests valid ({', '.join(kinds)}); "
              f"worker nvidia.com/gpu={facts['gpus']}, device={values['workers']['device']}, "
              f"replicas={values['workers']['replicaCount']}; scheduler "
              f"{'1 replica' if values['scheduler']['enabled'] else 'off'}")
    refusals = check_refusals()
    problems.extend(refusals)
    if not refusals:
        print(f"ok   refusals: {len(REFUSED)} bad value sets refused with their reason")
    if problems:
        sys.stdout.flush()
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
