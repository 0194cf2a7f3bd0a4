"""Container security: capabilities, seccomp and the user a container runs as.

The levels follow the Kubernetes Pod Security Standards: what the `baseline` profile
forbids (added capabilities beyond its list, an Unconfined seccomp profile) and what the
`restricted` profile asks for (NET_RAW dropped, a non-root user). Fields KServe fills in
from a ServingRuntime, an LLMInferenceService preset or the InferenceService itself
(`Container.inherits`, `PodTemplate.inherits`) are not reported as missing.
"""

from __future__ import annotations

from typing import Any, Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.workloads import WORKLOAD_KINDS, Container, PodTemplate, as_int, mapping, seq

# capabilities the `baseline` Pod Security Standard allows a container to add
BASELINE_CAPS = frozenset({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
                           "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
                           "SYS_CHROOT"})
WHY = {"NET_RAW": "raw sockets: ARP and DNS spoofing on the node's network",
       "SYS_PTRACE": "reading and changing the memory of other processes",
       "SYS_ADMIN": "mounts and namespaces, most of what root can do on the node",
       "NET_ADMIN": "rewriting the network of the pod", "SYS_MODULE": "loading kernel modules",
       "ALL": "every capability", "IPC_LOCK": "locking memory (RDMA needs it)",
       "SYS_RAWIO": "raw I/O on devices", "BPF": "loading eBPF programs"}


def _cap(value: Any) -> str:
    return str(value).upper().removeprefix("CAP_")


def _caps(c: Container, key: str) -> list[str]:
    return [_cap(v) for v in seq(mapping(c.security().get("capabilities")).get(key))]


def _all(pod: PodTemplate) -> list[Container]:
    return pod.containers + pod.init_containers


@rule("SG405", "capability-added", "warning", kinds=WORKLOAD_KINDS,
      description="A container adds a Linux capability beyond the Pod Security Standards' "
                  "baseline set (NET_RAW, SYS_PTRACE, SYS_ADMIN, NET_ADMIN, ALL...).",
      anti_pattern="`capabilities: {add: [SYS_PTRACE]}` copied from a ROCm or debugging "
                   "example, or NET_RAW and IPC_LOCK for RDMA: a compromised model server "
                   "can then trace other processes or spoof traffic on the node's network, "
                   "and namespaces enforcing the baseline standard reject the pod.",
      best_practice="Drop ALL and add back only what the server needs (NET_BIND_SERVICE for "
                    "a port below 1024); where RDMA needs IPC_LOCK, suppress this rule on "
                    "that object with a reason.",
      remediation="Remove the capability from securityContext.capabilities.add (or add "
                  "`lint.stackgen.dev/ignore: capability-added` where it is required).")
