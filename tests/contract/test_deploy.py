"""The Dockerfile and Kubernetes manifests agree with the code: probes are native gRPC on the
port the server listens on, ports are declared gRPC, termination outlasts the servers' own
drain and grace, every environment variable is a setting the server reads (a typo would be
ignored silently at run time), every secret reference exists, and the commands are real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml
from pydantic import AliasChoices

from cj_server.settings import CjSettings
from llm_provider_server.settings import LpsSettings
from ras_server.settings import RasSettings
from tests.helpers import ROOT

K8S = ROOT / "deploy" / "kubernetes"
SETTINGS = {"CJ": CjSettings, "LPS": LpsSettings, "RAS": RasSettings}
SERVICES = {
    "cj-server": "huleedu.cj.v1.CjAssessmentService",
    "llm-provider-server": "huleedu.llm.v1.LlmProviderService",
    "ras-server": "huleedu.results.v1.ResultAggregatorService",
}
PREFIX = {"cj-server": "CJ", "llm-provider-server": "LPS", "ras-server": "RAS"}


def documents(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def manifests() -> dict[str, dict]:
    """Every object of the kustomization, by 'Kind/name'."""
    kustomization = documents("kustomization.yaml")[0]
    objects = {}
    for resource in kustomization["resources"]:
        for doc in documents(resource):
            objects[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return objects


def container(deployment: dict) -> dict:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_names(settings_class) -> set[str]:
    prefix = settings_class.model_config["env_prefix"]
    names = set()
    for field_name, field in settings_class.model_fields.items():
        names.add(f"{prefix}{field_name}".upper())
        if isinstance(field.validation_alias, AliasChoices):
            names |= {str(choice).upper() for choice in field.validation_alias.choices}
    return names


def test_kustomization_applies_every_manifest_but_the_secret_example():
    listed = set(documents("kustomization.yaml")[0]["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml", "secrets.example.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_probes_ports_and_termination(name):
    objects = manifests()
    deployment, service = objects[f"Deployment/{name}"], objects[f"Service/{name}"]
    spec, main = deployment["spec"]["template"]["spec"], container(deployment)
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    settings_class = SETTINGS[PREFIX[name]]
    assert ports["grpc"] == settings_class.model_fields["port"].default
    assert ports["metrics"] == settings_class.model_fields["metrics_port"].default
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert main[probe]["grpc"]["port"] == ports["grpc"], f"{probe} is a native gRPC probe on the gRPC port"
    assert main["readinessProbe"]["grpc"]["service"] == SERVICES[name]

    grpc_port = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert grpc_port["appProtocol"] == "grpc" and grpc_port["targetPort"] == "grpc"
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()

    config = objects["ConfigMap/huleedu-config"]["data"]
    prefix = PREFIX[name]
    drain = float(config[f"{prefix}_SHUTDOWN_DRAIN_SECONDS"])
    grace = float(config[f"{prefix}_SHUTDOWN_GRACE_SECONDS"])
    assert spec["terminationGracePeriodSeconds"] > drain + grace + 2


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_variable_is_a_setting_and_every_secret_exists(name, monkeypatch):
    objects = manifests()
    main = container(objects[f"Deployment/{name}"])
    prefix = PREFIX[name]
    secret = documents("secrets.example.yaml")[0]["stringData"]
    config = objects["ConfigMap/huleedu-config"]["data"]
    assert [ref["configMapRef"]["name"] for ref in main["envFrom"]] == ["huleedu-config"]

    values = {key: value for key, value in config.items() if key.startswith(f"{prefix}_")}
    for variable in main["env"]:
        if "valueFrom" in variable:
            ref = variable["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "huleedu-secrets" and ref["key"] in secret, f"{ref} is not in the Secret"
            values[variable["name"]] = secret[ref["key"]]
        else:
            values[variable["name"]] = variable["value"]
    settings_class = SETTINGS[prefix]
    unknown = set(values) - env_names(settings_class)
    assert not unknown, f"{name} would silently ignore {sorted(unknown)}"
    for key in list(os.environ):
        if key.startswith(f"{prefix}_"):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = settings_class()  # the values themselves validate
    assert settings.host == "0.0.0.0" and settings.token_table(), "listens on all interfaces, with auth on"


def test_commands_are_console_scripts_and_the_image_has_what_they_need():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    objects = manifests()
    for name in SERVICES:
        assert container(objects[f"Deployment/{name}"])["command"] == [name]
        assert name in scripts
    dockerfile = (ROOT / "Dockerfile").read_text()
    exposed = {int(p) for line in re.findall(r"^EXPOSE (.+)$", dockerfile, re.M) for p in line.split()}
    for name in SERVICES:
        ports = {p["containerPort"] for p in container(objects[f"Deployment/{name}"])["ports"]}
        assert ports <= exposed
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for package in packages["include"]:
        top = package.rstrip("*")
        if (ROOT / top).is_dir():
            assert f"COPY {top} ./{top}" in dockerfile, f"the image build misses {top}/"
    assert "COPY gen ./gen" in dockerfile
    assert re.search(r'^CMD \["cj-server"\]$', dockerfile, re.M)
    assert "USER 10001" in dockerfile


def test_kustomize_renders_the_manifests():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the other tests here check the manifests without it")
    rendered = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert sorted(kinds) == ["ConfigMap", "Deployment", "Deployment", "Deployment", "Namespace"] + ["Service"] * 3
