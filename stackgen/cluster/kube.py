"""The only REST client of a cluster: kubeconfig auth through the kubernetes package's
ApiClient, discovery of resource paths, and retries with backoff on 429, 5xx and dropped
connections. Errors become ClusterError with a message a person can act on."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from urllib3.exceptions import HTTPError

from stackgen.errors import CheckFailed, InputError

RETRY_STATUS = {429, 500, 502, 503, 504}
APPLY_PATCH = "application/apply-patch+yaml"


class ClusterError(CheckFailed):
    """The cluster refused or could not be reached (exit 1)."""


@dataclass(frozen=True)
class Resource:
    group_version: str
    kind: str
    plural: str
    namespaced: bool


def _webhook_hint(message: str) -> str:
    if "deploymentMode cannot be changed" in message:
        return (". KServe cannot change an InferenceService's deployment mode in place: "
                "delete it first (`kubectl delete inferenceservice NAME -n NAMESPACE`), then "
                "apply again")
    return ""


class Kube:
    def __init__(self, kubeconfig: str | None = None, context: str | None = None,
                 attempts: int = 6, timeout: float = 30.0) -> None:
        import yaml
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException

        try:
            self.api = config.new_client_from_config(config_file=kubeconfig, context=context)
        except (ConfigException, OSError, yaml.YAMLError, TypeError, ValueError, KeyError,
                AttributeError) as err:  # a missing, unreadable or malformed kubeconfig
            raise InputError(f"cannot load kubeconfig: {err}", field="--kubeconfig/--context",
                             fix="pass --kubeconfig FILE (or set KUBECONFIG) and a --context it defines") from None
        self.context = context or "current-context"
        self.attempts = attempts
        self.timeout = timeout
        self._groups: dict[str, dict[str, Resource] | None] = {}

    # -- HTTP ---------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, query: dict | None = None,
                content_type: str = "application/json", ok_missing: bool = False) -> dict | None:
        """One call with retries; returns the JSON body (None for a 404 when ok_missing)."""
        delay = 0.25
        for attempt in range(1, self.attempts + 1):
            try:
                status, data = self._once(method, path, body, query, content_type)
            except (OSError, ConnectionError, TimeoutError, HTTPError) as err:
                status, data = None, {"message": f"{type(err).__name__}: {err}"}
            if status is not None and status < 400:
                return data
            if status == 404 and ok_missing:
                return None
            if status in RETRY_STATUS or status is None:
                if attempt < self.attempts:
                    time.sleep(delay)
                    delay = min(delay * 2, 4.0)
                    continue
            raise self._error(method, path, status, data)
        raise AssertionError("unreachable")

    def create(self, path: str, body: dict) -> str:
        """POST `body` and return the object's name; one that already exists (409) is left
        alone, so a retried POST whose first reply was lost is not an error."""
        try:
            reply = self.request("POST", path, body) or {}
        except ClusterError as err:
            if getattr(err, "status", None) != 409:
                raise
            return str(((getattr(err, "details", None) or {}).get("details") or {}).get("name", ""))
        return str((reply.get("metadata") or {}).get("name", ""))

    def ready(self, path: str, timeout: float = 5.0) -> bool:
        """One GET, no retries: True on 2xx, False on any error status or no connection.
        For readiness polls (/readyz, an object that appears), not for reading data."""
        try:
            status, _ = self._once("GET", path, None, None, "application/json", timeout)
        except (OSError, ConnectionError, TimeoutError, HTTPError):
            return False
        return status < 400

    def _once(self, method: str, path: str, body: Any, query: dict | None,
              content_type: str, timeout: float | None = None) -> tuple[int, dict]:
        method_, url, headers, data, post = self.api.param_serialize(
            method, path, query_params=list((query or {}).items()),
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            body=body, auth_settings=["BearerToken"])
        resp = self.api.call_api(method_, url, header_params=headers, body=data, post_params=post,
                                 _request_timeout=timeout or self.timeout)
        raw = resp.read()
        text = raw.decode() if isinstance(raw, bytes) else (raw or "")
        try:
            return resp.status, json.loads(text) if text else {}
        except ValueError:
            return resp.status, {"message": text[:500]}

    def _error(self, method: str, path: str, status: int | None, data: dict) -> ClusterError:
        message = (data or {}).get("message", "")
        if status is None:
            return ClusterError(f"cannot reach the cluster ({self.context}): {message}. Is it "
                                "running, and is the kubeconfig's server address right?")
        if status == 401:
            return ClusterError(f"authentication failed for {self.context}: {message}. Refresh "
                                "the credentials in the kubeconfig.")
        if status == 403 and "admission webhook" in message:
            # the request was allowed and then refused by a controller's admission webhook:
            # its message is the reason, and no RBAC permission changes it
            err = ClusterError(f"{method} {path} refused by an admission webhook: "
                               f"{message}{_webhook_hint(message)}")
            err.status = status  # type: ignore[attr-defined]
            return err
        if status == 403:
            return ClusterError(f"forbidden: {message}. Ask for RBAC permission to {method} "
                                f"{path}, or use a context that has it.")
        err = ClusterError(f"{method} {path} failed ({status}): {message}")
        err.status = status  # type: ignore[attr-defined]
        err.details = data  # type: ignore[attr-defined]
        return err

    # -- discovery ---------------------------------------------------------------------
    def version(self) -> str:
        return (self.request("GET", "/version") or {}).get("gitVersion", "?")

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """Plural and scope of a kind; None when the cluster does not serve it."""
        if api_version not in self._groups:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            found = self.request("GET", base, ok_missing=True)
            self._groups[api_version] = None if found is None else {
                r["kind"]: Resource(api_version, r["kind"], r["name"], r["namespaced"])
                for r in found.get("resources", []) if "/" not in r["name"]}
        group = self._groups[api_version]
        return group.get(kind) if group else None


    def path(self, res: Resource, namespace: str | None, name: str | None = None) -> str:
        base = "/api/v1" if res.group_version == "v1" else f"/apis/{res.group_version}"
        scope = f"/namespaces/{namespace}" if res.namespaced and namespace else ""
        return f"{base}{scope}/{res.plural}" + (f"/{name}" if name else "")