def capability_added(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in _all(pod):
        for i, cap in enumerate(_caps(c, "add")):
            if cap not in BASELINE_CAPS:
                why = f" ({WHY[cap]})" if cap in WHY else ""
                yield Hit(c.path + ("securityContext", "capabilities", "add", i),
                          f"container {c.name} adds capability {cap}{why}")


def _drop_path(c: Container) -> tuple:
    caps = mapping(c.security().get("capabilities"))
    for field, path in (("drop", ("capabilities", "drop")), ("capabilities", ("capabilities",))):
        if field in caps or (field == "capabilities" and "capabilities" in c.security()):
            return c.path + ("securityContext",) + path
    return c.path + ("securityContext",) if "securityContext" in c.data else c.path + ("name",)


@rule("SG406", "net-raw-not-dropped", "info", kinds=WORKLOAD_KINDS,
      description="A container keeps the NET_RAW capability: it drops neither NET_RAW nor ALL.",
      anti_pattern="No `capabilities.drop`: containerd and CRI-O grant NET_RAW by default, "
                   "which a compromised container uses to spoof ARP and DNS replies to its "
                   "neighbours; the restricted Pod Security Standard requires dropping ALL.",
      best_practice="`securityContext: {capabilities: {drop: [ALL]}}` on every container (model "
                    "servers need no capability).",
      remediation="Add `capabilities: {drop: [ALL]}` to the container's securityContext.")
def net_raw_not_dropped(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in _all(pod):
        drop, added = _caps(c, "drop"), _caps(c, "add")
        if "ALL" in drop or "NET_RAW" in drop or "NET_RAW" in added or "ALL" in added:
            continue  # dropped; or added on purpose, which capability-added reports
        if "securityContext" in c.inherits and "drop" not in mapping(c.security().get("capabilities")):
            continue  # its ServingRuntime or KServe preset decides
        yield Hit(_drop_path(c), f"container {c.name} does not drop NET_RAW (or ALL)")


def _seccomp(sc: dict) -> str:
    return str(mapping(sc.get("seccompProfile")).get("type", ""))


@rule("SG407", "seccomp-unconfined", "warning", kinds=WORKLOAD_KINDS,
      description="A pod or container runs with the Unconfined seccomp profile.",
      anti_pattern="`seccompProfile: {type: Unconfined}` copied from a GPU example (ROCm's "
                   "guide uses it for debuggers): every system call is open to the server, "
                   "including the ones container escapes use; the baseline Pod Security "
                   "Standard forbids it.",
      best_practice="`seccompProfile: {type: RuntimeDefault}` at pod level (vLLM, Triton and "
                    "the GPU runtimes work under it), or a Localhost profile if one call is missing.",
      remediation="Set seccompProfile.type to RuntimeDefault (or Localhost with a profile).")
def seccomp_unconfined(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    if _seccomp(pod.security()) == "Unconfined":
        yield Hit(pod.path + ("securityContext", "seccompProfile", "type"),
                  f"{pod.label} sets seccompProfile Unconfined for all its containers")
    for c in _all(pod):
        if _seccomp(c.security()) == "Unconfined":
            yield Hit(c.path + ("securityContext", "seccompProfile", "type"),
                      f"container {c.name} sets seccompProfile Unconfined")


def _effective(pod: PodTemplate, c: Container, field: str) -> tuple[Any, tuple | None]:
    """(value, path) of a security field for `c`: the container's, else its pod's."""
    if field in c.security():
        return c.security()[field], c.path + ("securityContext", field)
    if field in pod.security():
        return pod.security()[field], pod.path + ("securityContext", field)
    return None, None


def _root_verdict(pod: PodTemplate, c: Container) -> tuple[str, tuple | None] | None:
    """None when `c` provably runs as non-root (or KServe decides); else why, and where."""
    user, user_at = _effective(pod, c, "runAsUser")
    non_root, non_root_at = _effective(pod, c, "runAsNonRoot")
    if user_at is not None and as_int(user) == 0:
        return "runs as root (runAsUser: 0)", user_at
    if (user_at is not None and (as_int(user) or 0) > 0) or non_root is True:
        return None
    if non_root_at is not None:
        return "sets runAsNonRoot: false", non_root_at
    if "securityContext" in c.inherits or "securityContext" in pod.inherits:
        return None  # the ServingRuntime, preset or InferenceService may set it
    return "may run as root", None


@rule("SG408", "run-as-root", "warning", kinds=WORKLOAD_KINDS,
      description="A container may run as root: neither it nor its pod sets "
                  "`runAsNonRoot: true` or a non-zero `runAsUser` (or it sets `runAsUser: 0`).",
      anti_pattern="Most serving images (vllm/vllm-openai, tritonserver) run as root unless "
                   "told otherwise: a bug in the server or a pickle in a model file then runs "
                   "as root, one kernel flaw away from the node; the restricted Pod Security "
                   "Standard rejects the pod.",
      best_practice="Set `securityContext: {runAsNonRoot: true, runAsUser: 1000}` on the pod "
                    "(and fsGroup for the model cache volume), as stackgen's rendered pods do.",
      remediation="Add `runAsNonRoot: true` and a non-zero `runAsUser` to the pod's "
                  "securityContext (remove `runAsUser: 0`).")
def run_as_root(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    found: dict[tuple | None, tuple[str, list[str]]] = {}  # where -> (why, container names)
    for c in _all(pod):
        verdict = _root_verdict(pod, c)
        if verdict is not None:
            found.setdefault(verdict[1], (verdict[0], []))[1].append(c.name)
    for where, (why, names) in found.items():
        listed = ", ".join(names)
        if where is None:
            yield Hit(_unproven_path(pod, names[0]),
                      f"{pod.label}: container(s) {listed} may run as root (no runAsNonRoot: true or "
                      "non-zero runAsUser on them or the pod; the image's USER decides)")
        elif where[:-1] == pod.path + ("securityContext",):
            yield Hit(where, f"{pod.label} {why} (container(s) {listed})")
        else:
            yield Hit(where, f"container {listed} {why}")


def _unproven_path(pod: PodTemplate, name: str) -> tuple:
    if "securityContext" in pod.spec:
        return pod.path + ("securityContext",)
    c = next(c for c in _all(pod) if c.name == name)
    return c.path + ("securityContext",) if "securityContext" in c.data else c.path + ("name",)
