#!/usr/bin/env python3
"""Structural checks of deploy/kubernetes/: that the files parse, fit
together, and grant exactly the privileges their README names.

  check_manifests.py DIR CHECK     prints one line per problem; exit 1 if any

CHECK: parse, namespace, daemonset, wiring, cleanup, readme.
"""
import os
import re
import sys

import yaml

NAMESPACE = "texporter"
MANIFEST_DIR = "."  # the profiles are in its sibling seccomp/ (deploy/seccomp)


def load(d, name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def containers(doc):
    spec = doc["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec.get("initContainers", []) + spec.get("containers", [])}


def option(command, name):
    """The value of --NAME=VALUE in COMMAND, or None."""
    for word in command:
        if word.startswith(f"--{name}="):
            return word.split("=", 1)[1]
    return None


def caps(c):
    return ["CAP_" + x for x in c["securityContext"]["capabilities"].get("add", [])]


def check_parse(d, problems):
    for name in sorted(os.listdir(d)):
        if not name.endswith(".yaml"):
            continue
        try:
            docs = [x for x in yaml.safe_load_all(open(os.path.join(d, name), encoding="utf-8")) if x]
        except yaml.YAMLError as e:
            problems.append(f"{name}: not YAML: {e}")
            continue
        if len(docs) != 1:
            problems.append(f"{name}: {len(docs)} documents, expected 1")
        for doc in docs:
            for key in ("apiVersion", "kind", "metadata"):
                if key not in doc:
                    problems.append(f"{name}: no {key}")
            if doc.get("kind") != "Namespace" and doc["metadata"].get("namespace") != NAMESPACE:
                problems.append(f"{name}: not in namespace {NAMESPACE}")


def check_namespace(d, problems):
    labels = load(d, "namespace.yaml")["metadata"]["labels"]
    if labels.get("pod-security.kubernetes.io/enforce") != "privileged":
        problems.append("namespace.yaml: Pod Security enforce is not privileged")


def check_hardened(name, c, problems):
    sc = c.get("securityContext", {})
    want = {"privileged": False, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}
    for key, value in want.items():
        if sc.get(key) is not value:
            problems.append(f"{name}: securityContext.{key} is not {value}")
    if sc.get("capabilities", {}).get("drop") != ["ALL"]:
        problems.append(f"{name}: does not drop ALL capabilities")
    profile = sc.get("seccompProfile", {})
    if profile.get("type") != "Localhost":
        problems.append(f"{name}: seccomp profile is not Localhost")
    elif not os.path.exists(os.path.join(MANIFEST_DIR, "..", "seccomp",
                                         profile["localhostProfile"].rsplit("/", 1)[-1])):
        problems.append(f"{name}: seccomp profile {profile['localhostProfile']} is not in deploy/seccomp/")
    for kind in ("requests", "limits"):
        if "memory" not in c.get("resources", {}).get(kind, {}):
            problems.append(f"{name}: no memory {kind}")


def check_daemonset(d, problems):
    ds = load(d, "daemonset.yaml")
    spec = ds["spec"]["template"]["spec"]
    cs = containers(ds)
    if not spec.get("hostNetwork"):
        problems.append("daemonset.yaml: not hostNetwork")
    if [c["name"] for c in spec.get("initContainers", [])] != ["load"]:
        problems.append("daemonset.yaml: the one init container is not load")
    for name, c in cs.items():
        check_hardened(f"daemonset.yaml {name}", c, problems)
    load_c, read = cs["load"], cs["read"]
    if load_c["command"][0] != "/usr/sbin/texporter-load" or not option(load_c["command"], "interface-name"):
        problems.append("daemonset.yaml load: not texporter-load with --interface-name patterns")
    if read["command"][0] != "/usr/bin/texporter-read" or option(read["command"], "listen") != ":2112":
        problems.append("daemonset.yaml read: not texporter-read --listen=:2112")
    rsc = read["securityContext"]
    if rsc.get("runAsUser") != 65534 or rsc.get("runAsNonRoot") is not True:
        problems.append("daemonset.yaml read: not uid 65534, runAsNonRoot")
    if rsc["capabilities"].get("add"):
        problems.append("daemonset.yaml read: adds capabilities")
    group = option(load_c["command"], "group")
    if group is None or int(group) not in spec.get("securityContext", {}).get("supplementalGroups", []):
        problems.append("daemonset.yaml: the loader's --group is not the pod's supplementary group")
    ports = {p["name"]: p["containerPort"] for p in read.get("ports", [])}
    if ports.get("metrics") != 2112:
        problems.append("daemonset.yaml read: no port metrics 2112")
    for probe in ("readinessProbe", "livenessProbe"):
        if read.get(probe, {}).get("httpGet", {}).get("port") != "metrics":
            problems.append(f"daemonset.yaml read: no {probe} on port metrics")


def volume_paths(doc):
    spec = doc["spec"]["template"]["spec"]
    return {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}


def mount(c, path):
    for m in c.get("volumeMounts", []):
        if m["mountPath"] == path:
            return m
    return None


def check_wiring(d, problems):
    ds = load(d, "daemonset.yaml")
    cs, hostpaths = containers(ds), volume_paths(ds)
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    pin_root = option(cs["load"]["command"], "pin-root")
    bpffs = mount(cs["load"], "/sys/fs/bpf")
    if not bpffs or bpffs.get("readOnly") or hostpaths.get(bpffs["name"]) != "/sys/fs/bpf":
        problems.append("daemonset.yaml load: the node's /sys/fs/bpf is not mounted read-write")
    pins = mount(cs["read"], "/run/texporter")
    if not pins or pins.get("readOnly") is not True or hostpaths.get(pins["name"]) != pin_root:
        problems.append(f"daemonset.yaml read: the pins ({pin_root}) are not mounted read-only at /run/texporter")
    if option(cs["read"]["command"], "pin-root") != "/run/texporter":
        problems.append("daemonset.yaml read: --pin-root is not /run/texporter")
    svc = load(d, "service.yaml")["spec"]
    if svc["selector"].items() - pod_labels.items():
        problems.append("service.yaml: selects other pods than the DaemonSet's")
    if not any(p["port"] == 2112 and p["targetPort"] == "metrics" for p in svc["ports"]):
        problems.append("service.yaml: no port 2112 to metrics")
    pm = load(d, "podmonitor.yaml")
    if pm["kind"] != "PodMonitor" or pm["spec"]["selector"]["matchLabels"].items() - pod_labels.items():
        problems.append("podmonitor.yaml: not a PodMonitor of the DaemonSet's pods")
    if not any(e.get("port") == "metrics" for e in pm["spec"]["podMetricsEndpoints"]):
        problems.append("podmonitor.yaml: does not scrape port metrics")


def check_cleanup(d, problems):
    job = load(d, "cleanup-job.yaml")
    ds = load(d, "daemonset.yaml")
    c = containers(job)["detach"]
    check_hardened("cleanup-job.yaml detach", c, problems)
    cmd = c["command"]
    if job["kind"] != "Job" or "--detach" not in cmd or option(cmd, "interface-name") != "*" \
            or "--allow-missing" not in cmd:
        problems.append("cleanup-job.yaml: not a Job running --detach --interface-name=* --allow-missing")
    if option(cmd, "pin-root") != option(containers(ds)["load"]["command"], "pin-root"):
        problems.append("cleanup-job.yaml: another --pin-root than the DaemonSet's loader")
    if job["spec"]["template"]["spec"].get("nodeName") != "NODE":
        problems.append("cleanup-job.yaml: not pinned to the node NODE")


def readme_caps(d):
    """{container: [CAP_...]} from the README's capability table."""
    found = {}
    with open(os.path.join(d, "README.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\| `(CAP_[A-Z_]+)` \| (\w+) \|", line)
            if m:
                found.setdefault(m.group(2), []).append(m.group(1))
    return found


def check_readme(d, problems):
    stated = readme_caps(d)
    granted = {"load": caps(containers(load(d, "daemonset.yaml"))["load"]),
               "cleanup": caps(containers(load(d, "cleanup-job.yaml"))["detach"])}
    for name in granted:
        if sorted(stated.get(name, [])) != sorted(granted[name]):
            problems.append(f"README.md says {name} has {stated.get(name)}, the manifest grants {granted[name]}")


CHECKS = {"parse": check_parse, "namespace": check_namespace, "daemonset": check_daemonset,
          "wiring": check_wiring, "cleanup": check_cleanup, "readme": check_readme}


def main(argv):
    if len(argv) != 3 or argv[2] not in CHECKS:
        sys.exit(__doc__)
    global MANIFEST_DIR
    MANIFEST_DIR = argv[1]
    problems = []
    CHECKS[argv[2]](argv[1], problems)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv)
